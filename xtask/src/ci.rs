//! `cargo xtask ci`: the test command. Installs prerequisites, then: the format check; one
//! build of every target with all CPU backends compiled in, which is also the lint (the
//! workspace's crates are compiled by clippy-driver with `-D warnings`), so that the
//! dependency tree is compiled once; every test; the burn-free crates' tests without burn
//! (and a check that `cargo tree` shows none); a clippy check of the crates whose code the
//! GPU backend features change; a bounded run of every fuzz target; and a table of each
//! step's seconds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::env::{self, Needs, sh};

/// The options of `cargo xtask ci`.
#[derive(clap::Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct CiArgs {
    /// Install nothing: use the Debian packages, Slurm and venvs already there
    #[arg(long)]
    pub skip_install: bool,
    /// Only the format check, the build and the tests: no clippy, no GPU backends' check,
    /// no fuzzing
    #[arg(long)]
    pub quick: bool,
    /// Everything but fuzzing
    #[arg(long)]
    pub skip_fuzz: bool,
}

/// The backends CI compiles into one build and requires the tests to exercise: the CPU
/// backends. The GPU ones (wgpu, vulkan, cuda) are compiled and linted where their code
/// differs ([`GPU_FEATURES`]), not run: building wgpu's and CubeCL's tree for the tests
/// would cost a cold CI most of its time budget, and this machine has no GPU (wgpu
/// would run on lavapipe, software Vulkan). `cargo test --features cnnvar-cli/wgpu` runs
/// the wgpu tests where it matters.
pub const CI_BACKENDS: &[&str] = &["flex", "ndarray", "tch"];

/// The backend features that CI compiles but does not run (metal is macOS only):
/// checked, with clippy, in [`GPU_CRATES`] only.
pub const GPU_FEATURES: &[&str] = &["wgpu", "vulkan", "cuda"];

/// The packages whose code the GPU backend features change (`cfg(feature = "cuda")` and
/// the like); every other crate only forwards the features to these. A unit test keeps
/// this list equal to the crates with such a `cfg`.
pub const GPU_CRATES: &[&str] = &["cnnvar-core"];

/// A package that must build, and pass its tests, without burn.
#[derive(Clone, Copy, Debug)]
pub struct BurnFree {
    /// The package's name.
    pub package: &'static str,
    /// Whether burn is only gone without the package's default features.
    pub no_default_features: bool,
}

/// The packages that must build and pass their tests without burn; CI fails if `cargo
/// tree` lists a burn crate under any of them (which a workspace build's feature
/// unification would hide).
pub const BURN_FREE: &[BurnFree] = &[
    // Specs, records and the study parser; burn comes with its default feature (flex).
    BurnFree { package: "cnnvar-core", no_default_features: true },
    // The readers; without the defaults also without downloads (fetch: no network code,
    // no ureq, rustls or tar) and without image folders.
    BurnFree { package: "cnnvar-data", no_default_features: true },
    // The run store: study and run directories, plans, records, predictions.
    BurnFree { package: "cnnvar-store", no_default_features: false },
    // The statistics.
    BurnFree { package: "cnnvar-analysis", no_default_features: false },
    // The report.
    BurnFree { package: "cnnvar-report", no_default_features: false },
];

/// What `cargo clippy` passes to clippy-driver after `--`: every warning, rustc's and
/// clippy's, is an error.
const LINT_ARGS: &[&str] = &["-D", "warnings"];

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(env::root());
    c
}

/// `--features cnnvar-cli/flex,...` for the CI build.
fn features() -> String {
    CI_BACKENDS.iter().map(|b| format!("cnnvar-cli/{b}")).collect::<Vec<_>>().join(",")
}

/// Clippy through an ordinary build, as `cargo clippy` runs it through a check: cargo runs
/// `RUSTC_WORKSPACE_WRAPPER` instead of rustc for the workspace's own crates only, and
/// clippy-driver (rustc with clippy's lints) takes the lint options from `CLIPPY_ARGS`.
/// Dependencies are compiled by plain rustc, as real artifacts that the tests then use.
pub struct Lint {
    driver: PathBuf,
}

impl Lint {
    /// The toolchain's clippy-driver, found next to the rustc that cargo runs.
    pub fn find() -> Result<Lint> {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let out = Command::new(&rustc)
            .args(["--print", "sysroot"])
            .output()
            .with_context(|| format!("running {} --print sysroot", rustc.to_string_lossy()))?;
        anyhow::ensure!(out.status.success(), "{} --print sysroot failed", rustc.to_string_lossy());
        let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let driver =
            sysroot.join("bin").join(format!("clippy-driver{}", std::env::consts::EXE_SUFFIX));
        if driver.is_file() {
            return Ok(Lint { driver });
        }
        bail!(
            "no clippy-driver in {}, the toolchain of {}: clippy lints the CI build \
             (install it with `rustup component add clippy`, or run `cargo xtask ci --quick` \
             to build and test without lints)",
            sysroot.join("bin").display(),
            rustc.to_string_lossy()
        )
    }

    /// Makes `cmd` (a cargo command) lint the workspace's crates as it compiles them.
    pub fn apply<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("RUSTC_WORKSPACE_WRAPPER", &self.driver).env("CLIPPY_ARGS", clippy_args(LINT_ARGS))
    }
}

/// `CLIPPY_ARGS` as `cargo clippy` writes it for clippy-driver: each argument followed by
/// `__CLIPPY_HACKERY__`.
fn clippy_args(args: &[&str]) -> String {
    args.iter().map(|a| format!("{a}__CLIPPY_HACKERY__")).collect()
}

/// Builds a one-file crate with a clippy lint (`len_zero`) and a rustc warning
/// (`dead_code`) through [`Lint`], in its own directory under `dir`, and fails unless both
/// stop the build: proof that the CI build really lints (a clippy that changed how it takes
/// its arguments would otherwise let every lint pass unseen).
pub fn lint_canary(lint: &Lint, dir: &Path) -> Result<()> {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).with_context(|| format!("creating {}", src.display()))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"lint-canary\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
         publish = false\n\n[workspace]\n",
    )?;
    std::fs::write(
        src.join("lib.rs"),
        "//! Fails to build under the CI lints.\n\n/// Whether `v` is empty.\n\
         pub fn empty(v: &[u8]) -> bool {\n    v.len() == 0\n}\n\nfn unused() {}\n",
    )?;
    let mut c = cargo();
    c.current_dir(dir)
        .args(["build", "--message-format=json"])
        .env("CARGO_TARGET_DIR", dir.join("target"));
    let out = lint.apply(&mut c).output().context("building the lint canary")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let errors = error_codes(&stdout);
    let missing: Vec<&str> = ["clippy::len_zero", "dead_code"]
        .into_iter()
        .filter(|code| !errors.contains(*code))
        .collect();
    if out.status.success() || !missing.is_empty() {
        bail!(
            "the lint canary in {} did not fail with {missing:?} as errors (got {errors:?}, \
             {}): the build's lints are not working\n{}",
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// The codes of the error diagnostics in cargo's `--message-format=json` output.
fn error_codes(json_lines: &str) -> BTreeSet<String> {
    json_lines
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-message" && m["message"]["level"] == "error")
        .filter_map(|m| m["message"]["code"]["code"].as_str().map(String::from))
        .collect()
}

/// The workspace command with everything CI's build and tests share: the torch venv's
/// environment and, unless `lint` is `None`, the lints. The build and the test run must
/// share it exactly, or the test run recompiles the workspace's crates.
fn workspace_cargo(lint: Option<&Lint>, args: &[&str]) -> Result<Command> {
    let mut c = cargo();
    c.args(args).args(["--workspace", "--features"]).arg(features());
    env::with_torch(&mut c)?;
    if let Some(lint) = lint {
        lint.apply(&mut c);
    }
    Ok(c)
}

/// Each step's name and seconds, for the lines `== step (N s so far)` and the final table.
struct Steps {
    started: Instant,
    current: Option<(String, Instant)>,
    done: Vec<(String, f64)>,
}

impl Steps {
    fn new() -> Steps {
        Steps { started: Instant::now(), current: None, done: vec![] }
    }

    /// Ends the current step and starts `name` (`detail` only goes to the log line).
    fn start(&mut self, name: &str, detail: &str) {
        self.end();
        let sep = if detail.is_empty() { "" } else { ": " };
        eprintln!(
            "\n== {name}{sep}{detail} ({:.0} s so far)",
            self.started.elapsed().as_secs_f64()
        );
        self.current = Some((name.to_string(), Instant::now()));
    }

    fn end(&mut self) {
        if let Some((name, at)) = self.current.take() {
            self.done.push((name, at.elapsed().as_secs_f64()));
        }
    }

    /// The current step's name, if one is running.
    fn running(&self) -> Option<&str> {
        self.current.as_ref().map(|(n, _)| n.as_str())
    }
}

/// The table of steps and their seconds.
fn table(done: &[(String, f64)], total: f64) -> String {
    let width = done.iter().map(|(n, _)| n.len()).max().unwrap_or(0).max("total".len());
    let mut t = format!("{:<width$}  {:>7}\n", "step", "seconds");
    for (name, s) in done {
        t += &format!("{name:<width$}  {s:>7.0}\n");
    }
    t += &format!("{:<width$}  {total:>7.0}\n", "total");
    t
}

/// Runs the whole CI.
pub fn run(o: &CiArgs) -> Result<()> {
    let mut steps = Steps::new();
    let result = steps_of_ci(o, &mut steps);
    let failed = steps.running().map(String::from);
    steps.end();
    let total = steps.started.elapsed().as_secs_f64();
    match &failed {
        Some(step) if result.is_err() => eprintln!("\n== ci failed in `{step}` after {total:.0} s"),
        _ => eprintln!("\n== ci passed in {total:.0} s"),
    }
    eprint!("\n{}", table(&steps.done, total));
    match (result, failed) {
        (Err(e), Some(step)) => Err(e.context(format!("ci step `{step}` failed"))),
        (result, _) => result,
    }
}

fn steps_of_ci(o: &CiArgs, steps: &mut Steps) -> Result<()> {
    if !o.skip_install {
        steps.start("setup", "Debian packages, Slurm, the torch venv, the digits folder");
        env::setup(&Needs::all())?;
        env::digits_folder()?;
    }

    steps.start("format", "");
    sh(cargo().args(["fmt", "--all", "--", "--check"]))?;

    steps.start(
        "build",
        if o.quick {
            "every target, all CPU backends compiled in"
        } else {
            "every target, all CPU backends compiled in; also the lint (clippy -D warnings)"
        },
    );
    let lint = if o.quick { None } else { Some(Lint::find()?) };
    if let Some(lint) = &lint {
        lint_canary(lint, &env::target_dir().join("xtask-lint-canary"))?;
    }
    // Every target clippy --all-targets checks: libraries, binaries and examples, and in
    // test mode the libraries, binaries, tests and benches; the tests need all but the
    // benches.
    sh(&mut workspace_cargo(lint.as_ref(), &["build", "--all-targets"])?)?;

    steps.start("tests", "all CPU backends compiled in");
    // scikit-learn's 8×8 digits as an image folder, for the image-folder tests.
    let digits = env::digits_folder()?;
    let skips = SkipLog::start(&env::target_dir().join("xtask-test-skips.log"))?;
    let mut test = workspace_cargo(lint.as_ref(), &["test"])?;
    sh(require_everything(&mut test, &digits, &env::runtime_dir()?, &skips.path))?;

    steps.start("burn-free crates", &burn_free_names());
    burn_free(lint.as_ref(), &skips)?;
    skips.check()?;

    if !o.quick {
        steps.start(
            "GPU backends",
            &format!("clippy of {} with {}", GPU_CRATES.join(", "), GPU_FEATURES.join(", ")),
        );
        gpu_check()?;
    }

    if !o.quick && !o.skip_fuzz {
        steps.start(
            "fuzz",
            &format!("every parser, {CI_FUZZ_SECONDS} s each, one per core at once"),
        );
        crate::fuzz::fuzz(crate::fuzz::TARGETS, CI_FUZZ_SECONDS)?;
    }
    Ok(())
}

/// Seconds CI fuzzes each target, from the committed seeds and regressions: half of
/// `cargo xtask fuzz`'s default, so that a cold CI stays within its time (fuzz longer
/// with `cargo xtask fuzz`).
pub const CI_FUZZ_SECONDS: u64 = 30;

/// The environment variable a test appends its skip line to (`CNNVAR_SKIP_LOG`; the
/// tests' side is `cnnvar_core::testing::skip`).
pub const SKIP_LOG_VAR: &str = "CNNVAR_SKIP_LOG";

/// `c` (the workspace's test run) with every resource a test may need required, so that
/// a missing one fails its test instead of skipping it (the six `CNNVAR_REQUIRE_*`
/// variables), downloads off, the digits folder, and [`SKIP_LOG_VAR`] naming `skip_log`:
/// a skip that no variable covers is still recorded there, and fails CI
/// ([`SkipLog::check`]), since libtest shows a passing test's stderr to no one.
fn require_everything<'c>(
    c: &'c mut Command,
    digits: &Path,
    runtime_dir: &Path,
    skip_log: &Path,
) -> &'c mut Command {
    c.env("CNNVAR_REQUIRE_BACKENDS", CI_BACKENDS.join(","))
        .env("CNNVAR_REQUIRE_DATA", "fashion-mnist")
        .env("CNNVAR_REQUIRE_BROWSER", "chromium")
        .env("CNNVAR_REQUIRE_SLURM", "1")
        .env("CNNVAR_REQUIRE_TMPFS", "1")
        .env("CNNVAR_AUTO_FETCH", "0")
        .env("CNNVAR_DIGITS_DIR", digits)
        .env("CNNVAR_REQUIRE_DIGITS", "1")
        .env("XDG_RUNTIME_DIR", runtime_dir)
        .env("CNNVAR_TORCH_PYTHON", crate::env::torch_venv().join("bin/python"))
        .env(SKIP_LOG_VAR, skip_log)
}

/// The file CI's test runs append their skip lines to.
struct SkipLog {
    path: PathBuf,
}

impl SkipLog {
    /// Empties (or creates) the log at `path`.
    fn start(path: &Path) -> Result<SkipLog> {
        std::fs::write(path, "").with_context(|| format!("emptying {}", path.display()))?;
        Ok(SkipLog { path: path.to_path_buf() })
    }

    /// Fails, listing them, when any test skipped.
    fn check(&self) -> Result<()> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.path.display())),
        };
        let skips: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if !skips.is_empty() {
            bail!(
                "{} test(s) skipped, and CI runs every test (give them what they need):\n{}",
                skips.len(),
                skips.join("\n")
            );
        }
        Ok(())
    }
}

fn burn_free_names() -> String {
    BURN_FREE
        .iter()
        .map(|p| {
            if p.no_default_features {
                format!("{} (no default features)", p.package)
            } else {
                p.package.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The GPU backends CI cannot run, compiled (a check) and linted where they change code.
/// DOCS_RS=1 stops cubecl-cuda's LLVM bundler from downloading LLVM, which a check does not
/// need (and an offline machine cannot do).
fn gpu_check() -> Result<()> {
    let features: Vec<String> = GPU_CRATES
        .iter()
        .flat_map(|p| GPU_FEATURES.iter().map(move |f| format!("{p}/{f}")))
        .collect();
    let mut c = cargo();
    c.arg("clippy");
    for p in GPU_CRATES {
        c.args(["-p", p]);
    }
    c.args(["--all-targets", "--features"])
        .arg(features.join(","))
        .arg("--")
        .args(LINT_ARGS)
        .env("DOCS_RS", "1");
    sh(&mut c)
}

/// The burn-free packages: none may have burn in its dependency tree, and their tests pass
/// without it, in one cargo invocation (linted like the main build: code that only compiles
/// without burn is seen only here). A package whose features that invocation widens (a
/// package tested with it depends on it with default features, and cargo unifies features
/// across the packages of one invocation) is left out of it and tested alone.
fn burn_free(lint: Option<&Lint>, skips: &SkipLog) -> Result<()> {
    let defaults = packages_with_default_feature()?;
    let (together, alone) = burn_free_plan(&defaults)?;
    let test = |packages: &[&BurnFree]| {
        let mut c = cargo();
        c.arg("test").args(selection(packages, &defaults)).env(SKIP_LOG_VAR, &skips.path);
        if let Some(lint) = lint {
            lint.apply(&mut c);
        }
        sh(&mut c)
    };
    if !together.is_empty() {
        test(&together)?;
    }
    for p in alone {
        test(&[p])?;
    }
    Ok(())
}

/// Checks that no burn-free package has burn in its tree, and splits them into those
/// tested together and those tested alone (whose features the joint invocation widens).
fn burn_free_plan(
    defaults: &BTreeMap<String, bool>,
) -> Result<(Vec<&'static BurnFree>, Vec<&'static BurnFree>)> {
    let mut by_itself = BTreeMap::new();
    for p in BURN_FREE {
        anyhow::ensure!(
            defaults.contains_key(p.package),
            "the burn-free list names {}, which is not a package of the workspace",
            p.package
        );
        let tree = tree(&[p], defaults)?;
        let burn = burn_crates(&tree);
        let how = if p.no_default_features { " without default features" } else { "" };
        anyhow::ensure!(burn.is_empty(), "{}{how} depends on {burn:?}", p.package);
        by_itself.insert(p.package, features_in_tree(&tree).remove(p.package).unwrap_or_default());
    }
    let all: Vec<&BurnFree> = BURN_FREE.iter().collect();
    let joint = features_in_tree(&tree(&all, defaults)?);
    let (mut together, mut alone) = (vec![], vec![]);
    for p in BURN_FREE {
        let with_others = joint.get(p.package).cloned().unwrap_or_default();
        let own = &by_itself[p.package];
        if with_others == *own {
            together.push(p);
        } else {
            eprintln!(
                "{}: features {with_others:?} with the other burn-free packages, {own:?} by \
                 itself: tested alone",
                p.package
            );
            alone.push(p);
        }
    }
    Ok((together, alone))
}

/// The cargo arguments that select `packages` with their burn-free features: without
/// default features, given back to those that keep them.
fn selection(packages: &[&BurnFree], defaults: &BTreeMap<String, bool>) -> Vec<String> {
    let mut args = vec![];
    for p in packages {
        args.extend(["-p".to_string(), p.package.to_string()]);
    }
    args.push("--no-default-features".into());
    let keep: Vec<String> = packages
        .iter()
        .filter(|p| !p.no_default_features && defaults.get(p.package) == Some(&true))
        .map(|p| format!("{}/default", p.package))
        .collect();
    if !keep.is_empty() {
        args.extend(["--features".to_string(), keep.join(",")]);
    }
    args
}

/// Each workspace package and whether it has a `default` feature.
fn packages_with_default_feature() -> Result<BTreeMap<String, bool>> {
    let out = cargo().args(["metadata", "--no-deps", "--format-version", "1"]).output()?;
    anyhow::ensure!(out.status.success(), "cargo metadata failed");
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    Ok(meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let name = p["name"].as_str()?.to_string();
            Some((name, p["features"].get("default").is_some()))
        })
        .collect())
}

/// `cargo tree` of `packages` resolved together as one cargo invocation resolves them,
/// dev-dependencies included, one package a line: `name vX (path)|feature,feature`.
fn tree(packages: &[&BurnFree], defaults: &BTreeMap<String, bool>) -> Result<String> {
    let out = cargo()
        .arg("tree")
        .args(selection(packages, defaults))
        .args(["--prefix", "none", "-e", "normal,build,dev", "--format", "{p}|{f}"])
        .output()?;
    let names: Vec<&str> = packages.iter().map(|p| p.package).collect();
    anyhow::ensure!(
        out.status.success(),
        "cargo tree of {names:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
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

/// Each package's features in `cargo tree --format "{p}|{f}"` output.
fn features_in_tree(tree: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut features: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in tree.lines() {
        let Some((package, list)) = line.split_once('|') else { continue };
        let Some(name) = package.split_whitespace().next() else { continue };
        let list = list.trim_end().trim_end_matches("(*)").trim_end();
        features
            .entry(name.to_string())
            .or_default()
            .extend(list.split(',').filter(|f| !f.is_empty()).map(String::from));
    }
    features
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What every skip line starts with (`cnnvar_core::testing::SKIP_PREFIX`).
    const SKIP_PREFIX: &str = "cnnvar-test-skip: ";

    /// A skip line makes CI fail and is shown; an empty (or missing) log passes.
    #[test]
    fn any_skip_fails_ci() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("skips.log");
        let log = SkipLog::start(&path).expect("starts");
        log.check().expect("no skips");
        let line = format!("{SKIP_PREFIX}report::html_is_valid: no Chromium");
        std::fs::write(&path, format!("{line}\n")).expect("write");
        let e = log.check().expect_err("a skip fails").to_string();
        assert!(e.contains("1 test(s) skipped") && e.contains(&line), "{e}");
        SkipLog::start(&path).expect("starts again").check().expect("emptied");
        std::fs::remove_file(&path).expect("remove");
        log.check().expect("nothing written: no skips");
    }

    /// The test run requires all six resources and names the skip log; the names are
    /// those the tests' side uses.
    #[test]
    fn the_test_run_requires_every_resource_and_logs_skips() {
        let mut c = Command::new("cargo");
        require_everything(&mut c, Path::new("/d"), Path::new("/r"), Path::new("/s.log"));
        let envs: BTreeMap<String, String> = c
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string())))
            .collect();
        let required = envs.keys().filter(|k| k.starts_with("CNNVAR_REQUIRE_")).count();
        assert_eq!(required, 6, "{envs:?}");
        assert_eq!(envs.get(SKIP_LOG_VAR).map(String::as_str), Some("/s.log"));
        let tests_side = include_str!("../../crates/core/src/testing.rs");
        for constant in [
            format!("SKIP_LOG_VAR: &str = \"{SKIP_LOG_VAR}\";"),
            format!("SKIP_PREFIX: &str = \"{SKIP_PREFIX}\";"),
        ] {
            assert!(tests_side.contains(&constant), "cnnvar-core's testing.rs lacks {constant}");
        }
    }

    #[test]
    fn burn_crates_are_found_in_a_tree() {
        let tree = "cnnvar-experiments v0.1.0 (/x)\nburn v0.22.1\nburn-flex v0.22.1\n\
                    burn v0.22.1 (*)\nreburn v1.0.0\nserde v1.0.0\n";
        assert_eq!(burn_crates(tree), ["burn", "burn-flex"]);
        assert!(burn_crates("csv v1.3.0\nstatrs v0.19.0\n").is_empty());
        let formatted = "cnnvar-core v0.1.0 (/x)|burn,flex\nburn v0.22.1|std\n";
        assert_eq!(burn_crates(formatted), ["burn"]);
    }

    #[test]
    fn features_are_read_from_a_tree() {
        let tree = "cnnvar-analysis v0.1.0 (/w/crates/analysis)|\n\
                    cnnvar-data v0.1.0 (/w/crates/data)|default,fetch,folder\n\
                    cnnvar-data v0.1.0 (/w/crates/data)|default,fetch,folder (*)\n\
                    serde v1.0.228|alloc,derive,std (*)\n\n\
                    cnnvar-core v0.1.0 (/w/crates/core)|\n";
        let f = features_in_tree(tree);
        let set = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(f["cnnvar-data"], set(&["default", "fetch", "folder"]));
        assert_eq!(f["serde"], set(&["alloc", "derive", "std"]));
        assert!(f["cnnvar-core"].is_empty() && f["cnnvar-analysis"].is_empty());
        assert_eq!(f.len(), 4);
    }

    #[test]
    fn burn_free_packages_are_selected_with_their_features() {
        let defaults: BTreeMap<String, bool> =
            [("a", true), ("b", true), ("c", false)].map(|(n, d)| (n.to_string(), d)).into();
        let a = BurnFree { package: "a", no_default_features: true };
        let b = BurnFree { package: "b", no_default_features: false };
        let c = BurnFree { package: "c", no_default_features: false };
        assert_eq!(
            selection(&[&a, &b, &c], &defaults),
            ["-p", "a", "-p", "b", "-p", "c", "--no-default-features", "--features", "b/default"]
        );
        assert_eq!(selection(&[&c], &defaults), ["-p", "c", "--no-default-features"]);
    }

    /// Every package of the burn-free list is a workspace member, and one that needs
    /// `--no-default-features` has default features.
    #[test]
    fn the_burn_free_list_names_workspace_packages() {
        let members = crate::tidy::workspace_members(&env::root()).expect("members");
        let packages = crate::tidy::member_packages(&env::root(), &members).expect("packages");
        for p in BURN_FREE {
            let (_, has_default) = packages
                .iter()
                .find(|(name, _)| name == p.package)
                .unwrap_or_else(|| panic!("{} is not a workspace package", p.package));
            assert!(
                !p.no_default_features || *has_default,
                "{} has no default features to leave out",
                p.package
            );
        }
    }

    /// Every burn-free package is burn-free, and is tested once: with the others, or alone
    /// when they widen its features.
    #[test]
    fn the_burn_free_packages_are_planned() {
        let defaults = packages_with_default_feature().expect("cargo metadata");
        let (together, alone) = burn_free_plan(&defaults).expect("no burn");
        let mut all: Vec<&str> = together.iter().chain(&alone).map(|p| p.package).collect();
        all.sort_unstable();
        let mut listed: Vec<&str> = BURN_FREE.iter().map(|p| p.package).collect();
        listed.sort_unstable();
        assert_eq!(all, listed);
        eprintln!(
            "together: {:?}; alone: {:?}",
            together.iter().map(|p| p.package).collect::<Vec<_>>(),
            alone.iter().map(|p| p.package).collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_table_lists_each_step() {
        let done = vec![("setup".to_string(), 361.4), ("build".to_string(), 1800.0)];
        assert_eq!(
            table(&done, 2200.0),
            "step   seconds\nsetup      361\nbuild     1800\ntotal     2200\n"
        );
    }

    /// The format `cargo clippy` uses (clippy's `src/main.rs`), which clippy-driver splits.
    #[test]
    fn clippy_args_are_written_as_cargo_clippy_writes_them() {
        assert_eq!(clippy_args(LINT_ARGS), "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__");
        assert_eq!(clippy_args(&[]), "");
    }

    #[test]
    fn error_codes_come_from_cargo_messages() {
        let out = r#"{"reason":"compiler-artifact","target":{}}
{"reason":"compiler-message","message":{"level":"error","code":{"code":"clippy::len_zero"}}}
{"reason":"compiler-message","message":{"level":"warning","code":{"code":"unused_imports"}}}
{"reason":"compiler-message","message":{"level":"error","code":null}}
not json
{"reason":"compiler-message","message":{"level":"error","code":{"code":"dead_code"}}}"#;
        let codes: Vec<String> = error_codes(out).into_iter().collect();
        assert_eq!(codes, ["clippy::len_zero", "dead_code"]);
    }

    /// The lint-through-the-build catches a clippy lint and a rustc warning (needs the
    /// toolchain's clippy; skipped without it, as `ci --quick` can be).
    #[test]
    fn the_build_lints() {
        let Ok(lint) = Lint::find() else {
            eprintln!("no clippy-driver: skipped");
            return;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        lint_canary(&lint, dir.path()).expect("the canary fails to build with both lints");
    }

    /// The crates in which a GPU backend feature changes code are the ones CI checks with
    /// those features.
    #[test]
    fn gpu_crates_are_the_crates_with_gpu_code() {
        let root = env::root();
        let members = crate::tidy::workspace_members(&root).expect("members");
        let mut found = BTreeSet::new();
        for member in members.iter().filter(|m| *m != "xtask") {
            let (name, dirs) = crate::tidy::source_dirs(&root, member).expect("sources");
            for dir in dirs {
                if crate::tidy::rust_files(&dir).iter().any(|f| has_gpu_cfg(f)) {
                    found.insert(name.clone());
                }
            }
        }
        let listed: BTreeSet<String> = GPU_CRATES.iter().map(|s| s.to_string()).collect();
        assert_eq!(found, listed, "set GPU_CRATES to the crates with GPU backend code");
    }

    fn has_gpu_cfg(file: &Path) -> bool {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        ["cuda", "vulkan", "metal"].iter().any(|f| flat.contains(&format!("feature=\"{f}\"")))
    }
}
