//! `cargo xtask fuzz`: the libFuzzer targets in `fuzz/`, each for a bounded time, from
//! the committed seed inputs plus the corpus grown by earlier runs.
//!
//! The targets are built the way cargo-fuzz builds them (its flags, below), by cargo
//! itself: nothing to install, and a stable toolchain works (`RUSTC_BOOTSTRAP=1` for the
//! one `-Z` flag, the address sanitizer).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::env::{self, sh};

/// The fuzz targets: the parsers of files cnnvar reads but did not write.
pub const TARGETS: &[&str] = &["idx", "cifar", "study", "record"];

/// Seconds per target when not given.
pub const DEFAULT_SECONDS: u64 = 60;

/// The `RUSTFLAGS` of cargo-fuzz 0.13's default build (`cargo fuzz build --release`,
/// address sanitizer): libFuzzer's coverage counters, `cfg(fuzzing)`, and ASan. Unlike
/// cargo-fuzz it leaves codegen units at cargo's default, which builds faster and fuzzes a
/// little slower.
const RUSTFLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "-Cllvm-args=-sanitizer-coverage-stack-depth",
    "-Cllvm-args=-simplifycfg-branch-fold-threshold=0",
    "--cfg",
    "fuzzing",
    "-Zsanitizer=address",
];

/// The host's target triple (`rustc -vV`): the targets are built for it explicitly, so
/// that `RUSTFLAGS` reach the targets and their dependencies but not build scripts and
/// proc macros.
fn host_triple() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(&rustc).arg("-vV").output().context("running rustc -vV")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_string())
        .context("rustc -vV printed no `host:` line")
}

/// Builds every target (release, with [`RUSTFLAGS`]) and returns the directory of the
/// binaries.
fn build() -> Result<PathBuf> {
    let triple = host_triple()?;
    let target_dir = env::target_dir();
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(env::root().join("fuzz"))
        .args(["build", "--release", "--bins", "--target", &triple, "--target-dir"])
        .arg(&target_dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("RUSTFLAGS", RUSTFLAGS.join(" "));
    sh(&mut c)?;
    Ok(target_dir.join(triple).join("release"))
}

/// Builds the targets, then runs each for `seconds` (libFuzzer's `-max_total_time`),
/// as many at once as the machine has cores (each libFuzzer process uses one), with a
/// 2 GiB RSS limit: a crash, a leak past the limit or a timeout fails the task, and
/// libFuzzer leaves the input in `fuzz/artifacts/TARGET/` to be committed under
/// `fuzz/regressions/TARGET/` as a regression test. Each target's output goes to its
/// own log (`fuzz-TARGET.log` in the target directory), shown when the target fails.
pub fn fuzz(targets: &[&str], seconds: u64) -> Result<()> {
    let bin = build()?;
    let at_once = std::thread::available_parallelism().map_or(1, |n| n.get());
    for batch in targets.chunks(at_once) {
        let outcomes: Vec<Result<()>> = std::thread::scope(|s| {
            let running: Vec<_> =
                batch.iter().map(|t| s.spawn(|| fuzz_one(&bin, t, seconds))).collect();
            running
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a fuzz thread panicked")))
                })
                .collect()
        });
        outcomes.into_iter().collect::<Result<Vec<()>>>()?;
    }
    Ok(())
}

/// Runs one target (its binary in `bin`) for `seconds` from its corpus, seeds and
/// regressions.
fn fuzz_one(bin: &Path, target: &str, seconds: u64) -> Result<()> {
    let root = env::root().join("fuzz");
    let corpus = root.join("corpus").join(target);
    std::fs::create_dir_all(&corpus)?;
    let artifacts = root.join("artifacts").join(target);
    std::fs::create_dir_all(&artifacts)?;
    let mut inputs = vec![corpus.clone(), root.join("seeds").join(target)];
    let regressions = root.join("regressions").join(target);
    if regressions.is_dir() {
        inputs.push(regressions);
    }
    let log_path = env::target_dir().join(format!("fuzz-{target}.log"));
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let started = std::time::Instant::now();
    let mut run = Command::new(bin.join(target));
    run.current_dir(&root)
        .env("ASAN_OPTIONS", "detect_odr_violation=0")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .args([
            &format!("-max_total_time={seconds}"),
            "-rss_limit_mb=2048",
            "-timeout=10",
            "-max_len=65536",
            "-print_final_stats=1",
        ])
        .args(&inputs);
    eprintln!("$ {run:?} (output in {})", log_path.display());
    let status = run
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .with_context(|| format!("starting the fuzzer of {target}"))?;
    if !status.success() {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(60).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        anyhow::bail!("fuzz {target} failed ({status}); the end of its log:\n{}", tail.join("\n"));
    }
    eprintln!(
        "fuzz {target}: {:.0} s, no crash; corpus {} inputs",
        started.elapsed().as_secs_f64(),
        count(&corpus)
    );
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
