//! cnnvar's automation, run as `cargo xtask <task>`:
//!
//! - `ci`: install what the tests need, then fmt, one build of every target that is also
//!   the lint (clippy through the build), every test, the burn-free crates, the GPU
//!   backends' check and a bounded fuzz run.
//! - `sweep`: the main job: the write-up's study on real data, then the report.
//! - `setup`: only the installation part of `ci`.
//! - `fuzz`: the libFuzzer targets of every parser, each for a bounded time.
//! - `bench`: training and evaluation speed against Keras and PyTorch, and the
//!   Criterion benches.
//!
//! Everything here drives cargo and the `cnnvar` binary the way a user would.

mod bench;
mod ci;
mod env;
mod fuzz;
mod sweep;
#[cfg(test)]
mod tidy;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};

/// cnnvar's automation: the tests (ci), the main job (sweep), fuzzing and benchmarks.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
pub struct Cli {
    /// The task; without one, this help.
    #[command(subcommand)]
    pub task: Option<Task>,
}

/// The tasks.
#[derive(Subcommand, Debug)]
pub enum Task {
    /// The tests: prerequisites, fmt, build with clippy, every test, the burn-free crates,
    /// the GPU backends' check, fuzzing.
    ///
    /// Installs the test prerequisites (Debian packages, a single-node Slurm, a Python venv
    /// with torch 2.9.0 for the tch backend, scikit-learn's digits as an image folder),
    /// then: the format check; one build of every target of the workspace with the CPU
    /// backends compiled in (flex, ndarray, tch), compiled by clippy-driver with
    /// `-D warnings` so that the build is also the lint; every test (a tiny training run
    /// on each CPU backend among them); the burn-free crates' tests without burn; a
    /// clippy check of the GPU backends' code (wgpu, vulkan, cuda); and 60 s of every
    /// fuzz target. Prints each step's seconds at the end.
    Ci(ci::CiArgs),
    /// Only install the prerequisites of `ci`.
    Setup,
    /// The main job: the write-up's study on Fashion-MNIST with repeated seeds, then its
    /// report; resumes where it stopped.
    ///
    /// Builds cnnvar optimised and runs `cnnvar sweep` on studies/seed.toml (its report:
    /// runs/seed/report.html). Every argument goes to `cnnvar sweep` as it is: a first
    /// argument ending in .toml is the study instead, then anything `cnnvar sweep` takes
    /// (e.g. --quick, --jobs N, --threads-per-job T, --out DIR, --dry-run). `--backend tch`
    /// installs the torch venv, builds with tch and runs on it (the fastest CPU backend);
    /// other backends are compiled in by their feature the same way. Exits with the
    /// sweep's exit code.
    Sweep(sweep::SweepArgs),
    /// The libFuzzer targets (fuzz/: idx, cifar, study, record), each for a bounded time.
    ///
    /// Each target runs from fuzz/seeds and the corpus of earlier runs (fuzz/corpus),
    /// 60 s by default. Built by cargo with cargo-fuzz's flags (nothing to install); works
    /// on a stable toolchain (RUSTC_BOOTSTRAP=1 for the sanitizer's -Z flag).
    Fuzz(fuzz::FuzzArgs),
    /// Training and evaluation speed against Keras and PyTorch, or the Criterion benches.
    ///
    /// Trains the simple, two-conv and complex models (batch 32, Fashion-MNIST) with
    /// cnnvar on each CPU backend (optimised build) and the same models in Keras/TensorFlow
    /// and PyTorch (bench/*.py; tensorflow-cpu is installed into a venv under
    /// ~/.cache/cnnvar/), each as its own process; prints training and evaluation
    /// examples/s, their ratio to Keras and peak RSS, and writes
    /// bench/results/bench.{csv,json}. `--study FILE [--seeds N] [--epochs M]` times a
    /// whole `cnnvar sweep` on each of --backends against the same runs in one Keras
    /// process (bench/keras_study.py) and writes DIR/study.json. `--criterion [ARGS]` runs
    /// the Criterion benches (batch assembly, evaluation) instead, passing ARGS to
    /// Criterion.
    Bench(Box<bench::BenchArgs>),
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Some(Task::Ci(args)) => ci::run(&args),
        Some(Task::Setup) => env::setup(&env::Needs::all()),
        Some(Task::Sweep(args)) => sweep::run(&args.args),
        Some(Task::Fuzz(args)) => fuzz::run(&args),
        Some(Task::Bench(args)) => bench::run(*args),
        None => {
            Cli::command().print_help()?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("cargo xtask").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_task_is_the_help() {
        assert!(parse(&[]).expect("parses").task.is_none());
        assert!(matches!(parse(&["setup"]).expect("parses").task, Some(Task::Setup)));
    }

    #[test]
    fn ci_options() {
        let Some(Task::Ci(a)) = parse(&["ci"]).expect("parses").task else { panic!("not ci") };
        assert_eq!(a, ci::CiArgs { skip_install: false, quick: false, skip_fuzz: false });
        let Some(Task::Ci(a)) =
            parse(&["ci", "--skip-install", "--quick", "--skip-fuzz"]).expect("parses").task
        else {
            panic!("not ci")
        };
        assert_eq!(a, ci::CiArgs { skip_install: true, quick: true, skip_fuzz: true });
    }

    #[test]
    fn sweep_passes_everything_through() {
        let args = |a: &[&str]| match parse(a).expect("parses").task {
            Some(Task::Sweep(s)) => s.args,
            other => panic!("not sweep: {other:?}"),
        };
        assert!(args(&["sweep"]).is_empty());
        assert_eq!(
            args(&["sweep", "studies/full.toml", "--backend", "tch", "--quick"]),
            ["studies/full.toml", "--backend", "tch", "--quick"]
        );
        // Options of `cnnvar sweep` that xtask does not know, first or later, with their
        // values, `=` forms and short options included.
        assert_eq!(
            args(&["sweep", "--quick", "--jobs", "4", "--threads-per-job=2", "-q", "--dry-run"]),
            ["--quick", "--jobs", "4", "--threads-per-job=2", "-q", "--dry-run"]
        );
        assert_eq!(args(&["sweep", "--", "--quick"]), ["--quick"]);
        // `--help` right after `sweep` is this task's help; after a sweep option it is
        // `cnnvar sweep`'s, as before.
        let help = parse(&["sweep", "--help"]).expect_err("help");
        assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
        assert_eq!(args(&["sweep", "--quick", "--help"]), ["--quick", "--help"]);
    }

    #[test]
    fn fuzz_options() {
        let fuzz = |a: &[&str]| match parse(a).map(|c| c.task) {
            Ok(Some(Task::Fuzz(f))) => Ok(f),
            Ok(other) => panic!("not fuzz: {other:?}"),
            Err(e) => Err(e),
        };
        let f = fuzz(&["fuzz"]).expect("parses");
        assert!(f.targets.is_empty());
        assert_eq!(f.seconds, fuzz::DEFAULT_SECONDS);
        let f = fuzz(&["fuzz", "idx", "study", "--seconds", "600"]).expect("parses");
        assert_eq!(f.targets, ["idx", "study"]);
        assert_eq!(f.seconds, 600);
        assert_eq!(fuzz(&["fuzz", "--seconds=5", "record"]).expect("parses").seconds, 5);
        assert!(fuzz(&["fuzz", "nosuch"]).is_err());
        assert!(fuzz(&["fuzz", "--seconds", "soon"]).is_err());
        assert!(fuzz(&["fuzz", "--seconds"]).is_err());
    }

    #[test]
    fn unknown_tasks_and_options_are_errors() {
        for bad in [
            &["nosuch"][..],
            &["ci", "--quik"],
            &["ci", "extra"],
            &["setup", "--quick"],
            &["fuzz", "--minutes", "3"],
            &["bench", "--sampels", "5"],
        ] {
            let e = parse(bad).expect_err(&format!("{bad:?} must not parse"));
            assert!(
                matches!(
                    e.kind(),
                    clap::error::ErrorKind::UnknownArgument
                        | clap::error::ErrorKind::InvalidSubcommand
                        | clap::error::ErrorKind::InvalidValue
                ),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn every_task_has_help() {
        let cli = Cli::command();
        for task in cli.get_subcommands() {
            assert!(task.get_about().is_some(), "`{}` has no help", task.get_name());
            for arg in task.get_arguments() {
                assert!(
                    arg.get_help().is_some() || arg.get_id() == "help",
                    "`{} {}` has no help",
                    task.get_name(),
                    arg.get_id()
                );
            }
        }
    }
}
