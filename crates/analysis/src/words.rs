//! The analysis in words: verdicts, headlines and the methods, for the report.

#![allow(unused_imports)]
use std::collections::HashMap;

use cnnvar_core::study::{Experiment, ExperimentKind, Level, PlannedRun};
use cnnvar_core::{Predictions, RunRecord};
use serde::Serialize;

use crate::noise::NoiseSummary;
use crate::power::{Design, PowerTarget, Scale, SeedsNeeded, TTest, Trend};
use crate::stats::{Comparison, Summary, compare, sd_interval, summarize};
use crate::*;

/// How comparisons are decided, in words, for the report.
pub const COMPARISON_METHOD: &str = "Each comparison is decided by one t-test: the paired \
    t-test over replicates when the study pairs seeds (replicate r shares its seeds across \
    levels, the default), else Welch's t-test; both p-values are shown. Its interval and p \
    are Bonferroni-adjusted over the experiment's m comparisons (every pair of levels, or, \
    for an ordered numeric factor, neighbouring levels only, m = levels − 1), so the \
    interval excludes 0 exactly when the adjusted p is below 0.05: a difference is \
    resolved (\"A beats B\") then and only then. The detectable difference is the smallest \
    true difference the test resolves with 80% power at that adjusted level, with the \
    observed sds; seeds needed is how many seeds per level would resolve the observed \
    difference with 80% power. An unresolved difference is \"within seed noise\" only when \
    its whole adjusted interval lies inside ± the detectable difference (any real \
    difference is smaller than this design detects); otherwise it is \"not resolved\", \
    with the seeds it would need. Ordered numeric factors also get a least-squares trend \
    of accuracy over all runs (log scale for train_size, lr, batch_size and width; \
    linear otherwise). Diverged runs count at chance accuracy.";

/// What the floor and excess are, in words, for the report.
pub const NOISE_METHOD: &str = "From the stored predictions of a level's runs (non-diverged, \
    evaluated on the same examples): the floor is the sd of accuracy the runs would show if \
    each test example flipped between right and wrong independently, with its own \
    difficulty (sqrt of the sum over examples of p(1 − p)·k/(k − 1), over n, where p is the \
    share of the k runs right on it): the test set's own sampling noise, which more seeds \
    do not remove. Its interval is a 95% bootstrap over runs. The excess, \
    sqrt(max(0, observed² − floor²)), is the sd of the runs' true accuracies: the part of \
    the seed noise that comes from training. Disagreement is the share of examples on \
    which two runs predict different classes; the ensemble is the majority vote of the \
    runs. sds combine in quadrature: observed² ≈ floor² + excess².";

/// The divergence rule of [`RunRecord::divergence`] in words, for the report.
pub const DIVERGENCE_RULE: &str = "A run counts as diverged when its loss became NaN or \
    infinite, when its final test accuracy is not above chance (1 / classes) by more than \
    2 points, or when its last epoch's training loss is above its first epoch's. Diverged \
    runs are left out of the level means and counted at chance accuracy in the \
    comparisons and the ranking.";

/// `0.912` as `91.2`.
pub(crate) fn pts(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

/// `0.004` as `0.40` (points, two decimals: for sds and small differences).
pub(crate) fn pts2(x: f64) -> String {
    format!("{:.2}", 100.0 * x)
}

/// `p = 0.042`, `p < 0.001`.
pub(crate) fn p_words(p: f64) -> String {
    if p < 0.001 { "p < 0.001".to_string() } else { format!("p = {p:.3}") }
}

/// `3 seeds per level`, or `3 and 5 seeds` when the levels differ.
pub(crate) fn seeds_text(t: &TTest) -> String {
    if t.n_a == t.n_b {
        format!("{} seeds per level", t.n_a)
    } else {
        format!("{} and {} seeds", t.n_a, t.n_b)
    }
}

/// ` after correcting for 36 comparisons`, or nothing for one comparison.
pub(crate) fn correction_text(m: usize) -> String {
    if m > 1 { format!(" after correcting for {m} comparisons") } else { String::new() }
}

/// `about 14 seeds per level`, `more than 10000 seeds per level`.
pub(crate) fn needed_text(n: &SeedsNeeded) -> String {
    match n {
        SeedsNeeded::Exactly(n) => format!("about {n} seeds per level"),
        SeedsNeeded::MoreThan(n) => format!("more than {n} seeds per level"),
    }
}

/// ` [lo, hi]` of `ci` in points (one decimal), flipped to B − A when `flip`.
pub(crate) fn interval_text(ci: Option<(f64, f64)>, flip: bool) -> String {
    ci.map(|(lo, hi)| if flip { (-hi, -lo) } else { (lo, hi) })
        .map(|(lo, hi)| format!(" [{}, {}]", pts(lo), pts(hi)))
        .unwrap_or_default()
}

/// The verdict sentence for A against B (labels `a`, `b`), from the pair's outcome: it
/// states the Bonferroni-adjusted interval the outcome is read from.
pub(crate) fn verdict(a: &str, b: &str, pair: &PairStats) -> String {
    let Some(t) = pair.deciding() else {
        return format!("{a} vs {b}: too few runs for a test ({} points)", pts(pair.diff));
    };
    let m = pair.comparisons;
    let name = match t.design {
        Design::Paired => "paired",
        Design::Welch => "Welch",
    };
    let p_text = match (m, pair.p_adjusted) {
        (1, _) | (_, None) => format!("{name} {}", p_words(t.p)),
        (_, Some(adj)) => {
            format!("{name} {}, Bonferroni {} ({m} comparisons)", p_words(t.p), p_words(adj))
        }
    };
    match pair.outcome {
        Outcome::Resolved => {
            // The interval is of the winner minus the loser, like the difference stated.
            let (win, lose) = if pair.diff >= 0.0 { (a, b) } else { (b, a) };
            let interval = interval_text(pair.ci_adjusted, pair.diff < 0.0);
            format!("{win} beats {lose} by {} points{interval}, {p_text}", pts(pair.diff.abs()))
        }
        Outcome::WithinNoise => {
            let tost = match &pair.equivalence {
                Some(crate::inference::equivalence::Equivalence::Tested(t)) => {
                    format!("equivalence {}", p_words(t.p))
                }
                _ => "Welch interval".to_string(),
            };
            format!(
                "{a} vs {b}: within seed noise ({} points{}: inside ±{} points by an \
                 equivalence test{}; {tost}, {p_text})",
                pts(pair.diff),
                interval_text(pair.ci_adjusted, false),
                format!("{:.2}", pair.margin),
                correction_text(m),
            )
        }
        Outcome::Unresolved if pair.no_spread => format!(
            "{a} vs {b}: not resolved (n = {}, no spread: {} points every time)",
            t.n_a.min(t.n_b),
            pts(pair.diff)
        ),
        Outcome::Unresolved | Outcome::Untested => {
            let needed = match (&pair.seeds_needed, pair.diff == 0.0) {
                (_, true) => String::new(),
                (Some(n), false) => format!(
                    "; to tell {} points apart at 80% power needs {}",
                    pts2(pair.diff.abs()),
                    needed_text(n)
                ),
                (None, false) => String::new(),
            };
            format!(
                "{a} vs {b}: not resolved with {}{} ({} points{}, {p_text}){needed}",
                seeds_text(t),
                correction_text(m),
                pts(pair.diff),
                interval_text(pair.ci_adjusted, false),
            )
        }
    }
}

/// The class names of the experiment's data set, if all its levels share one: the data
/// set's own, or for an image folder the class folders' names its records carry
/// (`Provenance::class_names`; none before a run is complete, or when the levels are on

/// every pair is within seed noise.
pub(crate) fn factor_headline(exp: &cnnvar_core::study::Experiment, pairs: &[PairStats]) -> String {
    let largest = |outcome: Outcome| {
        pairs
            .iter()
            .filter(|p| p.outcome == outcome)
            .max_by(|x, y| x.diff.abs().total_cmp(&y.diff.abs()))
    };
    if let Some(best) = largest(Outcome::Resolved) {
        return best.verdict.clone();
    }
    let within = pairs.iter().filter(|p| p.outcome == Outcome::WithinNoise).count();
    let n = pairs.len();
    let pairs_text = if n == 1 { "the pair".to_string() } else { format!("{n} pairs") };
    if let Some(open) = largest(Outcome::Unresolved) {
        let t = open.deciding().expect("an unresolved pair has a test");
        let needed = match (&open.seeds_needed, open.diff == 0.0) {
            (Some(s), false) => format!(", would need {} at 80% power", needed_text(s)),
            _ => String::new(),
        };
        return format!(
            "no difference between levels is resolved with {}{}: the largest, {} vs {} ({} \
             points){needed}; {within} of {pairs_text} within seed noise",
            seeds_text(t),
            correction_text(open.comparisons),
            exp.factor_label(&open.a),
            exp.factor_label(&open.b),
            pts(open.diff),
        );
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

/// The trend of scored accuracy over the levels of an ordered factor, per doubling of
/// the level (log scale) or per unit of it (linear); `None` when it cannot be fitted.

/// A variance-sources experiment's verdict: `init: sd 1.2 points; order: …`.
pub(crate) fn sources_headline(sources: &[SourceStats]) -> String {
    sources
        .iter()
        .filter_map(|s| s.sd.map(|sd| format!("{}: sd {} points", s.source, pts(sd))))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `10000` as `10 000`.
pub(crate) fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}
