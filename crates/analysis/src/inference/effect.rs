//! How large a factor's effect is, with intervals that stay honest: the between-level
//! sd corrected for seed noise (which, unlike the best-minus-worst range, does not
//! grow with the number of levels under no effect), and the best-versus-worst
//! difference with an interval that survives its being picked from the data.

use serde::Serialize;

use super::common::{
    max_abs, mean, negligible, t_two_sided, t_upper, table_shape, valid_alpha, variance,
};
use super::ncf::noncentrality_interval;
use super::rcbd::BlockAnova;

/// The spread of the true level means of a blocked experiment, in the data's units.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelSpread {
    /// `(MS_level − MS_error) / b`: the unbiased estimate of `Σ (μ_i − μ̄)² / (k − 1)`,
    /// the variance of the true level means. Negative when the level means vary
    /// less than seed noise alone would make them; kept so that averages stay unbiased.
    pub variance: f64,
    /// The sd shown: `√max(0, variance)`.
    pub sd: f64,
    /// The seed noise `√MS_error`: the sd of a single run around its level and
    /// block (one seed's deviation, not that of a level mean).
    pub noise_sd: f64,
    /// `sd / noise_sd` ("× seed noise"); `None` when the noise is nil.
    pub ratio: Option<f64>,
    /// The `1 − alpha` interval of the sd, `√(λ · MS_error / (b (k − 1)))` at the
    /// ends of the noncentrality interval of the observed F. It takes `MS_error` as
    /// the true noise variance, so it is approximate in these units; `None` when
    /// the noise is nil or the noncentrality is beyond its search.
    pub ci: Option<(f64, f64)>,
    /// The interval of `ratio`, `√(λ / (b (k − 1)))`: exact, since the noise cancels.
    pub ratio_ci: Option<(f64, f64)>,
    /// The `alpha` of the intervals.
    pub alpha: f64,
}

/// The noise-corrected spread of the level means of `anova`, with `1 − alpha`
/// intervals. Since `E[MS_level] = σ² + b Σ (μ_i − μ̄)² / (k − 1)` and
/// `E[MS_error] = σ²`, `variance` is unbiased, and the F statistic is noncentral F
/// with `λ = b Σ (μ_i − μ̄)² / σ²`. `None` for `alpha` outside (0, 1).
pub fn level_spread(anova: &BlockAnova, alpha: f64) -> Option<LevelSpread> {
    if !valid_alpha(alpha) {
        return None;
    }
    let b = anova.blocks as f64;
    let variance = (anova.ms_level - anova.ms_error) / b;
    let sd = variance.max(0.0).sqrt();
    let noise_sd = anova.ms_error.sqrt();
    let lambda_ci =
        anova.f.and_then(|f| noncentrality_interval(f, anova.df_level, anova.df_error, alpha));
    let scale = b * anova.df_level;
    let ratio_ci = lambda_ci.map(|(lo, hi)| ((lo / scale).sqrt(), (hi / scale).sqrt()));
    Some(LevelSpread {
        variance,
        sd,
        noise_sd,
        ratio: anova.f.map(|_| sd / noise_sd),
        ci: ratio_ci.map(|(lo, hi)| (lo * noise_sd, hi * noise_sd)),
        ratio_ci,
        alpha,
    })
}

/// The best level against the worst, on paired (blocked) data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BestWorst {
    /// Index of the level with the highest mean (the first, if tied).
    pub best: usize,
    /// Index of the level with the lowest mean (the first, if tied); equals `best`
    /// only when every level mean is the same.
    pub worst: usize,
    /// Mean over blocks of `y[best][r] − y[worst][r]` (= the difference of the means).
    pub diff: f64,
    /// Standard error of `diff`: the sd of the paired differences over `√b`.
    pub se: f64,
    /// `b − 1`.
    pub df: f64,
    /// `diff / se`; `None` when the differences have no spread.
    pub t: Option<f64>,
    /// Pairs in the family, `k (k − 1) / 2`.
    pub pairs: usize,
    /// The simultaneous `1 − alpha` interval: the paired t interval at level
    /// `alpha / pairs`. `(diff, diff)` when the differences have no spread.
    pub ci: (f64, f64),
    /// The Bonferroni-adjusted two-sided p-value, `min(1, pairs · p)`; with no
    /// spread, 1 if `diff` is 0 and 0 otherwise.
    pub p_adjusted: f64,
    /// The `alpha` of the interval.
    pub alpha: f64,
}

/// The best-minus-worst difference of `y[level][block]` with a simultaneous
/// interval; `None` unless the table is complete and finite with at least 2 levels
/// and 2 blocks, and `alpha` is in (0, 1).
///
/// Why the interval is valid although the pair was picked for being extreme: the
/// paired t intervals of all `k(k − 1)/2` pairs, each at level `alpha / pairs`, cover
/// their true differences all at once with probability at least `1 − alpha`
/// (Bonferroni's inequality). Whenever they all cover, the interval of whichever
/// pair the data select covers too, so the selected pair's interval has coverage at
/// least `1 − alpha` whatever the selection rule. An unadjusted interval of the
/// selected pair does not: under no effect it excludes 0 far more often than
/// `alpha` once there are several levels.
pub fn best_vs_worst<R: AsRef<[f64]>>(y: &[R], alpha: f64) -> Option<BestWorst> {
    let (k, b) = table_shape(y).filter(|&(k, b)| k >= 2 && b >= 2 && valid_alpha(alpha))?;
    let means: Vec<f64> = y.iter().map(|row| mean(row.as_ref())).collect();
    let pick = |better: fn(f64, f64) -> bool| {
        (1..k).fold(0, |at, i| if better(means[i], means[at]) { i } else { at })
    };
    let (best, worst) = (pick(|a, b| a > b), pick(|a, b| a < b));
    let d: Vec<f64> = y[best].as_ref().iter().zip(y[worst].as_ref()).map(|(a, b)| a - b).collect();
    let (diff, sd, df) = (mean(&d), variance(&d).max(0.0).sqrt(), (b - 1) as f64);
    let se = sd / (b as f64).sqrt();
    let pairs = k * (k - 1) / 2;
    let spread = !negligible(sd, max_abs(&d));
    let t = spread.then(|| diff / se);
    let (ci, p) = match t {
        Some(t) => {
            let half = t_upper(alpha / (2.0 * pairs as f64), df) * se;
            ((diff - half, diff + half), t_two_sided(t, df))
        }
        None => ((diff, diff), if diff == 0.0 { 1.0 } else { 0.0 }),
    };
    let p_adjusted = (p * pairs as f64).min(1.0);
    Some(BestWorst { best, worst, diff, se, df, t, pairs, ci, p_adjusted, alpha })
}

#[cfg(test)]
mod tests {
    use super::super::rcbd::block_anova;
    use super::super::testutil::{cases, f, matrix, near, near_pair, pair, reference};
    use super::*;

    /// Against the reference script: the unbiased variance from statsmodels' mean
    /// squares, and the sd interval from a root-finder on `scipy.stats.ncf`.
    #[test]
    fn spread_matches_the_reference() {
        for c in cases(&reference(), "level_spread") {
            let a = block_anova(&matrix(&c["y"])).expect("a table");
            let s = level_spread(&a, f(&c["alpha"])).expect("alpha");
            near(s.variance, f(&c["variance"]), 1e-9, "variance");
            near(s.sd, f(&c["sd"]), 1e-9, "sd");
            near(s.ratio.expect("noise"), f(&c["ratio"]), 1e-9, "ratio");
            near_pair(s.ci.expect("interval"), pair(&c["sd_ci"]), 1e-9, "sd interval");
            near_pair(s.ratio_ci.expect("interval"), pair(&c["ratio_ci"]), 1e-9, "ratio interval");
        }
    }

    /// Against paired t intervals at `alpha / pairs` from scipy.
    #[test]
    fn best_worst_matches_the_reference() {
        for c in cases(&reference(), "best_worst") {
            let r = best_vs_worst(&matrix(&c["y"]), f(&c["alpha"])).expect("a table");
            assert_eq!((r.best, r.worst), (f(&c["best"]) as usize, f(&c["worst"]) as usize));
            near(r.diff, f(&c["diff"]), 1e-12, "difference");
            near_pair(r.ci, pair(&c["ci"]), 1e-9, "simultaneous interval");
            near(r.p_adjusted, f(&c["p_adjusted"]), 1e-9, "adjusted p");
        }
    }

    #[test]
    fn spread_of_equal_levels_is_negative_variance_and_zero_sd() {
        let y = vec![vec![1.0, 2.0, 3.1, 4.0], vec![1.1, 1.9, 3.0, 4.0], vec![1.0, 2.1, 2.9, 4.1]];
        let s = level_spread(&block_anova(&y).expect("table"), 0.05).expect("alpha");
        assert!(s.variance < 0.0 && s.sd == 0.0, "{s:?}");
        let (lo, hi) = s.ratio_ci.expect("interval");
        assert!(lo == 0.0 && hi > 0.0);
        assert!(level_spread(&block_anova(&y).expect("table"), 0.0).is_none());
    }

    #[test]
    fn nil_noise_and_bad_tables_do_not_divide_by_zero() {
        let additive = block_anova(&[vec![0.1, 0.7, 0.3], vec![1.1, 1.7, 1.3]]).expect("table");
        let s = level_spread(&additive, 0.05).expect("alpha");
        assert!(s.ratio.is_none() && s.ci.is_none() && (s.sd - (0.5f64).sqrt()).abs() < 1e-12);
        let flat = best_vs_worst(&[vec![2.0, 3.0], vec![1.0, 2.0]], 0.05).expect("table");
        assert_eq!((flat.t, flat.ci, flat.p_adjusted), (None, (1.0, 1.0), 0.0));
        let same = best_vs_worst(&[vec![2.0, 3.0], vec![2.0, 3.0]], 0.05).expect("table");
        assert_eq!((same.best, same.worst, same.p_adjusted), (0, 0, 1.0));
        assert!(best_vs_worst(&[vec![2.0, 3.0]], 0.05).is_none());
        assert!(best_vs_worst(&[vec![2.0], vec![1.0]], 0.05).is_none());
    }
}
