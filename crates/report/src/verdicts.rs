//! The verdicts of the experiments in words: one sentence per compared pair of levels
//! and one headline per experiment, made when the report is rendered from the outcomes
//! and numbers of the analysis.

use cnnvar_analysis::power::{Design, Scale};
use cnnvar_analysis::{ALPHA, ExperimentStats, Outcome, PairStats, SequentialPair, TrendStats};
use cnnvar_core::study::ExperimentKind;

use crate::words::{correction_text, interval_text, needed_text, p_text, pts, pts2, seeds_text};

/// A level's label with its factor named when the experiment varies one: `lr 0.01`.
pub fn factor_label(exp: &ExperimentStats, level: &str) -> String {
    match (exp.kind, exp.factors.as_slice()) {
        (ExperimentKind::Factor, [one]) => format!("{} {level}", one.replace('_', " ")),
        _ => level.to_string(),
    }
}

/// The verdict on `pair` of `exp`, its levels named with their factor ([`pair_verdict`]).
pub fn verdict_of(exp: &ExperimentStats, pair: &PairStats) -> String {
    pair_verdict(&factor_label(exp, &pair.a), &factor_label(exp, &pair.b), pair)
}

/// The verdict on A against B (labels `a`, `b`) in one sentence: an adaptive
/// experiment's sequential decision where it stands for the fixed-sample numbers, else
/// [`fixed_verdict`].
pub fn pair_verdict(a: &str, b: &str, pair: &PairStats) -> String {
    match &pair.sequential {
        Some(s) => sequential_verdict(s),
        None => fixed_verdict(a, b, pair),
    }
}

/// `1000 < 60000 at look 2 (5 seeds) (adaptive seeding; repeated CI -10.04 [-19.72,
/// -0.35] points (95% repeated CI))`: the decision names its levels by their labels.
fn sequential_verdict(s: &SequentialPair) -> String {
    let rci = s.decision.interval_text().map(|t| format!("; repeated CI {t}")).unwrap_or_default();
    format!("{} (adaptive seeding{rci})", s.decision.describe(s.delta))
}

/// The verdict from the pair's fixed-sample outcome: it states the Bonferroni-adjusted
/// interval the outcome is read from.
pub fn fixed_verdict(a: &str, b: &str, pair: &PairStats) -> String {
    let Some(t) = pair.deciding() else {
        return format!("{a} vs {b}: too few runs for a test ({} points)", pts(pair.diff));
    };
    let m = pair.comparisons;
    let name = match t.design {
        Design::Paired => "paired",
        Design::Welch => "Welch",
    };
    let p_words = match (m, pair.p_adjusted) {
        (1, _) | (_, None) => format!("{name} {}", p_text(t.p)),
        (_, Some(adj)) => {
            format!("{name} {}, Bonferroni {} ({m} comparisons)", p_text(t.p), p_text(adj))
        }
    };
    match pair.outcome {
        Outcome::Resolved => resolved_verdict(a, b, pair, &p_words),
        Outcome::WithinNoise => within_noise_verdict(a, b, pair, &p_words),
        Outcome::Unresolved if pair.no_spread => format!(
            "{a} vs {b}: not resolved (n = {}, no spread: {} points every time)",
            t.n_a.min(t.n_b),
            pts(pair.diff)
        ),
        Outcome::Unresolved | Outcome::Untested => {
            let needed = match (&pair.seeds_needed, pair.diff == 0.0) {
                (Some(n), false) => format!(
                    "; to tell {} points apart at 80% power needs {}",
                    pts2(pair.diff.abs()),
                    needed_text(n)
                ),
                _ => String::new(),
            };
            format!(
                "{a} vs {b}: not resolved with {}{} ({} points{}, {p_words}){needed}",
                seeds_text(t),
                correction_text(m),
                pts(pair.diff),
                interval_text(pair.ci_adjusted, false),
            )
        }
    }
}

/// `lr 0.0001 beats lr 0.01 by 10.0 points [9.0, 11.0], paired p < 0.001`: the interval
/// is of the winner minus the loser, like the difference stated.
fn resolved_verdict(a: &str, b: &str, pair: &PairStats, p_words: &str) -> String {
    let (win, lose) = if pair.diff >= 0.0 { (a, b) } else { (b, a) };
    let interval = interval_text(pair.ci_adjusted, pair.diff < 0.0);
    format!("{win} beats {lose} by {} points{interval}, {p_words}", pts(pair.diff.abs()))
}

/// `a vs b: within seed noise (…: inside ±0.50 points by an equivalence test; …)`.
fn within_noise_verdict(a: &str, b: &str, pair: &PairStats, p_words: &str) -> String {
    use cnnvar_analysis::inference::equivalence::Equivalence;
    let tost = match &pair.equivalence {
        Some(Equivalence::Tested(t)) => format!("equivalence {}", p_text(t.p)),
        _ => "Welch interval".to_string(),
    };
    format!(
        "{a} vs {b}: within seed noise ({} points{}: inside ±{:.2} points by an equivalence \
         test{}; {tost}, {p_words})",
        pts(pair.diff),
        interval_text(pair.ci_adjusted, false),
        pair.margin,
        correction_text(pair.comparisons),
    )
}

/// The experiment's verdict in one sentence: a protocol experiment's finding, a factor
/// experiment's pairs (and trend), or a variance-sources experiment's sources (and
/// chaos), with which levels diverged. A pair of an adaptive experiment is read at its
/// fixed-sample numbers here, which its sequential decision does not replace.
pub fn headline(exp: &ExperimentStats) -> String {
    let finding = match (&exp.cross_validation, exp.kind) {
        (Some(cv), _) => crate::findings::protocol_sentence(cv),
        (None, ExperimentKind::Factor) => factor_finding(exp),
        (None, ExperimentKind::VarianceSources) => sources_finding(exp),
    };
    match divergence_note(exp) {
        Some(note) => format!("{finding}; {note}"),
        None => finding,
    }
}

/// [`factor_headline`], then the trend of an ordered factor.
fn factor_finding(exp: &ExperimentStats) -> String {
    let pairs = factor_headline(exp);
    match &exp.trend {
        Some(t) => format!("{pairs}; {}", trend_sentence(t)),
        None => pairs,
    }
}

/// `trend across train size (log scale, 12 runs): +0.50 points per doubling of train
/// size [0.45, 0.55], p < 0.001`, ending `: no trend resolved` when p is not below
/// [`ALPHA`].
pub fn trend_sentence(t: &TrendStats) -> String {
    let name = t.factor.replace('_', " ");
    let (scale, per) = match t.trend.scale {
        Scale::Log => ("log scale", format!("per doubling of {name}")),
        Scale::Linear => ("linear", format!("per unit of {name}")),
    };
    let verdict = if t.trend.p < ALPHA { "" } else { ": no trend resolved" };
    format!(
        "trend across {name} ({scale}, {} runs): {:+.2} points {per} [{:.2}, {:.2}], {}{verdict}",
        t.trend.n,
        100.0 * t.per_step,
        100.0 * t.per_step_ci.0,
        100.0 * t.per_step_ci.1,
        p_text(t.trend.p)
    )
}

/// The sources' spreads and whether they differ, then each `rerun` and `nudge` source
/// against new seeds.
fn sources_finding(exp: &ExperimentStats) -> String {
    use cnnvar_analysis::sources;
    let equal = sources::equal_spread(&exp.levels);
    let mut text = crate::findings::sources_sentence(&exp.sources, equal.as_ref());
    for c in sources::chaos(&exp.levels) {
        text = format!("{text}; {}", crate::findings::chaos_sentence(&c));
    }
    text
}

/// A factor experiment's pairs in one sentence: the verdict of its largest resolved
/// difference; else, when some difference is not resolved, what the largest of those
/// would need; else that every pair is within seed noise.
pub fn factor_headline(exp: &ExperimentStats) -> String {
    let pairs = &exp.pairs;
    let largest = |outcome: Outcome| {
        pairs
            .iter()
            .filter(|p| p.outcome == outcome)
            .max_by(|x, y| x.diff.abs().total_cmp(&y.diff.abs()))
    };
    if let Some(best) = largest(Outcome::Resolved) {
        return fixed_verdict(&factor_label(exp, &best.a), &factor_label(exp, &best.b), best);
    }
    let within = pairs.iter().filter(|p| p.outcome == Outcome::WithinNoise).count();
    let n = pairs.len();
    let pairs_text = if n == 1 { "the pair".to_string() } else { format!("{n} pairs") };
    if let Some(open) = largest(Outcome::Unresolved) {
        return open_headline(exp, open, &format!("{within} of {pairs_text}"));
    }
    match (n, within) {
        (0, _) => "not enough runs to compare levels".into(),
        (_, 0) => format!("too few runs per level to test {pairs_text}"),
        (_, w) if w == n && n == 1 => "no difference between levels: within seed noise".into(),
        (_, w) if w == n => {
            format!("no difference between levels: all {n} pairs within seed noise")
        }
        (_, w) => format!(
            "no difference between levels: {w} of {n} pairs within seed noise, the rest too few \
             runs to test"
        ),
    }
}

/// No difference resolved: the largest not resolved (`open`) with the seeds it would
/// need, and how many pairs are `within` seed noise (`2 of 3 pairs`).
fn open_headline(exp: &ExperimentStats, open: &PairStats, within: &str) -> String {
    let t = open.deciding().expect("an unresolved pair has a test");
    let needed = match (&open.seeds_needed, open.diff == 0.0) {
        (Some(s), false) => format!(", would need {} at 80% power", needed_text(s)),
        _ => String::new(),
    };
    format!(
        "no difference between levels is resolved with {}{}: the largest, {} vs {} ({} \
         points){needed}; {within} within seed noise",
        seeds_text(t),
        correction_text(open.comparisons),
        factor_label(exp, &open.a),
        factor_label(exp, &open.b),
        pts(open.diff),
    )
}

/// `lr 10 diverged in 5 of 5 seeds, lr 1 diverged in 2 of 5 seeds (counted at chance
/// accuracy)`, or `None` when no run of the experiment diverged.
pub fn divergence_note(exp: &ExperimentStats) -> Option<String> {
    let parts: Vec<String> = exp
        .levels
        .iter()
        .filter(|l| l.diverged > 0)
        .map(|l| {
            let label = factor_label(exp, &l.label);
            format!("{label} diverged in {} of {} seeds", l.diverged, l.complete)
        })
        .collect();
    (!parts.is_empty()).then(|| format!("{} (counted at chance accuracy)", parts.join(", ")))
}

#[cfg(test)]
#[path = "verdicts_tests.rs"]
mod tests;
