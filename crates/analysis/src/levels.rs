//! One level of an experiment: its runs scored, summarised, and its test-set noise.

#![allow(unused_imports)]
use std::collections::HashMap;

use cnnvar_core::study::{Experiment, ExperimentKind, Level, PlannedRun};
use cnnvar_core::{Predictions, RunRecord};
use serde::Serialize;

use crate::noise::NoiseSummary;
use crate::power::{Design, PowerTarget, Scale, SeedsNeeded, TTest, Trend};
use crate::stats::{Comparison, Summary, compare, sd_interval, summarize};
use crate::*;

pub(crate) fn finite(xs: impl Iterator<Item = f64>) -> Vec<f64> {
    xs.filter(|x| x.is_finite()).collect()
}

/// A level's runs with a record: the diverged ones, and the accuracy of every run that
/// did not diverge, with its replicate (a diverged run's accuracy says nothing about the
/// setting's accuracy: its divergence is an outcome of its own, [`LevelStats::diverged`]).
pub(crate) fn score_runs(
    runs: &[(&PlannedRun, &RunRecord)],
) -> (Vec<DivergedRun>, Vec<(usize, f64)>) {
    let mut diverged = Vec::new();
    let mut scored = Vec::new();
    for (run, rec) in runs {
        match rec.divergence() {
            Some(reason) => {
                diverged.push(DivergedRun {
                    run_id: run.run_id.clone(),
                    replicate: run.replicate,
                    reason,
                });
            }
            None if rec.test_accuracy.is_finite() => {
                scored.push((run.replicate, rec.test_accuracy))
            }
            None => {}
        }
    }
    (diverged, scored)
}

/// The test-set noise of a level's runs: their [`NoiseSummary`] (or why there is none,
/// [`MissingNoise`])
/// and the runs without predictions. Diverged runs are left out, as from the level's
/// accuracies; runs evaluated on other examples than the first (their labels differ)
/// cannot be pooled, and the level then has no summary.
pub(crate) fn level_noise(
    runs: &[(&PlannedRun, &RunRecord)],
    predictions: &HashMap<String, Predictions>,
) -> (Option<NoiseSummary>, Option<MissingNoise>, Vec<String>) {
    let mut without = Vec::new();
    let mut with: Vec<(&str, &Predictions)> = Vec::new();
    for (run, rec) in runs {
        match predictions.get(&run.run_id) {
            None => without.push(run.run_id.clone()),
            Some(p) if rec.divergence().is_none() && rec.test_accuracy.is_finite() => {
                with.push((&run.run_id, p))
            }
            Some(_) => {}
        }
    }
    if runs.is_empty() {
        return (None, None, without);
    }
    let Some(&(first_id, first)) = with.first() else {
        return (None, Some(MissingNoise::NoPredictions), without);
    };
    if with.len() < 2 {
        return (None, Some(MissingNoise::OneRun { run: first_id.into() }), without);
    }
    if let Some((other, _)) = with.iter().find(|(_, p)| p.labels != first.labels) {
        let missing =
            MissingNoise::DifferentExamples { first: first_id.into(), other: other.to_string() };
        return (None, Some(missing), without);
    }
    let preds: Vec<&[u8]> = with.iter().map(|(_, p)| p.predicted.as_slice()).collect();
    match noise::test_set_noise(&preds, &first.labels) {
        Ok(n) => (Some(n.summary(MOST_CONTESTED)), None, without),
        Err(e) => (None, Some(MissingNoise::Invalid(e)), without),
    }
}

pub(crate) fn level_stats(
    label: &str,
    planned: usize,
    runs: &[(&PlannedRun, &RunRecord)],
    predictions: &HashMap<String, Predictions>,
) -> LevelStats {
    let (diverged_runs, scored) = score_runs(runs);
    let (test_set_noise, noise_missing, without_predictions) = level_noise(runs, predictions);
    let ok: Vec<&RunRecord> =
        runs.iter().map(|(_, rec)| *rec).filter(|r| r.divergence().is_none()).collect();
    let accuracies = finite(ok.iter().map(|r| r.test_accuracy));
    let classes = ok.iter().map(|r| r.per_class_accuracy.len()).max().unwrap_or(0);
    let per_class = (0..classes)
        .map(|c| {
            let v = finite(ok.iter().filter_map(|r| r.per_class_accuracy.get(c).copied()));
            if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 }
        })
        .collect();
    let epochs = ok.iter().map(|r| r.epochs.len()).min().unwrap_or(0);
    let curve = (0..epochs)
        .filter_map(|e| {
            let train = summarize(&finite(ok.iter().map(|r| r.epochs[e].train_accuracy)))?;
            let test = summarize(&finite(ok.iter().map(|r| r.epochs[e].test_accuracy)));
            Some(CurvePoint { epoch: e + 1, train, test })
        })
        .collect();
    let outcomes = runs.iter().map(|(run, rec)| run_outcome(run, rec)).collect();
    LevelStats {
        label: label.to_string(),
        outcomes,
        planned,
        complete: runs.len(),
        diverged: diverged_runs.len(),
        diverged_runs,
        scored_accuracies: scored.iter().map(|&(_, a)| a).collect(),
        scored_replicates: scored.iter().map(|&(r, _)| r).collect(),
        test_accuracy: summarize(&accuracies),
        test_loss: summarize(&finite(ok.iter().map(|r| r.test_loss))),
        gap: summarize(&finite(ok.iter().map(|r| r.train_accuracy - r.test_accuracy))),
        gaps: finite(ok.iter().map(|r| r.train_accuracy - r.test_accuracy)),
        accuracies,
        per_class,
        curve,
        runs_with_predictions: runs.len() - without_predictions.len(),
        without_predictions,
        test_set_noise,
        noise_missing,
        twin_disagreement: None,
    }
}

/// What one run gives each outcome a claim can be tested on.
fn run_outcome(run: &PlannedRun, rec: &RunRecord) -> RunOutcome {
    RunOutcome {
        replicate: run.replicate,
        diverged: rec.divergence().is_some(),
        not_learned_yet: rec.not_learned_yet(),
        test_accuracy: rec.test_accuracy,
        gap: rec.train_accuracy - rec.test_accuracy,
        per_class: rec.per_class_accuracy.clone(),
        minority: rare_classes(&rec.spec),
        seconds: rec.seconds,
    }
}

/// The classes `spec` made rare: its minority classes when it keeps fewer of their
/// examples (`imbalance` below 1), else none.
fn rare_classes(spec: &cnnvar_core::RunSpec) -> Vec<usize> {
    let r = spec.resolved();
    if r.imbalance < 1.0 { r.minority.iter().map(|&c| usize::from(c)).collect() } else { vec![] }
}

/// The class names of the experiment's data set, if all its levels share one: the data
/// set's own, or for an image folder the class folders' names its records carry
/// (`Provenance::class_names`; none before a run is complete, or when the levels are on
/// folders with other classes).
pub(crate) fn class_names(
    exp: &cnnvar_core::study::Experiment,
    mine: &[&(&PlannedRun, RunRecord)],
) -> Vec<String> {
    let mut datasets = exp.levels.iter().map(|l| l.spec.dataset);
    match datasets.next() {
        Some(cnnvar_core::DatasetName::Folder)
            if exp.levels.iter().all(|l| l.spec.dataset == cnnvar_core::DatasetName::Folder) =>
        {
            let mut names = mine.iter().map(|(_, r)| &r.provenance.class_names);
            match names.next() {
                Some(first) if names.all(|n| n == first) => first.clone(),
                _ => Vec::new(),
            }
        }
        Some(first) if datasets.all(|d| d == first) => {
            first.class_names().iter().map(|c| c.to_string()).collect()
        }
        _ => Vec::new(),
    }
}
