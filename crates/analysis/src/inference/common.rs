//! Helpers the inference modules share: input checks, moments, ranks, and the
//! distribution functions and quantiles (all total: NaN instead of a panic).

use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor, StudentsT};
use statrs::function::gamma::{gamma_lr, gamma_ur};

/// The shape `(levels, blocks)` of a complete table `y[level][block]`: every row the
/// same length and every value finite; `None` otherwise or when empty.
pub(crate) fn table_shape<R: AsRef<[f64]>>(y: &[R]) -> Option<(usize, usize)> {
    let blocks = y.first()?.as_ref().len();
    let complete = y.iter().all(|row| row.as_ref().len() == blocks);
    let finite = y.iter().all(|row| row.as_ref().iter().all(|v| v.is_finite()));
    (complete && finite && blocks > 0).then_some((y.len(), blocks))
}

/// Whether every value is finite.
pub(crate) fn all_finite(xs: &[f64]) -> bool {
    xs.iter().all(|x| x.is_finite())
}

/// Whether `alpha` is a usable significance level, strictly between 0 and 1.
pub(crate) fn valid_alpha(alpha: f64) -> bool {
    alpha > 0.0 && alpha < 1.0
}

/// Arithmetic mean (NaN when empty).
pub(crate) fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample variance, divisor `n − 1` (NaN below 2 values).
pub(crate) fn variance(xs: &[f64]) -> f64 {
    let m = mean(xs);
    xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() as f64 - 1.0)
}

/// Whether a spread `sd` of values as large as `scale` is rounding error rather than
/// spread: at most 1e-10 of the scale (an exact 0 when the scale is 0). Values stored
/// in accuracy points differ by far more than this whenever they differ at all.
pub(crate) fn negligible(sd: f64, scale: f64) -> bool {
    sd <= 1e-10 * scale
}

/// The largest absolute value (0 when empty).
pub(crate) fn max_abs(xs: &[f64]) -> f64 {
    xs.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Average ranks (1-based, ties share their mean rank) and the tie sum `Σ (t³ − t)`
/// over groups of `t` tied values.
pub(crate) fn average_ranks(xs: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut ranks = vec![0.0; xs.len()];
    let mut ties = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && xs[order[j + 1]] == xs[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            ranks[o] = rank;
        }
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    (ranks, ties)
}

/// The standard normal upper tail `P(Z > z)`, from the regularised incomplete gamma
/// function (`erfc(x) = Q(½, x²)`): accurate to about 1e-16, relative in the tail.
pub(crate) fn normal_sf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    let half_z2 = z * z / 2.0;
    if z > 0.0 { 0.5 * gamma_ur(0.5, half_z2) } else { 0.5 + 0.5 * gamma_lr(0.5, half_z2) }
}

fn student(df: f64) -> Option<StudentsT> {
    StudentsT::new(0.0, 1.0, df).ok()
}

/// `P(T ≤ t)` for Student's t with `df` degrees of freedom (NaN for bad input).
pub(crate) fn t_cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    student(df).map_or(f64::NAN, |s| s.cdf(t))
}

/// `P(T > t)` for Student's t with `df` degrees of freedom (NaN for bad input).
pub(crate) fn t_sf(t: f64, df: f64) -> f64 {
    t_cdf(-t, df)
}

/// Two-sided p-value of `t`, from the lower tail so that tiny p stay accurate.
pub(crate) fn t_two_sided(t: f64, df: f64) -> f64 {
    (2.0 * t_cdf(-t.abs(), df)).min(1.0)
}

/// The upper `q` quantile of Student's t (the `1 − q` quantile); NaN unless
/// `0 < q < 1` and `df > 0`.
pub(crate) fn t_upper(q: f64, df: f64) -> f64 {
    if !valid_alpha(q) {
        return f64::NAN;
    }
    student(df).map_or(f64::NAN, |s| -s.inverse_cdf(q))
}

fn chi2(df: f64) -> Option<ChiSquared> {
    if df > 0.0 && df.is_finite() { ChiSquared::new(df).ok() } else { None }
}

/// `P(X > x)` for a chi-square with `df` degrees of freedom (NaN for bad input).
pub(crate) fn chi2_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    chi2(df).map_or(f64::NAN, |c| if x <= 0.0 { 1.0 } else { c.sf(x) })
}

/// The `q` quantile of a chi-square with `df` degrees of freedom, polished by Newton
/// steps on the cdf (or, above the median, the survival function); NaN unless
/// `0 < q < 1`.
pub(crate) fn chi2_quantile(q: f64, df: f64) -> f64 {
    let Some(c) = chi2(df).filter(|_| valid_alpha(q)) else {
        return f64::NAN;
    };
    let mut x = c.inverse_cdf(q);
    for _ in 0..3 {
        let density = statrs::distribution::Continuous::pdf(&c, x);
        // cdf(x) − q, from the tail that keeps its digits.
        let miss = if q > 0.5 { (1.0 - q) - c.sf(x) } else { c.cdf(x) - q };
        let step = miss / density;
        if !(step.is_finite() && density > 0.0) || x - step <= 0.0 {
            break;
        }
        x -= step;
    }
    x
}

fn fisher(df1: f64, df2: f64) -> Option<FisherSnedecor> {
    let ok = df1 > 0.0 && df2 > 0.0 && df1.is_finite() && df2.is_finite();
    if ok { FisherSnedecor::new(df1, df2).ok() } else { None }
}

/// `P(F ≤ x)` for the central F distribution (NaN for bad input).
pub(crate) fn f_cdf(x: f64, df1: f64, df2: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    fisher(df1, df2).map_or(f64::NAN, |f| if x <= 0.0 { 0.0 } else { f.cdf(x) })
}

/// `P(F > x)` for the central F distribution (NaN for bad input).
pub(crate) fn f_sf(x: f64, df1: f64, df2: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    fisher(df1, df2).map_or(f64::NAN, |f| if x <= 0.0 { 1.0 } else { f.sf(x) })
}

/// The `q` quantile of the central F distribution; NaN unless `0 < q < 1`.
pub(crate) fn f_quantile(q: f64, df1: f64, df2: f64) -> f64 {
    match fisher(df1, df2) {
        Some(f) if valid_alpha(q) => f.inverse_cdf(q),
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties_and_count_them() {
        let (ranks, ties) = average_ranks(&[3.0, 1.0, 3.0, 2.0, 3.0]);
        assert_eq!(ranks, vec![4.0, 1.0, 4.0, 2.0, 4.0]);
        assert_eq!(ties, 24.0);
    }

    #[test]
    fn shape_rejects_ragged_nan_and_empty() {
        assert_eq!(table_shape(&[vec![1.0, 2.0], vec![3.0, 4.0]]), Some((2, 2)));
        assert_eq!(table_shape(&[vec![1.0, 2.0], vec![3.0]]), None);
        assert_eq!(table_shape(&[vec![1.0, f64::NAN]]), None);
        assert_eq!(table_shape::<Vec<f64>>(&[]), None);
        assert_eq!(table_shape(&[Vec::<f64>::new()]), None);
    }

    #[test]
    fn quantiles_invert_their_distributions() {
        for (q, df) in [(0.025, 1.0), (0.975, 4.0), (0.5, 30.0), (1e-6, 2.5)] {
            let x = chi2_quantile(q, df);
            let back = 1.0 - chi2_sf(x, df);
            assert!((back - q).abs() < 1e-13, "chi2 {q} {df}: {back}");
        }
        let x = f_quantile(0.975, 3.0, 12.0);
        assert!((f_cdf(x, 3.0, 12.0) - 0.975).abs() < 1e-12);
        assert!(t_upper(0.0, 3.0).is_nan() && chi2_quantile(1.0, 3.0).is_nan());
        assert!(f_quantile(0.5, 0.0, 3.0).is_nan() && t_cdf(f64::NAN, 2.0).is_nan());
    }

    #[test]
    fn normal_tail_is_accurate() {
        assert!((normal_sf(1.959963984540054) - 0.025).abs() < 1e-15);
        assert!((normal_sf(-1.0) - 0.8413447460685429).abs() < 1e-15);
        assert!((normal_sf(10.0) / 7.619853024160527e-24 - 1.0).abs() < 1e-12);
    }
}
