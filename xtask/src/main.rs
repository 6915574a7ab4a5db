//! cnnvar's automation, run as `cargo xtask <task>`:
//!
//! - `ci`: install what the tests need, then fmt, clippy, tests and the per-backend runs.
//! - `sweep`: the main job: the write-up's study on real data, then the report.
//! - `setup`: only the installation part of `ci`.
//!
//! Everything here drives cargo and the `cnnvar` binary the way a user would.

mod ci;
mod env;
mod sweep;

use anyhow::{Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((t, r)) => (t.as_str(), r),
        None => ("help", &[][..]),
    };
    match task {
        "ci" => ci::run(rest),
        "setup" => env::setup(&env::Needs::all()).map(|_| ()),
        "sweep" => sweep::run(rest),
        "help" | "-h" | "--help" => {
            println!("{HELP}");
            Ok(())
        }
        other => bail!("unknown task `{other}`\n\n{HELP}"),
    }
}

const HELP: &str = "\
usage: cargo xtask <task>

tasks:
  ci      install test prerequisites (Debian packages, a Python venv with torch 2.9.0
          for the tch backend), then fmt check, clippy -D warnings (all backends and
          cuda), every test, and a tiny training run on each CPU backend (flex, ndarray,
          tch, vulkan/lavapipe)
          options: --skip-install, --quick (skip clippy)
  setup   only install the prerequisites
  sweep   the main job: the write-up's study (studies/seed.toml) on Fashion-MNIST with
          repeated seeds, then its report (runs/seed/report.html); resumes where it
          stopped. Options: [STUDY.toml] then anything `cnnvar sweep` takes
          (e.g. --quick, --jobs N, --threads-per-job T)";
