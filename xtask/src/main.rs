//! cnnvar's automation, run as `cargo xtask <task>`:
//!
//! - `ci`: install what the tests need, then fmt, clippy, tests and the per-backend runs.
//! - `sweep`: the main job: the write-up's study on real data, then the report.
//! - `setup`: only the installation part of `ci`.
//! - `fuzz`: the cargo-fuzz targets of every parser, each for a bounded time.
//! - `bench`: training and evaluation speed against Keras and PyTorch, and the
//!   Criterion benches.
//!
//! Everything here drives cargo and the `cnnvar` binary the way a user would.

mod bench;
mod ci;
mod env;
mod fuzz;
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
        "fuzz" => fuzz::run(rest),
        "bench" => bench::run(rest),
        "help" | "-h" | "--help" => {
            println!("{HELP}");
            Ok(())
        }
        other => bail!("unknown task `{other}`\n\n{HELP}"),
    }
}

/// The usage text.
pub const HELP: &str = "\
usage: cargo xtask <task>

tasks:
  ci      install test prerequisites (Debian packages, a Python venv with torch 2.9.0
          for the tch backend), then fmt check, clippy -D warnings (all backends and
          cuda), every test, and a tiny training run on each CPU backend (flex, ndarray,
          tch, wgpu on lavapipe), and 60 s of every fuzz target (`cargo xtask fuzz`)
          options: --skip-install, --quick (skip clippy and fuzzing)
  setup   only install the prerequisites
  sweep   the main job: the write-up's study (studies/seed.toml) on Fashion-MNIST with
          repeated seeds, then its report (runs/seed/report.html); resumes where it
          stopped. Options: [STUDY.toml] then anything `cnnvar sweep` takes
          (e.g. --quick, --jobs N, --threads-per-job T, --out DIR); --backend tch
          installs the torch venv, builds with tch and runs on it (the fastest CPU
          backend; other backends are compiled in by their feature the same way)
  fuzz    runs the cargo-fuzz targets (fuzz/: idx, cifar, study, record), each for
          60 s from fuzz/seeds and the corpus of earlier runs; installs cargo-fuzz if
          missing. Options: [TARGET...] --seconds N
  bench   trains the simple, two-conv and complex models (batch 32, Fashion-MNIST)
          with cnnvar on each CPU backend (flex, ndarray, tch; optimised build) and
          the same models in Keras/TensorFlow and PyTorch (bench/*.py; tensorflow-cpu
          is installed into a venv under ~/.cache/cnnvar/), each as its own process;
          prints training and evaluation examples/s, their ratio to Keras and peak
          RSS, and writes bench/results/bench.{csv,json}. Options:
            --samples N       timed training examples (default 4096)
            --warmup N        untimed examples before (Keras, PyTorch; default 1024;
                              burn warms up on one untimed epoch of the same examples)
            --eval-samples N  timed test examples (default 4096)
            --threads T       compute threads per process (default 2)
            --models LIST     of simple,two-conv,complex
            --backends LIST   of flex,ndarray,tch (or none; default flex,tch:
                              ndarray's direct-loop convolution is very slow)
            --refs LIST       of keras,pytorch (or none)
            --quick           256 timed examples, 64 warm-up, 256 test: a smoke test
            --data-dir DIR    the IDX files (default $CNNVAR_DATA_DIR or
                              /usr/share/datasets/fashion-mnist)
            --cnnvar PATH     measure this cnnvar binary instead of building one
            --out DIR         results directory (default bench/results;
                              bench/results/tmp/quick with --quick); each
                              process's output and stderr go to DIR/tmp
            --timeout S       per-process limit in seconds (default 1800)
            --variant VAR=VAL also measure each backend with VAR=VAL in its
                              environment, right after the plain run (a before/
                              after pair, e.g. CNNVAR_MALLOC_TUNING=0)
          `bench --study FILE [--seeds N] [--epochs M]` times the whole study run by
          `cnnvar sweep` (its default jobs and threads) on each of --backends
          (default flex,tch) and the same runs done one after another in one Keras
          process as the write-up's code does (bench/keras_study.py), and writes
          DIR/study.json
          `bench --criterion [ARGS]` runs the Criterion benches (batch assembly,
          evaluation) instead, passing ARGS to Criterion";
