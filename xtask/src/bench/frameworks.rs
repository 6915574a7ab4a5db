//! The things measured (Keras, PyTorch and each burn backend), how each is started,
//! and how its output becomes a [`Row`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use super::measure;
use crate::env;

/// A framework or burn backend under measurement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// Keras 3 on TensorFlow (the reference the ratios are taken to).
    Keras,
    /// PyTorch, eager, in a plain loop.
    Pytorch,
    /// cnnvar on this burn backend (`flex`, `ndarray`, `tch`), with this extra
    /// environment variable (`--variant`) if any.
    Burn(String, Option<(String, String)>),
}

impl Subject {
    /// The name in the table: `keras`, `pytorch`, `burn-flex`, ….
    pub fn label(&self) -> String {
        match self {
            Subject::Keras => "keras".into(),
            Subject::Pytorch => "pytorch".into(),
            Subject::Burn(b, None) => format!("burn-{b}"),
            Subject::Burn(b, Some((k, v))) => format!("burn-{b}[{k}={v}]"),
        }
    }
}

/// What every process does: the same data, sizes and threads.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Examples trained while timed.
    pub samples: usize,
    /// Examples trained before timing (Keras, PyTorch; burn warms up on one epoch).
    pub warmup: usize,
    /// Test examples evaluated while timed.
    pub eval_samples: usize,
    /// Compute threads of each process.
    pub threads: usize,
    /// Training mini-batch.
    pub batch: usize,
    /// Evaluation batch (cnnvar's `EVAL_BATCH`).
    pub eval_batch: usize,
    /// Directory with the Fashion-MNIST IDX files.
    pub data_dir: PathBuf,
}

/// How to start each subject; an `Err` is the reason it cannot run (shown in its row).
#[derive(Clone, Debug)]
pub struct Tools {
    /// The Python with tensorflow-cpu.
    pub keras_python: Result<PathBuf, String>,
    /// The Python with torch (the tch backend's venv).
    pub torch_python: Result<PathBuf, String>,
    /// The cnnvar binary.
    pub cnnvar: Result<PathBuf, String>,
    /// The backends that binary contains.
    pub compiled: Vec<String>,
    /// Whether the torch venv's libraries can be put on the burn processes' path.
    pub torch_env: bool,
}

/// What a process reported about itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Numbers {
    /// Versions as the process reported them.
    pub version: String,
    /// Training throughput, examples per second.
    pub train_per_sec: f64,
    /// Evaluation throughput, examples per second.
    pub eval_per_sec: f64,
    /// Examples trained while timed.
    pub train_samples: Option<u64>,
    /// Examples evaluated while timed.
    pub eval_samples: Option<u64>,
}

/// One measurement: a subject training and evaluating one model.
#[derive(Clone, Debug)]
pub struct Row {
    /// `keras`, `pytorch`, `burn-flex`, ….
    pub framework: String,
    /// `simple`, `two-conv` or `complex`.
    pub model: String,
    /// The numbers, when the process ran and reported them.
    pub numbers: Option<Numbers>,
    /// Peak resident set size of the process, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Wall seconds of the whole process.
    pub wall_seconds: Option<f64>,
    /// Environment variables set for this subject beyond the usual ones.
    pub env: Vec<(String, String)>,
    /// The command line.
    pub command: String,
    /// Why there are no numbers.
    pub error: Option<String>,
}

impl Row {
    fn new(subject: &Subject, model: &str) -> Row {
        Row {
            framework: subject.label(),
            model: model.into(),
            numbers: None,
            peak_rss_kib: None,
            wall_seconds: None,
            env: vec![],
            command: String::new(),
            error: None,
        }
    }
}

/// Runs `subject` on `model` as its own process and turns what it printed into a row;
/// nothing here fails: a problem becomes the row's error.
pub fn measure(
    subject: &Subject,
    model: &str,
    work: &Workload,
    tools: &Tools,
    tmp: &Path,
    limit: Duration,
) -> Row {
    let mut row = Row::new(subject, model);
    let (cmd, extra_env) = match command(subject, model, work, tools, tmp) {
        Ok(c) => c,
        Err(e) => {
            row.error = Some(format!("{e:#}"));
            return row;
        }
    };
    let log = tmp.join(format!("{}-{model}.log", subject.label()));
    row.command = display(&cmd);
    row.env = extra_env;
    eprintln!("bench: {} {model}: {}", row.framework, row.command);
    match measure::run(&cmd, &log, limit) {
        Err(e) => row.error = Some(format!("{e:#}")),
        Ok(m) => {
            row.peak_rss_kib = m.peak_rss_kib;
            row.wall_seconds = Some(m.seconds);
            if !m.success() {
                row.error = Some(m.failure());
                return row;
            }
            let parsed = match subject {
                Subject::Burn(..) => parse_record(&m.stdout),
                _ => parse_line(&m.stdout),
            };
            match parsed {
                Ok(n) => row.numbers = Some(n),
                Err(e) => {
                    let out = log.with_extension("out");
                    row.error = Some(format!(
                        "{e:#} (stdout: {}, stderr: {})",
                        out.display(),
                        log.display()
                    ));
                }
            }
        }
    }
    row
}

/// The command line of `cmd` with the environment it sets, for the record.
fn display(cmd: &Command) -> String {
    let mut parts: Vec<String> = cmd
        .get_envs()
        .filter(|(k, _)| *k != "PATH" && *k != "LD_LIBRARY_PATH")
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
        .collect();
    parts.push(cmd.get_program().to_string_lossy().into_owned());
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// The process for `subject`, and the subject-specific environment it gets.
fn command(
    subject: &Subject,
    model: &str,
    work: &Workload,
    tools: &Tools,
    tmp: &Path,
) -> Result<(Command, Vec<(String, String)>)> {
    let threads = work.threads.to_string();
    let mut extra = vec![];
    if matches!(subject, Subject::Pytorch) {
        // The PyTorch reference as specified: OpenMP threads sleep while they wait.
        // cnnvar on tch runs as a user runs it, with OpenMP's default (a short spin,
        // then sleep); `--variant OMP_WAIT_POLICY=PASSIVE` measures it the other way.
        extra.push(("OMP_WAIT_POLICY".to_string(), "PASSIVE".to_string()));
    }
    let mut cmd = match subject {
        Subject::Keras | Subject::Pytorch => {
            let (python, script) = match subject {
                Subject::Keras => (&tools.keras_python, "keras_bench.py"),
                _ => (&tools.torch_python, "torch_bench.py"),
            };
            let python = python.as_ref().map_err(|e| anyhow!("{e}"))?;
            let mut c = Command::new(python);
            // No __pycache__ next to the scripts in the source tree.
            c.env("PYTHONDONTWRITEBYTECODE", "1");
            c.arg(env::root().join("bench").join(script))
                .args(["--model", model, "--threads", &threads])
                .args(["--warmup-samples", &work.warmup.to_string()])
                .args(["--samples", &work.samples.to_string()])
                .args(["--eval-samples", &work.eval_samples.to_string()])
                .args(["--batch", &work.batch.to_string()])
                .args(["--eval-batch", &work.eval_batch.to_string()])
                .arg("--data-dir")
                .arg(&work.data_dir);
            if *subject == Subject::Keras {
                extra.push(("TF_CPP_MIN_LOG_LEVEL".into(), "2".into()));
                extra.push(("CUDA_VISIBLE_DEVICES".into(), String::new()));
            } else {
                extra.push(("OMP_NUM_THREADS".into(), threads.clone()));
            }
            c
        }
        Subject::Burn(backend, variant) => {
            if let Some((k, v)) = variant {
                extra.push((k.clone(), v.clone()));
            }
            let bin = tools.cnnvar.as_ref().map_err(|e| anyhow!("{e}"))?;
            if !tools.compiled.contains(backend) {
                bail!(
                    "backend `{backend}` is not compiled into {} (it has: {}); build with \
                     --features cnnvar/{backend}",
                    bin.display(),
                    tools.compiled.join(", ")
                );
            }
            let spec = write_spec(model, work, tmp)?;
            let mut c = Command::new(bin);
            c.args(["train", "--spec"])
                .arg(&spec)
                .args(["--backend", backend, "--seed", "0", "--threads", &threads])
                .arg("--data-dir")
                .arg(&work.data_dir)
                .args(["--json", "--quiet"]);
            if tools.torch_env {
                env::with_torch(&mut c)?;
            }
            c
        }
    };
    cmd.current_dir(env::root());
    for (k, v) in &extra {
        cmd.env(k, v);
    }
    Ok((cmd, extra))
}

/// A run spec for burn: the first `samples` examples, two epochs (the first is the
/// warm-up; the second is the one measured), `eval_samples` test examples.
fn write_spec(model: &str, work: &Workload, tmp: &Path) -> Result<PathBuf> {
    let path = tmp.join(format!("spec-{model}.toml"));
    let text = format!(
        "# Written by `cargo xtask bench`: epoch 1 warms up, epoch 2 is timed.\n\
         model = \"{model}\"\ntrain_size = {}\ntest_size = {}\nbatch_size = {}\nepochs = 2\n",
        work.samples, work.eval_samples, work.batch
    );
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// A positive, finite number at `key` of `v`.
fn rate(v: &Value, key: &str) -> Result<f64> {
    match v.get(key).and_then(Value::as_f64) {
        Some(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => bail!("`{key}` is missing or not a positive number"),
    }
}

/// The last line of a reference script's output that is a JSON object, parsed.
pub fn last_json_line(stdout: &str) -> Result<Value> {
    let line = stdout
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('{'))
        .context("the script printed no JSON line")?;
    serde_json::from_str(line).context("the script's JSON line does not parse")
}

/// A reference script's output: its last line that is a JSON object.
fn parse_line(stdout: &str) -> Result<Numbers> {
    let v = last_json_line(stdout)?;
    Ok(Numbers {
        version: v.get("version").and_then(Value::as_str).unwrap_or("?").to_string(),
        train_per_sec: rate(&v, "train_samples_per_sec")?,
        eval_per_sec: rate(&v, "eval_samples_per_sec")?,
        train_samples: v.get("train_samples").and_then(Value::as_u64),
        eval_samples: v.get("eval_samples").and_then(Value::as_u64),
    })
}

/// `cnnvar train --json`'s run record: the last epoch's throughputs.
fn parse_record(stdout: &str) -> Result<Numbers> {
    let v: Value = serde_json::from_str(stdout).context("cnnvar's run record does not parse")?;
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        bail!("the run failed: {e}");
    }
    if v.get("diverged").and_then(Value::as_bool) == Some(true) {
        bail!("the run diverged, so its last epoch is incomplete");
    }
    let epochs = v.get("epochs").and_then(Value::as_array).context("the record has no epochs")?;
    let Some(last) = epochs.get(1) else {
        bail!("the record has {} epoch(s); the second is the timed one", epochs.len());
    };
    let p = v.get("provenance").cloned().unwrap_or(Value::Null);
    let s = |key: &str| p.get(key).and_then(Value::as_str).unwrap_or("?").to_string();
    Ok(Numbers {
        version: format!("cnnvar {}, burn {}", s("cnnvar_version"), s("burn_version")),
        train_per_sec: rate(last, "train_samples_per_sec")?,
        eval_per_sec: rate(last, "eval_samples_per_sec")?,
        train_samples: v.get("train_examples").and_then(Value::as_u64),
        eval_samples: v.get("test_examples").and_then(Value::as_u64),
    })
}
