//! The noncentral F distribution and the confidence interval of the noncentrality an
//! observed F statistic implies (the basis of the interval for the between-level sd).

use statrs::function::beta::{checked_beta_reg, ln_beta};
use statrs::function::gamma::ln_gamma;

use super::common::valid_alpha;

/// Poisson weights below this end the series: each term is a weight times a
/// probability, and past the mode the weights fall geometrically.
const WEIGHT_EPS: f64 = 1e-17;

/// The largest noncentrality the interval search tries; beyond it the series needs
/// too many terms (about `17 √(λ/2)` per evaluation).
pub const MAX_NONCENTRALITY: f64 = 1e8;

/// The largest noncentrality [`ncf_cdf`] accepts: the series needs about
/// `17 √(λ/2)` terms, and beyond this more than it may sum.
pub const MAX_LAMBDA: f64 = 1e10;

/// Most series terms on either side of the Poisson mode.
const MAX_TERMS: usize = 2_000_000;

/// `(P(F ≤ x), P(F > x))` for the noncentral F, each summed from its own side so
/// both tails keep their digits. NaN pair for invalid parameters.
///
/// `P(F ≤ x) = Σ_j w_j I_y(d1/2 + j, d2/2)` with `y = d1 x / (d1 x + d2)` and Poisson
/// weights `w_j = e^{−λ/2} (λ/2)^j / j!`. The sum starts at the mode `j = ⌊λ/2⌋` with
/// the incomplete beta function evaluated directly, and runs both ways with the
/// recurrence `I_y(a + 1, c) = I_y(a, c) − T(a)`, `T(a) = y^a (1 − y)^c / (a B(a, c))`,
/// `T(a + 1) = T(a) · y (a + c) / (a + 1)`, kept in logarithms so no term underflows.
/// Both sums are divided by the sum of the weights used, which cancels the
/// rounding error of the weights (all share that of the mode's).
fn ncf_tails(x: f64, df1: f64, df2: f64, lambda: f64) -> (f64, f64) {
    let valid = df1 > 0.0 && df2 > 0.0 && df1.is_finite() && df2.is_finite();
    if !(valid && (0.0..=MAX_LAMBDA).contains(&lambda)) || x.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    if x <= 0.0 {
        return (0.0, 1.0);
    }
    if x.is_infinite() {
        return (1.0, 0.0);
    }
    let y = df1 * x / (df1 * x + df2);
    let y_comp = df2 / (df1 * x + df2);
    if y == 0.0 || y_comp == 0.0 {
        return if y == 0.0 { (0.0, 1.0) } else { (1.0, 0.0) };
    }
    let (a, c, mu) = (df1 / 2.0, df2 / 2.0, lambda / 2.0);
    let mode = mu.floor();
    let beta = |a: f64| checked_beta_reg(a, c, y).unwrap_or(f64::NAN);
    let beta_comp = |a: f64| checked_beta_reg(c, a, y_comp).unwrap_or(f64::NAN);
    let ln_t = |a: f64| a * y.ln() + c * y_comp.ln() - a.ln() - ln_beta(a, c);
    let ln_w0 = if mu > 0.0 { -mu + mode * mu.ln() - ln_gamma(mode + 1.0) } else { 0.0 };
    let (i0, j0, ln_t0) = (beta(a + mode), beta_comp(a + mode), ln_t(a + mode));

    // Upwards from the mode: I falls by T(a + j), T grows by y (a + j + c)/(a + j + 1).
    let (mut lower, mut upper, mut weights) = (0.0, 0.0, 0.0);
    let (mut i, mut ic, mut ln_tj, mut ln_w) = (i0, j0, ln_t0, ln_w0);
    for n in 0..MAX_TERMS {
        let j = mode + n as f64;
        let w = ln_w.exp();
        weights += w;
        lower += w * i.max(0.0);
        upper += w * ic.max(0.0);
        if w < WEIGHT_EPS && j > mu {
            break;
        }
        let t = ln_tj.exp();
        (i, ic) = (i - t, ic + t);
        ln_tj += y.ln() + (a + j + c).ln() - (a + j + 1.0).ln();
        ln_w += mu.ln() - (j + 1.0).ln();
    }
    // Downwards: I(a + j − 1) = I(a + j) + T(a + j − 1).
    let (mut i, mut ic, mut ln_tj, mut ln_w) = (i0, j0, ln_t0, ln_w0);
    let mut j = mode;
    while j >= 1.0 && mode - j < MAX_TERMS as f64 {
        ln_tj -= y.ln() + (a + j - 1.0 + c).ln() - (a + j).ln();
        ln_w += j.ln() - mu.ln();
        j -= 1.0;
        let t = ln_tj.exp();
        (i, ic) = (i + t, ic - t);
        let w = ln_w.exp();
        weights += w;
        lower += w * i.min(1.0);
        upper += w * ic.clamp(0.0, 1.0);
        if w < WEIGHT_EPS {
            break;
        }
    }
    // The weights' common relative error (that of `ln w` at the mode, which grows
    // like λ ln λ times the rounding unit) cancels here; the mass left out is below
    // 1e-15.
    ((lower / weights).clamp(0.0, 1.0), (upper / weights).clamp(0.0, 1.0))
}

/// Distribution function `P(F ≤ x)` of the noncentral F with `df1` and `df2` degrees
/// of freedom and noncentrality `lambda` (scipy's `ncf.cdf(x, df1, df2, lambda)`; 0
/// is the central F). NaN for nonpositive or infinite degrees of freedom or a
/// noncentrality that is negative or above [`MAX_LAMBDA`]. Agrees with scipy to
/// about 1e-12 up to `λ = 1e4` and 5e-10 at `λ = 1e6` (the rounding of the
/// log-gamma differences in the incomplete beta function grows with its
/// parameters).
pub fn ncf_cdf(x: f64, df1: f64, df2: f64, lambda: f64) -> f64 {
    ncf_tails(x, df1, df2, lambda).0
}

/// Survival function `P(F > x)` of the noncentral F (see [`ncf_cdf`]), summed from
/// the upper tail so that small values keep their relative precision.
pub fn ncf_sf(x: f64, df1: f64, df2: f64, lambda: f64) -> f64 {
    ncf_tails(x, df1, df2, lambda).1
}

/// The `1 − alpha` confidence interval `(lower, upper)` of the noncentrality `λ`
/// given an observed statistic `f` on `(df1, df2)` degrees of freedom, by test
/// inversion: `lower` solves `ncf_cdf(f; λ) = 1 − alpha/2` and `upper` solves
/// `ncf_cdf(f; λ) = alpha/2` (the cdf falls as `λ` grows). A bound whose equation has
/// no nonnegative root (`f` too small for it) is 0, so a small `f` gives `(0, 0)` or
/// `(0, upper)`. `None` for invalid input or an upper bound beyond
/// [`MAX_NONCENTRALITY`]. Bounds are found to a relative 1e-12.
pub fn noncentrality_interval(f: f64, df1: f64, df2: f64, alpha: f64) -> Option<(f64, f64)> {
    if !(f.is_finite() && f >= 0.0 && valid_alpha(alpha)) || ncf_cdf(f, df1, df2, 0.0).is_nan() {
        return None;
    }
    let cdf = |lambda: f64| ncf_cdf(f, df1, df2, lambda);
    let lower = solve_decreasing(cdf, 1.0 - alpha / 2.0, f * df1)?;
    let upper = solve_decreasing(cdf, alpha / 2.0, f * df1)?;
    Some((lower, upper))
}

/// The `λ ≥ 0` where the decreasing `g(λ)` equals `target`, or 0 when already
/// `g(0) ≤ target`; `None` past [`MAX_NONCENTRALITY`]. Brackets by doubling from
/// `start`, then bisects.
fn solve_decreasing(g: impl Fn(f64) -> f64, target: f64, start: f64) -> Option<f64> {
    if g(0.0) <= target {
        return Some(0.0);
    }
    let (mut lo, mut hi) = (0.0, start.max(1.0));
    loop {
        if hi > 2.0 * MAX_NONCENTRALITY {
            return None;
        }
        if g(hi) <= target {
            break;
        }
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi {
            break;
        }
    }
    let root = 0.5 * (lo + hi);
    (root <= MAX_NONCENTRALITY).then_some(root)
}

#[cfg(test)]
mod tests {
    use super::super::common::{f_cdf, f_sf};
    use super::super::testutil::{cases, f, near, near_pair, pair, reference};
    use super::*;

    /// Against `scipy.stats.ncf.cdf` and `.sf`.
    #[test]
    fn cdf_matches_scipy() {
        for c in cases(&reference(), "ncf") {
            let args = (f(&c["x"]), f(&c["df1"]), f(&c["df2"]), f(&c["lambda"]));
            let cdf = ncf_cdf(args.0, args.1, args.2, args.3);
            let sf = ncf_sf(args.0, args.1, args.2, args.3);
            near(cdf, f(&c["cdf"]), 1e-9, &format!("ncf cdf {args:?}"));
            near(sf, f(&c["sf"]), 1e-9, &format!("ncf sf {args:?}"));
            let sf_ref = f(&c["sf"]);
            if sf_ref > 1e-300 {
                assert!((sf / sf_ref - 1.0).abs() < 1e-7, "relative sf {args:?}: {sf} vs {sf_ref}");
            }
        }
    }

    /// Against a root-finder on `scipy.stats.ncf.cdf`.
    #[test]
    fn interval_matches_scipy_root_finding() {
        for c in cases(&reference(), "ncf_interval") {
            let (fv, d1, d2, alpha) = (f(&c["f"]), f(&c["df1"]), f(&c["df2"]), f(&c["alpha"]));
            let ci = noncentrality_interval(fv, d1, d2, alpha).expect("an interval");
            near_pair(ci, pair(&c["interval"]), 1e-9, &format!("λ interval F = {fv}"));
        }
    }

    #[test]
    fn zero_noncentrality_is_the_central_f() {
        for (x, d1, d2) in [(0.3, 2.0, 8.0), (2.5, 4.0, 16.0), (40.0, 8.0, 152.0)] {
            near(ncf_cdf(x, d1, d2, 0.0), f_cdf(x, d1, d2), 1e-13, "cdf at λ = 0");
            near(ncf_sf(x, d1, d2, 0.0), f_sf(x, d1, d2), 1e-13, "sf at λ = 0");
        }
    }

    #[test]
    fn tails_sum_to_one_and_cdf_falls_with_lambda() {
        let mut last = 1.0;
        for lambda in [0.0, 0.5, 3.0, 20.0, 400.0, 1e4, 1e6] {
            let (x, d1, d2) = (1.0 + lambda / 2.0, 3.0, 12.0);
            let (lo, up) = (ncf_cdf(x, d1, d2, lambda), ncf_sf(x, d1, d2, lambda));
            // The incomplete beta function's rounding grows with its parameters.
            near(lo + up, 1.0, if lambda <= 1e4 { 1e-12 } else { 1e-9 }, "cdf + sf");
            let at_one = ncf_cdf(2.0, d1, d2, lambda);
            assert!(at_one <= last, "cdf at 2 rises with λ = {lambda}");
            last = at_one;
        }
    }

    #[test]
    fn interval_edges_and_bad_input() {
        assert_eq!(noncentrality_interval(0.01, 2.0, 8.0, 0.05), Some((0.0, 0.0)));
        let (lo, up) = noncentrality_interval(1.5, 2.0, 8.0, 0.05).expect("interval");
        assert!(lo == 0.0 && up > 0.0);
        assert!(noncentrality_interval(f64::NAN, 2.0, 8.0, 0.05).is_none());
        assert!(noncentrality_interval(3.0, 0.0, 8.0, 0.05).is_none());
        assert!(noncentrality_interval(3.0, 2.0, 8.0, 1.0).is_none());
        assert!(noncentrality_interval(1e12, 2.0, 8.0, 0.05).is_none(), "beyond the cap");
        assert!(ncf_cdf(1.0, 2.0, 8.0, -1.0).is_nan() && ncf_cdf(f64::NAN, 2.0, 8.0, 1.0).is_nan());
        assert!(
            ncf_cdf(1.0, 2.0, 8.0, 1e11).is_nan() && ncf_sf(1.0, 2.0, f64::INFINITY, 1.0).is_nan()
        );
        assert_eq!(ncf_cdf(-1.0, 2.0, 8.0, 1.0), 0.0);
    }
}
