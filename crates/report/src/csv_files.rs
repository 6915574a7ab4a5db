//! The report's CSV files: `ranking.csv`, `claims.csv`, `summary.csv` and
//! `comparisons.csv`, one row per factor, claim part, level and metric, and compared
//! pair.

use cnnvar_analysis::StudyStats;
use cnnvar_analysis::rank::Ranking;
use cnnvar_core::{Error, Result};

use crate::words;

/// `ranking.csv`: one row per factor, ranked. In an adaptive experiment the factor
/// test's fixed-sample p-values are left empty (not valid after data-dependent
/// stopping): its verdict is its sequential decisions'.
pub fn ranking_csv(study: &str, ranking: &Ranking) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| Error::encode("ranking.csv", e);
    w.write_record(RANKING_COLUMNS).map_err(e)?;
    let num = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    for (i, f) in ranking.factors.iter().enumerate() {
        let fixed = f.sequential.is_none();
        let design = f.design.map(|d| format!("{d:?}").to_lowercase()).unwrap_or_default();
        let claim = f.claim.as_ref();
        w.write_record([
            study.to_string(),
            (i + 1).to_string(),
            f.experiment.clone(),
            f.title.clone(),
            f.levels.to_string(),
            f.runs.to_string(),
            design,
            f.blocks.to_string(),
            f.dropped_blocks.to_string(),
            num(f.effect_sd),
            num(f.effect_ci.map(|c| c.0)),
            num(f.effect_ci.map(|c| c.1)),
            num(f.noise_sd),
            num(f.noise_ratio),
            num(f.noise_ratio_ci.map(|c| c.0)),
            num(f.noise_ratio_ci.map(|c| c.1)),
            f.best.clone(),
            f.worst.clone(),
            num(f.best_minus_worst),
            num(f.best_worst_ci.map(|c| c.0)),
            num(f.best_worst_ci.map(|c| c.1)),
            num(f.p.filter(|_| fixed)),
            num(f.p_holm.filter(|_| fixed)),
            f.rank_test.clone(),
            num(f.rank_p.filter(|_| fixed)),
            f.distinguishable.to_string(),
            f.diverged.iter().map(|d| d.diverged).sum::<usize>().to_string(),
            num(f.divergence_p),
            claim.map(|c| words::verdict_words(c.verdict).to_string()).unwrap_or_default(),
            words::factor_sentence(f),
            num(f.floor_sd),
            num(f.excess_sd),
        ])
        .map_err(e)?;
    }
    w.into_inner().map_err(|x| Error::encode("ranking.csv", x))
}

/// The columns of `ranking.csv` (every number in accuracy points).
pub const RANKING_COLUMNS: [&str; 32] = [
    "study",
    "rank",
    "experiment",
    "title",
    "levels",
    "runs",
    "design",
    "blocks",
    "dropped_blocks",
    "effect_sd",
    "effect_ci_low",
    "effect_ci_high",
    "noise_sd",
    "noise_ratio",
    "noise_ratio_ci_low",
    "noise_ratio_ci_high",
    "best",
    "worst",
    "best_minus_worst",
    "best_worst_ci_low",
    "best_worst_ci_high",
    "p",
    "p_holm",
    "rank_test",
    "rank_p",
    "distinguishable",
    "diverged_runs",
    "divergence_p",
    "claim_verdict",
    "sentence",
    "floor_sd",
    "excess_sd",
];

/// `claims.csv`: one row per claim part, with the claim's verdict repeated.
pub fn claims_csv(study: &str, stats: &StudyStats) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| Error::encode("claims.csv", e);
    w.write_record(CLAIMS_COLUMNS).map_err(e)?;
    let num = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    for c in stats.experiments.iter().filter_map(|x| x.claim_result.as_ref()) {
        for (i, p) in c.parts.iter().enumerate() {
            w.write_record([
                study.to_string(),
                c.experiment.clone(),
                words::claim_text(c),
                words::verdict_words(c.verdict).to_string(),
                (i + 1).to_string(),
                words::part_says(p),
                p.check.shape.name().to_string(),
                p.check.outcome.name().to_string(),
                words::verdict_words(p.verdict).to_string(),
                crate::reasons::test_words(&p.test),
                num(p.estimate),
                num(p.ci.map(|c| c.0)),
                num(p.ci.map(|c| c.1)),
                num(p.p),
                crate::reasons::reason_words(&p.why),
            ])
            .map_err(e)?;
        }
    }
    w.into_inner().map_err(|x| Error::encode("claims.csv", x))
}

/// The columns of `claims.csv`.
pub const CLAIMS_COLUMNS: [&str; 15] = [
    "study",
    "experiment",
    "claim",
    "claim_verdict",
    "part",
    "says",
    "shape",
    "outcome",
    "verdict",
    "test",
    "estimate",
    "ci_low",
    "ci_high",
    "p",
    "why",
];

/// `summary.csv`: one row per experiment, level and metric.
pub fn summary_csv(stats: &StudyStats) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| Error::encode("summary.csv", e);
    w.write_record([
        "study",
        "experiment",
        "level",
        "metric",
        "planned",
        "complete",
        "diverged",
        "n",
        "mean",
        "sd",
        "ci_low",
        "ci_high",
        "min",
        "max",
        "runs_with_predictions",
        "observed_sd",
        "floor_sd",
        "floor_ci_low",
        "floor_ci_high",
        "excess_sd",
        "disagreement_mean",
        "disagreement_min",
        "disagreement_max",
        "ensemble_accuracy",
        "ensemble_gain",
    ])
    .map_err(e)?;
    let num = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    for exp in &stats.experiments {
        for level in &exp.levels {
            let noise = level.test_set_noise.as_ref();
            for (metric, s) in [
                ("test_accuracy", &level.test_accuracy),
                ("test_loss", &level.test_loss),
                ("gap", &level.gap),
            ] {
                // The test-set noise is of test accuracy: on its rows only.
                let n = noise.filter(|_| metric == "test_accuracy");
                w.write_record([
                    stats.study.clone(),
                    exp.name.clone(),
                    level.label.clone(),
                    metric.to_string(),
                    level.planned.to_string(),
                    level.complete.to_string(),
                    level.diverged.to_string(),
                    s.as_ref().map_or(0, |s| s.n).to_string(),
                    num(s.as_ref().map(|s| s.mean)),
                    num(s.as_ref().and_then(|s| s.sd)),
                    num(s.as_ref().and_then(|s| s.ci.map(|c| c.0))),
                    num(s.as_ref().and_then(|s| s.ci.map(|c| c.1))),
                    num(s.as_ref().map(|s| s.min)),
                    num(s.as_ref().map(|s| s.max)),
                    level.runs_with_predictions.to_string(),
                    num(n.map(|n| n.observed_sd)),
                    num(n.map(|n| n.floor_sd)),
                    num(n.and_then(|n| n.floor_ci.map(|c| c.0))),
                    num(n.and_then(|n| n.floor_ci.map(|c| c.1))),
                    num(n.map(|n| n.excess_sd)),
                    num(n.map(|n| n.disagreement.mean)),
                    num(n.map(|n| n.disagreement.min)),
                    num(n.map(|n| n.disagreement.max)),
                    num(n.map(|n| n.ensemble_accuracy)),
                    num(n.map(|n| n.ensemble_gain)),
                ])
                .map_err(e)?;
            }
        }
    }
    w.into_inner().map_err(|x| Error::encode("summary.csv", x))
}

/// The columns of `comparisons.csv`, in order.
pub const COMPARISONS_COLUMNS: [&str; 23] = [
    "study",
    "experiment",
    "a",
    "b",
    "diff",
    "ci_low",
    "ci_high",
    "welch_p",
    "paired_p",
    "adjusted_p",
    "p_a_beats_b",
    "p_a_beats_b_low",
    "p_a_beats_b_high",
    "cohen_d",
    "detectable_diff",
    "seeds_needed",
    "seeds_needed_capped",
    "test",
    "comparisons",
    "n_a",
    "n_b",
    "outcome",
    "verdict",
];

/// `comparisons.csv`: one row per compared pair of levels, in report order. `diff`,
/// `ci_low` and `ci_high` are the deciding test's (paired where seeds are paired, else
/// Welch), the interval Bonferroni-adjusted over the experiment's `comparisons`, as is
/// `adjusted_p`; `detectable_diff` and `seeds_needed` are at 80% power at that adjusted
/// level. `seeds_needed` is empty and `seeds_needed_capped` true when more than the cap
/// would be needed. `p_a_beats_b_low` and `_high` are the 95% interval of
/// `p_a_beats_b` ([`cnnvar_analysis::stats::superiority_interval`]). Accuracies are
/// fractions (0.01 is one point); empty cells are missing values.
pub fn comparisons_csv(stats: &StudyStats) -> Result<Vec<u8>> {
    use cnnvar_analysis::power::{Design, SeedsNeeded};
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| Error::encode("comparisons.csv", e);
    w.write_record(COMPARISONS_COLUMNS).map_err(e)?;
    let num = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    // p-values in full, so that small ones keep their digits.
    let p = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for exp in &stats.experiments {
        for pair in &exp.pairs {
            let verdict = crate::verdicts::verdict_of(exp, pair);
            let pair = crate::shown_pair(pair);
            let t = pair.deciding();
            let (needed, capped) = match pair.seeds_needed {
                Some(SeedsNeeded::Exactly(n)) => (n.to_string(), "false"),
                Some(SeedsNeeded::MoreThan(_)) => (String::new(), "true"),
                None => (String::new(), "false"),
            };
            let test = match pair.test {
                Some(Design::Paired) => "paired",
                Some(Design::Welch) => "welch",
                None => "",
            };
            w.write_record([
                stats.study.clone(),
                exp.name.clone(),
                pair.a.clone(),
                pair.b.clone(),
                num(Some(pair.diff)),
                num(pair.ci_adjusted.map(|c| c.0)),
                num(pair.ci_adjusted.map(|c| c.1)),
                p(pair.welch.as_ref().map(|t| t.p)),
                p(pair.paired.as_ref().map(|t| t.p)),
                p(pair.p_adjusted),
                num(Some(pair.comparison.prob_a_beats_b)),
                num(Some(pair.comparison.prob_ci.0)),
                num(Some(pair.comparison.prob_ci.1)),
                num(pair.comparison.cohen_d),
                num(pair.detectable),
                needed,
                capped.to_string(),
                test.to_string(),
                pair.comparisons.to_string(),
                t.map(|t| t.n_a.to_string()).unwrap_or_default(),
                t.map(|t| t.n_b.to_string()).unwrap_or_default(),
                pair.outcome.as_str().to_string(),
                verdict,
            ])
            .map_err(e)?;
        }
    }
    w.into_inner().map_err(|x| Error::encode("comparisons.csv", x))
}
