//! Wall-time estimates for `--dry-run`, from measured throughput: the records already
//! in the run store when there are any, else figures measured on a 2-core x86-64 machine.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use cnnvar_core::{Backend, RunRecord, RunSpec};
use cnnvar_models::Architecture;

use cnnvar_core::study::PlannedRun;
use cnnvar_store::{Plan, RunState};

/// Cost model of one example on the reference machine (a 2-core x86-64 VM, `flex`
/// release build, 1 thread per process, batch 32), fitted to `cnnvar train` runs of
/// the write-up's models on Fashion-MNIST: training takes `TRAIN_BASE + TRAIN_PER_MFLOP
/// × forward MFLOPs` seconds per example (simple 1585, two-conv 787, complex 288
/// samples/s measured), evaluation `EVAL_BASE + EVAL_PER_MFLOP × MFLOPs` (4059, 2750,
/// 933 samples/s).
const TRAIN_BASE: f64 = 580e-6;
const TRAIN_PER_MFLOP: f64 = 110e-6;
const EVAL_BASE: f64 = 200e-6;
const EVAL_PER_MFLOP: f64 = 33e-6;
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

/// Seconds per example the cost model predicts for training and for evaluating a
/// model of `flops` forward FLOPs, on one thread of the reference machine.
fn model_seconds(flops: f64) -> (f64, f64) {
    let mflops = flops / 1e6;
    (TRAIN_BASE + TRAIN_PER_MFLOP * mflops, EVAL_BASE + EVAL_PER_MFLOP * mflops)
}

/// Per backend: how much slower (> 1) or faster than the cost model the records' epochs
/// ran, per thread (median over epochs), for training and for evaluation.
fn measured_factors(records: &[RunRecord]) -> HashMap<Backend, (f64, f64)> {
    let mut by_backend: HashMap<Backend, Vec<(f64, f64)>> = HashMap::new();
    for r in records {
        if r.flops == 0 || r.provenance.threads == 0 {
            continue;
        }
        let (train, eval) = model_seconds(r.flops as f64);
        let threads = r.provenance.threads as f64;
        for e in &r.epochs {
            if e.train_samples_per_sec > 0.0 && e.eval_samples_per_sec > 0.0 {
                by_backend.entry(r.spec.backend).or_default().push((
                    threads / e.train_samples_per_sec / train,
                    threads / e.eval_samples_per_sec / eval,
                ));
            }
        }
    }
    by_backend.into_iter().map(|(b, v)| (b, medians(v))).collect()
}

/// Training examples the cost model assumes for an image folder without a `train_size`.
const UNKNOWN_TRAIN: usize = 2_000;

/// Test examples the cost model assumes for an image folder without a `test_size`.
const UNKNOWN_TEST: usize = 500;

/// Seconds per example and thread that the cost model predicts for training and
/// evaluating `spec`'s model, its backend `factors` times the cost model.
fn modelled_seconds(spec: &RunSpec, factors: (f64, f64)) -> (f64, f64) {
    let input = match (spec.dataset, spec.image_size) {
        (cnnvar_core::DatasetName::Cifar10, _) => cnnvar_core::ImageShape::CIFAR10,
        // An image folder's shape is known only once it is read, unless the spec sets it.
        (cnnvar_core::DatasetName::Folder, Some([height, width])) => {
            cnnvar_core::ImageShape { channels: spec.channels.unwrap_or(1), height, width }
        }
        _ => cnnvar_core::ImageShape::MNIST,
    };
    // A registered model without earlier runs (see `measured_custom`) counts as the
    // simple model.
    let arch = match spec.model {
        cnnvar_core::ModelName::Custom(_) => {
            Architecture::for_model(cnnvar_core::ModelName::Simple, input)
        }
        _ => Architecture::for_spec(spec, input),
    };
    let flops = arch.map(|a| a.flops()).unwrap_or(0) as f64;
    let (train, eval) = model_seconds(flops);
    (train * factors.0, eval * factors.1)
}

/// Per registered model and backend: the seconds per example and thread its earlier
/// runs took (median over their epochs), for training and for evaluation. The cost
/// model cannot count a registered model's FLOPs, so these replace it.
fn measured_custom(records: &[RunRecord]) -> HashMap<(String, Backend), (f64, f64)> {
    let mut by_model: HashMap<(String, Backend), Vec<(f64, f64)>> = HashMap::new();
    for r in records {
        let cnnvar_core::ModelName::Custom(name) = &r.spec.model else { continue };
        let threads = r.provenance.threads.max(1) as f64;
        for e in &r.epochs {
            if e.train_samples_per_sec > 0.0 && e.eval_samples_per_sec > 0.0 {
                by_model
                    .entry((name.clone(), r.spec.backend))
                    .or_default()
                    .push((threads / e.train_samples_per_sec, threads / e.eval_samples_per_sec));
            }
        }
    }
    by_model.into_iter().map(|(k, v)| (k, medians(v))).collect()
}

/// The median of each coordinate of a non-empty list of pairs.
fn medians(mut v: Vec<(f64, f64)>) -> (f64, f64) {
    let mid = v.len() / 2;
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let first = v[mid].0;
    v.sort_by(|a, b| a.1.total_cmp(&b.1));
    (first, v[mid].1)
}

/// Seconds one run of `spec` should take with `threads` threads, at `per_example`
/// seconds per example and thread for training and for evaluation; only its
/// evaluations unless it `trains` (a run trained with a partner is only evaluated).
fn run_seconds(spec: &RunSpec, per_example: (f64, f64), threads: usize, trains: bool) -> f64 {
    // More threads help, but far from linearly at batch 32 (measured: 2 threads ≈ 1
    // thread with flex); count each extra thread as a quarter.
    let speedup = 1.0 + 0.25 * threads.saturating_sub(1) as f64;
    let (train, eval) = (per_example.0 / speedup, per_example.1 / speedup);
    // An image folder of unknown size counts as a small one.
    let resolved = spec.resolved();
    let n_train = resolved.train_size.unwrap_or(UNKNOWN_TRAIN);
    let n_test = resolved.test_size.unwrap_or(UNKNOWN_TEST);
    let (n_train, n_test) = (n_train as f64, n_test as f64);
    if !trains {
        return evaluated_examples(spec, n_test) * eval;
    }
    STARTUP_SECONDS
        + spec.epochs as f64 * n_train * train
        + evaluated_examples(spec, n_test) * eval
        + n_train.min(10_000.0) * eval
}

/// Test examples a run of `spec` evaluates over all its epochs, of a test set of
/// `n_test`: every epoch but the last on the `eval_subset` (when set), the last on all.
fn evaluated_examples(spec: &RunSpec, n_test: f64) -> f64 {
    let per_epoch = spec.resolved().eval_subset.map_or(n_test, |k| (k as f64).min(n_test));
    spec.epochs.saturating_sub(1) as f64 * per_epoch + n_test
}

/// Orders `runs` longest first by the cost model (ties keep their order), so that a
/// pool of workers does not end with one long run while the others sit idle (the
/// longest-processing-time rule: at most 4/3 of the best possible wall time).
pub fn longest_first(runs: &mut [&PlannedRun]) {
    let mut keyed: Vec<(f64, &PlannedRun)> = runs
        .iter()
        .map(|r| (run_seconds(&r.spec, modelled_seconds(&r.spec, (1.0, 1.0)), 1, true), *r))
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (slot, (_, r)) in runs.iter_mut().zip(keyed) {
        *slot = r;
    }
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
    if plan.study.is_script() {
        return script_estimate(plan, study_dir, jobs);
    }
    let records = find_records(store_root);
    let factors = measured_factors(&records);
    let custom = measured_custom(&records);
    let states = plan.states(&cnnvar_store::StudyDir::open(study_dir));
    let pending: Vec<&RunSpec> =
        states.iter().filter(|(_, s)| *s != RunState::Done).map(|(r, _)| &r.spec).collect();
    let mut used_measured = false;
    let mut guessed: BTreeSet<&str> = BTreeSet::new();
    // Runs that share a training cost one training and their evaluations.
    let mut trainings: BTreeSet<String> = BTreeSet::new();
    let run_seconds: f64 = pending
        .iter()
        .map(|spec| {
            let per_example = match &spec.model {
                cnnvar_core::ModelName::Custom(name) => {
                    match custom.get(&(name.clone(), spec.backend)) {
                        Some(measured) => {
                            used_measured = true;
                            *measured
                        }
                        None => {
                            guessed.insert(name);
                            modelled_seconds(
                                spec,
                                factors.get(&spec.backend).copied().unwrap_or((1.0, 1.0)),
                            )
                        }
                    }
                }
                _ => {
                    let f = factors.get(&spec.backend).copied();
                    used_measured |= f.is_some();
                    modelled_seconds(spec, f.unwrap_or((1.0, 1.0)))
                }
            };
            run_seconds(spec, per_example, threads, trainings.insert(spec.training_key()))
        })
        .sum();
    let mut basis = if used_measured {
        format!(
            "cost model calibrated on {} earlier runs under {}",
            records.len(),
            store_root.display()
        )
    } else {
        "cost model of flex on a 2-core x86-64 machine (no earlier runs to calibrate on)".into()
    };
    if !guessed.is_empty() {
        let names: Vec<&str> = guessed.into_iter().collect();
        basis.push_str(&format!(
            "; {} counted as the simple model (no earlier runs of {} on this backend to time)",
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" }
        ));
    }
    Estimate {
        runs: states.len(),
        pending: pending.len(),
        run_seconds,
        wall_seconds: run_seconds / jobs.max(1) as f64,
        basis,
    }
}

/// A script study's estimate: nothing models a user's command, so its pending runs
/// are timed by the mean of its finished ones (a probe's count too), if any.
fn script_estimate(plan: &Plan, study_dir: &Path, jobs: usize) -> Estimate {
    let states = plan.states(&cnnvar_store::StudyDir::open(study_dir));
    let pending = states.iter().filter(|(_, s)| *s != RunState::Done).count();
    let codes: Vec<&Option<String>> =
        plan.runs.iter().filter_map(|r| r.spec.script.as_ref().map(|s| &s.code_sha256)).collect();
    let mut seconds: Vec<f64> = find_records(study_dir.parent().unwrap_or(study_dir))
        .into_iter()
        .chain(find_records(study_dir))
        .filter(|r| {
            let code = r.spec.script.as_ref().map(|s| &s.code_sha256);
            code.is_some_and(|c| codes.contains(&c)) && r.seconds.is_finite()
        })
        .map(|r| r.seconds)
        .collect();
    seconds.dedup();
    let (run_seconds, basis) = if seconds.is_empty() {
        (
            0.0,
            "the script's runs cannot be timed before one has run (`cnnvar probe` runs five)"
                .into(),
        )
    } else {
        let mean = seconds.iter().sum::<f64>() / seconds.len() as f64;
        (
            mean * pending as f64,
            format!("the mean of {} finished runs of the script", seconds.len()),
        )
    };
    Estimate {
        runs: states.len(),
        pending,
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
            let p = run.path().join(cnnvar_store::RECORD_FILE);
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

#[cfg(test)]
mod tests {

    /// The curve's epochs cost the eval subset, the last epoch the whole test set.
    #[test]
    fn an_eval_subset_shortens_the_estimate() {
        let full = RunSpec { train_size: Some(1000), epochs: 10, ..RunSpec::default() };
        let sub = RunSpec { eval_subset: Some(2000), ..full.clone() };
        assert_eq!(evaluated_examples(&full, 10_000.0), 100_000.0);
        assert_eq!(evaluated_examples(&sub, 10_000.0), 9.0 * 2000.0 + 10_000.0);
        let (a, b) =
            (run_seconds(&full, (1.0, 1.0), 1, true), run_seconds(&sub, (1.0, 1.0), 1, true));
        assert!(b < 0.5 * a, "{b} vs {a}");
    }
    use cnnvar_core::{ImageShape, ModelName};

    use super::*;

    /// The cost model reproduces the throughputs it was fitted to within 15%.
    #[test]
    fn cost_model_matches_its_measurements() {
        for (model, train_rate, eval_rate) in [
            (ModelName::Simple, 1585.0, 4059.0),
            (ModelName::TwoConv, 787.0, 2750.0),
            (ModelName::Complex, 288.0, 933.0),
        ] {
            let flops = Architecture::for_model(model.clone(), ImageShape::MNIST).unwrap().flops();
            let (train, eval) = model_seconds(flops as f64);
            for (predicted, measured) in [(1.0 / train, train_rate), (1.0 / eval, eval_rate)] {
                let ratio = predicted / measured;
                assert!((0.85..1.15).contains(&ratio), "{model}: {predicted} vs {measured}");
            }
        }
    }

    /// A registered model is timed by its own earlier runs on the same backend: with
    /// none it counts as the simple model, and the basis says so.
    #[test]
    fn a_registered_model_is_timed_by_its_earlier_runs() {
        let custom = RunSpec {
            model: ModelName::Custom("my-net".into()),
            train_size: Some(1000),
            test_size: Some(1000),
            epochs: 2,
            ..RunSpec::default()
        };
        let epoch = |epoch| cnnvar_core::EpochRecord {
            epoch,
            train_loss: 1.0,
            train_accuracy: 0.5,
            test_loss: 1.0,
            test_accuracy: 0.5,
            seconds: 1.0,
            train_samples_per_sec: 100.0,
            eval_samples_per_sec: 400.0,
        };
        let mut record = cnnvar_core::testing::record_of(&custom);
        record.provenance.threads = 1;
        record.epochs = vec![epoch(1), epoch(2)];
        let measured = measured_custom(std::slice::from_ref(&record));
        let per_example = measured[&("my-net".to_string(), custom.backend)];
        assert_eq!(per_example, (0.01, 0.0025));
        // 2 epochs × 1000 × 0.01 s, 2 000 evaluated test examples and 1 000 train-set
        // examples × 0.0025 s, and the start-up second.
        let seconds = run_seconds(&custom, per_example, 1, true);
        assert!((seconds - (1.0 + 20.0 + 5.0 + 2.5)).abs() < 1e-9, "{seconds}");

        let text = "seeds = 1\n[base]\nepochs = 2\ntrain_size = 1000\nmodel = \"my-net\"\n\
                    [[experiment]]\nname = \"a\"\nvary = { lr = [0.001, 0.01] }\n";
        let study = cnnvar_core::study::parse(text, Path::new("s.toml")).expect("parses");
        let plan = Plan::new(study, false);
        let empty = tempfile::tempdir().expect("temp dir");
        let guess = estimate(&plan, &empty.path().join("s"), empty.path(), 1, 1);
        assert!(guess.basis.contains("my-net counted as the simple model"), "{}", guess.basis);
    }

    /// Runs that share a training (one model scored on the test split and its twilight
    /// copy) cost one training and two evaluations, not two trainings.
    #[test]
    fn a_shared_training_is_counted_once() {
        let estimate_of = |vary: &str| {
            let text = format!(
                "seeds = 2\n[base]\nepochs = 2\ntrain_size = 1000\n\
                 [[experiment]]\nname = \"a\"\nvary = {{ {vary} }}\n"
            );
            let study = cnnvar_core::study::parse(&text, Path::new("s.toml")).expect("parses");
            let empty = tempfile::tempdir().expect("temp dir");
            estimate(&Plan::new(study, false), &empty.path().join("s"), empty.path(), 1, 1)
        };
        let once = estimate_of("evaluate_on = [\"test\", \"twilight\"]");
        let (test, twilight) = {
            let study = cnnvar_core::study::parse(
                "seeds = 2\n[base]\nepochs = 2\ntrain_size = 1000\n[[experiment]]\nname = \"a\"\n\
                 vary = { evaluate_on = [\"test\", \"twilight\"] }\n",
                Path::new("s.toml"),
            )
            .expect("parses");
            let plan = Plan::new(study, false);
            (plan.runs[0].spec.clone(), plan.runs[1].spec.clone())
        };
        let per_example = modelled_seconds(&test, (1.0, 1.0));
        let trained = run_seconds(&test, per_example, 1, true);
        let scored = run_seconds(&twilight, per_example, 1, false);
        assert_eq!(once.runs, 4);
        assert!((once.run_seconds - 2.0 * (trained + scored)).abs() < 1e-9, "{}", once.run_seconds);
        assert!(
            scored < trained - 1.0,
            "a partner costs its evaluations only: {scored} vs {trained}"
        );
    }

    /// Bigger models and more examples go first; equal runs keep their plan order.
    #[test]
    fn longest_first_puts_the_costly_runs_ahead() {
        let text = "seeds = 2\n[base]\nepochs = 1\n[[experiment]]\nname = \"a\"\n\
                    vary = { train_size = [1000, 60000] }\n[[experiment]]\nname = \"b\"\n\
                    base = { train_size = 1000 }\nvary = { model = [\"simple\", \"complex\"] }\n";
        let study = cnnvar_core::study::parse(text, Path::new("s.toml")).expect("parses");
        let plan = Plan::new(study, false);
        let mut runs: Vec<&PlannedRun> = plan.runs.iter().collect();
        longest_first(&mut runs);
        let order: Vec<(usize, &str)> =
            runs.iter().map(|r| (r.spec.train_size.unwrap_or(0), r.spec.model.as_str())).collect();
        assert_eq!(&order[..2], &[(60000, "simple"), (60000, "simple")]);
        assert_eq!(&order[2..4], &[(1000, "complex"), (1000, "complex")]);
        assert!(order[4..].iter().all(|o| *o == (1000, "simple")));
        let same: Vec<&str> = runs[4..].iter().map(|r| r.run_id.as_str()).collect();
        let planned: Vec<&str> = plan
            .runs
            .iter()
            .filter(|r| r.spec.train_size == Some(1000) && r.spec.model == ModelName::Simple)
            .map(|r| r.run_id.as_str())
            .collect();
        assert_eq!(same, planned, "ties keep the plan's order");
    }
}
