//! `cargo xtask fuzz`: the cargo-fuzz (libFuzzer) targets in `fuzz/`, each for a
//! bounded time, from the committed seed inputs plus the corpus grown by earlier runs.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::env::{self, sh};

/// The fuzz targets: the parsers of files cnnvar reads but did not write.
pub const TARGETS: &[&str] = &["idx", "cifar", "study", "record"];

/// Seconds per target when not given.
pub const DEFAULT_SECONDS: u64 = 60;

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // cargo-fuzz needs `-Z` flags; RUSTC_BOOTSTRAP lets a stable toolchain accept them.
    c.current_dir(env::root().join("fuzz")).env("RUSTC_BOOTSTRAP", "1");
    c
}

/// Installs cargo-fuzz unless `cargo fuzz` already works.
fn ensure_cargo_fuzz() -> Result<()> {
    let have = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        sh(Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())).args([
            "install",
            "cargo-fuzz",
            "--locked",
            "--version",
            "0.13.2",
        ]))?;
    }
    Ok(())
}

/// Builds the targets, then runs each for `seconds` (libFuzzer's `-max_total_time`),
/// with a 2 GiB RSS limit: a crash, a leak past the limit or a timeout fails the task,
/// and libFuzzer leaves the input in `fuzz/artifacts/TARGET/` to be committed under
/// `fuzz/regressions/TARGET/` as a regression test.
pub fn fuzz(targets: &[&str], seconds: u64) -> Result<()> {
    ensure_cargo_fuzz()?;
    let root = env::root().join("fuzz");
    sh(cargo().args(["fuzz", "build", "--release"]))?;
    for target in targets {
        let corpus = root.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        let mut inputs = vec![corpus.clone(), root.join("seeds").join(target)];
        let regressions = root.join("regressions").join(target);
        if regressions.is_dir() {
            inputs.push(regressions);
        }
        let started = std::time::Instant::now();
        sh(cargo().args(["fuzz", "run", "--release", target]).args(&inputs).args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-rss_limit_mb=2048",
            "-timeout=10",
            "-max_len=65536",
            "-print_final_stats=1",
        ]))?;
        eprintln!(
            "fuzz {target}: {:.0} s, no crash; corpus {} inputs",
            started.elapsed().as_secs_f64(),
            count(&corpus)
        );
    }
    Ok(())
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

/// The options of `cargo xtask fuzz`.
#[derive(clap::Args, Debug)]
pub struct FuzzArgs {
    /// The targets to run (default: all)
    #[arg(value_name = "TARGET", value_parser = clap::builder::PossibleValuesParser::new(TARGETS))]
    pub targets: Vec<String>,
    /// Seconds per target (libFuzzer's -max_total_time)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SECONDS)]
    pub seconds: u64,
}

/// Runs `fuzz` with its options.
pub fn run(args: &FuzzArgs) -> Result<()> {
    let targets: Vec<&str> = if args.targets.is_empty() {
        TARGETS.to_vec()
    } else {
        args.targets.iter().map(String::as_str).collect()
    };
    fuzz(&targets, args.seconds)
}
