//! `cnnvar`: why does my CNN's accuracy vary? The binary is the library's
//! [`cnnvar::main_with`] with the standard models; a program of your own can register
//! more (see the `cnnvar` library's docs).

use std::process::ExitCode;

fn main() -> ExitCode {
    cnnvar::main_with(cnnvar::Models::standard())
}
