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
pub const COMPARISON_METHOD: &str = "Each comparison is decided by one t-test on the runs \
    that did not diverge: the paired t-test over replicates when the study pairs seeds \
    (replicate r shares its seeds across levels, the default), else Welch's t-test; both \
    p-values are shown. Its interval and p are Bonferroni-adjusted over the experiment's m \
    comparisons (every pair of levels, or, for an ordered numeric factor, neighbouring \
    levels only, m = levels − 1), so the interval excludes 0 exactly when the adjusted p is \
    below 0.05. Three words, each with its own test: \"resolved\" (A beats B) when the \
    adjusted test rejects; \"within seed noise\" only when an equivalence test (two \
    one-sided tests at the adjusted level: the (1 − 2α/m) interval inside ± the study's \
    margin) shows the difference smaller than the margin; \"not resolved\" otherwise, \
    with the seeds a test at 80% power would need. Fewer than 3 paired differences that \
    do not vary at all are no evidence either way (not resolved, no spread). Ordered \
    numeric factors also get a least-squares trend of accuracy over all runs (log scale \
    for train_size, lr, batch_size and width; linear otherwise).";

/// How each factor is tested and measured, in words, for the report.
pub const FACTOR_METHOD: &str = "Each factor is tested as its study was run: with paired \
    seeds, replicates are blocks, and the test is the randomized complete block ANOVA on \
    the replicates whose runs all did not diverge, with Friedman's test as its rank check; \
    without pairing, the one-way ANOVA with Kruskal–Wallis. The factors' p-values are \
    Holm-adjusted over the study (a factor is called distinguishable when its adjusted p is \
    below 0.05, so that a study of factors without effect calls any at most 5% of the \
    time). The effect is the standard deviation of the levels' true mean accuracies, \
    corrected for seed noise (√max(0, (MS_level − MS_error)/b)), which unlike the \
    best-minus-worst range does not grow with the number of levels when there is no \
    effect; its 95% interval comes from the noncentral F. \"× seed noise\" divides it by \
    the sd between the seeds of one level, pooled over the experiment's levels, diverged \
    runs out (the spread one run per arm has to beat; the tests use the smaller residual \
    after the seed blocks, which is why a factor below one seed noise can be resolved). Best \
    against worst is shown with an interval valid over every pair of levels (paired t \
    intervals, Bonferroni over all pairs), so it holds for the pair the data picked. \
    Divergence is its own outcome: each level's rate, compared across levels by the \
    Freeman–Halton exact test. A claim is tested part by part as the study file states \
    it (a best level, a trend, a peak inside the range, one level beating another, \
    equivalence within the margin, one factor moving accuracy less than another), each \
    part at 5%, on its outcome (test accuracy, the train–test gap, the rare classes' \
    accuracy, the divergence rate); the claim is Supported when every part is, \
    Contradicted when any part is, and Not resolved otherwise.";

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
    runs; where two classes or more tie for the most votes it takes the lowest class (by \
    label: a fixed, arbitrary rule), and the number of such tied examples is given per \
    level (a two-way split is common with an even number of runs). sds combine in \
    quadrature: observed² ≈ floor² + excess².";

/// The divergence rule of [`cnnvar_core::RunRecord::divergence`] in words, for the
/// report.
pub const DIVERGENCE_RULE: &str = "A run counts as diverged (it blew up) when a loss \
    became NaN or infinite, when its training loss exploded (the last epoch's more than \
    twice the first's), or when its final test accuracy is at chance (not above it by 2 \
    points) and it is not still learning: its training loss did not fall in each of its \
    last 3 epochs, it had been 10 points above chance and collapsed, or its training loss \
    blew up on the way (an epoch's above twice a uniform guess's, ln of the class count). \
    A run at chance whose loss is still falling, or that ran one epoch without blowing up, \
    has not learned yet (too small a learning rate, too few \
    epochs): it is not diverged, and its accuracy counts as it is. Diverged runs are out \
    of every accuracy statistic; each level's divergence rate is its own outcome, \
    compared across levels by an exact test";

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
                "{a} vs {b}: within seed noise ({} points{}: inside ±{:.2} points by an \
                 equivalence test{}; {tost}, {p_text})",
                pts(pair.diff),
                interval_text(pair.ci_adjusted, false),
                pair.margin,
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

/// A factor experiment's verdict: that of its largest resolved difference; else, when
/// some difference is not resolved, what the largest of those would need; else that
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
