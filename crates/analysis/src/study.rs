//! A whole study's analysis.

#![allow(unused_imports)]
use std::collections::HashMap;

use cnnvar_core::study::{Experiment, ExperimentKind, Level, PlannedRun, Study};
use cnnvar_core::{Predictions, RunRecord};
use serde::Serialize;

use crate::noise::NoiseSummary;
use crate::power::{Design, PowerTarget, Scale, SeedsNeeded, TTest, Trend};
use crate::stats::{Comparison, Summary, compare, sd_interval, summarize};
use crate::*;

/// The study's test-set noise, pooled over every level that has it (each level's
/// variance weighted by its runs − 1); `None` when no level has it.
pub fn study_noise(experiments: &[ExperimentStats]) -> Option<StudyNoise> {
    let noises: Vec<&NoiseSummary> = experiments
        .iter()
        .flat_map(|e| e.levels.iter().filter_map(|l| l.test_set_noise.as_ref()))
        .collect();
    if noises.is_empty() {
        return None;
    }
    let df: f64 = noises.iter().map(|n| n.runs as f64 - 1.0).sum();
    let pool = |f: fn(&NoiseSummary) -> f64| {
        (noises.iter().map(|n| (n.runs as f64 - 1.0) * f(n).powi(2)).sum::<f64>() / df).sqrt()
    };
    let observed_sd = pool(|n| n.observed_sd);
    let floor_sd = pool(|n| n.floor_sd);
    let excess_sd = (observed_sd.powi(2) - floor_sd.powi(2)).max(0.0).sqrt();
    let lo = noises.iter().map(|n| n.examples).min().unwrap_or(0);
    let hi = noises.iter().map(|n| n.examples).max().unwrap_or(0);
    let runs = noises.iter().map(|n| n.runs).sum();
    let ensemble_gain = noises.iter().map(|n| n.ensemble_gain).sum::<f64>() / noises.len() as f64;
    let levels = noises.len();
    Some(StudyNoise {
        levels,
        runs,
        examples: (lo, hi),
        observed_sd,
        floor_sd,
        excess_sd,
        ensemble_gain,
    })
}

/// Analyses a study: `study`, its planned `runs` (every experiment × level ×
/// replicate), the `results` of those that have a record, and `predictions` (the
/// stored predictions of each run that has them, by run id).
pub fn analyze(
    study: &Study,
    runs: &[PlannedRun],
    results: &[(&PlannedRun, RunRecord)],
    predictions: HashMap<String, Predictions>,
) -> StudyStats {
    let inputs =
        AnalysisInputs { predictions, paired_seeds: study.paired_seeds, margin: study.margin };
    let mut experiments = Vec::new();
    for exp in &study.experiments {
        let mut stats = experiment_stats_with(exp, results, &inputs);
        for level in &mut stats.levels {
            level.planned =
                runs.iter().filter(|r| r.experiment == exp.name && r.level == level.label).count();
        }
        experiments.push(stats);
    }
    holm_over_factors(&mut experiments);
    let claims: Vec<_> = study
        .experiments
        .iter()
        .zip(&experiments)
        .map(|(planned, stats)| {
            crate::claims::test_claim(stats, planned, &experiments, study.margin)
        })
        .collect();
    for (stats, claim) in experiments.iter_mut().zip(claims) {
        stats.claim_result = claim;
    }
    StudyStats {
        study: study.name.clone(),
        planned: runs.len(),
        complete: results.len(),
        diverged: results.iter().filter(|(_, r)| r.divergence().is_some()).count(),
        seeds: study.seeds,
        test_set_noise: study_noise(&experiments),
        time: crate::timing::study_time(results.iter().map(|(_, r)| r)),
        experiments,
    }
}

/// Sets each factor test's p-value Holm-adjusted over the study's factor tests: the
/// study-wide family whose any-false-call rate stays at 5%.
pub fn holm_over_factors(experiments: &mut [ExperimentStats]) {
    let ps: Vec<f64> = experiments.iter().filter_map(|e| e.factor.as_ref().map(|f| f.p)).collect();
    let Some(adjusted) = crate::inference::multiplicity::holm(&ps) else { return };
    let mut adjusted = adjusted.into_iter();
    for f in experiments.iter_mut().filter_map(|e| e.factor.as_mut()) {
        f.p_holm = adjusted.next();
    }
}
