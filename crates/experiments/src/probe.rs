//! The determinism probe: does a study's training honour each of its seeds, and give
//! the same model for the same seeds?
//!
//! [`probe`] takes the study's first run (its first experiment's first level, replicate
//! 1's seeds) and trains it five ways: as it is (`base`), again with the same seeds
//! (`rerun`: a rerun number changes the run id and nothing the training reads), and
//! with each seed changed alone (`init`, `order`, `subset`). Each is a run of its own
//! under `<study dir>/probe/`, by the worker protocol (so a probe resumes, and a
//! script's runs are refused as in a sweep). Then each run's predictions are compared
//! with the base run's, example by example: a rerun that predicts identically says
//! training is deterministic under fixed seeds; a changed seed that predicts
//! identically is a seed the training ignores, and a variance-sources experiment's
//! level for it measures nothing (the report says so). The answer is written to
//! `<study dir>/probe/probe.json` ([`PROBE_FILE`]).

use std::path::{Path, PathBuf};

use cnnvar_core::study::{Study, expand};
use cnnvar_core::{Error, Result, RunSpec};
use cnnvar_store::RunDir;

use crate::RunOptions;
use crate::sweep::worker::{WorkerEvent, WorkerOutcome, run_worker};

pub use cnnvar_store::{PROBE_DIR, PROBE_FILE, ProbeReport, ProbeRun};

/// The five specs of the probe of `spec`, by name.
fn variants(spec: &RunSpec) -> Vec<(&'static str, RunSpec)> {
    // A changed seed: far from the original in every bit a script is given (its low 32).
    let other = |s: u64| s ^ 0x5eed_5eed;
    vec![
        ("base", spec.clone()),
        ("rerun", RunSpec { rerun: spec.rerun + 1, ..spec.clone() }),
        ("init", RunSpec { init_seed: other(spec.init_seed), ..spec.clone() }),
        ("order", RunSpec { order_seed: other(spec.order_seed), ..spec.clone() }),
        ("subset", RunSpec { subset_seed: other(spec.subset_seed), ..spec.clone() }),
    ]
}

/// Probes `study` (planned already: image folders and scripts resolved) in
/// `study_dir/probe`, training with `options`; `on_event` hears each run's progress,
/// with its name. Writes and returns the report.
pub fn probe(
    study: &Study,
    study_dir: &Path,
    options: &RunOptions,
    on_event: &mut dyn FnMut(&str, WorkerEvent),
) -> Result<ProbeReport> {
    let first = expand(study, None)
        .into_iter()
        .next()
        .ok_or_else(|| Error::setting("study", "plans no run to probe"))?;
    let root: PathBuf = study_dir.join(PROBE_DIR);
    let mut outputs = Vec::new();
    for (name, spec) in variants(&first.spec) {
        let dir = RunDir::create(&root, &spec)?;
        let outcome = run_worker(dir.path(), options, &mut |e| on_event(name, e))?;
        if let WorkerOutcome::Busy { run_id } = outcome {
            return Err(Error::setting(
                "probe",
                format!("run {run_id} is held by another process"),
            ));
        }
        let record = dir.read_record()?.ok_or_else(|| {
            Error::outputs(spec.run_id(), "the probe run finished without a record")
        })?;
        let predictions = dir
            .read_predictions(&record)?
            .ok_or_else(|| Error::outputs(spec.run_id(), "the probe run left no predictions"))?;
        outputs.push((name, record, predictions));
    }
    let base = outputs[0].2.clone();
    let runs: Vec<ProbeRun> = outputs
        .iter()
        .map(|(name, record, p)| ProbeRun {
            name: (*name).into(),
            run_id: record.run_id.clone(),
            test_accuracy: record.test_accuracy,
            differing: differing(&base, p),
            examples: p.predicted.len(),
        })
        .collect();
    let changed = |name: &str| runs.iter().any(|r| r.name == name && r.differing > 0);
    let seeds = ["init", "order", "subset"];
    let report = ProbeReport {
        study: study.name.clone(),
        experiment: first.experiment.clone(),
        level: first.level.clone(),
        deterministic: !changed("rerun"),
        honoured: seeds.iter().filter(|s| changed(s)).map(|s| (*s).into()).collect(),
        ignored: seeds.iter().filter(|s| !changed(s)).map(|s| (*s).into()).collect(),
        runs,
    };
    cnnvar_core::write_json_atomic(&root.join(PROBE_FILE), &report)?;
    Ok(report)
}

/// Examples two runs predict differently (all of them if the test sets differ in size).
fn differing(a: &cnnvar_core::Predictions, b: &cnnvar_core::Predictions) -> usize {
    if a.predicted.len() != b.predicted.len() || a.labels != b.labels {
        return a.predicted.len().max(b.predicted.len());
    }
    a.predicted.iter().zip(&b.predicted).filter(|(x, y)| x != y).count()
}
