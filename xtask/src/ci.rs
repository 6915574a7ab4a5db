//! `cargo xtask ci`: the test command. Installs prerequisites, then fmt, clippy, every
//! test with all CPU backends compiled in, a check of the CUDA build, the data crate's
//! tests without its download feature, the experiments and core crates' without burn, and a
//! bounded run of every fuzz target.

use std::process::Command;

use anyhow::Result;

use crate::env::{self, Needs, sh};

/// The backends CI compiles into one build and requires the tests to exercise. `wgpu`
/// runs on Vulkan (lavapipe, software Vulkan, on a machine without a GPU) with WGSL
/// kernels; the `vulkan` feature's SPIR-V kernels crash lavapipe (a cubecl-spirv 0.11.3
/// bug in workgroup-memory lowering), and with `vulkan` compiled in, wgpu uses SPIR-V
/// too, so the test build leaves `vulkan` out. Clippy still checks it.
pub const CI_BACKENDS: &[&str] = &["flex", "ndarray", "tch", "wgpu"];

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(env::root());
    c
}

/// `--features cnnvar/flex,...` for the CI build.
fn features() -> String {
    CI_BACKENDS.iter().map(|b| format!("cnnvar/{b}")).collect::<Vec<_>>().join(",")
}

/// Runs the whole CI.
pub fn run_ci(skip_install: bool, quick: bool) -> Result<()> {
    let started = std::time::Instant::now();
    if !skip_install {
        env::setup(&Needs::all())?;
    }
    let step =
        |name: &str| eprintln!("\n== {name} ({:.0} s so far)", started.elapsed().as_secs_f64());

    step("format");
    sh(cargo().args(["fmt", "--all", "--", "--check"]))?;

    if !quick {
        // Clippy over every backend but metal (macOS only), CUDA included: this is also the `cuda` build check.
        // DOCS_RS=1 stops cubecl-cuda's LLVM bundler from downloading LLVM, which a
        // check does not need (and an offline machine cannot do).
        step("clippy (with the cuda feature: the CUDA build check)");
        sh(env::with_torch(
            cargo()
                .args(["clippy", "--workspace", "--all-targets", "--features"])
                .arg(format!("{},cnnvar/vulkan,cnnvar/cuda", features()))
                .args(["--", "-D", "warnings"])
                .env("DOCS_RS", "1"),
        )?)?;
    }

    step("tests (all CPU backends compiled in)");
    // scikit-learn's 8×8 digits as an image folder, for the image-folder tests.
    let digits = env::digits_folder()?;
    sh(env::with_torch(
        cargo()
            .args(["test", "--workspace", "--features"])
            .arg(features())
            .env("CNNVAR_REQUIRE_BACKENDS", CI_BACKENDS.join(","))
            .env("CNNVAR_REQUIRE_DATA", "fashion-mnist")
            .env("CNNVAR_REQUIRE_BROWSER", "chromium")
            .env("CNNVAR_REQUIRE_SLURM", "1")
            .env("CNNVAR_REQUIRE_TMPFS", "1")
            .env("CNNVAR_AUTO_FETCH", "0")
            .env("CNNVAR_DIGITS_DIR", &digits)
            .env("CNNVAR_REQUIRE_DIGITS", "1")
            .env("XDG_RUNTIME_DIR", env::runtime_dir()?),
    )?)?;

    // The readers must stand alone: cnnvar-data without its `fetch` feature (no network
    // code, no ureq, rustls or tar).
    step("cnnvar-data without downloads");
    sh(cargo().args(["test", "-p", "cnnvar-data", "--no-default-features"]))?;

    // The statistics and the report need no burn: cnnvar-experiments without its
    // `train` feature has none in its dependency tree, and builds and passes alone.
    step("cnnvar-experiments without burn");
    no_burn_in_tree("cnnvar-experiments")?;
    sh(cargo().args(["test", "-p", "cnnvar-experiments", "--no-default-features"]))?;
    // The study parser and specs too: cnnvar-core without burn.
    sh(cargo().args(["test", "-p", "cnnvar-core", "--no-default-features"]))?;

    if !quick {
        step("fuzz (every parser, 60 s each)");
        crate::fuzz::fuzz(crate::fuzz::TARGETS, crate::fuzz::DEFAULT_SECONDS)?;
    }

    step(&format!("ci passed in {:.0} s", started.elapsed().as_secs_f64()));
    Ok(())
}

/// Fails if `package`, without its default features, depends on any burn crate
/// (dev-dependencies included).
fn no_burn_in_tree(package: &str) -> Result<()> {
    let out = cargo()
        .args(["tree", "-p", package, "--no-default-features", "--prefix", "none"])
        .args(["-e", "normal,build,dev"])
        .output()?;
    anyhow::ensure!(out.status.success(), "cargo tree -p {package} failed");
    let tree = String::from_utf8_lossy(&out.stdout);
    let burn = burn_crates(&tree);
    anyhow::ensure!(burn.is_empty(), "{package} without default features depends on {burn:?}");
    Ok(())
}

/// The burn crates in `cargo tree --prefix none` output.
fn burn_crates(tree: &str) -> Vec<&str> {
    let mut names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n == "burn" || n.starts_with("burn-"))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Parses `ci`'s options and runs it.
pub fn run(args: &[String]) -> Result<()> {
    let skip_install = args.iter().any(|a| a == "--skip-install");
    let quick = args.iter().any(|a| a == "--quick");
    run_ci(skip_install, quick)
}

#[cfg(test)]
mod tests {
    use super::burn_crates;

    #[test]
    fn burn_crates_are_found_in_a_tree() {
        let tree = "cnnvar-experiments v0.1.0 (/x)\nburn v0.22.1\nburn-flex v0.22.1\n\
                    burn v0.22.1 (*)\nreburn v1.0.0\nserde v1.0.0\n";
        assert_eq!(burn_crates(tree), ["burn", "burn-flex"]);
        assert!(burn_crates("csv v1.3.0\nstatrs v0.19.0\n").is_empty());
    }
}
