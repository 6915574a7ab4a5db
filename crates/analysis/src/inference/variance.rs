//! Comparisons of spread: an sd's chi-square interval, the F test of two variances,
//! and the Brown–Forsythe test of equal spread across groups. These assume normal
//! data (the first two strongly so); the block bootstrap (bootstrap module) does not.

use serde::Serialize;

use super::common::{all_finite, chi2_quantile, f_cdf, f_quantile, f_sf, valid_alpha, variance};

/// A sample sd with its interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SdInterval {
    /// The sd (divisor `n − 1`, or the given one).
    pub sd: f64,
    /// Its degrees of freedom (`n − 1` for a sample).
    pub df: f64,
    /// The `1 − alpha` interval `(√(df s² / χ²_{1−α/2}), √(df s² / χ²_{α/2}))`.
    pub ci: (f64, f64),
}

/// The sd of `values` with its chi-square interval; `None` below 2 values, with a
/// non-finite value, or `alpha` outside (0, 1).
pub fn sd_interval(values: &[f64], alpha: f64) -> Option<SdInterval> {
    if values.len() < 2 || !all_finite(values) {
        return None;
    }
    sd_interval_df(variance(values).max(0.0).sqrt(), (values.len() - 1) as f64, alpha)
}

/// The chi-square interval of an sd estimated on `df` degrees of freedom (a pooled
/// sd such as a block ANOVA's `√MS_error` on its error df); `None` unless `sd ≥ 0`
/// and `df > 0` are finite and `alpha` is in (0, 1).
pub fn sd_interval_df(sd: f64, df: f64, alpha: f64) -> Option<SdInterval> {
    let ok = sd >= 0.0 && sd.is_finite() && df > 0.0 && df.is_finite() && valid_alpha(alpha);
    if !ok {
        return None;
    }
    let ss = df * sd * sd;
    let lo = (ss / chi2_quantile(1.0 - alpha / 2.0, df)).sqrt();
    let hi = (ss / chi2_quantile(alpha / 2.0, df)).sqrt();
    (lo.is_finite() && hi.is_finite()).then_some(SdInterval { sd, df, ci: (lo, hi) })
}

/// The F test of `var(a) / var(b)` for two independent samples.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VarianceRatio {
    /// `s_a² / s_b²`.
    pub ratio: f64,
    /// `n_a − 1`.
    pub df1: f64,
    /// `n_b − 1`.
    pub df2: f64,
    /// Two-sided p-value of a ratio of 1: `min(1, 2 min(P(F ≤ r), P(F ≥ r)))`.
    pub p: f64,
    /// The `1 − alpha` interval of the variance ratio, `(r / F_{1−α/2}, r / F_{α/2})`.
    pub ci: (f64, f64),
    /// `s_a / s_b`, and below its interval (the roots of the variance ratio's).
    pub sd_ratio: f64,
    /// The `1 − alpha` interval of `σ_a / σ_b`.
    pub sd_ratio_ci: (f64, f64),
}

/// The two-sided F test of two variances with its interval; `None` below 2 values in
/// either sample, with non-finite values, `alpha` outside (0, 1) or when `b` has no
/// spread (the ratio is undefined). For paired samples (same blocks) the
/// independence it assumes fails; use the block bootstrap of the sd ratio there.
pub fn variance_ratio(a: &[f64], b: &[f64], alpha: f64) -> Option<VarianceRatio> {
    let ok = a.len() >= 2 && b.len() >= 2 && all_finite(a) && all_finite(b) && valid_alpha(alpha);
    if !ok {
        return None;
    }
    let (va, vb) = (variance(a).max(0.0), variance(b));
    if vb <= 0.0 {
        return None;
    }
    let (df1, df2) = ((a.len() - 1) as f64, (b.len() - 1) as f64);
    let ratio = va / vb;
    let p = (2.0 * f_cdf(ratio, df1, df2).min(f_sf(ratio, df1, df2))).min(1.0);
    let ci = (
        ratio / f_quantile(1.0 - alpha / 2.0, df1, df2),
        ratio / f_quantile(alpha / 2.0, df1, df2),
    );
    let sd_ratio_ci = (ci.0.sqrt(), ci.1.sqrt());
    Some(VarianceRatio { ratio, df1, df2, p, ci, sd_ratio: ratio.sqrt(), sd_ratio_ci })
}

/// The Brown–Forsythe test (Levene's test centred at the medians).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BrownForsythe {
    /// One-way ANOVA F of the absolute deviations from each group's median; `None`
    /// when they do not vary within any group.
    pub statistic: Option<f64>,
    /// Groups − 1.
    pub df1: f64,
    /// Values − groups.
    pub df2: f64,
    /// Upper-tail F p-value (with no within-group variation: 1 if the groups'
    /// mean deviations are equal too, else 0).
    pub p: f64,
}

/// The Brown–Forsythe test of equal spread across `groups`, as
/// `scipy.stats.levene(*groups, center="median")`; `None` with fewer than 2 groups,
/// an empty group, no more values than groups, or a non-finite value.
pub fn brown_forsythe<R: AsRef<[f64]>>(groups: &[R]) -> Option<BrownForsythe> {
    let g = groups.len();
    let n: usize = groups.iter().map(|x| x.as_ref().len()).sum();
    let ok = groups.iter().all(|x| !x.as_ref().is_empty() && all_finite(x.as_ref()));
    if g < 2 || n <= g || !ok {
        return None;
    }
    let deviations: Vec<Vec<f64>> = groups.iter().map(|x| abs_from_median(x.as_ref())).collect();
    let group_means: Vec<f64> =
        deviations.iter().map(|z| z.iter().sum::<f64>() / z.len() as f64).collect();
    let grand = deviations.iter().flatten().sum::<f64>() / n as f64;
    let between: f64 = deviations
        .iter()
        .zip(&group_means)
        .map(|(z, m)| z.len() as f64 * (m - grand) * (m - grand))
        .sum();
    let within: f64 = deviations
        .iter()
        .zip(&group_means)
        .map(|(z, m)| z.iter().map(|v| (v - m) * (v - m)).sum::<f64>())
        .sum();
    let (df1, df2) = ((g - 1) as f64, (n - g) as f64);
    let scale = between + within;
    let (statistic, p) = if within <= 1e-20 * scale || scale == 0.0 {
        (None, if between <= 1e-20 * scale { 1.0 } else { 0.0 })
    } else {
        let w = (between / df1) / (within / df2);
        (Some(w), f_sf(w, df1, df2))
    };
    Some(BrownForsythe { statistic, df1, df2, p })
}

/// `|x − median(x)|` for each value.
fn abs_from_median(xs: &[f64]) -> Vec<f64> {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
    xs.iter().map(|x| (x - median).abs()).collect()
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{
        cases, f, floats, matrix, near, near_pair, near_rel, pair, reference,
    };
    use super::*;

    /// Against `scipy.stats.chi2.ppf`.
    #[test]
    fn sd_interval_matches_scipy() {
        for c in cases(&reference(), "sd_interval") {
            let s = sd_interval(&floats(&c["values"]), f(&c["alpha"])).expect("values");
            near(s.sd, f(&c["sd"]), 1e-12, "sd");
            near_pair(s.ci, pair(&c["ci"]), 1e-9, "sd interval");
        }
    }

    /// Against `scipy.stats.f`.
    #[test]
    fn variance_ratio_matches_scipy() {
        for c in cases(&reference(), "variance_ratio") {
            let r = variance_ratio(&floats(&c["a"]), &floats(&c["b"]), 0.05).expect("spread");
            near(r.ratio, f(&c["ratio"]), 1e-12, "ratio");
            near_rel(r.p, f(&c["p"]), 1e-9, "p");
            near_pair(r.ci, pair(&c["ci"]), 1e-9, "ratio interval");
        }
    }

    /// Against `scipy.stats.levene(center="median")`.
    #[test]
    fn brown_forsythe_matches_scipy_levene() {
        for c in cases(&reference(), "levene") {
            let r = brown_forsythe(&matrix(&c["groups"])).expect("groups");
            near(r.statistic.expect("spread"), f(&c["statistic"]), 1e-9, "W");
            near_rel(r.p, f(&c["p"]), 1e-9, "p");
        }
    }

    #[test]
    fn intervals_contain_their_estimates_and_narrow_with_df() {
        let narrow = sd_interval_df(1.0, 100.0, 0.05).expect("valid");
        let wide = sd_interval_df(1.0, 4.0, 0.05).expect("valid");
        assert!(
            wide.ci.0 < narrow.ci.0
                && narrow.ci.0 < 1.0
                && 1.0 < narrow.ci.1
                && narrow.ci.1 < wide.ci.1
        );
        let r = variance_ratio(&[1.0, 3.0, 2.0, 5.0], &[1.0, 1.5, 1.2, 1.1], 0.05).expect("spread");
        assert!(r.ci.0 < r.ratio && r.ratio < r.ci.1);
        near(r.sd_ratio * r.sd_ratio, r.ratio, 1e-12, "sd ratio");
    }

    #[test]
    fn degenerate_inputs() {
        assert!(
            sd_interval(&[1.0], 0.05).is_none() && sd_interval(&[1.0, f64::NAN], 0.05).is_none()
        );
        assert_eq!(sd_interval(&[2.0, 2.0, 2.0], 0.05).expect("valid").ci, (0.0, 0.0));
        assert!(variance_ratio(&[1.0, 2.0], &[3.0, 3.0], 0.05).is_none(), "b has no spread");
        assert!(brown_forsythe(&[vec![1.0, 2.0]]).is_none(), "one group");
        assert!(brown_forsythe(&[vec![1.0], vec![2.0]]).is_none(), "no df left");
        assert!(brown_forsythe(&[vec![1.0, 2.0], vec![]]).is_none(), "empty group");
        let same = brown_forsythe(&[vec![1.0, 3.0], vec![4.0, 6.0]]).expect("groups");
        assert_eq!((same.statistic, same.p), (None, 1.0));
        let apart = brown_forsythe(&[vec![1.0, 3.0], vec![5.0, 9.0]]).expect("groups");
        assert_eq!((apart.statistic, apart.p), (None, 0.0));
        let shifted = brown_forsythe(&[vec![1.0, 2.0, 3.0], vec![5.0, 6.0, 7.0]]).expect("groups");
        assert_eq!((shifted.statistic, shifted.p), (Some(0.0), 1.0));
    }
}
