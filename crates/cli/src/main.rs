//! `cnnvar`: why does my CNN's accuracy vary? The binary is the library's
//! [`cnnvar_cli::main_with`] with the standard models; a program of your own can register
//! more (see the `cnnvar` library's docs).

use std::process::ExitCode;

fn main() -> ExitCode {
    cnnvar_cli::main_with(cnnvar_cli::Models::standard())
}
