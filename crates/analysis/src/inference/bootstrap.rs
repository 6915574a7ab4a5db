//! Percentile bootstrap over blocks (replicates) for an sd and for the ratio of two
//! sds measured on the same blocks: resampling whole blocks keeps the pairing, and
//! nothing is assumed about the shape of the noise.

use serde::Serialize;

use super::common::{all_finite, valid_alpha, variance};

pub(crate) use crate::splitmix::SplitMix;

/// Most resamples a bootstrap draws (more is refused rather than allocated).
pub const MAX_RESAMPLES: usize = 1_000_000;

/// A percentile-bootstrap interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BootstrapInterval {
    /// The statistic on the data as observed.
    pub estimate: f64,
    /// The `alpha/2` and `1 − alpha/2` quantiles of the resampled statistics
    /// (linear interpolation between order statistics, numpy's default).
    pub ci: (f64, f64),
    /// Resamples whose statistic was defined (and so were used).
    pub used: usize,
    /// Resamples left out: for a ratio, those drawing a single block over and over,
    /// where both sds are 0.
    pub dropped: usize,
}

/// The sd (divisor `n − 1`) of `values`, one per block, with a `1 − alpha`
/// percentile interval from `resamples` resamples of the blocks drawn with
/// replacement by SplitMix64 from `seed` (for each resample, `n` draws of
/// `next() % n`). `None` below 2 values, with a non-finite value, no resamples or
/// more than [`MAX_RESAMPLES`], or `alpha` outside (0, 1). With few blocks the
/// interval is too narrow (the bootstrap sd is biased low); prefer
/// [`super::variance::sd_interval`] for normal noise.
pub fn bootstrap_sd(
    values: &[f64],
    resamples: usize,
    alpha: f64,
    seed: u64,
) -> Option<BootstrapInterval> {
    if values.len() < 2 || !all_finite(values) || !usable(resamples, alpha) {
        return None;
    }
    let mut rng = SplitMix(seed);
    let mut draw = vec![0.0; values.len()];
    let mut stats = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for v in draw.iter_mut() {
            *v = values[rng.below(values.len())];
        }
        stats.push(sd(&draw));
    }
    let estimate = sd(values);
    interval(estimate, stats, resamples, alpha)
}

/// The ratio `sd(a) / sd(b)` of two series measured on the same blocks (`a[r]` and
/// `b[r]` share block `r`), with a `1 − alpha` percentile interval from resampling
/// blocks jointly (as [`bootstrap_sd`], the same index for both). A resample where
/// `sd(b)` is 0 but `sd(a)` is not counts as an infinite ratio (so an end of the
/// interval can be infinite); one where both are 0 is dropped. `None` for slices of
/// different lengths or below 2 values, non-finite values, `sd(b) = 0` in the data,
/// no resamples or more than [`MAX_RESAMPLES`], `alpha` outside (0, 1), or when
/// every resample is dropped.
pub fn bootstrap_sd_ratio(
    a: &[f64],
    b: &[f64],
    resamples: usize,
    alpha: f64,
    seed: u64,
) -> Option<BootstrapInterval> {
    let ok = a.len() == b.len() && a.len() >= 2 && all_finite(a) && all_finite(b);
    if !ok || !usable(resamples, alpha) || sd(b) <= 0.0 {
        return None;
    }
    let n = a.len();
    let mut rng = SplitMix(seed);
    let (mut draw_a, mut draw_b) = (vec![0.0; n], vec![0.0; n]);
    let mut stats = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for (va, vb) in draw_a.iter_mut().zip(draw_b.iter_mut()) {
            let r = rng.below(n);
            (*va, *vb) = (a[r], b[r]);
        }
        let (sa, sb) = (sd(&draw_a), sd(&draw_b));
        match (sa > 0.0, sb > 0.0) {
            (_, true) => stats.push(sa / sb),
            (true, false) => stats.push(f64::INFINITY),
            (false, false) => {}
        }
    }
    interval(sd(a) / sd(b), stats, resamples, alpha)
}

/// Whether a resample count and level can be used.
fn usable(resamples: usize, alpha: f64) -> bool {
    (1..=MAX_RESAMPLES).contains(&resamples) && valid_alpha(alpha)
}

/// Sample sd, divisor `n − 1`.
fn sd(xs: &[f64]) -> f64 {
    variance(xs).max(0.0).sqrt()
}

/// The percentile interval of `stats` (of `resamples` drawn); `None` when empty.
fn interval(
    estimate: f64,
    mut stats: Vec<f64>,
    resamples: usize,
    alpha: f64,
) -> Option<BootstrapInterval> {
    if stats.is_empty() {
        return None;
    }
    stats.sort_by(f64::total_cmp);
    let ci = (quantile(&stats, alpha / 2.0), quantile(&stats, 1.0 - alpha / 2.0));
    Some(BootstrapInterval { estimate, ci, used: stats.len(), dropped: resamples - stats.len() })
}

/// The `q` quantile of sorted `xs` by linear interpolation (numpy's "linear").
fn quantile(xs: &[f64], q: f64) -> f64 {
    let h = (xs.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let (hi, frac) = ((lo + 1).min(xs.len() - 1), h - lo as f64);
    // Written so that an infinite neighbour with no weight gives no NaN.
    if frac == 0.0 || xs[hi] == xs[lo] { xs[lo] } else { xs[lo] + frac * (xs[hi] - xs[lo]) }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{cases, f, floats, near, near_pair, pair, reference};
    use super::*;

    /// Against the reference script's own SplitMix64 resampling with numpy's sd and
    /// quantiles.
    #[test]
    fn matches_the_python_resampling() {
        for c in cases(&reference(), "bootstrap") {
            let (alpha, seed) = (f(&c["alpha"]), c["seed"].as_u64().expect("a seed"));
            let resamples = f(&c["resamples"]) as usize;
            let a = floats(&c["a"]);
            let r = if c["b"].is_null() {
                bootstrap_sd(&a, resamples, alpha, seed)
            } else {
                bootstrap_sd_ratio(&a, &floats(&c["b"]), resamples, alpha, seed)
            }
            .expect("an interval");
            near(r.estimate, f(&c["estimate"]), 1e-12, "estimate");
            near_pair(r.ci, pair(&c["ci"]), 1e-12, "bootstrap interval");
            assert_eq!(r.dropped, f(&c["dropped"]) as usize);
        }
    }

    #[test]
    fn same_seed_same_interval_and_estimate_inside() {
        let a = [1.0, 2.5, 0.7, 1.9, 3.1, 2.2, 1.4, 0.9];
        let b = [0.5, 0.9, 0.4, 0.8, 1.1, 0.7, 0.6, 0.55];
        let r1 = bootstrap_sd_ratio(&a, &b, 500, 0.05, 7).expect("interval");
        let r2 = bootstrap_sd_ratio(&a, &b, 500, 0.05, 7).expect("interval");
        assert_eq!(r1, r2);
        assert!(r1.ci.0 < r1.estimate && r1.estimate < r1.ci.1, "{r1:?}");
        let s = bootstrap_sd(&a, 500, 0.05, 7).expect("interval");
        assert!(s.ci.0 < s.estimate && s.estimate < s.ci.1 && s.dropped == 0);
    }

    #[test]
    fn degenerate_inputs() {
        assert!(bootstrap_sd(&[1.0], 100, 0.05, 1).is_none());
        assert!(bootstrap_sd(&[1.0, 2.0], 0, 0.05, 1).is_none());
        assert!(bootstrap_sd(&[1.0, 2.0], usize::MAX, 0.05, 1).is_none());
        assert!(bootstrap_sd_ratio(&[1.0, 2.0], &[3.0, 3.0], 100, 0.05, 1).is_none(), "sd(b) = 0");
        assert!(bootstrap_sd_ratio(&[1.0, 2.0], &[3.0], 100, 0.05, 1).is_none());
        // Two blocks: half the resamples repeat one block and are dropped.
        let r = bootstrap_sd_ratio(&[1.0, 2.0], &[3.0, 5.0], 1000, 0.05, 1).expect("interval");
        assert!(r.dropped > 400 && r.dropped < 600 && r.used + r.dropped == 1000);
        let flat = bootstrap_sd(&[2.0, 2.0, 2.0], 100, 0.05, 1).expect("interval");
        assert_eq!(flat.ci, (0.0, 0.0));
    }
}
