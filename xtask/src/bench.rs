//! `cargo xtask bench`: cnnvar's training and evaluation speed on each CPU backend,
//! next to the same models in Keras/TensorFlow and PyTorch (the reference scripts in
//! `bench/`), each measured as its own process; or, with `--criterion`, the Criterion
//! benches of cnnvar's hot paths.

mod frameworks;
mod measure;
mod report;
mod roofline;
mod study;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::env::{self, Needs, sh};
use frameworks::{Subject, Tools, Workload};

/// The write-up's models, in the order they are measured.
const MODELS: &[&str] = &["simple", "two-conv", "complex"];

/// The CPU backends a release build for benchmarking contains.
const CPU_BACKENDS: &[&str] = &["flex", "ndarray", "tch"];

/// The backends measured unless `--backends` says otherwise: ndarray is left out because
/// its direct-loop convolution (no GEMM) makes the two bigger models take most of an hour.
const DEFAULT_BACKENDS: &[&str] = &["flex", "tch"];

/// The reference frameworks.
const REFERENCES: &[&str] = &["keras", "pytorch"];

/// Where Debian's `dataset-fashion-mnist` puts the IDX files.
const SYSTEM_DATA_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The command line of `cargo xtask bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Timed training examples (default 48000: 1500 steps of batch 32; 256 with --quick)
    #[arg(long, value_name = "N")]
    samples: Option<usize>,
    /// Untimed examples before (Keras, PyTorch; default 9600, 64 with --quick; burn
    /// warms up on one untimed epoch of the same examples)
    #[arg(long, value_name = "N")]
    warmup: Option<usize>,
    /// Timed test examples (default 10000, 256 with --quick)
    #[arg(long, value_name = "N")]
    eval_samples: Option<usize>,
    /// Compute threads per process
    #[arg(long, value_name = "T", default_value_t = 2, value_parser = at_least_one)]
    threads: usize,
    /// The models, of simple,two-conv,complex
    #[arg(long, value_name = "LIST", default_value = "simple,two-conv,complex", value_parser = models)]
    models: List,
    /// The cnnvar backends, of flex,ndarray,tch, or none [default: flex,tch] (ndarray's
    /// direct-loop convolution is very slow)
    #[arg(long, value_name = "LIST", value_parser = backends)]
    backends: Option<List>,
    /// The reference frameworks, of keras,pytorch, or none (--study: keras only)
    #[arg(long, value_name = "LIST", default_value = "keras,pytorch", value_parser = refs)]
    refs: List,
    /// A smoke test: 256 timed examples, 64 warm-up, 256 test, no roofline; results in
    /// bench/results/tmp/quick unless --out
    #[arg(long)]
    quick: bool,
    /// The Fashion-MNIST IDX files [default: $CNNVAR_DATA_DIR, else
    /// /usr/share/datasets/fashion-mnist]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Measure this cnnvar binary instead of building one
    #[arg(long, value_name = "PATH")]
    cnnvar: Option<PathBuf>,
    /// Results directory [default: bench/results; bench/results/tmp/quick with --quick];
    /// each process's output and stderr go to DIR/tmp
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Per-process time limit in seconds
    #[arg(long, value_name = "S", default_value_t = 1800)]
    timeout: u64,
    /// Also measure each backend with VAR=VAL in its environment, right after the plain
    /// run (a before/after pair, e.g. CNNVAR_MALLOC_TUNING=0)
    #[arg(long, value_name = "VAR=VAL", value_parser = variant)]
    variant: Option<Variant>,
    /// Time this whole study run by `cnnvar sweep` (its default jobs and threads) on each
    /// of --backends against the same runs in one Keras process; writes DIR/study.json
    #[arg(long, value_name = "FILE")]
    study: Option<PathBuf>,
    /// With --study: replicates per level instead of the study's
    #[arg(long, value_name = "N", requires = "study", value_parser = at_least_one)]
    seeds: Option<usize>,
    /// With --study: epochs of every run instead of the study's
    #[arg(long, value_name = "M", requires = "study", value_parser = at_least_one)]
    epochs: Option<usize>,
    /// Run the Criterion benches (batch assembly, evaluation) instead; everything after
    /// it goes to Criterion (e.g. a filter, --quick)
    #[arg(long, value_name = "ARGS", num_args = 0.., allow_hyphen_values = true)]
    criterion: Option<Vec<String>>,
}

/// A list option's items (`none`: empty).
#[derive(Clone, Debug, PartialEq)]
struct List(Vec<String>);

/// A `--variant VAR=VALUE`.
#[derive(Clone, Debug, PartialEq)]
struct Variant(String, String);

/// A comma-separated list whose items must come from `allowed` (`none`: empty).
fn list(value: &str, allowed: &[&str]) -> Result<List> {
    if value == "none" {
        return Ok(List(vec![]));
    }
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if allowed.contains(&s) {
                Ok(s.to_string())
            } else {
                bail!("unknown `{s}`; expected some of {} (or none)", allowed.join(","))
            }
        })
        .collect::<Result<_>>()
        .map(List)
}

fn models(value: &str) -> Result<List> {
    list(value, MODELS)
}

fn backends(value: &str) -> Result<List> {
    list(value, CPU_BACKENDS)
}

fn refs(value: &str) -> Result<List> {
    list(value, REFERENCES)
}

fn at_least_one(value: &str) -> Result<usize> {
    let n: usize = value.parse().with_context(|| format!("`{value}` is not a whole number"))?;
    anyhow::ensure!(n >= 1, "must be at least 1");
    Ok(n)
}

fn variant(value: &str) -> Result<Variant> {
    match value.split_once('=') {
        Some((k, v)) if !k.is_empty() && !k.contains(char::is_whitespace) => {
            Ok(Variant(k.to_string(), v.to_string()))
        }
        _ => bail!("expected VAR=VALUE, got `{value}`"),
    }
}

/// The options of `cargo xtask bench`, defaults and `--study`'s choices applied.
#[derive(Clone, Debug)]
struct Options {
    samples: Option<usize>,
    warmup: Option<usize>,
    eval_samples: Option<usize>,
    threads: usize,
    models: Vec<String>,
    backends: Vec<String>,
    refs: Vec<String>,
    quick: bool,
    data_dir: PathBuf,
    out: Option<PathBuf>,
    cnnvar: Option<PathBuf>,
    timeout: Duration,
    criterion: Option<Vec<String>>,
    study: Option<PathBuf>,
    variant: Option<(String, String)>,
    seeds: Option<usize>,
    epochs: Option<usize>,
}

impl Options {
    fn from_args(a: BenchArgs) -> Options {
        let mut refs = a.refs.0;
        let backends = match a.backends {
            Some(List(b)) => b,
            None => DEFAULT_BACKENDS.iter().map(|s| s.to_string()).collect(),
        };
        if a.study.is_some() {
            // The study is compared with Keras only.
            refs.retain(|r| r == "keras");
        }
        Options {
            samples: a.samples,
            warmup: a.warmup,
            eval_samples: a.eval_samples,
            threads: a.threads,
            models: a.models.0,
            backends,
            refs,
            quick: a.quick,
            data_dir: a.data_dir.unwrap_or_else(|| {
                std::env::var_os("CNNVAR_DATA_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from(SYSTEM_DATA_DIR))
            }),
            out: a.out,
            cnnvar: a.cnnvar,
            timeout: Duration::from_secs(a.timeout),
            // Everything after --criterion goes to Criterion, a leading `--` aside.
            criterion: a
                .criterion
                .map(|c| c.into_iter().skip_while(|a| a == "--").collect::<Vec<_>>()),
            study: a.study,
            variant: a.variant.map(|Variant(k, v)| (k, v)),
            seeds: a.seeds,
            epochs: a.epochs,
        }
    }

    /// Where the results go: `--out`, else `bench/results` (`bench/results/tmp/quick`
    /// for `--quick`, whose numbers are only a smoke test and stay out of git).
    fn out_dir(&self) -> PathBuf {
        match &self.out {
            Some(d) => d.clone(),
            None if self.quick => env::root().join("bench/results/tmp/quick"),
            None => env::root().join("bench/results"),
        }
    }

    /// The sizes, with `--quick`'s smaller defaults where none was given.
    fn workload(&self) -> Result<Workload> {
        // Steady state: 1 500 timed steps of batch 32 after 300 warm-up steps (graph
        // tracing, allocator and thread-pool start-up happen there), and the whole
        // test set for evaluation.
        let (samples, warmup, eval) =
            if self.quick { (256, 64, 256) } else { (STEADY_SAMPLES, STEADY_WARMUP, 10_000) };
        let work = Workload {
            samples: self.samples.unwrap_or(samples),
            warmup: self.warmup.unwrap_or(warmup),
            eval_samples: self.eval_samples.unwrap_or(eval),
            threads: self.threads,
            batch: 32,
            eval_batch: 256,
            data_dir: self.data_dir.clone(),
        };
        if work.samples == 0 || work.eval_samples == 0 {
            bail!("--samples and --eval-samples must be at least 1");
        }
        if work.samples > 60_000 || work.warmup > 60_000 || work.eval_samples > 10_000 {
            bail!("Fashion-MNIST has 60 000 training and 10 000 test examples; ask for fewer");
        }
        Ok(work)
    }
}

/// Examples trained while timed: 1 500 steps of batch 32.
const STEADY_SAMPLES: usize = 1_500 * 32;

/// Examples trained before timing: 300 steps of batch 32.
const STEADY_WARMUP: usize = 300 * 32;

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(env::root());
    c
}

/// Checks that `dir` holds the Fashion-MNIST training images before anything starts.
fn check_data(dir: &std::path::Path) -> Result<()> {
    let name = "train-images-idx3-ubyte";
    if dir.join(name).exists() || dir.join(format!("{name}.gz")).exists() {
        return Ok(());
    }
    bail!(
        "no Fashion-MNIST in {}: neither {name} nor {name}.gz is there (install Debian's \
         dataset-fashion-mnist, or pass --data-dir DIR)",
        dir.display()
    )
}

/// Builds cnnvar optimised with the CPU backends (`tch` only when the torch venv is
/// there) and returns the binary.
fn build_cnnvar(with_tch: bool) -> Result<PathBuf> {
    let features: Vec<String> = CPU_BACKENDS
        .iter()
        .filter(|b| with_tch || **b != "tch")
        .map(|b| format!("cnnvar-cli/{b}"))
        .collect();
    let mut c = cargo();
    c.args(["build", "--release", "-p", "cnnvar-cli", "--features"]).arg(features.join(","));
    if with_tch {
        env::with_torch(&mut c)?;
    }
    sh(&mut c)?;
    Ok(env::target_dir().join("release/cnnvar"))
}

/// The backends `bin` contains (`cnnvar backends`).
fn compiled_backends(bin: &std::path::Path, torch_env: bool) -> Result<Vec<String>> {
    let mut c = Command::new(bin);
    c.arg("backends");
    if torch_env {
        env::with_torch(&mut c)?;
    }
    let out = c.output().with_context(|| format!("running {} backends", bin.display()))?;
    if !out.status.success() {
        bail!(
            "{} backends failed ({}): {}",
            bin.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).split_whitespace().map(String::from).collect())
}

/// Installs and builds what the chosen subjects need; a part that fails becomes the
/// reason its rows are errors.
fn prepare(o: &Options) -> Result<Tools> {
    env::setup(&Needs {
        packages: vec!["dataset-fashion-mnist", "time"],
        torch: false,
        slurm: false,
    })?;
    check_data(&o.data_dir)?;
    let wants_torch =
        o.refs.iter().any(|r| r == "pytorch") || o.backends.iter().any(|b| b == "tch");
    let torch = if wants_torch {
        env::setup(&Needs { packages: vec![], torch: true, slurm: false })
            .map(|()| env::torch_venv().join("bin/python"))
            .map_err(|e| format!("the torch venv could not be installed: {e:#}"))
    } else {
        Err("not needed".to_string())
    };
    let keras = if o.refs.iter().any(|r| r == "keras") {
        let started = Instant::now();
        let python = env::setup_tensorflow()
            .map_err(|e| format!("tensorflow-cpu could not be installed: {e:#}"));
        if python.is_ok() {
            eprintln!(
                "bench: tensorflow-cpu {} in {} ready after {:.0} s",
                env::TENSORFLOW_VERSION,
                env::bench_venv().display(),
                started.elapsed().as_secs_f64()
            );
        }
        python
    } else {
        Err("not needed".to_string())
    };
    let torch_env = torch.is_ok() && env::torch_lib_dir(&env::torch_venv()).is_ok();
    let cnnvar = if o.backends.is_empty() {
        Err("not needed".to_string())
    } else {
        match &o.cnnvar {
            Some(bin) => {
                std::fs::canonicalize(bin).map_err(|e| format!("--cnnvar {}: {e}", bin.display()))
            }
            None => build_cnnvar(torch_env).map_err(|e| format!("building cnnvar failed: {e:#}")),
        }
    };
    let compiled = match &cnnvar {
        Ok(bin) => compiled_backends(bin, torch_env).unwrap_or_else(|e| {
            eprintln!("bench: {e:#}");
            vec![]
        }),
        Err(_) => vec![],
    };
    Ok(Tools { keras_python: keras, torch_python: torch, cnnvar, compiled, torch_env })
}

/// Runs the Criterion benches of cnnvar's hot paths (batch assembly, evaluation);
/// `extra` goes to Criterion (e.g. a filter, `--quick`).
fn criterion(extra: &[String]) -> Result<()> {
    let mut c = cargo();
    c.args(["bench", "-p", "cnnvar-experiments", "--bench", "batch", "--bench", "evaluate"]);
    if !extra.is_empty() {
        c.arg("--").args(extra);
    }
    sh(&mut c)
}

/// `--study`: the study's wall time on each backend against Keras's.
fn run_study(
    o: &Options,
    file: &std::path::Path,
    tools: &Tools,
    machine: &report::Machine,
    out: &std::path::Path,
    tmp: &std::path::Path,
) -> Result<()> {
    let study = std::fs::canonicalize(file)
        .with_context(|| format!("--study {}: cannot find it", file.display()))?;
    let work = study::StudyWork {
        study,
        seeds: o.seeds,
        epochs: o.epochs,
        threads: o.threads,
        data_dir: o.data_dir.clone(),
    };
    let with_keras = o.refs.iter().any(|r| r == "keras");
    let rows =
        study::run(&o.backends, o.variant.as_ref(), with_keras, &work, tools, tmp, o.timeout);
    println!(
        "\nstudy {} (seeds {}, epochs {}); Keras on {} threads; cnnvar with its defaults; {}\n",
        file.display(),
        o.seeds.map_or("as in the file".into(), |s| s.to_string()),
        o.epochs.map_or("as in the file".into(), |e| e.to_string()),
        o.threads,
        machine.cpu
    );
    print!("{}", study::table(&rows));
    study::write(out, &rows, &work, &machine.to_json())?;
    let failed = rows.iter().filter(|r| r.error.is_some()).count();
    if failed > 0 {
        bail!("{failed} of {} study measurements failed (see the ERROR lines above)", rows.len());
    }
    Ok(())
}

/// Runs `bench` with its options.
pub fn run(args: BenchArgs) -> Result<()> {
    let o = Options::from_args(args);
    if let Some(extra) = &o.criterion {
        return criterion(extra);
    }
    let work = o.workload()?;
    let machine = report::Machine::now();
    let tools = prepare(&o)?;
    let out = o.out_dir();
    let tmp = out.join("tmp");
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    if let Some(file) = &o.study {
        return run_study(&o, file, &tools, &machine, &out, &tmp);
    }

    let mut subjects = vec![];
    if o.refs.iter().any(|r| r == "keras") {
        subjects.push(Subject::Keras);
    }
    if o.refs.iter().any(|r| r == "pytorch") {
        subjects.push(Subject::Pytorch);
    }
    for b in &o.backends {
        subjects.push(Subject::Burn(b.clone(), None));
        if let Some(v) = &o.variant {
            subjects.push(Subject::Burn(b.clone(), Some(v.clone())));
        }
    }
    let ceiling = || {
        roofline::measure(&tools, &work, &tmp, o.timeout)
            .map_err(|e| eprintln!("bench: no roofline: {e:#}"))
            .ok()
    };
    let mut roof = if o.quick { None } else { ceiling() };
    let mut rows = vec![];
    for model in &o.models {
        for subject in &subjects {
            rows.push(frameworks::measure(subject, model, &work, &tools, &tmp, o.timeout));
        }
    }
    // Again after the rows: the host is shared, and the ceiling is the faster of the two.
    if let Some(r) = roof.as_mut()
        && let Some(after) = ceiling()
    {
        r.add(after);
    }
    println!(
        "\n{} threads, batch {}, {} timed training and {} evaluation examples, {}\n",
        work.threads, work.batch, work.samples, work.eval_samples, machine.cpu
    );
    print!("{}", report::table(&rows, roof.as_ref()));
    if let Some(line) = roof.as_ref().and_then(|r| roofline::goal_line(r, &rows, 1.5)) {
        println!("{line}");
    }
    report::write(&out, &rows, roof.as_ref(), &machine, &work)?;
    let failed = rows.iter().filter(|r| r.error.is_some()).count();
    if failed > 0 {
        bail!("{failed} of {} measurements failed (see the ERROR lines above)", rows.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cli, Task};
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        let all = ["cargo xtask", "bench"].into_iter().chain(args.iter().copied());
        match Cli::try_parse_from(all)?.task {
            Some(Task::Bench(b)) => Ok(Options::from_args(*b)),
            other => panic!("not bench: {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let o = parse(&[]).expect("parses");
        assert_eq!(o.threads, 2);
        assert_eq!(o.models, MODELS);
        assert_eq!(o.backends, DEFAULT_BACKENDS);
        assert_eq!(o.refs, REFERENCES);
        assert_eq!((o.samples, o.warmup, o.eval_samples), (None, None, None));
        assert_eq!(o.timeout, Duration::from_secs(1800));
        assert!(!o.quick && o.criterion.is_none() && o.study.is_none() && o.variant.is_none());
        let w = o.workload().expect("valid");
        assert_eq!((w.samples, w.warmup, w.eval_samples), (48_000, 9_600, 10_000));
        let q = parse(&["--quick"]).expect("parses").workload().expect("valid");
        assert_eq!((q.samples, q.warmup, q.eval_samples), (256, 64, 256));
    }

    #[test]
    fn options_with_values() {
        let o = parse(&[
            "--samples",
            "512",
            "--warmup=0",
            "--eval-samples",
            "100",
            "--threads",
            "1",
            "--models",
            "simple, complex",
            "--backends=flex,ndarray,tch",
            "--refs",
            "none",
            "--data-dir",
            "/d",
            "--out",
            "o",
            "--cnnvar",
            "bin/cnnvar",
            "--timeout",
            "60",
            "--variant",
            "CNNVAR_MALLOC_TUNING=0",
        ])
        .expect("parses");
        assert_eq!(
            (o.samples, o.warmup, o.eval_samples, o.threads),
            (Some(512), Some(0), Some(100), 1)
        );
        assert_eq!(o.models, ["simple", "complex"]);
        assert_eq!(o.backends, ["flex", "ndarray", "tch"]);
        assert!(o.refs.is_empty());
        assert_eq!(o.data_dir, PathBuf::from("/d"));
        assert_eq!(o.out_dir(), PathBuf::from("o"));
        assert_eq!(o.cnnvar, Some(PathBuf::from("bin/cnnvar")));
        assert_eq!(o.timeout, Duration::from_secs(60));
        assert_eq!(o.variant, Some(("CNNVAR_MALLOC_TUNING".into(), "0".into())));
    }

    #[test]
    fn a_study_is_compared_with_keras_only() {
        let o = parse(&["--study", "studies/seed.toml", "--seeds", "2", "--epochs", "1"])
            .expect("parses");
        assert_eq!(o.study, Some(PathBuf::from("studies/seed.toml")));
        assert_eq!((o.seeds, o.epochs), (Some(2), Some(1)));
        assert_eq!(o.refs, ["keras"]);
        assert_eq!(o.backends, DEFAULT_BACKENDS);
        assert!(parse(&["--seeds", "2"]).is_err(), "--seeds belongs to --study");
        assert!(parse(&["--study", "s.toml", "--epochs", "0"]).is_err());
    }

    #[test]
    fn everything_after_criterion_goes_to_criterion() {
        let c = |a: &[&str]| parse(a).expect("parses").criterion.expect("criterion");
        assert!(c(&["--criterion"]).is_empty());
        assert_eq!(c(&["--criterion", "batch"]), ["batch"]);
        assert_eq!(c(&["--criterion", "--quick", "evaluate"]), ["--quick", "evaluate"]);
        assert_eq!(c(&["--criterion", "--", "--quick"]), ["--quick"]);
        assert_eq!(c(&["--quick", "--criterion", "--samples", "5"]), ["--samples", "5"]);
        assert!(parse(&["--quick"]).expect("parses").criterion.is_none());
    }

    #[test]
    fn bad_values_are_errors() {
        for bad in [
            &["--threads", "0"][..],
            &["--threads", "two"],
            &["--models", "simple,resnet"],
            &["--backends", "cuda"],
            &["--refs", "jax"],
            &["--variant", "NOEQUALS"],
            &["--variant", "=1"],
            &["--samples"],
            &["--timeout", "-1"],
            &["--frobnicate"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} must not parse");
        }
    }
}
