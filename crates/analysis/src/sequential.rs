//! Adaptive, sequential seeding with error control: as many seeds as each comparison
//! needs.
//!
//! A study says `seeds = { min = 3, max = 20, step = 2 }` and `resolve = { delta = 0.5 }`
//! ([`SequentialDesign`]). The sweep runs `min` seeds of every level, calls [`decide`],
//! and while an experiment has open comparisons adds [`Decisions::batch`] seeds to each
//! of its levels, until every pair of levels is decided or `max` is reached. A pair is
//! decided **Larger** or **Smaller** (the levels differ, in that direction) or
//! **Equivalent** (their difference is within ±`delta`); one still open at `max` seeds is
//! **Undecided**.
//!
//! # Method
//!
//! *Data.* Replicate `r` of every level shares its seeds, so each pair is judged on its
//! paired differences `d_r = a_r − b_r` with a one-sample t statistic (mean over its
//! standard error; `n − 1` degrees of freedom).
//!
//! *Looks.* Look `k` is taken when `n_k` seeds of every level are complete: `min`,
//! `min + step`, … and finally `max`, so `K = 1 + ⌈(max − min) / step⌉` looks, fixed by
//! the design alone. The information fraction of look `k` is `n_k / max`.
//!
//! *Boundaries.* Two one-sided group-sequential tests with Lan–DeMets alpha spending
//! ([`Spending`], O'Brien–Fleming type by default) over those fractions: one at level
//! `α / (2m)` for a difference in each direction, one at level `α / m` for each side of
//! the equivalence test (TOST), where `m = L(L − 1)/2` is the experiment's number of
//! pairs (Bonferroni across pairs). Their critical values are first computed exactly
//! for a normal statistic of known variance, by numerical integration, and carried to
//! the t scale by keeping each look's nominal significance level and taking the t
//! quantile at that look's degrees of freedom (Jennison & Turnbull 2000, §3.8). That
//! alone overshoots with few seeds (t statistics at successive looks are less
//! correlated than z statistics: one-sided 2.5% over 10 looks from 3 to 20 seeds
//! becomes 2.7%), so the spending function is then scaled (by 0.84–0.93 in the usual
//! designs) until the whole sequential t procedure has its level under normal
//! outcomes, estimated by importance-sampled simulation with a fixed seed, less two of
//! that estimate's standard errors (should that fail, each look gets its spending
//! increment, a union bound). Outcomes with heavier tails make t-tests more
//! conservative; the simulations of [`simulate`] check both, from 3 seeds.
//!
//! *Decisions at a look*, for a pair still open, with `t = d̄ / se`:
//! Equivalent when `(d̄ + δ)/se ≥ e_k` and `(d̄ − δ)/se ≤ −e_k` (the equivalence takes
//! precedence: `delta` is declared the smallest difference that matters); else Larger
//! when `t ≥ c_k`, Smaller when `t ≤ −c_k`. A decided pair keeps the decision of the
//! first look that reached it; the data of later looks never revisit it.
//!
//! *Intervals.* After data-dependent stopping a fixed-sample t interval (or p-value)
//! at the stopping look is not valid. Each pair's **repeated confidence interval**
//! (Jennison & Turnbull 2000, ch. 9) at look `k`, `d̄ ± c_k · se`, is: the event that it
//! misses the true mean difference `μ` at some look is the event that the t statistic
//! of `d̄ − μ` crosses `±c_k` at some look, which the boundaries give probability at
//! most `2 · α/(2m) = α/m` under normal outcomes. So the intervals of every look cover
//! `μ` together with probability at least `1 − α/m` (whatever the stopping rule), and
//! those of all `m` pairs at least `1 − α` (Bonferroni); in particular the interval at
//! the look where a pair stopped ([`PairDecision::rci`]) is valid. It agrees with the
//! decision: a pair decided Larger has it above 0, one decided Smaller below 0, and an
//! open or undecided pair's contains 0 (differences that do not vary, too few to decide
//! anything, give none). The equivalence boundary gives the `1 − 2α/m`
//! interval `d̄ ± e_k · se` ([`PairDecision::equivalence_rci`]): a pair is decided
//! Equivalent exactly when it lies within `±δ` (as a fixed-sample TOST's `1 − 2α`
//! interval does); it may then still exclude 0 (a real difference smaller than δ).
//!
//! # Error control
//!
//! The family-wise error of an experiment — the probability that any of its pairs gets
//! a wrong decision (a difference where there is none, the wrong direction, or
//! Equivalent where `|difference| ≥ δ`) at any look — is at most `α`:
//!
//! * a pair with no difference can only err by Larger or Smaller: each direction
//!   crosses its boundary at some look with probability at most `α / (2m)` (under
//!   normal outcomes, as calibrated; heavier symmetric tails lower it);
//! * a pair with difference `μ ≥ δ` can err by Smaller or Equivalent; both imply
//!   `(d̄ − δ)/se ≤ −e_k` at that look, since `c_k ≥ e_k` (enforced), and that one-sided
//!   sequential test has level `α / m`; with `0 < μ < δ` only Smaller errs (`≤ α/(2m)`);
//! * the `m` pairs add up (Bonferroni; valid under any dependence between pairs, which
//!   share levels), and stopping a pair, or the whole experiment, early — whatever the
//!   reason, other pairs' data included — can only remove crossings.
//!
//! Holm's step-down is not used: with directional and equivalence claims every pair
//! can err, so recycling the level of decided pairs is not known to keep the error.
//! `alpha` is per experiment, as in the fixed-seed analysis (each experiment asks its
//! own question); a study wanting its error across `E` experiments at `α` gives each
//! design `α / E`.
//!
//! # Inputs
//!
//! Outcomes are in the units of `delta` (a study's `delta` in accuracy points wants
//! accuracies in points, or `delta / 100` against fractions), per level, in replicate
//! order; the caller scores diverged runs as the analysis does (at chance). Only the
//! first `n` replicates complete in every level count, and extra replicates past `max`
//! are ignored. A non-finite outcome (NaN, ±∞) drops its replicate from the pairs of
//! its level; such a look's t quantile uses the differences left, and a pair with fewer
//! than two stays open. An unusable design is normalised as [`SequentialDesign::normalized`]
//! says. Nothing here panics.

mod boundary;
mod calibrate;
mod rng;
mod simulate;

pub use boundary::Spending;
pub use simulate::{Noise, Setting, SimulationSummary, TableRow, markdown_table, simulate, table};

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};

/// Seeds and error control of a sequential study.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequentialDesign {
    /// Seeds of every level before the first look.
    pub min_seeds: usize,
    /// Most seeds of a level; the last look is taken there.
    pub max_seeds: usize,
    /// Seeds added to every level of an open experiment between looks.
    pub step: usize,
    /// Smallest difference that matters, in the outcomes' units: pairs within ±delta
    /// can be decided Equivalent (0: never).
    pub delta: f64,
    /// Family-wise error of an experiment's decisions over all its pairs and looks.
    pub alpha: f64,
    /// How alpha is spent over the looks.
    pub spending: Spending,
}

/// Why a design cannot be used as written.
#[derive(Clone, Debug, PartialEq)]
pub enum DesignError {
    /// `min_seeds` below 2: a paired t-test needs two replicates.
    TooFewSeeds(usize),
    /// `max_seeds` below `min_seeds`.
    MaxBelowMin {
        /// The minimum.
        min: usize,
        /// The maximum.
        max: usize,
    },
    /// `step` of 0 seeds.
    ZeroStep,
    /// `delta` negative or not finite.
    Delta(f64),
    /// `alpha` outside (0, 0.5].
    Alpha(f64),
    /// `max_seeds` above [`MAX_SEEDS`].
    TooManySeeds(usize),
    /// More looks than [`MAX_LOOKS`] (too small a `step` for the range).
    TooManyLooks(usize),
}

/// Most seeds of a level a design may ask for.
pub const MAX_SEEDS: usize = 1000;
/// Most looks of a design.
pub const MAX_LOOKS: usize = 40;

impl fmt::Display for DesignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFewSeeds(n) => write!(f, "seeds.min is {n}: a paired test needs at least 2"),
            Self::MaxBelowMin { min, max } => {
                write!(f, "seeds.max ({max}) is below seeds.min ({min})")
            }
            Self::ZeroStep => write!(f, "seeds.step is 0: each look must add seeds"),
            Self::Delta(d) => write!(f, "resolve.delta is {d}: it must be finite and not negative"),
            Self::Alpha(a) => write!(f, "alpha is {a}: it must be above 0 and at most 0.5"),
            Self::TooManySeeds(n) => write!(f, "seeds.max is {n}: at most {MAX_SEEDS}"),
            Self::TooManyLooks(k) => {
                write!(f, "{k} looks: at most {MAX_LOOKS} (a larger seeds.step gives fewer)")
            }
        }
    }
}

impl std::error::Error for DesignError {}

impl SequentialDesign {
    /// The first problem of the design, if any.
    pub fn validate(&self) -> Result<(), DesignError> {
        if self.min_seeds < 2 {
            return Err(DesignError::TooFewSeeds(self.min_seeds));
        }
        if self.max_seeds < self.min_seeds {
            return Err(DesignError::MaxBelowMin { min: self.min_seeds, max: self.max_seeds });
        }
        if self.step == 0 {
            return Err(DesignError::ZeroStep);
        }
        if !(self.delta.is_finite() && self.delta >= 0.0) {
            return Err(DesignError::Delta(self.delta));
        }
        if !(self.alpha > 0.0 && self.alpha <= 0.5) {
            return Err(DesignError::Alpha(self.alpha));
        }
        if self.max_seeds > MAX_SEEDS {
            return Err(DesignError::TooManySeeds(self.max_seeds));
        }
        match 1 + (self.max_seeds - self.min_seeds).div_ceil(self.step) {
            k if k > MAX_LOOKS => Err(DesignError::TooManyLooks(k)),
            _ => Ok(()),
        }
    }

    /// The design as [`decide`] uses it: `min_seeds` from 2 to [`MAX_SEEDS`],
    /// `max_seeds` from `min_seeds` to [`MAX_SEEDS`], `step` at least 1 and large
    /// enough for at most [`MAX_LOOKS`] looks; a NaN or negative `delta` is 0 (no
    /// equivalence claims); an `alpha` that is NaN or not above 0 makes no claims at
    /// all (every pair runs to `max` seeds), one above 0.5 is 0.5.
    pub fn normalized(&self) -> Self {
        let min_seeds = self.min_seeds.clamp(2, MAX_SEEDS);
        let max_seeds = self.max_seeds.clamp(min_seeds, MAX_SEEDS);
        let fewest = (max_seeds - min_seeds).div_ceil(MAX_LOOKS - 1);
        Self {
            min_seeds,
            max_seeds,
            step: self.step.max(fewest).max(1),
            delta: if self.delta >= 0.0 { self.delta } else { 0.0 },
            alpha: if self.alpha > 0.0 { self.alpha.min(0.5) } else { 0.0 },
            spending: self.spending,
        }
    }

    /// Seeds per level at each look: `min`, `min + step`, …, `max`.
    pub fn looks(&self) -> Vec<usize> {
        let d = self.normalized();
        let mut looks: Vec<usize> = (d.min_seeds..d.max_seeds).step_by(d.step).collect();
        looks.push(d.max_seeds);
        looks
    }

    /// The critical values of every look for an experiment of `levels` levels
    /// (computed once per design and level count, then remembered).
    pub fn boundaries(&self, levels: usize) -> Boundaries {
        let design = self.normalized();
        let pairs = levels * levels.saturating_sub(1) / 2;
        let key = (design.min_seeds, design.max_seeds, design.step, design.alpha.to_bits());
        let looks = memo((key, design.spending, pairs), || {
            let seeds = design.looks();
            let m = pairs.max(1) as f64;
            let diff = calibrate::t_boundaries(&seeds, design.alpha / (2.0 * m), design.spending);
            let equiv = calibrate::t_boundaries(&seeds, design.alpha / m, design.spending);
            let pairs = diff.iter().zip(&equiv);
            seeds.iter().zip(pairs).map(|(&n, (&d, &e))| LookBoundary::new(n, d, e)).collect()
        });
        Boundaries { design, pairs, looks }
    }
}

/// What the boundaries depend on: seeds (min, max, step), alpha's bits, spending, pairs.
type Key = ((usize, usize, usize, u64), Spending, usize);

/// Boundaries computed before, by design (a pure cache: the same key always computes
/// the same values; at most [`MEMO_SIZE`] kept).
fn memo(key: Key, compute: impl FnOnce() -> Vec<LookBoundary>) -> Vec<LookBoundary> {
    static MEMO: OnceLock<Mutex<HashMap<Key, Vec<LookBoundary>>>> = OnceLock::new();
    let memo = MEMO.get_or_init(Mutex::default);
    if let Some(looks) = memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return looks;
    }
    let looks = compute();
    if let Ok(mut m) = memo.lock()
        && m.len() < MEMO_SIZE
    {
        m.insert(key, looks.clone());
    }
    looks
}

/// Most designs whose boundaries are remembered.
const MEMO_SIZE: usize = 256;

/// The critical values of one look.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LookBoundary {
    /// Seeds per level at the look.
    pub seeds: usize,
    /// Nominal one-sided level of the difference test in each direction.
    pub difference_level: f64,
    /// Nominal one-sided level of each side of the equivalence test.
    pub equivalence_level: f64,
    /// Critical t of the difference test with `seeds − 1` degrees of freedom.
    pub difference_t: f64,
    /// Critical t of the equivalence test with `seeds − 1` degrees of freedom.
    pub equivalence_t: f64,
}

impl LookBoundary {
    fn new(seeds: usize, difference_t: f64, equivalence_t: f64) -> Self {
        let df = seeds as f64 - 1.0;
        let difference_t = difference_t.max(equivalence_t);
        Self {
            seeds,
            difference_level: boundary::t_sf(difference_t, df),
            equivalence_level: boundary::t_sf(equivalence_t, df),
            difference_t,
            equivalence_t,
        }
    }

    /// The (difference, equivalence) critical t values for `n` paired differences.
    fn critical(&self, n: usize) -> (f64, f64) {
        if n == self.seeds {
            return (self.difference_t, self.equivalence_t);
        }
        let df = n as f64 - 1.0;
        let e = boundary::t_isf(self.equivalence_level, df);
        (boundary::t_isf(self.difference_level, df).max(e), e)
    }
}

/// A design's critical values for an experiment of a given number of levels:
/// computed once, used by [`decide_with`] at every look.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Boundaries {
    /// The normalised design.
    pub design: SequentialDesign,
    /// Pairs of levels compared (Bonferroni's `m`).
    pub pairs: usize,
    /// Per look, in order.
    pub looks: Vec<LookBoundary>,
}

impl Boundaries {
    /// Confidence of each pair's repeated confidence intervals over all looks together,
    /// `1 − α/m` (two one-sided difference tests at `α/(2m)` each); all `m` pairs'
    /// together have at least `1 − α`.
    pub fn rci_confidence(&self) -> f64 {
        1.0 - self.design.alpha / self.pairs.max(1) as f64
    }

    /// Confidence of each pair's equivalence intervals over all looks together,
    /// `1 − 2α/m` (two one-sided equivalence tests at `α/m` each; at least 0).
    pub fn equivalence_rci_confidence(&self) -> f64 {
        (1.0 - 2.0 * self.design.alpha / self.pairs.max(1) as f64).max(0.0)
    }
}

/// The state of one pair of levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Level A's outcome is larger than level B's.
    Larger,
    /// Level A's outcome is smaller than level B's.
    Smaller,
    /// The two are within ±delta of each other.
    Equivalent,
    /// Not decided yet; more seeds will come.
    Continue,
    /// Not decided at the last look (`max_seeds`).
    Undecided,
}

impl Verdict {
    /// Whether the pair is settled (Larger, Smaller or Equivalent).
    pub fn is_decided(self) -> bool {
        matches!(self, Self::Larger | Self::Smaller | Self::Equivalent)
    }
}

/// One pair's decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairDecision {
    /// Index of level A.
    pub a: usize,
    /// Index of level B.
    pub b: usize,
    /// A against B.
    pub verdict: Verdict,
    /// 0-based look at which it was decided; `None` while open or undecided.
    pub look: Option<usize>,
    /// Seeds per level at that look, or at the latest look taken (0 before the first).
    pub seeds: usize,
    /// Paired differences used there (fewer than `seeds` when outcomes were not finite).
    pub used: usize,
    /// Mean paired difference A − B there; `None` without a finite difference.
    pub mean_diff: Option<f64>,
    /// Its standard error there; `None` with fewer than 2 differences.
    pub se: Option<f64>,
    /// The difference test's critical t there, for `used` differences: the multiplier
    /// of [`PairDecision::rci`]; `None` before the first look, with fewer than 2
    /// differences, or where the design makes no claims (an infinite boundary).
    pub critical_t: Option<f64>,
    /// The repeated confidence interval of the mean difference there,
    /// `mean_diff ± critical_t · se`: valid after the data-dependent stopping, with
    /// confidence [`Boundaries::rci_confidence`] over every look (see the module's
    /// *Intervals*); `None` when `critical_t` is.
    pub rci: Option<(f64, f64)>,
    /// The equivalence boundary's interval there, `mean_diff ± e_k · se`, with
    /// confidence [`Boundaries::equivalence_rci_confidence`]: within `±delta` exactly
    /// when the pair is decided Equivalent; `None` as `rci` is.
    pub equivalence_rci: Option<(f64, f64)>,
}

/// An experiment's decisions from its outcomes so far.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decisions {
    /// Every pair of levels `(a, b)`, `a < b`, in the order (0,1), (0,2), …, (1,2), ….
    pub pairs: Vec<PairDecision>,
    /// Looks taken (those whose seeds are complete).
    pub looks_done: usize,
    /// Looks the design plans at most.
    pub looks_planned: usize,
    /// Seeds per level complete in every level.
    pub seeds_complete: usize,
    /// Seeds per level the next look needs; `None` when the experiment is finished.
    pub next_seeds: Option<usize>,
    /// Seeds to add to every level now to reach the next look (0 when finished).
    pub batch: usize,
}

impl Decisions {
    /// Whether the experiment needs no more seeds.
    pub fn finished(&self) -> bool {
        self.next_seeds.is_none()
    }
}

/// The decisions of an experiment from its outcomes, `outcomes[level][replicate]`:
/// a pure function of the design and the outcomes, so replaying them gives the same
/// decisions. Computes the boundaries, then [`decide_with`].
pub fn decide(design: &SequentialDesign, outcomes: &[Vec<f64>]) -> Decisions {
    decide_with(&design.boundaries(outcomes.len()), outcomes)
}

/// [`decide`] with boundaries computed beforehand (for the same number of levels;
/// with another, the error control is that of the boundaries' level count).
pub fn decide_with(bounds: &Boundaries, outcomes: &[Vec<f64>]) -> Decisions {
    let complete = outcomes.iter().map(Vec::len).min().unwrap_or(0);
    let looks_done = bounds.looks.iter().take_while(|l| l.seeds <= complete).count();
    let last_seeds = looks_done.checked_sub(1).map_or(0, |k| bounds.looks[k].seeds);
    let mut pairs = Vec::new();
    for a in 0..outcomes.len() {
        for b in a + 1..outcomes.len() {
            let (x, y) = (&outcomes[a], &outcomes[b]);
            let mut pair = judge_pair(bounds, x, y, looks_done, last_seeds);
            (pair.a, pair.b) = (a, b);
            pairs.push(pair);
        }
    }
    let open = pairs.iter().any(|p| p.verdict == Verdict::Continue);
    let next_seeds = match bounds.looks.get(looks_done) {
        Some(l) if looks_done == 0 && !outcomes.is_empty() => Some(l.seeds),
        Some(l) if open => Some(l.seeds),
        _ => None,
    };
    Decisions {
        pairs,
        looks_done,
        looks_planned: bounds.looks.len(),
        seeds_complete: complete,
        next_seeds,
        batch: next_seeds.map_or(0, |n| n.saturating_sub(complete)),
    }
}

/// A pair through the looks taken: the first decision reached, or still open (with
/// the latest look's interval).
fn judge_pair(b: &Boundaries, x: &[f64], y: &[f64], looks: usize, last: usize) -> PairDecision {
    let mut latest = (Paired::default(), None);
    for (k, look) in b.looks.iter().take(looks).enumerate() {
        let paired = Paired::of(x, y, look.seeds);
        if let Some(verdict) = paired.verdict(look, b.design.delta) {
            return paired.decision(verdict, Some(k), look.seeds, Some(look));
        }
        latest = (paired, Some(look));
    }
    let verdict = if looks == b.looks.len() { Verdict::Undecided } else { Verdict::Continue };
    latest.0.decision(verdict, None, last, latest.1)
}

/// The fewest paired differences that decide anything when they do not vary at all.
pub const MIN_PAIRS_WITHOUT_SPREAD: usize = 3;

/// Mean and standard error of a pair's finite paired differences.
#[derive(Clone, Copy, Debug, Default)]
struct Paired {
    n: usize,
    mean: f64,
    se: f64,
}

impl Paired {
    /// The first `seeds` replicates of `x − y`, non-finite ones left out.
    fn of(x: &[f64], y: &[f64], seeds: usize) -> Self {
        let diffs = || x.iter().zip(y).take(seeds).map(|(a, b)| a - b).filter(|d| d.is_finite());
        let n = diffs().count();
        if n == 0 {
            return Self::default();
        }
        let mean = diffs().sum::<f64>() / n as f64;
        let ss: f64 = diffs().map(|d| (d - mean) * (d - mean)).sum();
        let se = if n >= 2 { (ss / (n as f64 - 1.0) / n as f64).sqrt() } else { f64::NAN };
        Self { n, mean, se }
    }

    /// `num / se`, with a zero standard error giving ±∞ (0 for a zero numerator).
    fn ratio(&self, num: f64) -> f64 {
        if self.se == 0.0 {
            if num > 0.0 {
                f64::INFINITY
            } else if num < 0.0 {
                f64::NEG_INFINITY
            } else {
                0.0
            }
        } else {
            num / self.se
        }
    }

    /// The decision these differences reach at `look`, if any.
    fn verdict(&self, look: &LookBoundary, delta: f64) -> Option<Verdict> {
        // Fewer than 3 differences that do not vary are no evidence of anything (two
        // seeds that agree exactly are common on a small test set): no decision.
        if self.n < 2 || (self.n < MIN_PAIRS_WITHOUT_SPREAD && self.se == 0.0) {
            return None;
        }
        let (c, e) = look.critical(self.n);
        if delta > 0.0 && self.ratio(self.mean + delta) >= e && self.ratio(self.mean - delta) <= -e
        {
            return Some(Verdict::Equivalent);
        }
        let t = self.ratio(self.mean);
        if t >= c {
            Some(Verdict::Larger)
        } else if t <= -c {
            Some(Verdict::Smaller)
        } else {
            None
        }
    }

    /// The pair's decision, with its intervals at `boundary` (the look it was decided
    /// at, or the latest look taken).
    fn decision(
        &self,
        verdict: Verdict,
        look: Option<usize>,
        seeds: usize,
        boundary: Option<&LookBoundary>,
    ) -> PairDecision {
        let mean_diff = (self.n > 0 && self.mean.is_finite()).then_some(self.mean);
        let se = (self.n >= 2 && self.se.is_finite()).then_some(self.se);
        let evidence = self.n >= MIN_PAIRS_WITHOUT_SPREAD || self.se > 0.0;
        let critical = match (boundary, mean_diff, se.filter(|_| evidence)) {
            (Some(b), Some(_), Some(_)) => Some(b.critical(self.n)),
            _ => None,
        };
        let interval = |c: f64| {
            let half = c * self.se;
            let ci = (self.mean - half, self.mean + half);
            (ci.0.is_finite() && ci.1.is_finite()).then_some(ci)
        };
        let rci = critical.and_then(|(c, _)| interval(c));
        PairDecision {
            a: 0,
            b: 0,
            verdict,
            look,
            seeds,
            used: self.n,
            mean_diff,
            se,
            critical_t: critical.map(|(c, _)| c).filter(|_| rci.is_some()),
            rci,
            equivalence_rci: critical.and_then(|(_, e)| interval(e)),
        }
    }
}

/// The fewest and most runs an experiment of `levels` levels can take: `min` and
/// `max` seeds of every level (a single level stops at `min`: it has nothing to
/// compare; no levels, no runs).
pub fn run_count_range(design: &SequentialDesign, levels: usize) -> (usize, usize) {
    let d = design.normalized();
    match levels {
        0 => (0, 0),
        1 => (d.min_seeds, d.min_seeds),
        _ => (levels * d.min_seeds, levels * d.max_seeds),
    }
}

#[cfg(test)]
mod tests;
