//! Equivalence of two paired levels within a margin: the two one-sided tests (TOST).
//! "Within seed noise" is a claim that needs this test; failing to find a
//! difference is not evidence of its absence.

use serde::Serialize;

use super::common::{
    all_finite, max_abs, mean, negligible, t_cdf, t_sf, t_upper, valid_alpha, variance,
};

/// Fewest pairs the test is run with.
pub const MIN_PAIRS: usize = 3;

/// The paired TOST of `|mean(a − b)| < delta`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tost {
    /// Pairs `n`.
    pub n: usize,
    /// Mean paired difference `a − b`.
    pub diff: f64,
    /// Its standard error, `sd(a − b) / √n`.
    pub se: f64,
    /// `n − 1`.
    pub df: f64,
    /// `(diff + delta) / se`, the statistic against `diff ≤ −delta`.
    pub t_lower: f64,
    /// `P(T ≥ t_lower)`.
    pub p_lower: f64,
    /// `(diff − delta) / se`, the statistic against `diff ≥ delta`.
    pub t_upper: f64,
    /// `P(T ≤ t_upper)`.
    pub p_upper: f64,
    /// `max(p_lower, p_upper)`: the TOST p-value (unadjusted).
    pub p: f64,
    /// The `1 − 2·alpha/comparisons` interval of `diff`; the test declares
    /// equivalence exactly when it lies inside `(−delta, delta)`.
    pub ci: (f64, f64),
    /// Whether `p < alpha / comparisons`.
    pub equivalent: bool,
}

/// The outcome of a paired equivalence test.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Equivalence {
    /// The test ran; its `equivalent` says whether equivalence was shown.
    Tested(Tost),
    /// Fewer than [`MIN_PAIRS`] pairs: not enough to tell; neither equivalent nor
    /// different.
    TooFew {
        /// Pairs given.
        n: usize,
    },
    /// The differences do not vary (up to rounding), so no standard error can be
    /// estimated: neither equivalent nor different.
    NoSpread {
        /// Pairs given.
        n: usize,
        /// Their common difference.
        diff: f64,
    },
}

impl Equivalence {
    /// Whether equivalence was shown (never for the degenerate outcomes).
    pub fn is_equivalent(&self) -> bool {
        matches!(self, Self::Tested(t) if t.equivalent)
    }

    /// Whether the test could be run at all (`false` means "not enough data").
    pub fn is_resolved(&self) -> bool {
        matches!(self, Self::Tested(_))
    }
}

/// The paired TOST of `a − b` (`a[r]` and `b[r]` share block `r`) within
/// `(−delta, delta)`, in the units of the data, at level `alpha` Bonferroni-adjusted
/// over `comparisons` tests (0 counts as 1). The p-value equals statsmodels'
/// `ttost_paired(a, b, -delta, delta)[0]`. `None` for slices of different lengths,
/// non-finite values, `delta ≤ 0` or not finite, or `alpha` outside (0, 1).
pub fn tost_paired(
    a: &[f64],
    b: &[f64],
    delta: f64,
    alpha: f64,
    comparisons: usize,
) -> Option<Equivalence> {
    let ok = a.len() == b.len() && all_finite(a) && all_finite(b) && valid_alpha(alpha);
    if !(ok && delta > 0.0 && delta.is_finite()) {
        return None;
    }
    let n = a.len();
    if n < MIN_PAIRS {
        return Some(Equivalence::TooFew { n });
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let (diff, sd) = (mean(&d), variance(&d).max(0.0).sqrt());
    if negligible(sd, max_abs(&d)) {
        return Some(Equivalence::NoSpread { n, diff });
    }
    let (se, df) = (sd / (n as f64).sqrt(), (n - 1) as f64);
    let (t_lower, t_upper_stat) = ((diff + delta) / se, (diff - delta) / se);
    let (p_lower, p_upper) = (t_sf(t_lower, df), t_cdf(t_upper_stat, df));
    let level = alpha / comparisons.max(1) as f64;
    let half = t_upper(level, df) * se;
    let p = p_lower.max(p_upper);
    Some(Equivalence::Tested(Tost {
        n,
        diff,
        se,
        df,
        t_lower,
        p_lower,
        t_upper: t_upper_stat,
        p_upper,
        p,
        ci: (diff - half, diff + half),
        equivalent: p < level,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{cases, f, floats, near, near_rel, reference};
    use super::*;

    fn tested(e: Option<Equivalence>) -> Tost {
        match e {
            Some(Equivalence::Tested(t)) => t,
            other => panic!("expected a test, got {other:?}"),
        }
    }

    /// Against statsmodels' `ttost_paired`.
    #[test]
    fn matches_statsmodels_ttost_paired() {
        for c in cases(&reference(), "tost") {
            let (a, b, delta) = (floats(&c["a"]), floats(&c["b"]), f(&c["delta"]));
            let t = tested(tost_paired(&a, &b, delta, 0.05, 1));
            near_rel(t.p, f(&c["p"]), 1e-9, "TOST p");
            near(t.t_lower, f(&c["t_lower"]), 1e-9, "t lower");
            near_rel(t.p_lower, f(&c["p_lower"]), 1e-9, "p lower");
            near(t.t_upper, f(&c["t_upper"]), 1e-9, "t upper");
            near_rel(t.p_upper, f(&c["p_upper"]), 1e-9, "p upper");
        }
    }

    /// The interval rule and the p-value rule agree, with and without adjustment.
    #[test]
    fn interval_inside_margin_iff_p_below_level() {
        let a = [0.912, 0.905, 0.918, 0.909, 0.915, 0.911];
        let b = [0.910, 0.906, 0.915, 0.909, 0.913, 0.910];
        for delta in [0.001, 0.002, 0.003, 0.005, 0.01] {
            for m in [1, 3, 10] {
                let t = tested(tost_paired(&a, &b, delta, 0.05, m));
                let inside = -delta < t.ci.0 && t.ci.1 < delta;
                assert_eq!(inside, t.equivalent, "delta {delta}, m {m}: {t:?}");
            }
        }
        assert!(tested(tost_paired(&a, &b, 0.01, 0.05, 1)).equivalent);
        assert!(!tested(tost_paired(&a, &b, 0.001, 0.05, 1)).equivalent);
        let loose = tested(tost_paired(&a, &b, 0.004, 0.05, 1));
        let strict = tested(tost_paired(&a, &b, 0.004, 0.05, 1000));
        assert!(loose.equivalent && !strict.equivalent, "adjustment bites");
    }

    #[test]
    fn too_few_or_no_spread_is_never_equivalent() {
        let two = tost_paired(&[1.0, 2.0], &[1.0, 2.0], 5.0, 0.05, 1).expect("valid");
        assert_eq!(two, Equivalence::TooFew { n: 2 });
        let flat = tost_paired(&[1.1, 2.1, 3.1], &[1.0, 2.0, 3.0], 5.0, 0.05, 1).expect("valid");
        assert!(matches!(flat, Equivalence::NoSpread { n: 3, .. }), "{flat:?}");
        for e in [two, flat] {
            assert!(!e.is_equivalent() && !e.is_resolved());
        }
        assert!(tost_paired(&[1.0, 2.0, 3.0], &[1.0, 2.0], 1.0, 0.05, 1).is_none());
        assert!(tost_paired(&[1.0, 2.0, f64::NAN], &[1.0, 2.0, 3.0], 1.0, 0.05, 1).is_none());
        assert!(tost_paired(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], 0.0, 0.05, 1).is_none());
    }
}
