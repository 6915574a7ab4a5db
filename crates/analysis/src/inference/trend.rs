//! Trend over an ordered numeric factor on blocked data: the least-squares slope of
//! accuracy on the level's value within each block, tested across blocks. Page's L
//! test (in the ranks module) is its rank counterpart.

use serde::Serialize;

use super::common::{
    all_finite, max_abs, mean, negligible, t_cdf, t_sf, t_two_sided, t_upper, table_shape,
    valid_alpha, variance,
};

/// The direction of an ordered alternative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Accuracy rises with the level's value (or order).
    Increasing,
    /// Accuracy falls with it.
    Decreasing,
}

/// A one-sample t-test of the per-block slopes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlopeTrend {
    /// Each block's least-squares slope of `y` on `x`, in units of `y` per unit of
    /// `x` (per e-fold of the level when `x` is its natural log).
    pub slopes: Vec<f64>,
    /// Mean slope: also the slope of the level means on `x`.
    pub mean: f64,
    /// Its standard error, `sd(slopes) / √b`.
    pub se: f64,
    /// `b − 1`.
    pub df: f64,
    /// `mean / se`; `None` when the slopes do not vary (up to rounding).
    pub t: Option<f64>,
    /// The `1 − alpha` interval of the mean slope (`(mean, mean)` without spread).
    pub ci: (f64, f64),
    /// Two-sided p-value of a zero mean slope (without spread: 1 if the mean is 0,
    /// else 0).
    pub p_two_sided: f64,
    /// The direction of `p_one_sided`.
    pub direction: Direction,
    /// One-sided p-value against a trend in `direction`: `P(T ≥ t)` rising,
    /// `P(T ≤ t)` falling (without spread: 0 if the mean is strictly in
    /// `direction`, else 1).
    pub p_one_sided: f64,
}

/// The trend test of `y[level][block]` against the levels' values `x` (the caller
/// passes `ln` of the level for geometric levels such as learning rates). `None`
/// unless `x` has one finite value per level and is not constant, the table is
/// complete and finite with at least 2 levels and 2 blocks, and `alpha` is in (0, 1).
/// Each block's slope is `Σ (x_i − x̄)(y_ir − ȳ_r) / Σ (x_i − x̄)²`; the blocks'
/// slopes are independent under the usual model, whatever the block effects.
pub fn slope_trend<R: AsRef<[f64]>>(
    x: &[f64],
    y: &[R],
    direction: Direction,
    alpha: f64,
) -> Option<SlopeTrend> {
    let (k, b) = table_shape(y).filter(|&(k, b)| k >= 2 && b >= 2 && k == x.len())?;
    if !(all_finite(x) && valid_alpha(alpha)) {
        return None;
    }
    let x_mean = mean(x);
    let sxx: f64 = x.iter().map(|v| (v - x_mean) * (v - x_mean)).sum();
    if negligible(sxx.sqrt(), max_abs(x) * (k as f64).sqrt()) {
        return None;
    }
    let slopes: Vec<f64> = (0..b)
        .map(|r| {
            x.iter().zip(y).map(|(xi, row)| (xi - x_mean) * row.as_ref()[r]).sum::<f64>() / sxx
        })
        .collect();
    let (m, sd, df) = (mean(&slopes), variance(&slopes).max(0.0).sqrt(), (b - 1) as f64);
    let se = sd / (b as f64).sqrt();
    let t = (!negligible(sd, max_abs(&slopes))).then(|| m / se);
    let rising = direction == Direction::Increasing;
    let (ci, p_two_sided, p_one_sided) = match t {
        Some(t) => {
            let half = t_upper(alpha / 2.0, df) * se;
            let one = if rising { t_sf(t, df) } else { t_cdf(t, df) };
            ((m - half, m + half), t_two_sided(t, df), one)
        }
        None => {
            let along = if rising { m > 0.0 } else { m < 0.0 };
            ((m, m), if m == 0.0 { 1.0 } else { 0.0 }, if along { 0.0 } else { 1.0 })
        }
    };
    Some(SlopeTrend { slopes, mean: m, se, df, t, ci, p_two_sided, direction, p_one_sided })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{
        cases, f, floats, matrix, near, near_pair, near_rel, pair, reference,
    };
    use super::*;

    /// Against per-block `scipy.stats.linregress` slopes and `scipy.stats.ttest_1samp`.
    #[test]
    fn matches_scipy_slopes_and_one_sample_t() {
        for c in cases(&reference(), "slope_trend") {
            let direction = if c["direction"] == "increasing" {
                Direction::Increasing
            } else {
                Direction::Decreasing
            };
            let r =
                slope_trend(&floats(&c["x"]), &matrix(&c["y"]), direction, 0.05).expect("a trend");
            for (s, want) in r.slopes.iter().zip(floats(&c["slopes"])) {
                near(*s, want, 1e-12, "slope");
            }
            near(r.mean, f(&c["mean"]), 1e-12, "mean slope");
            near(r.t.expect("spread"), f(&c["t"]), 1e-9, "t");
            near_rel(r.p_two_sided, f(&c["p_two_sided"]), 1e-9, "two-sided p");
            near_rel(r.p_one_sided, f(&c["p_one_sided"]), 1e-9, "one-sided p");
            near_pair(r.ci, pair(&c["ci95"]), 1e-9, "95% interval");
        }
    }

    #[test]
    fn mean_slope_is_the_slope_of_the_level_means() {
        let x = [0.0, 1.0, 3.0];
        let y = vec![vec![1.0, 2.0, 1.5], vec![1.2, 2.5, 1.4], vec![2.0, 2.9, 2.6]];
        let r = slope_trend(&x, &y, Direction::Increasing, 0.05).expect("trend");
        let means: Vec<f64> = y.iter().map(|row| mean(row)).collect();
        let xm = mean(&x);
        let slope = x.iter().zip(&means).map(|(a, m)| (a - xm) * m).sum::<f64>()
            / x.iter().map(|a| (a - xm) * (a - xm)).sum::<f64>();
        near(r.mean, slope, 1e-12, "slope of means");
        let down = slope_trend(&x, &y, Direction::Decreasing, 0.05).expect("trend");
        near(r.p_one_sided + down.p_one_sided, 1.0, 1e-12, "the two one-sided p");
    }

    #[test]
    fn degenerate_inputs() {
        let y = vec![vec![1.0, 2.0], vec![2.0, 3.0]];
        assert!(slope_trend(&[1.0, 1.0], &y, Direction::Increasing, 0.05).is_none(), "constant x");
        assert!(slope_trend(&[1.0], &y, Direction::Increasing, 0.05).is_none(), "x too short");
        assert!(slope_trend(&[1.0, f64::NAN], &y, Direction::Increasing, 0.05).is_none());
        let flat = slope_trend(&[0.0, 1.0], &y, Direction::Decreasing, 0.05).expect("trend");
        assert_eq!((flat.t, flat.p_two_sided, flat.p_one_sided), (None, 0.0, 1.0));
    }
}
