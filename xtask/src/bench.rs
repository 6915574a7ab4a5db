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

/// The options of `cargo xtask bench`.
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
    backends_given: bool,
}

/// A comma-separated list whose items must come from `allowed` (`none`: empty).
fn list(flag: &str, value: &str, allowed: &[&str]) -> Result<Vec<String>> {
    if value == "none" {
        return Ok(vec![]);
    }
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if allowed.contains(&s) {
                Ok(s.to_string())
            } else {
                bail!("{flag}: unknown `{s}`; expected some of {} (or none)", allowed.join(","))
            }
        })
        .collect()
}

fn number(flag: &str, value: &str) -> Result<usize> {
    value.parse().with_context(|| format!("{flag}: `{value}` is not a whole number"))
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut o = Options {
            samples: None,
            warmup: None,
            eval_samples: None,
            threads: 2,
            models: MODELS.iter().map(|s| s.to_string()).collect(),
            backends: DEFAULT_BACKENDS.iter().map(|s| s.to_string()).collect(),
            refs: REFERENCES.iter().map(|s| s.to_string()).collect(),
            quick: false,
            data_dir: std::env::var_os("CNNVAR_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(SYSTEM_DATA_DIR)),
            out: None,
            cnnvar: None,
            timeout: Duration::from_secs(1800),
            criterion: None,
            study: None,
            variant: None,
            seeds: None,
            epochs: None,
            backends_given: false,
        };
        let mut i = 0;
        while i < args.len() {
            let (flag, inline) = match args[i].split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (args[i].clone(), None),
            };
            if flag == "--quick" {
                o.quick = true;
                i += 1;
                continue;
            }
            if flag == "--criterion" {
                let rest = args[i + 1..].iter().skip_while(|a| *a == "--").cloned().collect();
                o.criterion = Some(rest);
                break;
            }
            const VALUED: &[&str] = &[
                "--samples",
                "--warmup",
                "--eval-samples",
                "--threads",
                "--models",
                "--backends",
                "--refs",
                "--data-dir",
                "--out",
                "--cnnvar",
                "--timeout",
                "--study",
                "--variant",
                "--seeds",
                "--epochs",
            ];
            if !VALUED.contains(&flag.as_str()) {
                bail!("bench: unknown option `{flag}`\n\n{}", crate::HELP);
            }
            let value = match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    args.get(i).cloned().with_context(|| format!("{flag} needs a value"))?
                }
            };
            match flag.as_str() {
                "--samples" => o.samples = Some(number(&flag, &value)?),
                "--warmup" => o.warmup = Some(number(&flag, &value)?),
                "--eval-samples" => o.eval_samples = Some(number(&flag, &value)?),
                "--threads" => o.threads = number(&flag, &value)?,
                "--models" => o.models = list(&flag, &value, MODELS)?,
                "--backends" => {
                    o.backends = list(&flag, &value, CPU_BACKENDS)?;
                    o.backends_given = true;
                }
                "--study" => o.study = Some(PathBuf::from(value)),
                "--variant" => match value.split_once('=') {
                    Some((k, v)) if !k.is_empty() && !k.contains(char::is_whitespace) => {
                        o.variant = Some((k.to_string(), v.to_string()))
                    }
                    _ => bail!("--variant: expected VAR=VALUE, got `{value}`"),
                },
                "--seeds" => o.seeds = Some(number(&flag, &value)?),
                "--epochs" => o.epochs = Some(number(&flag, &value)?),
                "--refs" => o.refs = list(&flag, &value, REFERENCES)?,
                "--data-dir" => o.data_dir = PathBuf::from(value),
                "--out" => o.out = Some(PathBuf::from(value)),
                "--cnnvar" => o.cnnvar = Some(PathBuf::from(value)),
                "--timeout" => o.timeout = Duration::from_secs(number(&flag, &value)? as u64),
                _ => unreachable!("every option in VALUED has an arm"),
            }
            i += 1;
        }
        if o.threads == 0 {
            bail!("--threads must be at least 1");
        }
        if o.seeds == Some(0) || o.epochs == Some(0) {
            bail!("--seeds and --epochs must be at least 1");
        }
        if o.study.is_none() && (o.seeds.is_some() || o.epochs.is_some()) {
            bail!("--seeds and --epochs belong to --study");
        }
        if o.study.is_some() {
            // The study is compared with Keras only, on flex and LibTorch unless asked.
            o.refs.retain(|r| r == "keras");
            if !o.backends_given {
                o.backends = vec!["flex".into(), "tch".into()];
            }
        }
        Ok(o)
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
        .map(|b| format!("cnnvar/{b}"))
        .collect();
    let mut c = cargo();
    c.args(["build", "--release", "-p", "cnnvar", "--features"]).arg(features.join(","));
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

/// Parses `bench`'s options and runs it.
pub fn run(args: &[String]) -> Result<()> {
    let o = Options::parse(args)?;
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
