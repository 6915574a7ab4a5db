//! `cargo xtask sweep`: the main job, on real data, with an optimised build.

use std::process::Command;

use anyhow::Result;

use crate::env::{self, Needs, sh};

/// Builds cnnvar in release mode and runs the write-up's study.
pub fn run_sweep(extra: &[String]) -> Result<()> {
    env::setup(&Needs { packages: vec!["dataset-fashion-mnist"], torch: false })?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    sh(Command::new(&cargo).args(["build", "--release", "-p", "cnnvar"]))?;
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let bin = std::path::Path::new(&target).join("release/cnnvar");
    // Until studies exist: the write-up's experiment 1, once per arm.
    for n in ["1000", "60000"] {
        sh(Command::new(&bin)
            .args(["train", "--model", "simple", "--epochs", "10", "--train-size", n])
            .args(["--out", "runs/exp1"])
            .args(extra))?;
    }
    Ok(())
}

/// Parses `sweep`'s options and runs it.
pub fn run(args: &[String]) -> Result<()> {
    run_sweep(args)
}
