//! The verdicts in words: one plain sentence per factor, one per claim and claim part,
//! and the number formats the sentences share (the pairs' verdicts and the experiments'
//! headlines are [`crate::verdicts`]'). The statistics (`cnnvar-analysis`) return numbers
//! and outcomes; the English is here.

use cnnvar_analysis::claims::{ClaimResult, PartResult, Verdict};
use cnnvar_analysis::power::{SeedsNeeded, TTest};
use cnnvar_analysis::rank::{DivergedLevel, FactorEffect, Ranking, SequentialOutcome};
use cnnvar_core::study::{ClaimOutcome, ClaimShape, TrendDirection};

use crate::reasons::{reason_words, test_words};

/// `p < 0.001`, `p = 0.042`.
pub fn p_text(p: f64) -> String {
    if p < 0.001 { "p < 0.001".into() } else { format!("p = {p:.3}") }
}

/// `0.912` as `91.2` (accuracy as a fraction, in points with one decimal).
pub fn pts(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

/// `0.004` as `0.40` (points, two decimals: for sds and small differences).
pub fn pts2(x: f64) -> String {
    format!("{:.2}", 100.0 * x)
}

/// `10000` as `10 000`.
pub fn grouped(n: usize) -> String {
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

/// `3 seeds per level`, or `3 and 5 seeds` when the levels differ.
pub fn seeds_text(t: &TTest) -> String {
    if t.n_a == t.n_b {
        format!("{} seeds per level", t.n_a)
    } else {
        format!("{} and {} seeds", t.n_a, t.n_b)
    }
}

/// ` after correcting for 36 comparisons`, or nothing for one comparison.
pub fn correction_text(m: usize) -> String {
    if m > 1 { format!(" after correcting for {m} comparisons") } else { String::new() }
}

/// `about 14 seeds per level`, `more than 10000 seeds per level`.
pub fn needed_text(n: &SeedsNeeded) -> String {
    match n {
        SeedsNeeded::Exactly(n) => format!("about {n} seeds per level"),
        SeedsNeeded::MoreThan(n) => format!("more than {n} seeds per level"),
    }
}

/// ` [lo, hi]` of `ci` (fractions) in points with one decimal, flipped to B − A when
/// `flip`; nothing without an interval.
pub fn interval_text(ci: Option<(f64, f64)>, flip: bool) -> String {
    ci.map(|(lo, hi)| if flip { (-hi, -lo) } else { (lo, hi) })
        .map(|(lo, hi)| format!(" [{}, {}]", pts(lo), pts(hi)))
        .unwrap_or_default()
}

/// ` [lo, hi]` (one decimal), or nothing.
fn interval(ci: Option<(f64, f64)>) -> String {
    ci.map(|(lo, hi)| format!(" [{lo:.1}, {hi:.1}]")).unwrap_or_default()
}

/// How a factor moves accuracy, in one plain sentence (numbers in points). An adaptive
/// experiment's fixed-sample intervals are not valid after its data-dependent stopping:
/// its sentence gives the estimates alone and its decisions' verdict.
pub fn factor_sentence(f: &FactorEffect) -> String {
    if f.sequential.is_some() {
        return sequential_sentence(f);
    }
    let spread = match (f.effect_sd, f.noise_ratio) {
        (Some(sd), Some(r)) => format!(
            "its levels' true means spread by {sd:.2} points{} ({r:.1}× seed noise{})",
            interval(f.effect_ci),
            f.noise_ratio_ci.map(|(lo, hi)| format!(" [{lo:.1}, {hi:.1}]")).unwrap_or_default()
        ),
        _ => "its spread cannot be estimated".into(),
    };
    let best = match f.best_minus_worst {
        Some(d) if !f.best.is_empty() => format!(
            "; best {} against worst {}: {d:.1} points{} (valid over every pair)",
            f.best,
            f.worst,
            interval(f.best_worst_ci)
        ),
        _ => String::new(),
    };
    let verdict = match &f.sequential {
        Some(s) => sequential_words(s.outcome, s.delta, s.seeds),
        None => match (f.p_holm.or(f.p), f.distinguishable) {
            (Some(p), true) => format!(
                "the levels differ ({}, {p_text_holm})",
                test_name(f),
                p_text_holm = holm(p)
            ),
            (Some(p), false) => {
                format!("not distinguishable from seed noise ({}, {})", test_name(f), holm(p))
            }
            (None, _) => "too few runs to test".into(),
        },
    };
    let diverged = if f.diverged.is_empty() {
        String::new()
    } else {
        let p = f
            .divergence_p
            .map(|p| format!(", exact test of equal rates {}", p_text(p)))
            .unwrap_or_default();
        format!(" Divergence, counted apart from accuracy: {}{p}.", divergence_text(&f.diverged))
    };
    format!("{}: {verdict}; {spread}{best}.{diverged}", f.title)
}

/// `10 diverged in 5 of 5 seeds, 1 diverged in 2 of 5 seeds`; empty when none did.
pub fn divergence_text(levels: &[DivergedLevel]) -> String {
    levels
        .iter()
        .map(|l| format!("{} diverged in {} of {} seeds", l.level, l.diverged, l.runs))
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`factor_sentence`] of a factor decided by adaptive seeding.
fn sequential_sentence(f: &FactorEffect) -> String {
    let verdict = f
        .sequential
        .as_ref()
        .map_or(String::new(), |s| sequential_words(s.outcome, s.delta, s.seeds));
    let estimates = match (f.effect_sd, f.best_minus_worst) {
        (Some(sd), Some(d)) => format!(
            "; estimates (intervals after adaptive stopping are the decisions' repeated ones): \
             level means spread by {sd:.2} points, best {} against worst {}: {d:.1} points",
            f.best, f.worst
        ),
        _ => String::new(),
    };
    format!("{}: {verdict}{estimates}.", f.title)
}

fn holm(p: f64) -> String {
    format!("{} after Holm over the study's factors", p_text(p))
}

fn test_name(f: &FactorEffect) -> &'static str {
    match f.design {
        Some(cnnvar_analysis::factor::FactorDesign::Blocked) => "block ANOVA over paired seeds",
        Some(cnnvar_analysis::factor::FactorDesign::Independent) => "one-way ANOVA",
        None => "no test",
    }
}

/// What adaptive seeding decided of a factor, in words.
pub fn sequential_words(outcome: SequentialOutcome, delta: f64, seeds: usize) -> String {
    match outcome {
        SequentialOutcome::Different => "decided different by adaptive seeding".into(),
        SequentialOutcome::Equivalent => {
            format!("no effect beyond ±{delta} points (adaptive seeding)")
        }
        SequentialOutcome::Undecided => {
            format!("not resolved at {seeds} seeds, the most the study allows")
        }
        SequentialOutcome::Open => format!("still open at {seeds} seeds"),
    }
}

/// The ranking as lines for the terminal: `1. Training-set size: …`, then the seed
/// noise.
pub fn ranking_lines(ranking: &Ranking) -> Vec<String> {
    let mut lines: Vec<String> = ranking
        .factors
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let claim = f
                .claim
                .as_ref()
                .map(|c| format!(" Claim: {}.", verdict_words(c.verdict)))
                .unwrap_or_default();
            format!("{}. {}{claim}", i + 1, factor_sentence(f))
        })
        .collect();
    if let Some(line) = noise_line(ranking) {
        lines.push(line);
    }
    lines
}

/// The study's seed noise in one line.
pub fn noise_line(ranking: &Ranking) -> Option<String> {
    let sd = ranking.noise_sd?;
    let split = match (ranking.floor_sd, ranking.excess_sd) {
        (Some(f), Some(e)) => {
            format!("; of it, the test set alone {f:.2} points and training {e:.2} (in quadrature)")
        }
        _ => String::new(),
    };
    Some(format!(
        "Seed noise: {sd:.2} points (the sd between the seeds of one level, diverged runs out, median over the factor experiments){split}."
    ))
}

/// What a claim part says, in words: its own words when the study gives them, else its
/// shape.
pub fn part_says(p: &PartResult) -> String {
    if let Some(s) = &p.check.says {
        return s.clone();
    }
    let of = match p.check.outcome {
        ClaimOutcome::TestAccuracy => String::new(),
        o => format!(" ({})", outcome_words(o)),
    };
    let shape = match &p.check.shape {
        ClaimShape::Differs => "the levels differ".to_string(),
        ClaimShape::Best { level } => format!("{level} is best"),
        ClaimShape::Worst { level } => format!("{level} is worst"),
        ClaimShape::Beats { level, over } => format!("{level} beats {over}"),
        ClaimShape::Trend { direction: TrendDirection::Increasing } => {
            "rises along the factor".into()
        }
        ClaimShape::Trend { direction: TrendDirection::Decreasing } => {
            "falls along the factor".into()
        }
        ClaimShape::Peak => "the best level lies inside the range".into(),
        ClaimShape::Equivalent => "every level within the margin".into(),
        ClaimShape::LessThan { experiment } => format!("moves accuracy less than {experiment}"),
    };
    format!("{shape}{of}")
}

/// An outcome in words.
pub fn outcome_words(o: ClaimOutcome) -> &'static str {
    match o {
        ClaimOutcome::TestAccuracy => "test accuracy",
        ClaimOutcome::Gap => "train − test gap",
        ClaimOutcome::RareClasses => "accuracy on the rare classes",
        ClaimOutcome::Divergence => "divergence rate",
    }
}

/// One claim part: `"too big overfits": Contradicted — the end level 128 beats every
/// level inside the range (0.4 points [0.1, 0.7], paired t, p = 0.02)`.
pub fn part_sentence(p: &PartResult) -> String {
    let test = test_words(&p.test);
    let numbers = match (p.estimate, p.p) {
        (Some(e), Some(pv)) => {
            format!(" ({e:.2} points{}, {test}, {})", interval(p.ci), p_text(pv))
        }
        (Some(e), None) => format!(" ({e:.2} points{}, {test})", interval(p.ci)),
        (None, Some(pv)) => format!(" ({test}, {})", p_text(pv)),
        (None, None) => format!(" ({test})"),
    };
    let why = reason_words(&p.why);
    format!("\"{}\": {} — {why}{numbers}", part_says(p), verdict_words(p.verdict))
}

/// A claim with its verdict: `Supported: "…"`, and its parts when it has several.
pub fn claim_sentence(c: &ClaimResult) -> String {
    let parts: Vec<String> = c.parts.iter().map(part_sentence).collect();
    let verdict = match (c.verdict, c.parts.len()) {
        (Verdict::Contradicted, n) if n > 1 => {
            let k = c.parts.iter().filter(|p| p.verdict == Verdict::Contradicted).count();
            format!("Contradicted ({k} of {n} parts)")
        }
        (v, _) => verdict_words(v).to_string(),
    };
    format!("{verdict}: \"{}\" — {}", claim_text(c), parts.join("; "))
}

/// `Supported`, `Contradicted`, `Not resolved`.
pub fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Supported => "Supported",
        Verdict::Contradicted => "Contradicted",
        Verdict::NotResolved => "Not resolved",
    }
}

/// The claim in the study's words, or, where it states none, that the experiment's
/// factor changes test accuracy (what its default checks test).
pub fn claim_text(c: &ClaimResult) -> String {
    c.claim.clone().unwrap_or_else(|| format!("{} changes test accuracy", c.title))
}
