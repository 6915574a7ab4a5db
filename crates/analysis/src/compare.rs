//! An experiment's levels compared: pairs, trends of ordered factors, variance sources.

#![allow(unused_imports)]
use std::collections::HashMap;

use cnnvar_core::study::{Experiment, ExperimentKind, Level, PlannedRun};
use cnnvar_core::{Predictions, RunRecord};
use serde::Serialize;

use crate::inference::equivalence::{Equivalence, tost_paired};
use crate::noise::NoiseSummary;
use crate::power::{Design, PowerTarget, Scale, SeedsNeeded, TTest, Trend};
use crate::stats::{Comparison, Summary, compare, sd_interval, summarize};
use crate::*;

/// Analyses one experiment from its planned runs and their records, with paired seeds
/// and without predictions ([`experiment_stats_with`]).
pub fn experiment_stats(
    exp: &cnnvar_core::study::Experiment,
    results: &[(&PlannedRun, RunRecord)],
) -> ExperimentStats {
    experiment_stats_with(exp, results, &AnalysisInputs::default())
}

/// Analyses one experiment from its planned runs, their records and what else
/// `inputs` holds (stored predictions, whether seeds are paired).
pub fn experiment_stats_with(
    exp: &cnnvar_core::study::Experiment,
    results: &[(&PlannedRun, RunRecord)],
    inputs: &AnalysisInputs,
) -> ExperimentStats {
    let mine: Vec<&(&PlannedRun, RunRecord)> =
        results.iter().filter(|(r, _)| r.experiment == exp.name).collect();
    let mut levels = experiment_levels(exp, &mine, &inputs.predictions);
    if exp.kind == ExperimentKind::VarianceSources {
        for level in &mut levels {
            level.twin_disagreement =
                crate::sources::twin_disagreement(&level.label, &mine, &inputs.predictions);
        }
    }
    let ordered = ordered_factor(exp);
    let (pairs, sources, trend) = match exp.kind {
        ExperimentKind::Factor => {
            let pairs = pairwise(&levels, ordered.as_ref(), inputs.paired_seeds, inputs.margin);
            let trend = ordered.as_ref().and_then(|o| trend_stats(o, &levels));
            (pairs, Vec::new(), trend)
        }
        ExperimentKind::VarianceSources => (Vec::new(), variance_sources(&levels), None),
    };
    let mut stats = ExperimentStats {
        name: exp.name.clone(),
        title: exp.title.clone(),
        claim: exp.claim.clone(),
        expect_best: exp.expect_best.clone(),
        kind: exp.kind,
        factors: exp.factors.clone(),
        levels,
        pairs,
        paired_seeds: inputs.paired_seeds,
        ordered_factor: ordered.filter(|_| exp.kind == ExperimentKind::Factor).map(|o| o.field),
        trend,
        sources,
        learning_curve: None,
        cross_validation: cv::protocol_stats(exp, &mine, &inputs.predictions),
        class_names: class_names(exp, &mine),
        factor: None,
        divergence: crate::factor::divergence_test(&[]),
        claim_result: None,
    };
    stats.divergence = crate::factor::divergence_test(&stats.levels);
    if exp.kind == ExperimentKind::Factor && !cnnvar_core::study::is_protocol(&exp.factors) {
        stats.factor = crate::factor::factor_test(&stats.levels, inputs.paired_seeds);
    }
    stats.learning_curve = powerlaw::learning_curve(&stats);
    stats
}

/// The statistics of each level of `exp`, in the experiment's level order, from the
/// experiment's own runs (`mine`). `planned` is left at 0 (the plan fills it in).
pub(crate) fn experiment_levels(
    exp: &cnnvar_core::study::Experiment,
    mine: &[&(&PlannedRun, RunRecord)],
    predictions: &HashMap<String, Predictions>,
) -> Vec<LevelStats> {
    exp.levels
        .iter()
        .map(|level| {
            let runs: Vec<(&PlannedRun, &RunRecord)> = mine
                .iter()
                .filter(|(r, _)| r.level == level.label)
                .map(|(r, rec)| (*r, rec))
                .collect();
            level_stats(&level.label, 0, &runs, predictions)
        })
        .collect()
}

/// An ordered numeric factor: its field, the scale of its trend, and each level's value
/// (in the experiment's level order).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ordered {
    field: String,
    scale: Scale,
    values: Vec<f64>,
}

/// The ordered numeric factor `exp` varies: a factor experiment whose one field is one
/// of [`ORDERED_FACTORS`], set by every level to a different number; `None` otherwise.
pub(crate) fn ordered_factor(exp: &cnnvar_core::study::Experiment) -> Option<Ordered> {
    let [field] = exp.factors.as_slice() else { return None };
    let &(_, scale) = ORDERED_FACTORS.iter().find(|(f, _)| f == field)?;
    if exp.kind != ExperimentKind::Factor || exp.levels.len() < 2 {
        return None;
    }
    let values: Vec<f64> = exp
        .levels
        .iter()
        .map(|l| l.values.get(field).and_then(serde_json::Value::as_f64))
        .collect::<Option<_>>()?;
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    if sorted.windows(2).any(|w| w[0] == w[1]) || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some(Ordered { field: field.clone(), scale, values })
}

/// The pairs of levels to compare, as indices (A, B): every pair of levels with runs,
/// in level order, or for an ordered factor each level with runs and the next larger.
pub(crate) fn pair_indices(
    levels: &[LevelStats],
    ordered: Option<&Ordered>,
) -> Vec<(usize, usize)> {
    let mut with_runs: Vec<usize> =
        (0..levels.len()).filter(|&i| !levels[i].scored_accuracies.is_empty()).collect();
    match ordered {
        Some(o) => {
            with_runs.sort_by(|&i, &j| o.values[i].total_cmp(&o.values[j]));
            with_runs.windows(2).map(|w| (w[0], w[1])).collect()
        }
        None => with_runs
            .iter()
            .enumerate()
            .flat_map(|(k, &i)| with_runs[k + 1..].iter().map(move |&j| (i, j)))
            .collect(),
    }
}

/// The scored accuracies of the replicates both levels have, in A's order.
pub(crate) fn shared_replicates(a: &LevelStats, b: &LevelStats) -> (Vec<f64>, Vec<f64>) {
    a.scored_replicates
        .iter()
        .zip(&a.scored_accuracies)
        .filter_map(|(r, &x)| {
            let j = b.scored_replicates.iter().position(|s| s == r)?;
            Some((x, b.scored_accuracies[j]))
        })
        .unzip()
}

/// The pairs of `levels` compared on their scored accuracies (every pair, or
/// neighbours of an ordered factor), each decided by its paired (with `paired_seeds`)
/// or Welch t-test with Bonferroni's correction over the pairs.
pub(crate) fn pairwise(
    levels: &[LevelStats],
    ordered: Option<&Ordered>,
    paired_seeds: bool,
    margin: f64,
) -> Vec<PairStats> {
    let indices = pair_indices(levels, ordered);
    let m = indices.len();
    indices
        .into_iter()
        .filter_map(|(i, j)| {
            let (a, b) = (&levels[i], &levels[j]);
            let comparison = compare(&a.scored_accuracies, &b.scored_accuracies)?;
            Some(compare_pair(a, b, comparison, m, paired_seeds, margin))
        })
        .collect()
}

/// Levels `a` and `b` compared: the tests, the deciding test's adjusted interval and p
/// over `m` comparisons, its power answers, and the outcome: resolved when the adjusted test rejects; within seed noise only when the equivalence
/// test (TOST at the adjusted level) puts the difference inside ±`margin` points; not
/// resolved otherwise. Fewer than 3 paired differences that do not vary are no evidence
/// either way.
pub(crate) fn compare_pair(
    a: &LevelStats,
    b: &LevelStats,
    comparison: Comparison,
    m: usize,
    paired_seeds: bool,
    margin: f64,
) -> PairStats {
    let welch = power::welch(&a.scored_accuracies, &b.scored_accuracies).ok();
    let shared = paired_seeds.then(|| shared_replicates(a, b));
    let paired = shared.as_ref().and_then(|(x, y)| power::paired(x, y).ok());
    let test = match (&paired, &welch) {
        (Some(_), _) => Some(Design::Paired),
        (None, Some(_)) => Some(Design::Welch),
        (None, None) => None,
    };
    let deciding = paired.as_ref().or(welch.as_ref());
    let target = PowerTarget { alpha: ALPHA / m.max(1) as f64, ..PowerTarget::default() };
    // No spread: the differences (paired) or the values (Welch) agree to rounding (sd
    // of accuracies at most 1e-10; 0.9 − 0.82 and 0.92 − 0.84 differ in the last bit).
    let no_spread = deciding.is_some_and(|t| t.sd <= 1e-10 && t.n_a.min(t.n_b) < MIN_PAIRS);
    // A difference without spread from so few pairs has no interval, p, detectable
    // difference or seeds needed: each would be computed from its zero sd.
    let spread = deciding.filter(|_| !no_spread);
    let ci_adjusted = spread.map(|t| t.ci_adjusted(ALPHA, m));
    let detectable = spread.and_then(|t| t.detectable(&target));
    let significant = !no_spread && deciding.is_some_and(|t| t.significant_bonferroni(ALPHA, m));
    let equivalence = match (&shared, deciding) {
        (Some((x, y)), Some(_)) => {
            let pts = |v: &[f64]| v.iter().map(|a| 100.0 * a).collect::<Vec<_>>();
            tost_paired(&pts(x), &pts(y), margin, ALPHA, m)
        }
        _ => None,
    };
    let equivalent = !significant
        && match (&equivalence, deciding) {
            (Some(e), _) => e.is_equivalent(),
            (None, Some(t)) if t.design == Design::Welch && t.se > 0.0 => {
                let (lo, hi) = t.ci_adjusted(2.0 * ALPHA, m);
                -margin < 100.0 * lo && 100.0 * hi < margin
            }
            _ => false,
        };
    let outcome = match deciding {
        None => Outcome::Untested,
        Some(_) if significant => Outcome::Resolved,
        Some(_) if equivalent => Outcome::WithinNoise,
        Some(_) => Outcome::Unresolved,
    };
    PairStats {
        a: a.label.clone(),
        b: b.label.clone(),
        diff: deciding.map_or(comparison.diff, |t| t.diff),
        comparison,
        test,
        comparisons: m,
        ci_adjusted,
        p_adjusted: spread.map(|t| t.p_bonferroni(m)),
        detectable,
        seeds_needed: spread.and_then(|t| t.seeds_needed(&target)),
        outcome,
        significant,
        no_spread,
        margin,
        equivalence,
        welch,
        paired,
        sequential: None,
    }
}

/// The fewest paired differences that show anything when they do not vary at all.
pub(crate) const MIN_PAIRS: usize = 3;

/// The trend of scored accuracy over the levels of an ordered factor, per doubling of
/// the level (log scale) or per unit of it (linear); `None` when it cannot be fitted.
pub(crate) fn trend_stats(o: &Ordered, levels: &[LevelStats]) -> Option<TrendStats> {
    let points: Vec<(f64, &[f64])> =
        o.values.iter().zip(levels).map(|(&v, l)| (v, l.scored_accuracies.as_slice())).collect();
    let trend = power::trend(&points, o.scale).ok()?;
    let (step, factor) = match o.scale {
        Scale::Log => ("doubling", std::f64::consts::LN_2),
        Scale::Linear => ("unit", 1.0),
    };
    let per_step = trend.slope * factor;
    let per_step_ci = (trend.slope_ci.0 * factor, trend.slope_ci.1 * factor);
    Some(TrendStats { factor: o.field.clone(), trend, step: step.into(), per_step, per_step_ci })
}

/// The spread of test accuracy at each level of a variance-sources experiment (one
/// level per source of randomness): [`crate::sources::source_stats`].
pub(crate) fn variance_sources(levels: &[LevelStats]) -> Vec<SourceStats> {
    crate::sources::source_stats(levels)
}
