//! Claims tested as stated: each part of an experiment's claim (a shape on an outcome,
//! `cnnvar_core::study::ClaimCheck`) gets Supported, Contradicted or Not resolved from
//! a test that matches the shape and the design (paired seeds: paired tests over the
//! replicates both levels have), and the claim's verdict combines its parts: Supported
//! when every part is, Contradicted when any part is, else Not resolved. Each part is a
//! hypothesis stated before the data, tested at 5%; a part that needs several tests
//! (a best level beats every other) needs each of them (an intersection–union test,
//! which needs no correction), and a part that is refuted by any one of several tests
//! (some other level beats the named best) corrects for them (Bonferroni).

use serde::Serialize;

use cnnvar_core::study::{ClaimCheck, ClaimOutcome, ClaimShape, Experiment, TrendDirection};

use crate::factor::{FactorTest, blocked_table};
use crate::inference::equivalence::tost_paired;
use crate::inference::exact::{fisher_exact, freeman_halton};
use crate::inference::rcbd::block_anova;
use crate::inference::trend::{Direction, slope_trend};
use crate::power::{self, TTest};
use crate::{ALPHA, ExperimentStats, LevelStats, RunOutcome};

/// What a claim part's test says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The test supports the part.
    Supported,
    /// The data contradict it.
    Contradicted,
    /// Neither, at these seeds.
    NotResolved,
}

impl Verdict {
    /// The claim's verdict from its parts'.
    pub fn combine(parts: impl IntoIterator<Item = Verdict>) -> Verdict {
        let parts: Vec<Verdict> = parts.into_iter().collect();
        if parts.is_empty() {
            Verdict::NotResolved
        } else if parts.contains(&Verdict::Contradicted) {
            Verdict::Contradicted
        } else if parts.iter().all(|&v| v == Verdict::Supported) {
            Verdict::Supported
        } else {
            Verdict::NotResolved
        }
    }
}

/// The test a claim part was decided by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartTest {
    /// None: too few runs.
    None,
    /// A paired t-test.
    PairedT,
    /// Welch's t-test.
    WelchT,
    /// Paired t-tests of a level against each of `m` others, each at 5%.
    PairedTEach {
        /// The others.
        m: usize,
    },
    /// Paired t-tests of a level against the others, Bonferroni over them.
    PairedTBonferroni,
    /// Paired t-tests of an interior level against both ends.
    InteriorAgainstEnds,
    /// Paired t-tests of an end level against every interior level.
    EndAgainstInterior,
    /// Paired per-seed slopes on the level, or on its logarithm (`log`).
    PerSeedSlopes {
        /// Whether on the log of the level.
        log: bool,
    },
    /// TOST of every pair, Bonferroni over the pairs.
    TostBonferroni,
    /// TOST.
    Tost,
    /// The block ANOVA.
    BlockAnova,
    /// The block ANOVA, its p Holm-adjusted over the study's factors.
    BlockAnovaHolm,
    /// The Freeman–Halton exact test of equal divergence rates.
    FreemanHalton,
    /// Fisher's exact test of two divergence rates.
    FisherExact,
    /// The difference of two experiments' between-level sds, bootstrapped over seeds.
    SpreadBootstrap {
        /// Bootstrap resamples.
        resamples: usize,
    },
}

/// How a claim part's trend was measured: per doubling of a geometric level, or over
/// the range of the levels.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendStep {
    /// Per doubling of the level (log scale).
    PerDoubling,
    /// Across the range of the levels, from `lo` to `hi`.
    AcrossRange {
        /// The lowest level.
        lo: f64,
        /// The highest.
        hi: f64,
    },
}

/// What decided a claim part.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Too few runs with the outcome to test.
    TooFewRuns,
    /// `other` is better than `level` (worse, when the part names the `worst`).
    Outdone {
        /// The level named.
        level: String,
        /// The level that beats it.
        other: String,
        /// Whether the part names the worst level.
        worst: bool,
    },
    /// `level` is best (worst) and differs from each of the `others`, `closest` the
    /// nearest.
    Extreme {
        /// The level named.
        level: String,
        /// Whether worst.
        worst: bool,
        /// The other levels.
        others: usize,
        /// The closest of them.
        closest: String,
    },
    /// `level` is not resolved from `other`.
    NotResolvedFrom {
        /// The level named.
        level: String,
        /// The closest other level.
        other: String,
    },
    /// `winner` beats `loser`.
    Beats {
        /// The better level.
        winner: String,
        /// The worse.
        loser: String,
    },
    /// `level` and `over` are equivalent within ±`margin` points.
    EquivalentPair {
        /// The level named.
        level: String,
        /// The level it should beat.
        over: String,
        /// The margin, points.
        margin: f64,
    },
    /// `level` against `over` is not resolved.
    PairNotResolved {
        /// The level named.
        level: String,
        /// The level it should beat.
        over: String,
    },
    /// The outcome moves the stated way.
    TrendAsStated(TrendStep),
    /// The outcome moves the other way.
    TrendReversed(TrendStep),
    /// The trend is not resolved.
    TrendNotResolved(TrendStep),
    /// Not monotone: the neighbour `to` is resolved the other way from `from`.
    NotMonotone {
        /// The lower level.
        from: String,
        /// The higher.
        to: String,
    },
    /// An interior level beats both ends.
    BeatsBothEnds {
        /// The interior level.
        level: String,
    },
    /// An end level beats every level inside the range.
    EndBeatsInterior {
        /// The end level.
        level: String,
    },
    /// No interior level beats both ends, and no end beats every interior level.
    NoPeak,
    /// Every pair is within ±`margin` points.
    AllEquivalent {
        /// The margin, points.
        margin: f64,
    },
    /// Every pair is within ±`margin` points, the factor test not resolving them (`p`).
    AllEquivalentFactor {
        /// The margin, points.
        margin: f64,
        /// The factor test's p.
        p: f64,
    },
    /// Not shown within ±`margin` points.
    NotShownEquivalent {
        /// The margin, points.
        margin: f64,
    },
    /// The levels differ.
    LevelsDiffer,
    /// The levels are not resolved apart.
    LevelsNotResolved,
    /// Divergence rates across the levels (the exact test's p decides).
    DivergenceRates,
    /// `other` diverges less often than `level` (more often, when the part names the
    /// `worst`).
    DivergesLess {
        /// The level named.
        level: String,
        /// The level that diverges less (more).
        other: String,
        /// Whether the part names the worst level.
        worst: bool,
    },
    /// `level`'s divergence rate differs from each other level's.
    DivergenceDiffers {
        /// The level named.
        level: String,
    },
    /// Divergence rates not resolved apart.
    DivergenceNotResolved,
    /// Experiment `this` moves accuracy less than `other`.
    SpreadLess {
        /// This experiment.
        this: String,
        /// The other.
        other: String,
    },
    /// Experiment `this` moves accuracy more than `other`.
    SpreadMore {
        /// This experiment.
        this: String,
        /// The other.
        other: String,
    },
    /// The spreads of `this` and `other` are not resolved apart.
    SpreadNotResolved {
        /// This experiment.
        this: String,
        /// The other.
        other: String,
    },
    /// Too few seeds to compare the spreads.
    TooFewSeedsForSpreads,
}

/// One part of a claim, tested.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartResult {
    /// The part as the study file states it.
    pub check: ClaimCheck,
    /// What its test says.
    pub verdict: Verdict,
    /// The test.
    pub test: PartTest,
    /// The estimate the verdict rests on, in the outcome's points (a difference, a
    /// slope per step, a difference of between-level sds), oriented so that positive
    /// means the part holds.
    pub estimate: Option<f64>,
    /// Its 95% interval, oriented alike.
    pub ci: Option<(f64, f64)>,
    /// The deciding p-value.
    pub p: Option<f64>,
    /// What decided (the report shows it beside the numbers).
    pub why: Reason,
}

/// An experiment's claim, tested part by part.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClaimResult {
    /// The experiment.
    pub experiment: String,
    /// Its title.
    pub title: String,
    /// The claim in the write-up's words (or the study file's); `None` when the study
    /// states none, and the experiment's default checks are tested.
    pub claim: Option<String>,
    /// Its parts.
    pub parts: Vec<PartResult>,
    /// The parts' verdicts combined.
    pub verdict: Verdict,
}

/// The values of `outcome` of a level's runs, as (replicate, value in points), oriented
/// so that a higher value is better; `rare` are the classes rare-class accuracy is over.
fn values(level: &LevelStats, outcome: ClaimOutcome, rare: &[usize]) -> Vec<(usize, f64)> {
    let sign = if outcome.higher_is_better() { 1.0 } else { -1.0 };
    let value = |o: &RunOutcome| -> Option<f64> {
        match outcome {
            ClaimOutcome::Divergence => Some(if o.diverged { 1.0 } else { 0.0 }),
            _ if o.diverged => None,
            ClaimOutcome::TestAccuracy => Some(100.0 * o.test_accuracy),
            ClaimOutcome::Gap => Some(100.0 * o.gap),
            ClaimOutcome::RareClasses => {
                let acc: Vec<f64> =
                    rare.iter().filter_map(|&c| o.per_class.get(c).copied()).collect();
                (!acc.is_empty()).then(|| 100.0 * acc.iter().sum::<f64>() / acc.len() as f64)
            }
        }
    };
    level
        .outcomes
        .iter()
        .filter_map(|o| value(o).filter(|v| v.is_finite()).map(|v| (o.replicate, sign * v)))
        .collect()
}

/// The classes rare-class accuracy is measured on: those any level made rare.
fn rare_classes(exp: &ExperimentStats) -> Vec<usize> {
    let mut rare: Vec<usize> = exp
        .levels
        .iter()
        .flat_map(|l| l.outcomes.iter().flat_map(|o| o.minority.clone()))
        .collect();
    rare.sort_unstable();
    rare.dedup();
    rare
}

/// The outcome tables of an experiment's levels.
struct Data<'a> {
    exp: &'a ExperimentStats,
    values: Vec<Vec<(usize, f64)>>,
    paired: bool,
    margin: f64,
}

impl Data<'_> {
    fn index(&self, label: &str) -> Option<usize> {
        self.exp.levels.iter().position(|l| l.label == label)
    }

    /// Level `a` minus level `b` (oriented): paired over shared replicates, else Welch.
    fn test(&self, a: usize, b: usize) -> Option<TTest> {
        let (x, y) = (&self.values[a], &self.values[b]);
        if self.paired {
            let (xs, ys): (Vec<f64>, Vec<f64>) = x
                .iter()
                .filter_map(|(r, v)| y.iter().find(|(s, _)| s == r).map(|(_, w)| (*v, *w)))
                .unzip();
            let t = power::paired(&xs, &ys).ok()?;
            (t.se > 0.0 || xs.len() >= 3).then_some(t)
        } else {
            let xs: Vec<f64> = x.iter().map(|v| v.1).collect();
            let ys: Vec<f64> = y.iter().map(|v| v.1).collect();
            power::welch(&xs, &ys).ok()
        }
    }

    /// Whether `a` and `b` are equivalent within the margin (paired TOST at 5%, or the
    /// Welch 90% interval inside ±margin).
    fn equivalent(&self, a: usize, b: usize, comparisons: usize) -> bool {
        let (x, y) = (&self.values[a], &self.values[b]);
        if self.paired {
            let (xs, ys): (Vec<f64>, Vec<f64>) = x
                .iter()
                .filter_map(|(r, v)| y.iter().find(|(s, _)| s == r).map(|(_, w)| (*v, *w)))
                .unzip();
            tost_paired(&xs, &ys, self.margin, ALPHA, comparisons)
                .is_some_and(|e| e.is_equivalent())
        } else {
            self.test(a, b).is_some_and(|t| {
                let (lo, hi) = t.ci_adjusted(2.0 * ALPHA, comparisons);
                t.se > 0.0 && -self.margin < lo && hi < self.margin
            })
        }
    }

    /// Levels with values, in level order.
    fn with_values(&self) -> Vec<usize> {
        (0..self.values.len()).filter(|&i| !self.values[i].is_empty()).collect()
    }
}

fn part(check: &ClaimCheck, verdict: Verdict, test: PartTest, why: Reason) -> PartResult {
    PartResult { check: check.clone(), verdict, test, estimate: None, ci: None, p: None, why }
}

fn with_numbers(mut p: PartResult, t: &TTest, m: usize) -> PartResult {
    p.estimate = Some(t.diff);
    p.ci = Some(t.ci_adjusted(ALPHA, m));
    p.p = Some(t.p_bonferroni(m));
    p
}

fn not_enough(check: &ClaimCheck) -> PartResult {
    part(check, Verdict::NotResolved, PartTest::None, Reason::TooFewRuns)
}

/// `level` against every other level: better than all (each test at 5%), or worse
/// than some (Bonferroni over the others).
fn best(d: &Data<'_>, check: &ClaimCheck, level: &str, sign: f64) -> PartResult {
    let Some(l) = d.index(level) else { return not_enough(check) };
    let others: Vec<usize> = d.with_values().into_iter().filter(|&i| i != l).collect();
    let tests: Vec<(usize, TTest)> =
        others.iter().filter_map(|&i| Some((i, d.test(l, i)?))).collect();
    if tests.len() != others.len() || tests.is_empty() {
        return not_enough(check);
    }
    let oriented = |t: &TTest| sign * t.diff;
    let m = tests.len();
    let beaten_by = tests.iter().find(|(_, t)| oriented(t) < 0.0 && t.p_bonferroni(m) < ALPHA);
    let closest = tests.iter().min_by(|a, b| oriented(&a.1).total_cmp(&oriented(&b.1)));
    let (level, worst) = (level.to_string(), sign < 0.0);
    if let Some((i, t)) = beaten_by {
        let other = d.exp.levels[*i].label.clone();
        let why = Reason::Outdone { level, other, worst };
        let contradicted = part(check, Verdict::Contradicted, PartTest::PairedTBonferroni, why);
        return signed(with_numbers(contradicted, t, m), sign);
    }
    let (i, t) = closest.expect("tests is not empty");
    let all = tests.iter().all(|(_, t)| oriented(t) > 0.0 && t.p < ALPHA);
    let other = d.exp.levels[*i].label.clone();
    let (verdict, why) = if all {
        (Verdict::Supported, Reason::Extreme { level, worst, others: m, closest: other })
    } else {
        (Verdict::NotResolved, Reason::NotResolvedFrom { level, other })
    };
    let test = if m == 1 { PartTest::PairedT } else { PartTest::PairedTEach { m } };
    signed(with_numbers(part(check, verdict, test, why), t, 1), sign)
}

/// Orients a part's estimate by `sign` (a worst level's difference is negative).
fn signed(mut p: PartResult, sign: f64) -> PartResult {
    if sign < 0.0 {
        p.estimate = p.estimate.map(|e| -e);
        p.ci = p.ci.map(|(lo, hi)| (-hi, -lo));
    }
    p
}

fn beats(d: &Data<'_>, check: &ClaimCheck, level: &str, over: &str) -> PartResult {
    let (Some(a), Some(b)) = (d.index(level), d.index(over)) else { return not_enough(check) };
    let Some(t) = d.test(a, b) else { return not_enough(check) };
    let test = if d.paired { PartTest::PairedT } else { PartTest::WelchT };
    let (level, over) = (level.to_string(), over.to_string());
    let (verdict, why) = if t.p < ALPHA && t.diff > 0.0 {
        (Verdict::Supported, Reason::Beats { winner: level, loser: over })
    } else if t.p < ALPHA {
        (Verdict::Contradicted, Reason::Beats { winner: over, loser: level })
    } else if d.equivalent(a, b, 1) {
        (Verdict::Contradicted, Reason::EquivalentPair { level, over, margin: d.margin })
    } else {
        (Verdict::NotResolved, Reason::PairNotResolved { level, over })
    };
    with_numbers(part(check, verdict, test, why), &t, 1)
}

/// The factor's level values (ordered numbers), on a log scale when they are all
/// positive and span a factor of at least 4 (geometric levels), and whether they are.
fn positions(exp: &Experiment) -> Option<(Vec<f64>, bool)> {
    let x: Vec<f64> = exp
        .levels
        .iter()
        .map(|l| l.values.values().next().and_then(serde_json::Value::as_f64))
        .collect::<Option<_>>()?;
    let (lo, hi) =
        x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let log = lo > 0.0 && hi / lo >= 4.0;
    Some((if log { x.iter().map(|v| v.ln()).collect() } else { x }, log))
}

fn trend(
    d: &Data<'_>,
    exp: &Experiment,
    check: &ClaimCheck,
    direction: TrendDirection,
) -> PartResult {
    let Some((x, log)) = positions(exp) else { return not_enough(check) };
    let sign = if check.outcome.higher_is_better() { 1.0 } else { -1.0 };
    let levels: Vec<&LevelStats> = d.exp.levels.iter().collect();
    // Raw outcome values (not oriented) per level and block.
    let raw: Vec<LevelStats> = levels
        .iter()
        .zip(&d.values)
        .map(|(l, v)| LevelStats {
            label: l.label.clone(),
            outcomes: l.outcomes.clone(),
            scored_accuracies: v.iter().map(|(_, y)| sign * y / 100.0).collect(),
            scored_replicates: v.iter().map(|(r, _)| *r).collect(),
            ..Default::default()
        })
        .collect();
    let refs: Vec<&LevelStats> = raw.iter().collect();
    let (y, _, _) = blocked_table(&refs);
    let dir = match direction {
        TrendDirection::Increasing => Direction::Increasing,
        TrendDirection::Decreasing => Direction::Decreasing,
    };
    let Some(s) = slope_trend(&x, &y, dir, ALPHA) else { return not_enough(check) };
    let want = if direction == TrendDirection::Increasing { 1.0 } else { -1.0 };
    let (lo_x, hi_x) =
        x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let (step, per) = if log {
        (TrendStep::PerDoubling, std::f64::consts::LN_2)
    } else {
        (TrendStep::AcrossRange { lo: lo_x, hi: hi_x }, hi_x - lo_x)
    };
    let (lo, hi) = (s.ci.0 * want * per, s.ci.1 * want * per);
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    let reversal = neighbour_reversal(d, &x, want * sign);
    let (verdict, why) = if lo > 0.0 && reversal.is_none() {
        (Verdict::Supported, Reason::TrendAsStated(step))
    } else if hi < 0.0 {
        (Verdict::Contradicted, Reason::TrendReversed(step))
    } else if let Some((from, to)) = reversal {
        (Verdict::Contradicted, Reason::NotMonotone { from, to })
    } else {
        (Verdict::NotResolved, Reason::TrendNotResolved(step))
    };
    PartResult {
        check: check.clone(),
        verdict,
        test: PartTest::PerSeedSlopes { log },
        estimate: Some(s.mean * want * per),
        ci: Some((lo, hi)),
        p: Some(s.p_two_sided),
        why,
    }
}

/// A neighbouring pair (in level order along `x`) resolved against the trend's
/// direction (`want` in oriented values), Bonferroni over the neighbours.
fn neighbour_reversal(d: &Data<'_>, x: &[f64], want: f64) -> Option<(String, String)> {
    let mut order: Vec<usize> = d.with_values();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let m = order.len().saturating_sub(1).max(1);
    order.windows(2).find_map(|w| {
        let t = d.test(w[1], w[0])?;
        let against = want * t.diff < 0.0 && t.p_bonferroni(m) < ALPHA;
        against.then(|| (d.exp.levels[w[0]].label.clone(), d.exp.levels[w[1]].label.clone()))
    })
}

/// The best level lies inside the range: some interior level beats both ends (each
/// at 5% Bonferroni over the interior levels); contradicted when an end level beats
/// every interior level (each at 5% Bonferroni over the two ends).
fn peak(d: &Data<'_>, exp: &Experiment, check: &ClaimCheck) -> PartResult {
    let Some((x, _)) = positions(exp) else { return not_enough(check) };
    let mut order = d.with_values();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    if order.len() < 3 {
        return not_enough(check);
    }
    let (first, last) = (order[0], order[order.len() - 1]);
    let interior = &order[1..order.len() - 1];
    let mi = interior.len();
    let beats_ends = interior.iter().find_map(|&i| {
        let (a, b) = (d.test(i, first)?, d.test(i, last)?);
        let ok = a.diff > 0.0
            && b.diff > 0.0
            && a.p_bonferroni(mi) < ALPHA
            && b.p_bonferroni(mi) < ALPHA;
        ok.then_some((i, if a.diff < b.diff { a } else { b }))
    });
    if let Some((i, t)) = beats_ends {
        let why = Reason::BeatsBothEnds { level: d.exp.levels[i].label.clone() };
        let supported = part(check, Verdict::Supported, PartTest::InteriorAgainstEnds, why);
        return with_numbers(supported, &t, mi);
    }
    for end in [first, last] {
        let tests: Option<Vec<TTest>> = interior.iter().map(|&i| d.test(end, i)).collect();
        let Some(tests) = tests else { continue };
        if tests.iter().all(|t| t.diff > 0.0 && t.p_bonferroni(2) < ALPHA) {
            let t = tests.iter().min_by(|a, b| a.diff.total_cmp(&b.diff)).expect("interior levels");
            let why = Reason::EndBeatsInterior { level: d.exp.levels[end].label.clone() };
            let contradicted =
                part(check, Verdict::Contradicted, PartTest::EndAgainstInterior, why);
            let mut p = with_numbers(contradicted, t, 2);
            p.estimate = p.estimate.map(|e| -e);
            p.ci = p.ci.map(|(lo, hi)| (-hi, -lo));
            return p;
        }
    }
    part(check, Verdict::NotResolved, PartTest::PairedT, Reason::NoPeak)
}

fn equivalent(d: &Data<'_>, check: &ClaimCheck, factor: Option<&FactorTest>) -> PartResult {
    let idx = d.with_values();
    let pairs: Vec<(usize, usize)> = idx
        .iter()
        .enumerate()
        .flat_map(|(k, &i)| idx[k + 1..].iter().map(move |&j| (i, j)))
        .collect();
    let m = pairs.len().max(1);
    if pairs.iter().all(|&(a, b)| d.equivalent(a, b, m)) && !pairs.is_empty() {
        let why = Reason::AllEquivalent { margin: d.margin };
        return part(check, Verdict::Supported, PartTest::TostBonferroni, why);
    }
    match factor {
        Some(f) if f.p < ALPHA => {
            let mut p =
                part(check, Verdict::Contradicted, PartTest::BlockAnova, Reason::LevelsDiffer);
            p.p = Some(f.p);
            p
        }
        _ => {
            let why = Reason::NotShownEquivalent { margin: d.margin };
            part(check, Verdict::NotResolved, PartTest::Tost, why)
        }
    }
}

fn differs(d: &Data<'_>, check: &ClaimCheck, factor: Option<&FactorTest>) -> PartResult {
    if check.outcome == ClaimOutcome::Divergence {
        let rows: Vec<[u64; 2]> = d
            .values
            .iter()
            .filter(|v| !v.is_empty())
            .map(|v| {
                let bad = v.iter().filter(|(_, x)| *x < 0.0).count() as u64;
                [bad, v.len() as u64 - bad]
            })
            .collect();
        let p = if rows.iter().all(|r| r[0] == 0) { Some(1.0) } else { freeman_halton(&rows) };
        let Some(p) = p else { return not_enough(check) };
        let verdict = if p < ALPHA { Verdict::Supported } else { Verdict::NotResolved };
        let mut r = part(check, verdict, PartTest::FreemanHalton, Reason::DivergenceRates);
        r.p = Some(p);
        return r;
    }
    let p = match (check.outcome, factor) {
        (ClaimOutcome::TestAccuracy, Some(f)) => {
            Some((f.p_holm.unwrap_or(f.p), PartTest::BlockAnovaHolm))
        }
        _ => {
            let levels: Vec<LevelStats> = d
                .values
                .iter()
                .filter(|v| !v.is_empty())
                .map(|v| LevelStats {
                    scored_accuracies: v.iter().map(|x| x.1 / 100.0).collect(),
                    scored_replicates: v.iter().map(|x| x.0).collect(),
                    outcomes: v
                        .iter()
                        .map(|x| RunOutcome { replicate: x.0, ..Default::default() })
                        .collect(),
                    ..Default::default()
                })
                .collect();
            let refs: Vec<&LevelStats> = levels.iter().collect();
            let (y, _, _) = blocked_table(&refs);
            block_anova(&y).map(|a| (a.p, PartTest::BlockAnova))
        }
    };
    let Some((p, test)) = p else { return not_enough(check) };
    if p >= ALPHA && equivalent(d, check, None).verdict == Verdict::Supported {
        let why = Reason::AllEquivalentFactor { margin: d.margin, p };
        return part(check, Verdict::Contradicted, PartTest::TostBonferroni, why);
    }
    let (verdict, why) = if p < ALPHA {
        (Verdict::Supported, Reason::LevelsDiffer)
    } else {
        (Verdict::NotResolved, Reason::LevelsNotResolved)
    };
    let mut r = part(check, verdict, test, why);
    r.p = Some(p);
    r
}

/// The divergence rate of `level` against each other level (Fisher's exact test).
fn best_divergence(d: &Data<'_>, check: &ClaimCheck, level: &str, sign: f64) -> PartResult {
    let Some(l) = d.index(level) else { return not_enough(check) };
    let count = |i: usize| {
        let v = &d.values[i];
        let bad = v.iter().filter(|(_, x)| *x < 0.0).count() as u64;
        (bad, v.len() as u64 - bad)
    };
    let (lb, lg) = count(l);
    let others: Vec<usize> = d.with_values().into_iter().filter(|&i| i != l).collect();
    let m = others.len().max(1);
    let mut all = true;
    for &i in &others {
        let (ob, og) = count(i);
        let p = fisher_exact([[lb, lg], [ob, og]]).unwrap_or(1.0);
        let l_rate = lb as f64 / (lb + lg).max(1) as f64;
        let o_rate = ob as f64 / (ob + og).max(1) as f64;
        let better = sign * (o_rate - l_rate) > 0.0;
        if !better && p * (m as f64) < ALPHA && l_rate != o_rate {
            let why = Reason::DivergesLess {
                level: level.into(),
                other: d.exp.levels[i].label.clone(),
                worst: sign < 0.0,
            };
            return part(check, Verdict::Contradicted, PartTest::FisherExact, why);
        }
        all &= better && p < ALPHA;
    }
    if all && !others.is_empty() {
        let why = Reason::DivergenceDiffers { level: level.into() };
        part(check, Verdict::Supported, PartTest::FisherExact, why)
    } else {
        part(check, Verdict::NotResolved, PartTest::FisherExact, Reason::DivergenceNotResolved)
    }
}

/// Tests `exp`'s claim, part by part; `others` are the study's experiments (for
/// `less-than`), `margin` its equivalence margin.
pub fn test_claim(
    exp: &ExperimentStats,
    planned: &Experiment,
    others: &[ExperimentStats],
    margin: f64,
) -> Option<ClaimResult> {
    let checks = planned.claim_checks();
    if checks.is_empty() {
        return None;
    }
    let rare = rare_classes(exp);
    let parts = checks
        .iter()
        .map(|check| {
            let d = Data {
                exp,
                values: exp.levels.iter().map(|l| values(l, check.outcome, &rare)).collect(),
                paired: exp.paired_seeds,
                margin,
            };
            test_part(&d, planned, check, others)
        })
        .collect::<Vec<_>>();
    let verdict = Verdict::combine(parts.iter().map(|p| p.verdict));
    Some(ClaimResult {
        experiment: exp.name.clone(),
        title: exp.title.clone(),
        claim: exp.claim.clone(),
        parts,
        verdict,
    })
}

fn test_part(
    d: &Data<'_>,
    planned: &Experiment,
    check: &ClaimCheck,
    others: &[ExperimentStats],
) -> PartResult {
    let factor = d.exp.factor.as_ref();
    let divergence = check.outcome == ClaimOutcome::Divergence;
    match &check.shape {
        ClaimShape::Differs => differs(d, check, factor),
        ClaimShape::Best { level } if divergence => best_divergence(d, check, level, 1.0),
        ClaimShape::Worst { level } if divergence => best_divergence(d, check, level, -1.0),
        ClaimShape::Best { level } => best(d, check, level, 1.0),
        ClaimShape::Worst { level } => best(d, check, level, -1.0),
        ClaimShape::Beats { level, over } => beats(d, check, level, over),
        ClaimShape::Trend { direction } => trend(d, planned, check, *direction),
        ClaimShape::Peak => peak(d, planned, check),
        ClaimShape::Equivalent => equivalent(d, check, factor),
        ClaimShape::LessThan { experiment } => {
            match others.iter().find(|e| &e.name == experiment) {
                Some(other) => crate::claims_spread::less_than(d.exp, other, check),
                None => not_enough(check),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cnnvar_core::study::{ExperimentKind, Level, parse};

    /// An experiment on `lr` with `levels` (label, accuracy per replicate; `None` a
    /// diverged run), paired seeds, planned as a study file would plan it.
    fn experiment(
        levels: &[(&str, &[Option<f64>])],
        checks: &str,
    ) -> (ExperimentStats, Experiment) {
        let values: Vec<&str> = levels.iter().map(|l| l.0).collect();
        let text = format!(
            "seeds = 5\n[[experiment]]\nname = \"e\"\nvary = {{ lr = [{}] }}\nchecks = [{checks}]\n",
            values.join(", ")
        );
        let study = parse(&text, std::path::Path::new("s.toml")).expect("parses");
        let planned = study.experiments[0].clone();
        let stats_levels: Vec<LevelStats> = levels
            .iter()
            .map(|(label, acc)| {
                let outcomes: Vec<RunOutcome> = acc
                    .iter()
                    .enumerate()
                    .map(|(r, a)| RunOutcome {
                        replicate: r,
                        diverged: a.is_none(),
                        test_accuracy: a.unwrap_or(0.1),
                        gap: 0.1 - a.unwrap_or(0.0) / 10.0,
                        per_class: vec![a.unwrap_or(0.1); 10],
                        ..Default::default()
                    })
                    .collect();
                let ok: Vec<(usize, f64)> =
                    acc.iter().enumerate().filter_map(|(r, a)| a.map(|a| (r, a))).collect();
                LevelStats {
                    label: planned
                        .levels
                        .iter()
                        .find(|l: &&Level| l.label == *label)
                        .map_or(label.to_string(), |l| l.label.clone()),
                    complete: acc.len(),
                    diverged: acc.iter().filter(|a| a.is_none()).count(),
                    outcomes,
                    scored_accuracies: ok.iter().map(|x| x.1).collect(),
                    scored_replicates: ok.iter().map(|x| x.0).collect(),
                    ..Default::default()
                }
            })
            .collect();
        let factor = crate::factor::factor_test(&stats_levels, true);
        let stats = ExperimentStats {
            name: "e".into(),
            title: "E".into(),
            claim: Some("claim".into()),
            expect_best: None,
            kind: ExperimentKind::Factor,
            factors: vec!["lr".into()],
            divergence: crate::factor::divergence_test(&stats_levels),
            levels: stats_levels,
            pairs: vec![],
            paired_seeds: true,
            ordered_factor: None,
            trend: None,
            sources: vec![],
            learning_curve: None,
            cross_validation: None,
            class_names: vec![],
            factor,
            claim_result: None,
        };
        (stats, planned)
    }

    /// What decided each part of the claim `checks` on `levels`.
    fn reasons(levels: &[(&str, &[Option<f64>])], checks: &str) -> Vec<Reason> {
        let (stats, planned) = experiment(levels, checks);
        let c = test_claim(&stats, &planned, &[], 0.5).expect("a claim");
        c.parts.into_iter().map(|p| p.why).collect()
    }

    fn verdicts(levels: &[(&str, &[Option<f64>])], checks: &str) -> Vec<Verdict> {
        let (stats, planned) = experiment(levels, checks);
        let c = test_claim(&stats, &planned, &[], 0.5).expect("a claim");
        c.parts.iter().map(|p| p.verdict).collect()
    }

    const SEEDS: [f64; 5] = [0.0, 0.004, -0.003, 0.002, -0.001];

    fn level(mean: f64, jitter: f64) -> Vec<Option<f64>> {
        SEEDS
            .iter()
            .enumerate()
            .map(|(i, s)| Some(mean + s + jitter * ((i % 2) as f64 - 0.5)))
            .collect()
    }

    /// Accuracy rising to the widest level: "too small underfits" is supported, "too big
    /// overfits" (a peak inside the range) contradicted; a real peak is supported.
    #[test]
    fn a_peak_claim_is_contradicted_by_a_monotone_rise_and_supported_by_a_peak() {
        let (a, b, c, d) =
            (level(0.85, 0.001), level(0.87, 0.002), level(0.88, 0.001), level(0.89, 0.002));
        let rising =
            [("8", a.as_slice()), ("16", b.as_slice()), ("32", c.as_slice()), ("64", d.as_slice())];
        let checks = "{ shape = \"beats\", level = \"32\", over = \"8\" }, { shape = \"peak\" }";
        assert_eq!(verdicts(&rising, checks), [Verdict::Supported, Verdict::Contradicted]);
        let peaked =
            [("8", a.as_slice()), ("16", d.as_slice()), ("32", c.as_slice()), ("64", a.as_slice())];
        assert_eq!(verdicts(&peaked, "{ shape = \"peak\" }"), [Verdict::Supported]);
        let flat = [("8", a.as_slice()), ("16", a.as_slice()), ("32", a.as_slice())];
        assert_eq!(verdicts(&flat, "{ shape = \"peak\" }"), [Verdict::NotResolved]);
    }

    /// A trend in the stated direction is supported, the other way contradicted, and a
    /// resolved reversal between neighbours contradicts "monotone".
    #[test]
    fn trends_are_tested_in_their_stated_direction() {
        let (a, b, c) = (level(0.80, 0.001), level(0.84, 0.002), level(0.88, 0.001));
        let up = [("0.001", a.as_slice()), ("0.01", b.as_slice()), ("0.1", c.as_slice())];
        let inc = "{ shape = \"trend\", direction = \"increasing\" }";
        let dec = "{ shape = \"trend\", direction = \"decreasing\" }";
        assert_eq!(verdicts(&up, inc), [Verdict::Supported]);
        assert_eq!(verdicts(&up, dec), [Verdict::Contradicted]);
        assert_eq!(reasons(&up, dec), [Reason::TrendReversed(TrendStep::PerDoubling)]);
        let bump = [
            ("0.001", a.as_slice()),
            ("0.01", c.as_slice()),
            ("0.1", b.as_slice()),
            ("1", c.as_slice()),
        ];
        assert_eq!(verdicts(&bump, inc), [Verdict::Contradicted], "c → b is a resolved fall");
        let fall = Reason::NotMonotone { from: "0.01".into(), to: "0.1".into() };
        assert_eq!(reasons(&bump, inc), [fall]);
    }

    /// A named best level that another level beats is contradicted; one that beats all
    /// is supported; close levels leave it not resolved.
    #[test]
    fn best_levels_and_beats() {
        let (a, b) = (level(0.80, 0.001), level(0.85, 0.002));
        let two = [("0.1", a.as_slice()), ("0.01", b.as_slice())];
        assert_eq!(verdicts(&two, "{ shape = \"best\", level = \"0.01\" }"), [Verdict::Supported]);
        let best = Reason::Extreme {
            level: "0.01".into(),
            worst: false,
            others: 1,
            closest: "0.1".into(),
        };
        assert_eq!(reasons(&two, "{ shape = \"best\", level = \"0.01\" }"), [best]);
        assert_eq!(
            verdicts(&two, "{ shape = \"best\", level = \"0.1\" }"),
            [Verdict::Contradicted]
        );
        let outdone = Reason::Outdone { level: "0.1".into(), other: "0.01".into(), worst: false };
        assert_eq!(reasons(&two, "{ shape = \"best\", level = \"0.1\" }"), [outdone]);
        assert_eq!(
            verdicts(&two, "{ shape = \"beats\", level = \"0.1\", over = \"0.01\" }"),
            [Verdict::Contradicted]
        );
        assert_eq!(
            reasons(&two, "{ shape = \"beats\", level = \"0.1\", over = \"0.01\" }"),
            [Reason::Beats { winner: "0.01".into(), loser: "0.1".into() }]
        );
        let near = level(0.8005, 0.006);
        let close = [("0.1", a.as_slice()), ("0.01", near.as_slice())];
        assert_eq!(
            verdicts(&close, "{ shape = \"best\", level = \"0.01\" }"),
            [Verdict::NotResolved]
        );
        assert_eq!(
            reasons(&close, "{ shape = \"best\", level = \"0.01\" }"),
            [Reason::NotResolvedFrom { level: "0.01".into(), other: "0.1".into() }]
        );
    }

    /// Divergence is an outcome of its own: a level that always diverges differs in its
    /// rate, exactly tested, while its accuracy is left out.
    #[test]
    fn divergence_rates_are_an_outcome() {
        let ok = level(0.85, 0.001);
        let wild = [None; 5];
        let levels = [("0.001", ok.as_slice()), ("10", wild.as_slice())];
        let checks = "{ shape = \"differs\", outcome = \"divergence\" }, { shape = \"best\", level = \"0.001\", outcome = \"divergence\" }";
        assert_eq!(verdicts(&levels, checks), [Verdict::Supported, Verdict::Supported]);
        let differs = Reason::DivergenceDiffers { level: "0.001".into() };
        assert_eq!(reasons(&levels, checks), [Reason::DivergenceRates, differs]);
    }

    /// Two parts, one contradicted: the claim is contradicted.
    #[test]
    fn parts_combine() {
        use Verdict::*;
        assert_eq!(Verdict::combine([Supported, Supported]), Supported);
        assert_eq!(Verdict::combine([Supported, Contradicted]), Contradicted);
        assert_eq!(Verdict::combine([Supported, NotResolved]), NotResolved);
        assert_eq!(Verdict::combine([]), NotResolved);
    }
}
