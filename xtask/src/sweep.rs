//! `cargo xtask sweep`: the main job, on real data, with an optimised build.

use std::process::Command;

use anyhow::Result;

use crate::env::{self, Needs, sh};

/// The study the main job runs.
pub const MAIN_STUDY: &str = "studies/seed.toml";

/// Builds cnnvar in release mode and runs the write-up's study with repeated seeds,
/// then its report. Extra arguments go to `cnnvar sweep` (e.g. `--quick`, `--jobs 4`).
pub fn run(extra: &[String]) -> Result<()> {
    env::setup(&Needs { packages: vec!["dataset-fashion-mnist"], torch: false, slurm: false })?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    sh(Command::new(&cargo).current_dir(env::root()).args(["build", "--release", "-p", "cnnvar"]))?;
    let bin = env::target_dir().join("release/cnnvar");
    let (study, rest) = match extra.first() {
        Some(s) if s.ends_with(".toml") => (s.as_str(), &extra[1..]),
        _ => (MAIN_STUDY, extra),
    };
    // Ctrl-C reaches the sweep as well (one process group): the sweep stops its workers,
    // says what it kept and exits 130. Wait for it rather than die first, then exit
    // with its code and add nothing to its message (no error, no backtrace).
    let code = env::exit_code_leaving_interrupts_to(
        Command::new(&bin).current_dir(env::root()).args(["sweep", study]).args(rest),
    )?;
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}
