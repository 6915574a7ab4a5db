//! `cnnvar`: why does my CNN's accuracy vary? The binary is thin: argument parsing,
//! progress display and exit codes; the work is in the library crates.

mod args;
mod commands;
mod progress;
mod sweep;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line, naming the file or field at fault.
            let msg = e.to_string().replace('\n', " ");
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
