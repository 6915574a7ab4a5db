//! The pair verdicts and the experiments' headlines in words: they are stored with the
//! statistics (`PairStats::verdict`, `ExperimentStats::headline`). The methods in words
//! and the factor and claim sentences are the report's (`cnnvar-report`).

#![allow(unused_imports)]
use std::collections::HashMap;

use cnnvar_core::study::{Experiment, ExperimentKind, Level, PlannedRun};
use cnnvar_core::{Predictions, RunRecord};
use serde::Serialize;

use crate::noise::NoiseSummary;
use crate::power::{Design, PowerTarget, Scale, SeedsNeeded, TTest, Trend};
use crate::stats::{Comparison, Summary, compare, sd_interval, summarize};
use crate::*;

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
