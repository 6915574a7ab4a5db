//! # cnnvar
//!
//! The `cnnvar` command line as a library: [`main_with`] runs the whole of it (`train`,
//! `sweep`, `worker`, `report`, `status`, `data`, `backends`) with the models a program
//! registers. The `cnnvar` binary is `main_with(Models::standard())`; a binary of your
//! own that registers its models by name gets the same commands, and a spec or study
//! can then say `model = "<name>"`. A sweep's workers are that binary too (its own
//! executable), so they know the same models.
//!
//! ```no_run
//! use cnnvar_models::Models;
//! # #[derive(burn::module::Module, Debug)] struct MyNet { dense: burn::nn::Linear }
//! # impl cnnvar_models::Classifier for MyNet {
//! #     fn build(i: &cnnvar_models::ModelInput, _: &cnnvar_core::RunSpec, d: &burn::tensor::Device)
//! #         -> cnnvar_core::Result<Self> {
//! #         Ok(MyNet { dense: burn::nn::LinearConfig::new(i.channels * i.height * i.width, i.classes).init(d) })
//! #     }
//! #     fn forward(&self, x: burn::tensor::Tensor<4>) -> burn::tensor::Tensor<2> { self.dense.forward(x.flatten(1, 3)) }
//! # }
//!
//! fn main() -> std::process::ExitCode {
//!     // `my-cnnvar train --model my-net …`, `my-cnnvar sweep study.toml`, …
//!     cnnvar_cli::main_with(Models::standard().with::<MyNet>("my-net"))
//! }
//! ```
//!
//! Inside: argument parsing (`args.rs`), the commands (`commands.rs`), `sweep` and
//! `status` (`sweep.rs`) and the progress display (`progress.rs`).

mod args;
#[cfg(test)]
mod command_lines;
mod commands;
mod progress;
mod sweep;

use std::process::ExitCode;

use clap::Parser;
pub use cnnvar_models::Models;

/// Parses this process's command line and runs it with `models` as the models a spec
/// may name: errors are printed as one line (naming the file or field at fault) and
/// exit with code 1.
pub fn main_with(models: Models) -> ExitCode {
    let cli = args::Cli::parse();
    let code = match commands::run(cli, &models) {
        Ok(code) => code,
        Err(e) => {
            // One line, naming the file or field at fault.
            let msg = args::describe(&e).replace('\n', " ");
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    };
    if std::env::var_os("CNNVAR_PEAK_RSS").is_some() {
        eprintln!("peak_rss_kb: {}", peak_rss_kb().unwrap_or(0));
    }
    code
}

/// This process's peak resident set size (VmHWM), for memory checks in tests and
/// benchmarks; set `CNNVAR_PEAK_RSS=1` to have it printed on exit.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
