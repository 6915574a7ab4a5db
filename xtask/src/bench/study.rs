//! `cargo xtask bench --study FILE`: the wall time of a whole study run by
//! `cnnvar sweep` (worker processes, default jobs and threads) on each burn backend,
//! next to the same runs done the write-up's way: one Keras process running them one
//! after another (`bench/keras_study.py`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use super::frameworks::{Tools, last_json_line};
use super::measure;
use crate::env;

/// What to run: the study file and the overrides passed to `cnnvar sweep`.
#[derive(Clone, Debug)]
pub struct StudyWork {
    /// The study file.
    pub study: PathBuf,
    /// `--seeds`.
    pub seeds: Option<usize>,
    /// `--epochs`.
    pub epochs: Option<usize>,
    /// Keras's compute threads (cnnvar keeps its defaults: one worker per core).
    pub threads: usize,
    /// The Fashion-MNIST IDX files.
    pub data_dir: PathBuf,
}

/// One side of the comparison.
#[derive(Clone, Debug, Default)]
pub struct StudyRow {
    /// `keras` or `burn-<backend>`.
    pub framework: String,
    /// Runs done.
    pub runs: Option<u64>,
    /// Wall seconds of the whole process (start-up and data loading included).
    pub wall_seconds: Option<f64>,
    /// Peak RSS of the process and its workers, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Mean test accuracy over the runs.
    pub mean_accuracy: Option<f64>,
    /// The command line.
    pub command: String,
    /// Why there are no numbers.
    pub error: Option<String>,
}

impl StudyRow {
    fn new(framework: String) -> StudyRow {
        StudyRow { framework, ..StudyRow::default() }
    }
}

/// A copy of the study file with `backend` in its `[base]`, in `tmp`.
fn study_for(study: &Path, backend: &str, tmp: &Path) -> Result<PathBuf> {
    let text =
        std::fs::read_to_string(study).with_context(|| format!("reading {}", study.display()))?;
    let mut doc: toml::Table =
        text.parse().with_context(|| format!("{}: not a TOML study file", study.display()))?;
    let base = doc
        .entry("base")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .with_context(|| format!("{}: `base` is not a table", study.display()))?;
    if base.contains_key("backend") {
        bail!("{}: sets a backend itself; bench needs to choose it", study.display());
    }
    base.insert("backend".into(), toml::Value::String(backend.into()));
    let path = tmp.join(format!("study-{backend}.toml"));
    std::fs::write(&path, toml::to_string(&doc)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The one study directory `cnnvar sweep` made under `out`.
fn study_dir(out: &Path) -> Result<PathBuf> {
    let mut dirs = std::fs::read_dir(out)
        .with_context(|| format!("reading {}", out.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect::<Vec<_>>();
    match dirs.len() {
        1 => Ok(dirs.remove(0)),
        n => bail!("{}: expected one study directory, found {n}", out.display()),
    }
}

/// Number of runs and mean test accuracy from the records under `dir`.
fn records(dir: &Path) -> Result<(u64, f64)> {
    let (mut runs, mut sum) = (0u64, 0.0);
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path().join("record.json");
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let v: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let acc = v
            .get("test_accuracy")
            .and_then(Value::as_f64)
            .with_context(|| format!("{}: no test_accuracy", path.display()))?;
        runs += 1;
        sum += acc;
    }
    if runs == 0 {
        bail!("{}: no run records", dir.display());
    }
    Ok((runs, sum / runs as f64))
}

/// Runs the study with `cnnvar sweep` on `backend`; returns the row and the study
/// directory (for Keras to read the runs from).
fn sweep(
    backend: &str,
    variant: Option<&(String, String)>,
    work: &StudyWork,
    tools: &Tools,
    tmp: &Path,
    limit: Duration,
) -> (StudyRow, Option<PathBuf>) {
    let label = match variant {
        Some((k, v)) => format!("burn-{backend}[{k}={v}]"),
        None => format!("burn-{backend}"),
    };
    let mut row = StudyRow::new(label.clone());
    let result = (|| -> Result<PathBuf> {
        let bin = tools.cnnvar.as_ref().map_err(|e| anyhow!("{e}"))?;
        if !tools.compiled.iter().any(|b| b == backend) {
            bail!("backend `{backend}` is not compiled into {}", bin.display());
        }
        let study = study_for(&work.study, backend, tmp)?;
        let tag = if variant.is_some() { format!("{backend}-variant") } else { backend.into() };
        let out = tmp.join(format!("study-runs-{tag}"));
        if out.exists() {
            std::fs::remove_dir_all(&out).with_context(|| format!("clearing {}", out.display()))?;
        }
        let mut c = Command::new(bin);
        c.arg("sweep").arg(&study).arg("--out").arg(&out).arg("--data-dir").arg(&work.data_dir);
        if let Some(s) = work.seeds {
            c.args(["--seeds", &s.to_string()]);
        }
        if let Some(e) = work.epochs {
            c.args(["--epochs", &e.to_string()]);
        }
        c.arg("--quiet").current_dir(env::root());
        if tools.torch_env {
            env::with_torch(&mut c)?;
        }
        if let Some((k, v)) = variant {
            c.env(k, v);
        }
        row.command = format!("{c:?}");
        eprintln!("bench: study on {label}: {}", row.command);
        let m = measure::run(&c, &tmp.join(format!("study-{tag}.log")), limit)?;
        row.wall_seconds = Some(m.seconds);
        row.peak_rss_kib = m.peak_rss_kib;
        if !m.success() {
            bail!("{}", m.failure());
        }
        let dir = study_dir(&out)?;
        let (runs, acc) = records(&dir)?;
        row.runs = Some(runs);
        row.mean_accuracy = Some(acc);
        Ok(dir)
    })();
    match result {
        Ok(dir) => (row, Some(dir)),
        Err(e) => {
            row.error = Some(format!("{e:#}"));
            (row, None)
        }
    }
}

/// Runs the runs of `dir` the write-up's way in Keras.
fn keras(dir: &Path, work: &StudyWork, tools: &Tools, tmp: &Path, limit: Duration) -> StudyRow {
    let mut row = StudyRow::new("keras".into());
    let result = (|| -> Result<()> {
        let python = tools.keras_python.as_ref().map_err(|e| anyhow!("{e}"))?;
        let mut c = Command::new(python);
        c.env("PYTHONDONTWRITEBYTECODE", "1")
            .env("TF_CPP_MIN_LOG_LEVEL", "2")
            .env("CUDA_VISIBLE_DEVICES", "")
            .arg(env::root().join("bench/keras_study.py"))
            .arg("--runs")
            .arg(dir)
            .args(["--threads", &work.threads.to_string()])
            .arg("--data-dir")
            .arg(&work.data_dir)
            .current_dir(env::root());
        row.command = format!("{c:?}");
        eprintln!("bench: study in keras: {}", row.command);
        let m = measure::run(&c, &tmp.join("study-keras.log"), limit)?;
        row.wall_seconds = Some(m.seconds);
        row.peak_rss_kib = m.peak_rss_kib;
        if !m.success() {
            bail!("{}", m.failure());
        }
        let v = last_json_line(&m.stdout).context("keras_study.py")?;
        row.runs = v.get("runs").and_then(Value::as_u64);
        row.mean_accuracy = v.get("mean_test_accuracy").and_then(Value::as_f64);
        Ok(())
    })();
    if let Err(e) = result {
        row.error = Some(format!("{e:#}"));
    }
    row
}

/// Runs the comparison: the sweep on each backend (and again with `variant`'s
/// environment variable set, right after), then Keras on the runs of the first sweep
/// that worked.
pub fn run(
    backends: &[String],
    variant: Option<&(String, String)>,
    with_keras: bool,
    work: &StudyWork,
    tools: &Tools,
    tmp: &Path,
    limit: Duration,
) -> Vec<StudyRow> {
    let mut rows = vec![];
    let mut dir = None;
    for b in backends {
        let (row, d) = sweep(b, None, work, tools, tmp, limit);
        rows.push(row);
        dir = dir.or(d);
        if variant.is_some() {
            rows.push(sweep(b, variant, work, tools, tmp, limit).0);
        }
    }
    if with_keras {
        match &dir {
            Some(d) => rows.insert(0, keras(d, work, tools, tmp, limit)),
            None => {
                let mut row = StudyRow::new("keras".into());
                row.error = Some("no cnnvar sweep finished, so there are no runs to repeat".into());
                rows.insert(0, row);
            }
        }
    }
    rows
}

/// The table: wall time, its ratio to Keras's, peak RSS, mean accuracy.
pub fn table(rows: &[StudyRow]) -> String {
    let keras = rows.iter().find(|r| r.framework == "keras").and_then(|r| r.wall_seconds);
    let keras = keras.filter(|_| rows.iter().any(|r| r.framework == "keras" && r.error.is_none()));
    let mut s = format!(
        "{:<36} {:>6} {:>10} {:>9} {:>9} {:>9}\n",
        "framework", "runs", "wall s", "wall/K", "RSS MiB", "mean acc"
    );
    for r in rows {
        if let Some(e) = &r.error {
            s += &format!("{:<36} ERROR: {e}\n", r.framework);
            continue;
        }
        let wall = r.wall_seconds.unwrap_or(f64::NAN);
        let ratio = keras.map_or("-".to_string(), |k| format!("{:.2}", wall / k));
        s += &format!(
            "{:<36} {:>6} {:>10.1} {:>9} {:>9} {:>9}\n",
            r.framework,
            r.runs.map_or("-".into(), |n| n.to_string()),
            wall,
            ratio,
            r.peak_rss_kib.map_or("-".into(), |k| (k / 1024).to_string()),
            r.mean_accuracy.map_or("-".into(), |a| format!("{:.4}", a)),
        );
    }
    s + "wall/K: wall time divided by Keras's (the write-up's code, runs one after another); \
         RSS: peak resident set size of the process or any of its workers.\n"
}

/// Writes `study.json` in `out`.
pub fn write(out: &Path, rows: &[StudyRow], work: &StudyWork, machine: &Value) -> Result<()> {
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "framework": r.framework,
                "runs": r.runs,
                "wall_seconds": r.wall_seconds,
                "peak_rss_kib": r.peak_rss_kib,
                "mean_test_accuracy": r.mean_accuracy,
                "command": r.command,
                "error": r.error,
            })
        })
        .collect();
    let doc = json!({
        "study": work.study.display().to_string(),
        "seeds": work.seeds,
        "epochs": work.epochs,
        "keras_threads": work.threads,
        "machine": machine,
        "rows": rows,
    });
    let path = out.join("study.json");
    super::report::write_atomic(&path, &(serde_json::to_string_pretty(&doc)? + "\n"))?;
    eprintln!("bench: wrote {}", path.display());
    Ok(())
}
