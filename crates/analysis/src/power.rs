//! Comparisons that say how many seeds they need: paired and Welch t-tests with
//! Bonferroni-adjusted intervals, Cohen's d, the power of two-sided t-tests (from the
//! noncentral t distribution), the smallest difference a design detects, the seeds a
//! difference needs, and a least-squares trend test over an ordered numeric factor.
//!
//! # Conventions
//!
//! * Power is that of a two-sided t-test at level `alpha`. The two-sample power is
//!   that of the pooled-variance t-test, as in statsmodels' `TTestIndPower`: degrees
//!   of freedom `n1 + n2 − 2`, noncentrality `d·√(n1·n2 / (n1 + n2))`. The paired power
//!   is that of the one-sample t-test on the differences, as in statsmodels'
//!   `TTestPower`: degrees of freedom `n − 1`, noncentrality `d·√n`, where `d` is the
//!   mean difference over the sd of the differences.
//! * When the two levels' sds differ, the two-sample calculations standardise by the
//!   root of the average variance, `σ = √((sd_a² + sd_b²) / 2)`. With equal seeds per
//!   level the standard error is then exactly Welch's, `√(sd_a²/n + sd_b²/n)`; only the
//!   degrees of freedom are the pooled `2n − 2` rather than Welch's (smaller) value, so
//!   for very unequal sds and few seeds the power is slightly optimistic.
//! * The tests themselves (paired, Welch) use their own exact degrees of freedom:
//!   `n − 1` for paired, Welch–Satterthwaite for Welch.
//!
//! The noncentral t distribution function follows Lenth (1989, Applied Statistics
//! algorithm AS 243) with the summation started at the Poisson mode and run in both
//! directions, as Benton and Krishnamoorthy (2003) recommend; see [`nct_cdf`].

use std::fmt;

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::function::beta::beta_reg;
use statrs::function::gamma::{gamma_lr, gamma_ur, ln_gamma};

/// Two-sided significance level of the power calculations.
pub const ALPHA: f64 = 0.05;

/// Target power of the power calculations.
pub const POWER: f64 = 0.8;

/// The most seeds per level a seeds-needed answer counts to; beyond, "more than".
pub const MAX_SEEDS: usize = 10_000;

/// Why a test could not be computed.
#[derive(Clone, Debug, PartialEq)]
pub enum PowerError {
    /// Paired samples of different lengths.
    LengthMismatch {
        /// Length of A.
        a: usize,
        /// Length of B.
        b: usize,
    },
    /// Too few values for the test.
    TooFew {
        /// Values given.
        n: usize,
        /// Values needed.
        need: usize,
    },
    /// A value is NaN or infinite.
    NonFinite,
    /// Every level of a trend test has the same value.
    NoSpread,
    /// A level of a log-scale trend is not positive.
    NonPositiveLevel(f64),
}

impl fmt::Display for PowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LengthMismatch { a, b } => write!(f, "paired samples of {a} and {b} values"),
            Self::TooFew { n, need } => write!(f, "{n} values, the test needs {need}"),
            Self::NonFinite => write!(f, "a value is not finite"),
            Self::NoSpread => write!(f, "the levels do not vary"),
            Self::NonPositiveLevel(x) => write!(f, "level {x} has no logarithm"),
        }
    }
}

impl std::error::Error for PowerError {}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn variance(xs: &[f64]) -> f64 {
    let m = mean(xs);
    xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() as f64 - 1.0)
}

fn student(df: f64) -> Option<StudentsT> {
    StudentsT::new(0.0, 1.0, df).ok()
}

/// The upper `q` quantile of Student's t with `df` degrees of freedom (NaN unless
/// `0 < q < 1`).
fn t_upper(q: f64, df: f64) -> f64 {
    if !(q > 0.0 && q < 1.0) {
        return f64::NAN;
    }
    student(df).map_or(f64::NAN, |t| -t.inverse_cdf(q))
}

/// Two-sided p-value of `t` (from the lower tail, accurate for tiny p).
fn two_sided_p(t: f64, df: f64) -> f64 {
    student(df).map_or(f64::NAN, |s| (2.0 * s.cdf(-t.abs())).min(1.0))
}

fn check_finite(xs: &[f64]) -> Result<(), PowerError> {
    if xs.iter().all(|x| x.is_finite()) { Ok(()) } else { Err(PowerError::NonFinite) }
}

/// Which t-test a [`TTest`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Design {
    /// Paired by replicate (seed): a one-sample test on the differences.
    Paired,
    /// Two independent samples, Welch's unequal-variance test.
    Welch,
}

/// A t-test of the mean difference A − B.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TTest {
    /// Paired or Welch.
    pub design: Design,
    /// Values of A (for a paired test, the pairs).
    pub n_a: usize,
    /// Values of B (for a paired test, the pairs).
    pub n_b: usize,
    /// Mean of A minus mean of B (paired: the mean of the differences).
    pub diff: f64,
    /// Standard error of `diff`.
    pub se: f64,
    /// Degrees of freedom: `n − 1` (paired) or Welch–Satterthwaite.
    pub df: f64,
    /// `diff / se`; `None` when `se` is zero.
    pub t: Option<f64>,
    /// Two-sided p-value (1 or 0 when `se` is zero, as the difference is 0 or not).
    pub p: f64,
    /// 95% interval of `diff`.
    pub ci: (f64, f64),
    /// The sd the power calculations standardise by: the sd of the differences
    /// (paired) or the root of the average of the two variances (Welch).
    pub sd: f64,
}

impl TTest {
    fn new(design: Design, (n_a, n_b): (usize, usize), diff: f64, se: f64, df: f64) -> Self {
        let (t, p) = if se > 0.0 {
            (Some(diff / se), two_sided_p(diff / se, df))
        } else {
            (None, if diff == 0.0 { 1.0 } else { 0.0 })
        };
        let mut test = Self { design, n_a, n_b, diff, se, df, t, p, ci: (diff, diff), sd: 0.0 };
        test.ci = test.ci_adjusted(ALPHA, 1);
        test
    }

    /// The `1 − alpha/m` interval of the difference (Bonferroni over `m` comparisons;
    /// `m = 0` counts as 1). It excludes zero exactly when `p · m < alpha`, so it never
    /// contradicts a Bonferroni verdict; it is conservative next to Holm's.
    pub fn ci_adjusted(&self, alpha: f64, m: usize) -> (f64, f64) {
        if self.se == 0.0 {
            return (self.diff, self.diff);
        }
        let half = t_upper(alpha / (2.0 * m.max(1) as f64), self.df) * self.se;
        (self.diff - half, self.diff + half)
    }

    /// The Bonferroni-adjusted p-value over `m` comparisons, `min(1, p · m)`.
    pub fn p_bonferroni(&self, m: usize) -> f64 {
        (self.p * m.max(1) as f64).min(1.0)
    }

    /// Whether the difference is significant at `alpha` after Bonferroni over `m`.
    pub fn significant_bonferroni(&self, alpha: f64, m: usize) -> bool {
        self.p_bonferroni(m) < alpha
    }

    /// Standardised effect: `diff / sd` (paired: Cohen's d_z); `None` when `sd` is 0.
    pub fn effect_size(&self) -> Option<f64> {
        (self.sd > 0.0).then(|| self.diff / self.sd)
    }

    /// The seeds per level (paired: pairs) needed to resolve a true difference the size
    /// of this one with `target`'s power, taking this test's sd as the truth.
    pub fn seeds_needed(&self, target: &PowerTarget) -> Option<SeedsNeeded> {
        match self.design {
            Design::Paired => target.seeds_needed_paired(self.diff, self.sd),
            Design::Welch => target.seeds_needed_sd(self.diff, self.sd),
        }
    }

    /// The smallest difference this design (its seeds and sd) detects with `target`'s
    /// power.
    pub fn detectable(&self, target: &PowerTarget) -> Option<f64> {
        let d = match self.design {
            Design::Paired => target.detectable_effect_paired(self.n_a)?,
            Design::Welch => target.detectable_effect_two_sample(self.n_a, self.n_b)?,
        };
        Some(d * self.sd)
    }
}

/// Paired t-test of A − B over replicates (`a[r]` and `b[r]` share seed `r`):
/// `t = mean(d) / (sd(d) / √n)` with `n − 1` degrees of freedom, as
/// `scipy.stats.ttest_rel`.
pub fn paired(a: &[f64], b: &[f64]) -> Result<TTest, PowerError> {
    if a.len() != b.len() {
        return Err(PowerError::LengthMismatch { a: a.len(), b: b.len() });
    }
    if a.len() < 2 {
        return Err(PowerError::TooFew { n: a.len(), need: 2 });
    }
    check_finite(a)?;
    check_finite(b)?;
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = d.len() as f64;
    let sd = variance(&d).sqrt();
    let mut test = TTest::new(Design::Paired, (d.len(), d.len()), mean(&d), sd / n.sqrt(), n - 1.0);
    test.sd = sd;
    Ok(test)
}

/// Welch's t-test of A − B (Welch–Satterthwaite degrees of freedom), as
/// `scipy.stats.ttest_ind(a, b, equal_var=False)`.
pub fn welch(a: &[f64], b: &[f64]) -> Result<TTest, PowerError> {
    let short = a.len().min(b.len());
    if short < 2 {
        return Err(PowerError::TooFew { n: short, need: 2 });
    }
    check_finite(a)?;
    check_finite(b)?;
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (variance(a) / na, variance(b) / nb);
    let se2 = va + vb;
    let df = if se2 > 0.0 {
        se2 * se2 / (va * va / (na - 1.0) + vb * vb / (nb - 1.0))
    } else {
        na + nb - 2.0
    };
    let mut test = TTest::new(Design::Welch, (a.len(), b.len()), mean(a) - mean(b), se2.sqrt(), df);
    test.sd = ((variance(a) + variance(b)) / 2.0).sqrt();
    Ok(test)
}

/// Cohen's d of A − B with the pooled sd; `None` with fewer than 2 values in either,
/// or no spread.
pub fn cohen_d(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let pooled = (((na - 1.0) * variance(a) + (nb - 1.0) * variance(b)) / (na + nb - 2.0)).sqrt();
    (pooled > 0.0).then(|| (mean(a) - mean(b)) / pooled)
}

/// Poisson weights below this are left out of the noncentral t series: each term is
/// a weight times a probability, so the error is of this order.
const NCT_EPS: f64 = 1e-17;

/// Most terms summed on either side of the mode.
const NCT_MAX_TERMS: usize = 1_000_000;

/// Distribution function of the noncentral t with `df` degrees of freedom and
/// noncentrality `nc`, `P(T ≤ t)` (NaN for `df ≤ 0` or non-finite `nc`).
///
/// For `t ≥ 0`, with `x = t² / (df + t²)` and `λ = nc² / 2` (Lenth 1989, AS 243):
/// `F(t) = Φ(−nc) + ½ Σ_j [p_j I_x(j + ½, df/2) + q_j I_x(j + 1, df/2)]`, where
/// `p_j = e^{−λ} λ^j / j!`, `q_j = nc e^{−λ} λ^j / (√2 Γ(j + 3/2))` and `I_x` is the
/// regularised incomplete beta function. The sum starts at `j = ⌊λ⌋`, where the
/// weights peak, and runs up and down until they fall below 1e-17 (Benton and
/// Krishnamoorthy 2003), so large noncentralities neither underflow nor need
/// thousands of negligible terms. For `t < 0`, `F(t; nc) = 1 − F(−t; −nc)`.
/// Agrees with `scipy.stats.nct.cdf` to about 1e-12 on the reference cases.
pub fn nct_cdf(t: f64, df: f64, nc: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 || !nc.is_finite() {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    let f = if t < 0.0 { 1.0 - nct_cdf_upper(-t, df, -nc) } else { nct_cdf_upper(t, df, nc) };
    f.clamp(0.0, 1.0)
}

/// [`nct_cdf`] for `t ≥ 0`.
fn nct_cdf_upper(t: f64, df: f64, nc: f64) -> f64 {
    let lambda = nc * nc / 2.0;
    if lambda == 0.0 {
        return student(df).map_or(f64::NAN, |s| s.cdf(t));
    }
    let base = normal_cdf(-nc);
    if df.is_infinite() {
        return normal_cdf(t - nc);
    }
    if t == 0.0 {
        return base;
    }
    // t² / (df + t²), written so that a huge t gives 1 rather than NaN.
    let x = 1.0 / (1.0 + df / (t * t));
    let (ln_lambda, ln_q) = (lambda.ln(), (nc.abs() / std::f64::consts::SQRT_2).ln());
    // The j-th term of the series and the sum of its two weights.
    let term = |j: f64| {
        let ln_pow = -lambda + j * ln_lambda;
        let p = (ln_pow - ln_gamma(j + 1.0)).exp();
        let q = nc.signum() * (ln_pow + ln_q - ln_gamma(j + 1.5)).exp();
        let value = p * beta_reg(j + 0.5, df / 2.0, x) + q * beta_reg(j + 1.0, df / 2.0, x);
        (value, p + q.abs())
    };
    let mode = lambda.floor();
    let mut sum = 0.0;
    for i in 0..NCT_MAX_TERMS {
        let (value, weight) = term(mode + i as f64);
        sum += value;
        if i > 0 && weight < NCT_EPS {
            break;
        }
    }
    let mut j = mode - 1.0;
    while j >= 0.0 && mode - j <= NCT_MAX_TERMS as f64 {
        let (value, weight) = term(j);
        sum += value;
        if weight < NCT_EPS {
            break;
        }
        j -= 1.0;
    }
    base + 0.5 * sum
}

/// The standard normal distribution function, from the regularised incomplete gamma
/// function (`erfc(x) = Q(½, x²)`), accurate to about 1e-16 (relative in the lower
/// tail), where statrs' `Normal::cdf` is off by up to about 1e-11.
fn normal_cdf(z: f64) -> f64 {
    let half_z2 = z * z / 2.0;
    if z < 0.0 { 0.5 * gamma_ur(0.5, half_z2) } else { 0.5 + 0.5 * gamma_lr(0.5, half_z2) }
}

/// Power of the two-sided t-test at level `alpha` against noncentrality `nc` with
/// `df` degrees of freedom: `P(T > c) + P(T < −c)`, `c` the upper `alpha/2` point.
fn power_at(nc: f64, df: f64, alpha: f64) -> f64 {
    let c = t_upper(alpha / 2.0, df);
    if !c.is_finite() {
        return f64::NAN;
    }
    // Far beyond the critical value the test always rejects: with T = (Z + nc) / S,
    // P(T < c) ≤ Φ(−nc/2) + P(S > nc/(2c)), below 1e-22 once nc > 20·max(c, 1) (S is
    // the root of a chi-square over its df; the worst case, df = 1, is |N(0, 1)|), and
    // alike for nc < 0. There the series would need more terms than it may sum (a
    // difference whose sd is rounding error gives an effect of 1e15).
    if nc.abs() > 20.0 * c.max(1.0) {
        return 1.0;
    }
    (1.0 - nct_cdf(c, df, nc) + nct_cdf(-c, df, nc)).clamp(0.0, 1.0)
}

/// Power of the two-sided pooled two-sample t-test at level `alpha` for standardised
/// effect `d` with `n1` and `n2` seeds (statsmodels' `TTestIndPower().power`); NaN
/// with fewer than 3 values in all.
pub fn power_two_sample(d: f64, n1: usize, n2: usize, alpha: f64) -> f64 {
    if n1 == 0 || n2 == 0 || n1 + n2 < 3 {
        return f64::NAN;
    }
    let (a, b) = (n1 as f64, n2 as f64);
    power_at(d * (a * b / (a + b)).sqrt(), a + b - 2.0, alpha)
}

/// Power of the two-sided paired t-test at level `alpha` for standardised effect `d`
/// (mean over sd of the differences) with `n` pairs (statsmodels'
/// `TTestPower().power`); NaN for fewer than 2 pairs.
pub fn power_paired(d: f64, n: usize, alpha: f64) -> f64 {
    if n < 2 {
        return f64::NAN;
    }
    power_at(d * (n as f64).sqrt(), n as f64 - 1.0, alpha)
}

/// How many seeds per level a difference needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedsNeeded {
    /// The smallest number with enough power.
    Exactly(usize),
    /// Not even this many suffice (the cap, [`PowerTarget::max_seeds`]).
    MoreThan(usize),
}

/// A power calculation's level, target power and seed cap.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PowerTarget {
    /// Two-sided significance level.
    pub alpha: f64,
    /// Power wanted.
    pub power: f64,
    /// Seeds per level beyond which the answer is "more than".
    pub max_seeds: usize,
}

impl Default for PowerTarget {
    /// Two-sided 5%, 80% power, at most [`MAX_SEEDS`] seeds.
    fn default() -> Self {
        Self { alpha: ALPHA, power: POWER, max_seeds: MAX_SEEDS }
    }
}

/// Root of the average of two variances: the sd two-sample power calculations use.
pub fn average_sd(sd_a: f64, sd_b: f64) -> f64 {
    ((sd_a * sd_a + sd_b * sd_b) / 2.0).sqrt()
}

impl PowerTarget {
    /// Smallest standardised effect `d > 0` with power at least `self.power`, by
    /// bisection on the increasing power curve; `None` if no `d` up to 1e6 reaches it.
    fn solve_effect(&self, power: impl Fn(f64) -> f64) -> Option<f64> {
        let mut hi = 1.0;
        loop {
            let p = power(hi);
            if p.is_nan() || hi > 1e6 {
                return None;
            }
            if p >= self.power {
                break;
            }
            hi *= 2.0;
        }
        let mut lo = 0.0;
        while hi - lo > 1e-13 * hi {
            let mid = 0.5 * (lo + hi);
            if power(mid) < self.power { lo = mid } else { hi = mid }
        }
        Some(hi)
    }

    /// Standardised difference detectable by the two-sample test with `n1` and `n2`
    /// seeds (statsmodels' `TTestIndPower().solve_power(effect_size=None, ...)`).
    pub fn detectable_effect_two_sample(&self, n1: usize, n2: usize) -> Option<f64> {
        if n1 == 0 || n2 == 0 || n1 + n2 < 3 {
            return None;
        }
        self.solve_effect(|d| power_two_sample(d, n1, n2, self.alpha))
    }

    /// Standardised difference detectable by the paired test with `n` pairs
    /// (statsmodels' `TTestPower().solve_power(effect_size=None, ...)`).
    pub fn detectable_effect_paired(&self, n: usize) -> Option<f64> {
        if n < 2 {
            return None;
        }
        self.solve_effect(|d| power_paired(d, n, self.alpha))
    }

    /// Smallest accuracy difference detectable with `n` seeds per level when the
    /// levels' seed sds are `sd_a` and `sd_b` (standardised by [`average_sd`]).
    pub fn detectable_difference(&self, n: usize, sd_a: f64, sd_b: f64) -> Option<f64> {
        Some(self.detectable_effect_two_sample(n, n)? * average_sd(sd_a, sd_b))
    }

    /// Smallest `n ≥ min` up to the cap with `power(n) ≥ self.power` (power increases
    /// with `n`) for standardised effect `d`: doubling, then bisection. An infinite
    /// effect (a difference without spread) needs only the minimum.
    fn solve_seeds(&self, min: usize, d: f64, power: impl Fn(usize) -> f64) -> SeedsNeeded {
        let enough = |n: usize| power(n) >= self.power;
        let cap = self.max_seeds.max(min);
        if d.is_infinite() || enough(min) {
            return SeedsNeeded::Exactly(min);
        }
        let (mut lo, mut hi) = (min, (2 * min).min(cap));
        while !enough(hi) {
            if hi == cap {
                return SeedsNeeded::MoreThan(cap);
            }
            (lo, hi) = (hi, (2 * hi).min(cap));
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if enough(mid) { hi = mid } else { lo = mid }
        }
        SeedsNeeded::Exactly(hi)
    }

    /// Seeds per level for a two-sample test to resolve a true difference `diff`
    /// between levels with seed sds `sd_a` and `sd_b`; `None` for non-finite or
    /// negative inputs. No spread at all needs the minimum, 2.
    pub fn seeds_needed(&self, diff: f64, sd_a: f64, sd_b: f64) -> Option<SeedsNeeded> {
        if sd_a < 0.0 || sd_b < 0.0 {
            return None;
        }
        self.seeds_needed_sd(diff, average_sd(sd_a, sd_b))
    }

    fn seeds_needed_sd(&self, diff: f64, sd: f64) -> Option<SeedsNeeded> {
        let d = self.effect(diff, sd)?;
        Some(self.solve_seeds(2, d, |n| power_two_sample(d, n, n, self.alpha)))
    }

    /// Pairs (seeds shared by both levels) for a paired test to resolve a true mean
    /// difference `diff` when the differences have sd `sd_diff`; `None` for
    /// non-finite or negative inputs.
    pub fn seeds_needed_paired(&self, diff: f64, sd_diff: f64) -> Option<SeedsNeeded> {
        let d = self.effect(diff, sd_diff)?;
        Some(self.solve_seeds(2, d, |n| power_paired(d, n, self.alpha)))
    }

    /// `|diff| / sd` (infinite for a nonzero difference without spread, 0 for none).
    fn effect(&self, diff: f64, sd: f64) -> Option<f64> {
        if !diff.is_finite() || !sd.is_finite() || sd < 0.0 {
            return None;
        }
        Some(match (diff == 0.0, sd == 0.0) {
            (true, _) => 0.0,
            (false, true) => f64::INFINITY,
            (false, false) => diff.abs() / sd,
        })
    }
}

/// How a trend test places an ordered numeric factor's levels on the x axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// The level itself.
    Linear,
    /// Its natural logarithm (levels must be positive), for factors swept in decades.
    Log,
}

/// Least-squares line of accuracy on an ordered numeric factor, over all runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trend {
    /// How the levels were placed.
    pub scale: Scale,
    /// Runs used.
    pub n: usize,
    /// Accuracy change per unit of x (per e-fold of the level on the log scale).
    pub slope: f64,
    /// Accuracy at x = 0.
    pub intercept: f64,
    /// Standard error of the slope.
    pub slope_se: f64,
    /// Standard error of the intercept.
    pub intercept_se: f64,
    /// Pearson correlation of x and accuracy (0 when accuracy does not vary).
    pub r: f64,
    /// Residual degrees of freedom, `n − 2`.
    pub df: f64,
    /// Two-sided p-value of slope = 0 (t-test with `n − 2` df).
    pub p: f64,
    /// 95% interval of the slope.
    pub slope_ci: (f64, f64),
}

/// OLS trend of `ys` on `xs`, as `scipy.stats.linregress`.
pub fn linear_trend(xs: &[f64], ys: &[f64], scale: Scale) -> Result<Trend, PowerError> {
    if xs.len() != ys.len() {
        return Err(PowerError::LengthMismatch { a: xs.len(), b: ys.len() });
    }
    if xs.len() < 3 {
        return Err(PowerError::TooFew { n: xs.len(), need: 3 });
    }
    check_finite(xs)?;
    check_finite(ys)?;
    let (mx, my) = (mean(xs), mean(ys));
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let syy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    if sxx == 0.0 {
        return Err(PowerError::NoSpread);
    }
    let (n, df) = (xs.len(), xs.len() as f64 - 2.0);
    let slope = sxy / sxx;
    let r = if syy > 0.0 { (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0) } else { 0.0 };
    let s2 = ((1.0 - r * r) * syy).max(0.0) / df;
    let slope_se = (s2 / sxx).sqrt();
    let intercept_se = (s2 * (1.0 / n as f64 + mx * mx / sxx)).sqrt();
    let p = if slope_se > 0.0 {
        two_sided_p(slope / slope_se, df)
    } else if slope == 0.0 {
        1.0
    } else {
        0.0
    };
    let half = t_upper(ALPHA / 2.0, df) * slope_se;
    let slope_ci = (slope - half, slope + half);
    let intercept = my - slope * mx;
    Ok(Trend { scale, n, slope, intercept, slope_se, intercept_se, r, df, p, slope_ci })
}

/// OLS trend of accuracy on the levels of an ordered numeric factor, over all runs:
/// `levels` pairs each level's value with its runs' accuracies.
pub fn trend(levels: &[(f64, &[f64])], scale: Scale) -> Result<Trend, PowerError> {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for &(level, runs) in levels {
        let x = match scale {
            Scale::Linear => level,
            Scale::Log if level > 0.0 => level.ln(),
            Scale::Log => return Err(PowerError::NonPositiveLevel(level)),
        };
        xs.extend(std::iter::repeat_n(x, runs.len()));
        ys.extend_from_slice(runs);
    }
    linear_trend(&xs, &ys, scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn reference() -> Value {
        serde_json::from_str(include_str!("reference.json")).expect("valid reference JSON")
    }

    fn f(v: &Value) -> f64 {
        v.as_f64().expect("a number")
    }

    fn floats(v: &Value) -> Vec<f64> {
        v.as_array().expect("an array").iter().map(f).collect()
    }

    fn pair(v: &Value) -> (f64, f64) {
        let xs = floats(v);
        (xs[0], xs[1])
    }

    fn cases<'a>(v: &'a Value, key: &str) -> &'a [Value] {
        v[key].as_array().expect("a list of cases")
    }

    /// `a` within `tol` of `b`, absolutely or relatively.
    fn near(a: f64, b: f64, tol: f64, what: &str) {
        assert!((a - b).abs() <= tol * b.abs().max(1.0), "{what}: {a} vs reference {b}");
    }

    fn near_pair(a: (f64, f64), b: (f64, f64), tol: f64, what: &str) {
        near(a.0, b.0, tol, what);
        near(a.1, b.1, tol, what);
    }

    /// Against `scipy.stats.ttest_rel` and its `confidence_interval`.
    #[test]
    fn paired_matches_scipy() {
        for c in cases(&reference(), "paired") {
            let t = paired(&floats(&c["a"]), &floats(&c["b"])).expect("a paired test");
            near(t.diff, f(&c["mean_diff"]), 1e-12, "mean difference");
            near(t.sd, f(&c["sd_diff"]), 1e-12, "sd of differences");
            near(t.t.expect("spread"), f(&c["t"]), 1e-9, "t");
            near(t.df, f(&c["df"]), 1e-12, "df");
            near(t.p, f(&c["p"]), 1e-9, "p");
            near_pair(t.ci, pair(&c["ci95"]), 1e-9, "95% interval");
            near_pair(t.ci_adjusted(ALPHA, 3), pair(&c["ci_bonferroni_m3"]), 1e-9, "m = 3");
            near_pair(t.ci_adjusted(ALPHA, 10), pair(&c["ci_bonferroni_m10"]), 1e-9, "m = 10");
        }
    }

    /// Against `scipy.stats.ttest_ind(equal_var=False)` and numpy's Cohen's d.
    #[test]
    fn welch_matches_scipy() {
        for c in cases(&reference(), "welch") {
            let (a, b) = (floats(&c["a"]), floats(&c["b"]));
            let t = welch(&a, &b).expect("a Welch test");
            near(t.t.expect("spread"), f(&c["t"]), 1e-9, "t");
            near(t.df, f(&c["df"]), 1e-9, "df");
            near(t.p, f(&c["p"]), 1e-9, "p");
            near_pair(t.ci, pair(&c["ci95"]), 1e-9, "95% interval");
            near_pair(t.ci_adjusted(ALPHA, 3), pair(&c["ci_bonferroni_m3"]), 1e-9, "m = 3");
            near_pair(t.ci_adjusted(ALPHA, 10), pair(&c["ci_bonferroni_m10"]), 1e-9, "m = 10");
            near(cohen_d(&a, &b).expect("spread"), f(&c["cohen_d"]), 1e-12, "Cohen's d");
            // Agrees with the 95% comparison of the stats module.
            let old = super::super::stats::compare(&a, &b).expect("comparable");
            near(old.p.expect("p"), t.p, 1e-9, "stats::compare p");
        }
    }

    /// Against `scipy.stats.linregress` on log and linear levels.
    #[test]
    fn trend_matches_linregress() {
        for c in cases(&reference(), "trend") {
            let scale = if c["scale"] == "log" { Scale::Log } else { Scale::Linear };
            let runs: Vec<Vec<f64>> =
                c["runs"].as_array().expect("runs").iter().map(floats).collect();
            let levels: Vec<(f64, &[f64])> =
                floats(&c["levels"]).into_iter().zip(runs.iter().map(Vec::as_slice)).collect();
            let t = trend(&levels, scale).expect("a trend");
            near(t.slope, f(&c["slope"]), 1e-10, "slope");
            near(t.intercept, f(&c["intercept"]), 1e-12, "intercept");
            near(t.r, f(&c["r"]), 1e-10, "r");
            near(t.p, f(&c["p"]), 1e-8, "p");
            // Tiny p-values are compared relatively too.
            assert!((t.p / f(&c["p"]) - 1.0).abs() < 1e-6, "p {} vs {}", t.p, f(&c["p"]));
            near(t.slope_se, f(&c["slope_se"]), 1e-10, "slope se");
            near(t.intercept_se, f(&c["intercept_se"]), 1e-10, "intercept se");
        }
    }

    /// Against `scipy.stats.nct.cdf`, including negative t, negative and large
    /// noncentrality, and large df.
    #[test]
    fn noncentral_t_matches_scipy() {
        for c in cases(&reference(), "nct") {
            let (t, df, nc) = (f(&c["t"]), f(&c["df"]), f(&c["nc"]));
            let want = f(&c["cdf"]);
            let got = nct_cdf(t, df, nc);
            assert!((got - want).abs() < 1e-11, "nct({t}, {df}, {nc}) = {got}, want {want}");
        }
        assert_eq!(nct_cdf(f64::INFINITY, 3.0, 1.0), 1.0);
        assert!(nct_cdf(1.0, 0.0, 1.0).is_nan() && nct_cdf(f64::NAN, 3.0, 1.0).is_nan());
    }

    /// Against statsmodels' `TTestIndPower().power` and `TTestPower().power`.
    #[test]
    fn power_matches_statsmodels() {
        let r = reference();
        for c in cases(&r["power"], "two_sample") {
            let (n1, n2) = (f(&c["n1"]) as usize, f(&c["n2"]) as usize);
            let got = power_two_sample(f(&c["d"]), n1, n2, ALPHA);
            near(got, f(&c["power"]), 1e-9, "two-sample power");
        }
        for c in cases(&r["power"], "paired") {
            let got = power_paired(f(&c["d"]), f(&c["n"]) as usize, ALPHA);
            near(got, f(&c["power"]), 1e-9, "paired power");
        }
        assert!(
            power_two_sample(1.0, 1, 1, ALPHA).is_nan() && power_paired(1.0, 1, ALPHA).is_nan()
        );
    }

    /// Against statsmodels' `solve_power(effect_size=None, ...)`, which stops within
    /// about 1e-6 of the target power (so 1e-5 relative), and against the root of the
    /// same power formula refined to 1e-14 by scipy's brentq (1e-9 relative); our
    /// bisection goes to 1e-13.
    #[test]
    fn detectable_effects_match_statsmodels() {
        let r = reference();
        let target = PowerTarget::default();
        for c in cases(&r["power"], "detectable_two_sample") {
            let n = f(&c["n"]) as usize;
            let d = target.detectable_effect_two_sample(n, n).expect("solvable");
            near(d, f(&c["d"]), 1e-9, "two-sample detectable effect");
            let loose = (d / f(&c["d_solve_power"]) - 1.0).abs();
            assert!(loose < 1e-5, "n = {n}: {d} vs solve_power");
            near(power_two_sample(d, n, n, ALPHA), POWER, 1e-10, "power at the solution");
        }
        for c in cases(&r["power"], "detectable_paired") {
            let n = f(&c["n"]) as usize;
            let d = target.detectable_effect_paired(n).expect("solvable");
            near(d, f(&c["d"]), 1e-9, "paired detectable effect");
            let loose = (d / f(&c["d_solve_power"]) - 1.0).abs();
            assert!(loose < 1e-5, "n = {n}: {d} vs solve_power");
        }
        // In accuracy units: the effect times the root average variance.
        let got = target.detectable_difference(5, 0.003, 0.004).expect("solvable");
        near(got, 2.024439339384543 * average_sd(0.003, 0.004), 1e-9, "in points");
        assert!(target.detectable_effect_two_sample(1, 1).is_none());
        assert!(target.detectable_effect_paired(1).is_none());
    }

    /// The smallest whole n with power ≥ 0.8, checked against statsmodels' fractional
    /// `solve_power(nobs=None)` and its power on either side.
    #[test]
    fn seeds_needed_match_statsmodels() {
        let r = reference();
        let target = PowerTarget::default();
        for c in cases(&r["power"], "seeds_two_sample") {
            let (d, n) = (f(&c["d"]), f(&c["n"]) as usize);
            assert!(f(&c["power_below"]) < POWER && f(&c["power_at_n"]) >= POWER);
            // A difference of d·σ with both sds σ = 0.01.
            let got = target.seeds_needed(d * 0.01, 0.01, 0.01);
            assert_eq!(got, Some(SeedsNeeded::Exactly(n)), "d = {d}");
            near(power_two_sample(d, n, n, ALPHA), f(&c["power_at_n"]), 1e-9, "power at n");
        }
        for c in cases(&r["power"], "seeds_paired") {
            let (d, n) = (f(&c["d"]), f(&c["n"]) as usize);
            let got = target.seeds_needed_paired(-d * 0.002, 0.002);
            assert_eq!(got, Some(SeedsNeeded::Exactly(n)), "d = {d}");
            near(power_paired(d, n - 1, ALPHA), f(&c["power_below"]), 1e-9, "power below n");
        }
    }

    #[test]
    fn seeds_needed_edges() {
        let target = PowerTarget::default();
        let none = target.seeds_needed(0.0, 0.01, 0.01).expect("finite");
        assert_eq!(none, SeedsNeeded::MoreThan(MAX_SEEDS));
        // d = 0.02 needs about 39 000 seeds per level: beyond the cap.
        assert_eq!(target.seeds_needed(0.0002, 0.01, 0.01), Some(SeedsNeeded::MoreThan(10_000)));
        let exact = target.seeds_needed(0.01, 0.0, 0.0).expect("finite");
        assert_eq!(exact, SeedsNeeded::Exactly(2));
        assert_eq!(target.seeds_needed(f64::NAN, 0.01, 0.01), None);
        assert_eq!(target.seeds_needed_paired(0.01, -1.0), None);
        // A level outside (0, 1) gives NaN, not a panic.
        assert!(power_paired(1.0, 5, 3.0).is_nan());
        assert!(paired(&[0.8, 0.9], &[0.7, 0.75]).expect("valid").ci_adjusted(-1.0, 2).0.is_nan());
        // An sd that is rounding error (constant differences): certain power at once.
        assert_eq!(power_paired(1e15, 2, ALPHA), 1.0);
        assert_eq!(power_two_sample(-1e12, 2, 2, ALPHA), 1.0);
        assert_eq!(target.seeds_needed_paired(0.01, 1e-17), Some(SeedsNeeded::Exactly(2)));
        let small = PowerTarget { max_seeds: 50, ..target };
        assert_eq!(small.seeds_needed_paired(0.3, 1.0), Some(SeedsNeeded::MoreThan(50)));
    }

    /// The Bonferroni interval excludes zero exactly when the Bonferroni p-value is
    /// below alpha, for both designs, over many samples (a fixed generator).
    #[test]
    fn adjusted_intervals_agree_with_bonferroni_verdicts() {
        let mut state = 0x1234_5678_9abc_def0_u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut checked = 0;
        for i in 0..2000 {
            let n = 3 + i % 6;
            let shift = 0.02 * uniform();
            let a: Vec<f64> = (0..n).map(|_| 0.8 + shift + 0.02 * uniform()).collect();
            let b: Vec<f64> = (0..n + i % 3).map(|_| 0.8 + 0.02 * uniform()).collect();
            let m = 1 + i % 12;
            for test in [paired(&a, &b[..n]), welch(&a, &b)] {
                let test = test.expect("valid samples");
                let (lo, hi) = test.ci_adjusted(ALPHA, m);
                let excludes = lo > 0.0 || hi < 0.0;
                // Skip the knife edge, where rounding decides.
                if (test.p_bonferroni(m) / ALPHA - 1.0).abs() > 1e-9 {
                    assert_eq!(excludes, test.significant_bonferroni(ALPHA, m), "{test:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 3900);
    }

    #[test]
    fn degenerate_tests() {
        assert_eq!(paired(&[1.0], &[1.0]), Err(PowerError::TooFew { n: 1, need: 2 }));
        assert_eq!(paired(&[1.0, 2.0], &[1.0]), Err(PowerError::LengthMismatch { a: 2, b: 1 }));
        assert_eq!(welch(&[1.0, f64::NAN], &[1.0, 2.0]), Err(PowerError::NonFinite));
        // Constant differences: the difference is exact.
        let t = paired(&[0.9, 0.8, 0.7], &[0.85, 0.75, 0.65]).expect("valid");
        assert!(t.t.is_none() || t.se < 1e-15);
        let exact = paired(&[0.5, 0.5], &[0.4, 0.4]).expect("valid");
        assert_eq!((exact.t, exact.p), (None, 0.0));
        assert_eq!(exact.ci_adjusted(ALPHA, 5), (exact.diff, exact.diff));
        let same = welch(&[0.5, 0.5], &[0.5, 0.5]).expect("valid");
        assert_eq!((same.p, same.effect_size()), (1.0, None));
        assert_eq!(cohen_d(&[1.0], &[1.0, 2.0]), None);
        // Trend errors.
        let runs: &[f64] = &[0.8, 0.81];
        assert_eq!(trend(&[(1.0, runs), (1.0, runs)], Scale::Linear), Err(PowerError::NoSpread));
        assert_eq!(
            trend(&[(0.0, runs), (1.0, runs)], Scale::Log),
            Err(PowerError::NonPositiveLevel(0.0))
        );
        assert_eq!(
            trend(&[(1.0, &runs[..1]), (2.0, &[])], Scale::Linear).unwrap_err().to_string(),
            "1 values, the test needs 3"
        );
    }

    /// A test's own power answers: the paired test of the reference's first case, and
    /// a Welch test whose sds are equal, so its power is statsmodels' exactly.
    #[test]
    fn a_test_says_what_it_needs() {
        let target = PowerTarget::default();
        let t = paired(&[0.912, 0.905, 0.918, 0.909, 0.915], &[0.903, 0.901, 0.910, 0.906, 0.904])
            .expect("valid");
        let dz = t.effect_size().expect("spread");
        near(t.detectable(&target).expect("solvable"), 1.6819969659555551 * t.sd, 1e-9, "paired");
        let needed = t.seeds_needed(&target).expect("finite");
        assert_eq!(needed, target.seeds_needed_paired(t.diff, t.sd).expect("finite"));
        if let SeedsNeeded::Exactly(n) = needed {
            assert!(power_paired(dz, n, ALPHA) >= POWER && power_paired(dz, n - 1, ALPHA) < POWER);
        }
        let w = welch(&[0.80, 0.82, 0.84], &[0.78, 0.80, 0.82]).expect("valid");
        near(w.sd, 0.02, 1e-12, "average sd");
        near(w.effect_size().expect("spread"), 1.0, 1e-9, "effect");
        assert_eq!(w.seeds_needed(&target), Some(SeedsNeeded::Exactly(17)));
    }
}
