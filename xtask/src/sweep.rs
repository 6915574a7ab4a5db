//! `cargo xtask sweep`: the main job, on real data, with an optimised build.

use std::process::Command;

use anyhow::{Result, bail};

use crate::env::{self, Needs, sh};

/// The study the main job runs.
pub const MAIN_STUDY: &str = "studies/seed.toml";

/// The options of `cargo xtask sweep`: all of them go to `cnnvar sweep`.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// [STUDY.toml] (default studies/seed.toml), then any option of `cnnvar sweep`, passed
    /// on as it is (see `cnnvar sweep --help`); --backend also decides the build
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    pub args: Vec<String>,
}

/// Builds cnnvar in release mode and runs the write-up's study with repeated seeds,
/// then its report. Extra arguments go to `cnnvar sweep` (e.g. `--quick`, `--jobs 4`).
/// `--backend B` also decides the build: `tch`/`tch-cuda` install the LibTorch venv
/// (as `cargo xtask ci` does), build with the `tch` feature and run with its
/// libraries; any other backend but flex is compiled in by its feature.
pub fn run(extra: &[String]) -> Result<()> {
    let backend = backend_arg(extra)?;
    let feature = backend.as_deref().and_then(feature_of);
    let torch = feature == Some("tch");
    env::setup(&Needs { packages: vec!["dataset-fashion-mnist"], torch, slurm: false })?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(&cargo);
    build.current_dir(env::root()).args(["build", "--release", "-p", "cnnvar-cli"]);
    if let Some(f) = feature {
        build.args(["--features", &format!("cnnvar-cli/{f}")]);
    }
    sh(if torch { env::with_torch(&mut build)? } else { &mut build })?;
    let bin = env::target_dir().join("release/cnnvar");
    let (study, rest) = match extra.first() {
        Some(s) if s.ends_with(".toml") => (s.as_str(), &extra[1..]),
        _ => (MAIN_STUDY, extra),
    };
    let mut sweep = Command::new(&bin);
    sweep.current_dir(env::root()).args(["sweep", study]).args(rest);
    if torch {
        env::with_torch(&mut sweep)?;
    }
    // Ctrl-C reaches the sweep as well (one process group): the sweep stops its workers,
    // says what it kept and exits 130. Wait for it rather than die first, then exit
    // with its code and add nothing to its message (no error, no backtrace).
    let code = env::exit_code_leaving_interrupts_to(&mut sweep)?;
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

/// The value of `--backend` (or `--backend=B`) among the sweep's arguments.
fn backend_arg(args: &[String]) -> Result<Option<String>> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--backend" {
            return match it.next() {
                Some(b) => Ok(Some(b.clone())),
                None => bail!("--backend needs a value (e.g. tch, flex, auto)"),
            };
        }
        if let Some(b) = a.strip_prefix("--backend=") {
            return Ok(Some(b.to_string()));
        }
    }
    Ok(None)
}

/// The Cargo feature of the cnnvar package that compiles `backend` in, beyond the
/// default flex; `None` for flex, `auto` and names cnnvar checks itself.
fn feature_of(backend: &str) -> Option<&'static str> {
    match backend {
        "tch" | "tch-cuda" => Some("tch"),
        "ndarray" => Some("ndarray"),
        "wgpu" => Some("wgpu"),
        "vulkan" => Some("vulkan"),
        "metal" => Some("metal"),
        "cuda" => Some("cuda"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_backend_argument_decides_the_build() {
        let b = backend_arg(&args(&["studies/full.toml", "--backend", "tch", "--quick"]));
        assert_eq!(b.expect("parses").as_deref(), Some("tch"));
        assert_eq!(
            backend_arg(&args(&["--backend=ndarray"])).expect("parses").as_deref(),
            Some("ndarray")
        );
        assert_eq!(backend_arg(&args(&["--quick"])).expect("parses"), None);
        assert!(backend_arg(&args(&["--backend"])).is_err());
        assert_eq!(feature_of("tch-cuda"), Some("tch"));
        assert_eq!(feature_of("flex"), None);
        assert_eq!(feature_of("auto"), None);
    }
}
