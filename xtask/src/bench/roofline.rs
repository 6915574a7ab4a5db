//! The machine's ceiling (`bench/roofline.py`): LibTorch's float32 matrix-product rate
//! on the bench's threads, and each model's FLOP per trained example, so that every
//! row's training throughput is also shown as GFLOP/s and as a share of that ceiling.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use super::frameworks::{Row, Tools, Workload, last_json_line};
use super::measure;
use crate::env;

/// What `bench/roofline.py` reported, measured before and after the rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Roofline {
    /// LibTorch's version, as the script reported it.
    pub version: String,
    /// sgemm GFLOP/s measured before the rows and after them.
    pub sgemm_gflops: Vec<f64>,
    /// FLOP (2 per multiply-add) of training one example, by model.
    pub train_flop: BTreeMap<String, f64>,
    /// FLOP of evaluating one example, by model.
    pub eval_flop: BTreeMap<String, f64>,
}

impl Roofline {
    /// The ceiling: the fastest sgemm measured in this run (the host is shared, so the
    /// slower measurement is the one a neighbour disturbed).
    pub fn peak(&self) -> f64 {
        self.sgemm_gflops.iter().copied().fold(0.0, f64::max)
    }

    /// GFLOP/s of training at `per_sec` examples per second of `model`.
    pub fn train_gflops(&self, model: &str, per_sec: f64) -> Option<f64> {
        self.train_flop.get(model).map(|f| f * per_sec / 1e9)
    }

    /// `row`'s training rate as GFLOP/s and as a fraction of [`Roofline::peak`].
    pub fn of_row(&self, row: &Row) -> (Option<f64>, Option<f64>) {
        let g = row.numbers.as_ref().and_then(|n| self.train_gflops(&row.model, n.train_per_sec));
        let peak = self.peak();
        (g, g.filter(|_| peak > 0.0).map(|g| g / peak))
    }

    /// Adds a later measurement of the same script (its sgemm rate only).
    pub fn add(&mut self, later: Roofline) {
        self.sgemm_gflops.extend(later.sgemm_gflops);
    }

    /// For bench.json.
    pub fn to_json(&self) -> Value {
        json!({
            "version": self.version,
            "sgemm_gflops_measured": self.sgemm_gflops,
            "sgemm_gflops": self.peak(),
            "train_flop_per_example": self.train_flop,
            "eval_flop_per_example": self.eval_flop,
            "method": "bench/roofline.py: best of square 1024 and 2048 float32 products on the \
                       bench's threads, before and after the rows; FLOP per example counted by \
                       torch.utils.flop_counter on bench/torch_bench.py's models",
        })
    }
}

/// Runs `bench/roofline.py` with the torch venv; an error says why there is no ceiling.
pub fn measure(tools: &Tools, work: &Workload, tmp: &Path, limit: Duration) -> Result<Roofline> {
    let python = tools.torch_python.as_ref().map_err(|e| {
        anyhow!("it runs in the torch venv, which this run has not set up ({e}): add pytorch to --refs or tch to --backends")
    })?;
    let mut cmd = Command::new(python);
    let threads = work.threads.to_string();
    cmd.env("PYTHONDONTWRITEBYTECODE", "1")
        .env("OMP_WAIT_POLICY", "PASSIVE")
        .env("OMP_NUM_THREADS", &threads)
        .arg(env::root().join("bench/roofline.py"))
        .args(["--threads", &threads, "--batch", &work.batch.to_string()])
        .current_dir(env::root());
    eprintln!("bench: roofline: sgemm and FLOP per example");
    let m = measure::run(&cmd, &tmp.join("roofline.log"), limit)?;
    if !m.success() {
        bail!("{}", m.failure());
    }
    parse(&last_json_line(&m.stdout)?)
}

/// The script's JSON line.
fn parse(v: &Value) -> Result<Roofline> {
    let gflops = v
        .get("sgemm_gflops")
        .and_then(Value::as_f64)
        .filter(|g| g.is_finite() && *g > 0.0)
        .context("`sgemm_gflops` is missing or not a positive number")?;
    let flops = |key: &str| -> Result<BTreeMap<String, f64>> {
        let map = v.get(key).and_then(Value::as_object).with_context(|| format!("no `{key}`"))?;
        map.iter()
            .map(|(model, f)| match f.as_f64() {
                Some(x) if x.is_finite() && x > 0.0 => Ok((model.clone(), x)),
                _ => bail!("`{key}.{model}` is not a positive number"),
            })
            .collect()
    };
    Ok(Roofline {
        version: v.get("version").and_then(Value::as_str).unwrap_or("?").to_string(),
        sgemm_gflops: vec![gflops],
        train_flop: flops("train_flop_per_example")?,
        eval_flop: flops("eval_flop_per_example")?,
    })
}

/// What a goal of `ratio` × Keras's training rate would take, per model, as a fraction
/// of the ceiling: the line printed under the table.
pub fn goal_line(roof: &Roofline, rows: &[Row], ratio: f64) -> Option<String> {
    let peak = roof.peak();
    let parts: Vec<String> = rows
        .iter()
        .filter(|r| r.framework == "keras")
        .filter_map(|r| {
            let g = roof.train_gflops(&r.model, r.numbers.as_ref()?.train_per_sec)?;
            Some(format!("{} {:.0}%", r.model, 100.0 * ratio * g / peak))
        })
        .collect();
    (!parts.is_empty() && peak > 0.0).then(|| {
        format!(
            "LibTorch sgemm on these threads: {peak:.0} GFLOP/s (best of {} measurements); \
             training at {ratio}× Keras would take this share of it: {}",
            roof.sgemm_gflops.len(),
            parts.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::frameworks::Numbers;

    fn row(framework: &str, model: &str, per_sec: f64) -> Row {
        Row {
            framework: framework.into(),
            model: model.into(),
            numbers: Some(Numbers {
                version: "v".into(),
                train_per_sec: per_sec,
                eval_per_sec: 1.0,
                train_samples: None,
                eval_samples: None,
            }),
            peak_rss_kib: None,
            wall_seconds: None,
            env: vec![],
            command: String::new(),
            error: None,
        }
    }

    fn roof() -> Roofline {
        let line = r#"{"framework": "roofline", "version": "torch 2.9.0", "sgemm_gflops": 100.0,
            "train_flop_per_example": {"simple": 1.0e6, "complex": 8.0e7},
            "eval_flop_per_example": {"simple": 5.0e5, "complex": 2.6e7}}"#;
        parse(&serde_json::from_str(line).unwrap()).unwrap()
    }

    #[test]
    fn rows_become_gflops_and_a_share_of_the_best_sgemm() {
        let mut r = roof();
        r.add(Roofline { sgemm_gflops: vec![160.0], ..roof() });
        assert_eq!(r.peak(), 160.0);
        // 1 000 complex examples/s × 80 MFLOP = 80 GFLOP/s = half of 160.
        let (g, share) = r.of_row(&row("burn-tch", "complex", 1000.0));
        assert!((g.unwrap() - 80.0).abs() < 1e-9);
        assert!((share.unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(r.of_row(&row("burn-tch", "two-conv", 1000.0)), (None, None));
        let line = goal_line(&r, &[row("keras", "complex", 1000.0)], 1.5).unwrap();
        assert!(line.contains("complex 75%"), "{line}");
    }

    #[test]
    fn a_bad_line_is_refused() {
        let bad = serde_json::json!({"sgemm_gflops": -1.0, "train_flop_per_example": {},
            "eval_flop_per_example": {}});
        assert!(parse(&bad).unwrap_err().to_string().contains("sgemm_gflops"));
        let bad = serde_json::json!({"sgemm_gflops": 1.0,
            "train_flop_per_example": {"simple": "x"}, "eval_flop_per_example": {}});
        assert!(parse(&bad).unwrap_err().to_string().contains("simple"));
    }
}
