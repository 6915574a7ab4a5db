//! The benchmark's results: the printed table, `bench.csv` and `bench.json` (with the
//! machine they were measured on).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::frameworks::{Row, Workload};
use super::roofline::Roofline;

/// Where and when the numbers were measured.
#[derive(Clone, Debug)]
pub struct Machine {
    /// CPU model from /proc/cpuinfo.
    pub cpu: String,
    /// Logical CPUs the system has.
    pub logical_cpus: usize,
    /// Load averages (1, 5, 15 min) when the benchmark started.
    pub load_at_start: String,
    /// UTC time the benchmark started, ISO 8601.
    pub date: String,
    /// Operating system and architecture.
    pub os: String,
    /// `rustc -V`.
    pub rustc: String,
}

impl Machine {
    /// The machine as JSON, with the load average now as `load_at_end`.
    pub fn to_json(&self) -> Value {
        json!({
            "cpu": self.cpu,
            "logical_cpus": self.logical_cpus,
            "load_at_start": self.load_at_start,
            "load_at_end": load_average(),
            "date": self.date,
            "os": self.os,
            "rustc": self.rustc,
        })
    }

    /// Describes this machine now.
    pub fn now() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        let rustc = Command::new("rustc")
            .arg("-V")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        Machine {
            cpu,
            logical_cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            load_at_start: load_average(),
            date: utc_now(),
            os: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
            rustc,
        }
    }
}

/// The first three fields of /proc/loadavg, or empty.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Training and evaluation throughput of `row` relative to the Keras row of its model.
fn ratios(row: &Row, rows: &[Row]) -> (Option<f64>, Option<f64>) {
    let keras = rows
        .iter()
        .find(|r| r.framework == "keras" && r.model == row.model)
        .and_then(|r| r.numbers.as_ref());
    match (row.numbers.as_ref(), keras) {
        (Some(n), Some(k)) => {
            (Some(n.train_per_sec / k.train_per_sec), Some(n.eval_per_sec / k.eval_per_sec))
        }
        _ => (None, None),
    }
}

fn mib(kib: Option<u64>) -> Option<f64> {
    kib.map(|k| k as f64 / 1024.0)
}

/// A number for the table (`-` when missing).
fn cell(v: Option<f64>, decimals: usize) -> String {
    v.map(|x| format!("{x:.decimals$}")).unwrap_or_else(|| "-".into())
}

/// A number for the CSV (empty when missing).
fn field(v: Option<f64>, decimals: usize) -> String {
    v.map(|x| format!("{x:.decimals$}")).unwrap_or_default()
}

/// The table printed at the end, one line per row, errors listed under it; with the
/// roofline, each row's training rate also as GFLOP/s and a share of the ceiling.
pub fn table(rows: &[Row], roof: Option<&Roofline>) -> String {
    let w = rows.iter().map(|r| r.framework.len()).max().unwrap_or(0).max(13);
    let mut out = format!(
        "{:<w$} {:<9} {:>10} {:>10} {:>8} {:>8} {:>9} {:>8} {:>6}\n",
        "framework",
        "model",
        "train/s",
        "eval/s",
        "train/K",
        "eval/K",
        "RSS MiB",
        "GFLOP/s",
        "%peak"
    );
    for r in rows {
        let (tr, er) = ratios(r, rows);
        let n = r.numbers.as_ref();
        let (gflops, share) = roof.map(|f| f.of_row(r)).unwrap_or_default();
        out += &format!(
            "{:<w$} {:<9} {:>10} {:>10} {:>8} {:>8} {:>9} {:>8} {:>6}{}\n",
            r.framework,
            r.model,
            cell(n.map(|n| n.train_per_sec), 0),
            cell(n.map(|n| n.eval_per_sec), 0),
            cell(tr, 2),
            cell(er, 2),
            cell(mib(r.peak_rss_kib), 0),
            cell(gflops, 1),
            cell(share.map(|s| 100.0 * s), 0),
            if r.error.is_some() { "  ERROR" } else { "" }
        );
    }
    out += "train/s, eval/s: examples per second; train/K, eval/K: the same divided by Keras's \
            for that model; RSS: the process's peak resident set size; GFLOP/s: training \
            arithmetic per second (FLOP per example from bench/roofline.py); %peak: that as a \
            share of LibTorch's large-matrix sgemm rate on the same threads.\n";
    for r in rows {
        if let Some(e) = &r.error {
            out += &format!("ERROR {} {}: {e}\n", r.framework, r.model);
        }
    }
    out
}

/// Writes `text` to `path` through a temporary file renamed over it, so that a reader
/// (or an interrupted bench) never leaves a half-written results file.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

/// A CSV field, quoted when it needs to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.into() }
}

/// Writes `bench.csv` and `bench.json` into `dir`.
pub fn write(
    dir: &Path,
    rows: &[Row],
    roof: Option<&Roofline>,
    machine: &Machine,
    work: &Workload,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut csv = String::from(
        "framework,model,version,threads,train_samples,eval_samples,train_samples_per_sec,\
         eval_samples_per_sec,train_ratio_to_keras,eval_ratio_to_keras,peak_rss_mib,\
         wall_seconds,train_gflops,train_share_of_sgemm,error\n",
    );
    let mut json_rows = vec![];
    for r in rows {
        let (tr, er) = ratios(r, rows);
        let (gflops, share) = roof.map(|f| f.of_row(r)).unwrap_or_default();
        let n = r.numbers.as_ref();
        let fields = [
            r.framework.clone(),
            r.model.clone(),
            n.map(|n| n.version.clone()).unwrap_or_default(),
            work.threads.to_string(),
            n.and_then(|n| n.train_samples).map(|x| x.to_string()).unwrap_or_default(),
            n.and_then(|n| n.eval_samples).map(|x| x.to_string()).unwrap_or_default(),
            field(n.map(|n| n.train_per_sec), 1),
            field(n.map(|n| n.eval_per_sec), 1),
            field(tr, 3),
            field(er, 3),
            field(mib(r.peak_rss_kib), 1),
            field(r.wall_seconds, 1),
            field(gflops, 2),
            field(share, 3),
            r.error.clone().unwrap_or_default(),
        ];
        csv += &fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
        csv.push('\n');
        let env: serde_json::Map<String, Value> =
            r.env.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect();
        json_rows.push(json!({
            "framework": r.framework,
            "model": r.model,
            "version": n.map(|n| n.version.clone()),
            "train_samples": n.and_then(|n| n.train_samples),
            "eval_samples": n.and_then(|n| n.eval_samples),
            "train_samples_per_sec": n.map(|n| n.train_per_sec),
            "eval_samples_per_sec": n.map(|n| n.eval_per_sec),
            "train_ratio_to_keras": tr,
            "eval_ratio_to_keras": er,
            "peak_rss_mib": mib(r.peak_rss_kib),
            "wall_seconds": r.wall_seconds,
            "train_gflops": gflops,
            "train_share_of_sgemm": share,
            "env": env,
            "command": r.command,
            "error": r.error,
        }));
    }
    let doc = json!({
        "machine": machine.to_json(),
        "settings": {
            "threads": work.threads,
            "batch": work.batch,
            "eval_batch": work.eval_batch,
            "samples": work.samples,
            "warmup_samples": work.warmup,
            "eval_samples": work.eval_samples,
            "data_dir": work.data_dir,
            "warmup": "keras and pytorch train --warmup-samples examples before the timed pass; \
                       burn trains one untimed epoch over the same examples first",
        },
        "roofline": roof.map(Roofline::to_json),
        "rows": json_rows,
    });
    let csv_path = dir.join("bench.csv");
    write_atomic(&csv_path, &csv)?;
    let json_path = dir.join("bench.json");
    let text = serde_json::to_string_pretty(&doc).context("serialising the results")?;
    write_atomic(&json_path, &(text + "\n"))?;
    eprintln!("bench: wrote {} and {}", csv_path.display(), json_path.display());
    Ok(())
}
