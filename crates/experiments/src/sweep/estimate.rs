//! Wall-time estimates for `--dry-run`, from measured throughput: the records already
//! in the run store when there are any, else figures measured on a 2-core x86-64 machine.

use std::collections::HashMap;
use std::path::Path;

use cnnvar_core::{Backend, RunRecord, RunSpec};
use cnnvar_models::Architecture;

use super::Plan;
use crate::store::RunState;

/// Forward FLOP/s per thread when training (training does ≈ 3× the forward work) and
/// when evaluating, measured with the `flex` backend in a release build, 1 thread per
/// process, batch 32 (`cnnvar train`, Fashion-MNIST): simple 1340 train samples/s.
const DEFAULT_TRAIN_FLOPS: f64 = 2.0e9;
const DEFAULT_EVAL_FLOPS: f64 = 2.0e9;
/// Seconds per run spent starting the process and reading the data.
const STARTUP_SECONDS: f64 = 1.0;

/// An estimate of a sweep's wall time.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Distinct runs in the plan.
    pub runs: usize,
    /// Runs still to do.
    pub pending: usize,
    /// Estimated seconds of each pending run, summed.
    pub run_seconds: f64,
    /// Estimated wall seconds with the given number of parallel jobs.
    pub wall_seconds: f64,
    /// Where the throughput figures come from.
    pub basis: String,
}

/// Measured forward FLOP/s while training and evaluating, per backend, from records.
fn measured_rates(records: &[RunRecord]) -> HashMap<Backend, (f64, f64)> {
    let mut by_backend: HashMap<Backend, Vec<(f64, f64)>> = HashMap::new();
    for r in records {
        if r.flops == 0 || r.provenance.threads == 0 {
            continue;
        }
        for e in &r.epochs {
            let per_thread = r.provenance.threads as f64;
            by_backend.entry(r.spec.backend).or_default().push((
                e.train_samples_per_sec * 3.0 * r.flops as f64 / per_thread,
                e.eval_samples_per_sec * r.flops as f64 / per_thread,
            ));
        }
    }
    by_backend
        .into_iter()
        .map(|(b, mut v)| {
            let mid = v.len() / 2;
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            let train = v[mid].0;
            v.sort_by(|a, b| a.1.total_cmp(&b.1));
            (b, (train, v[mid].1))
        })
        .collect()
}

/// Seconds one run of `spec` should take with `threads` threads.
fn run_seconds(spec: &RunSpec, rates: (f64, f64), threads: usize) -> f64 {
    let input = match spec.dataset {
        cnnvar_core::DatasetName::Cifar10 => cnnvar_core::ImageShape::CIFAR10,
        _ => cnnvar_core::ImageShape::MNIST,
    };
    let flops = Architecture::for_model(spec.model, input).map(|a| a.flops()).unwrap_or(0) as f64;
    let n_train = spec.train_size.unwrap_or_else(|| spec.dataset.train_examples()) as f64;
    let n_test = spec.test_size.unwrap_or_else(|| spec.dataset.test_examples()) as f64;
    let (train_rate, eval_rate) = (rates.0 * threads as f64, rates.1 * threads as f64);
    STARTUP_SECONDS
        + spec.epochs as f64 * (n_train * 3.0 * flops / train_rate + n_test * flops / eval_rate)
        + n_train.min(10_000.0) * flops / eval_rate
}

/// Estimates the remaining wall time of `plan` in `study_dir` with `jobs` workers of
/// `threads` threads each, calibrated on every record found under `store_root`.
pub fn estimate(
    plan: &Plan,
    study_dir: &Path,
    store_root: &Path,
    jobs: usize,
    threads: usize,
) -> Estimate {
    let records = find_records(store_root);
    let rates = measured_rates(&records);
    let states = plan.states(study_dir);
    let pending: Vec<&RunSpec> =
        states.iter().filter(|(_, s)| *s != RunState::Done).map(|(r, _)| &r.spec).collect();
    let mut used_measured = false;
    let run_seconds: f64 = pending
        .iter()
        .map(|spec| {
            let r = match rates.get(&spec.backend) {
                Some(r) => {
                    used_measured = true;
                    *r
                }
                None => (DEFAULT_TRAIN_FLOPS, DEFAULT_EVAL_FLOPS),
            };
            run_seconds(spec, r, threads)
        })
        .sum();
    let basis = if used_measured {
        format!(
            "throughput measured in {} earlier runs under {}",
            records.len(),
            store_root.display()
        )
    } else {
        "throughput measured for flex on a 2-core x86-64 machine (no earlier runs to calibrate on)"
            .into()
    };
    Estimate {
        runs: states.len(),
        pending: pending.len(),
        run_seconds,
        wall_seconds: run_seconds / jobs.max(1) as f64,
        basis,
    }
}

/// Every readable record two levels below `root` (`root/<study>/<run>/record.json`).
fn find_records(root: &Path) -> Vec<RunRecord> {
    let mut out = Vec::new();
    let Ok(studies) = std::fs::read_dir(root) else { return out };
    for study in studies.flatten() {
        let Ok(runs) = std::fs::read_dir(study.path()) else { continue };
        for run in runs.flatten() {
            let p = run.path().join(crate::store::RECORD_FILE);
            if let Ok(text) = std::fs::read_to_string(&p)
                && let Ok(r) = RunRecord::from_json(&text, &p)
            {
                out.push(r);
            }
            if out.len() >= 2000 {
                return out;
            }
        }
    }
    out
}
