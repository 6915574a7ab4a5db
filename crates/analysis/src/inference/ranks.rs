//! Rank tests of a blocked table `y[level][block]`: Friedman's test (any difference
//! between levels) and Page's L test (an ordered difference). Values are ranked
//! across the levels within each block, so block effects and outlying seeds cannot
//! drive them.

use serde::Serialize;

use super::common::{average_ranks, chi2_sf, normal_sf, table_shape};
use super::trend::Direction;

/// Friedman's chi-square test of the levels of a blocked table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Friedman {
    /// Levels `k`.
    pub levels: usize,
    /// Blocks `b`.
    pub blocks: usize,
    /// `(12 / (b k (k + 1)) Σ R_i² − 3 b (k + 1)) / C`, with `R_i` the rank sum of
    /// level `i` and the tie correction `C = 1 − Σ (t³ − t) / (b k (k² − 1))`;
    /// `None` when every block is one tie (`C = 0`).
    pub statistic: Option<f64>,
    /// `k − 1`.
    pub df: f64,
    /// Chi-square upper-tail p-value (1 when the statistic is `None`).
    pub p: f64,
}

/// Friedman's test, as `scipy.stats.friedmanchisquare(*y)` (which wants `k ≥ 3`;
/// this accepts `k = 2` too); `None` unless the table is complete and finite with
/// at least 2 levels and 2 blocks.
pub fn friedman<R: AsRef<[f64]>>(y: &[R]) -> Option<Friedman> {
    let (k, b) = table_shape(y).filter(|&(k, b)| k >= 2 && b >= 2)?;
    let (rank_sums, ties) = rank_sums(y, k, b);
    let (kf, bf) = (k as f64, b as f64);
    let correction = 1.0 - ties.iter().sum::<f64>() / (bf * kf * (kf * kf - 1.0));
    let sum_sq: f64 = rank_sums.iter().map(|r| r * r).sum();
    let statistic = (correction > 1e-12)
        .then(|| (12.0 / (bf * kf * (kf + 1.0)) * sum_sq - 3.0 * bf * (kf + 1.0)) / correction);
    let df = kf - 1.0;
    let p = statistic.map_or(1.0, |s| chi2_sf(s.max(0.0), df));
    Some(Friedman { levels: k, blocks: b, statistic, df, p })
}

/// Rank sums of the levels (ranks within each block) and each block's tie sum.
fn rank_sums<R: AsRef<[f64]>>(y: &[R], k: usize, b: usize) -> (Vec<f64>, Vec<f64>) {
    let mut sums = vec![0.0; k];
    let mut ties = Vec::with_capacity(b);
    for j in 0..b {
        let column: Vec<f64> = y.iter().map(|row| row.as_ref()[j]).collect();
        let (ranks, t) = average_ranks(&column);
        sums.iter_mut().zip(&ranks).for_each(|(s, r)| *s += r);
        ties.push(t);
    }
    (sums, ties)
}

/// Page's L test of an ordered alternative.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PageTrend {
    /// The direction tested: levels in the given order rising, or falling.
    pub direction: Direction,
    /// `L = Σ_i c_i R_i`: the rank sums weighted by the predicted ranks `c_i`
    /// (`1..k` rising, `k..1` falling).
    pub l: f64,
    /// `E[L] = b k (k + 1)² / 4` under no effect.
    pub expected: f64,
    /// The sd of `L` under no effect, given the ties: `Σ_j k(k + 1)/12 ·
    /// (k(k² − 1) − T_j)/12` summed over blocks `j`, `T_j` block `j`'s tie sum
    /// (without ties `b k² (k + 1)(k² − 1) / 144`, scipy's value).
    pub sd: f64,
    /// `(L − E[L]) / sd`; `None` when `sd` is 0 (every block one tie).
    pub z: Option<f64>,
    /// One-sided normal-approximation p-value in `direction` (1 when `z` is `None`).
    pub p: f64,
}

/// Page's L test that the levels, in the order given, rise (or fall) across each
/// block; `None` unless the table is complete and finite with at least 2 levels and
/// 2 blocks. Without ties it equals `scipy.stats.page_trend_test(y transposed,
/// method="asymptotic")`; with ties its variance is the exact permutation variance
/// of the tied ranks (scipy keeps the untied one, which is conservative).
pub fn page_trend<R: AsRef<[f64]>>(y: &[R], direction: Direction) -> Option<PageTrend> {
    let (k, b) = table_shape(y).filter(|&(k, b)| k >= 2 && b >= 2)?;
    let (rank_sums, ties) = rank_sums(y, k, b);
    let kf = k as f64;
    let weight = |i: usize| match direction {
        Direction::Increasing => (i + 1) as f64,
        Direction::Decreasing => (k - i) as f64,
    };
    let l: f64 = rank_sums.iter().enumerate().map(|(i, r)| weight(i) * r).sum();
    let expected = b as f64 * kf * (kf + 1.0) * (kf + 1.0) / 4.0;
    let variance: f64 =
        ties.iter().map(|t| kf * (kf + 1.0) / 12.0 * (kf * (kf * kf - 1.0) - t) / 12.0).sum();
    let sd = variance.max(0.0).sqrt();
    let z = (sd > 1e-12).then(|| (l - expected) / sd);
    let p = z.map_or(1.0, normal_sf);
    Some(PageTrend { direction, l, expected, sd, z, p })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{cases, f, matrix, near, near_rel, reference};
    use super::*;

    /// Against `scipy.stats.friedmanchisquare`.
    #[test]
    fn friedman_matches_scipy() {
        for c in cases(&reference(), "friedman") {
            let r = friedman(&matrix(&c["y"])).expect("a table");
            near(r.statistic.expect("not all tied"), f(&c["statistic"]), 1e-9, "Friedman chi2");
            near_rel(r.p, f(&c["p"]), 1e-9, "Friedman p");
        }
    }

    /// Against `scipy.stats.page_trend_test` (untied) or the direct tie-corrected
    /// formula of the reference script (tied).
    #[test]
    fn page_matches_the_reference() {
        for c in cases(&reference(), "page") {
            let direction = if c["direction"] == "increasing" {
                Direction::Increasing
            } else {
                Direction::Decreasing
            };
            let r = page_trend(&matrix(&c["y"]), direction).expect("a table");
            near(r.l, f(&c["l"]), 1e-12, "L");
            near_rel(r.p, f(&c["p"]), 1e-9, "Page p");
        }
    }

    /// A steady rise is found by Page in its direction only, and Friedman sees it.
    #[test]
    fn a_rise_is_found_in_its_direction_only() {
        let y: Vec<Vec<f64>> =
            (0..4).map(|i| (0..6).map(|j| i as f64 + 0.3 * (j % 3) as f64).collect()).collect();
        let up = page_trend(&y, Direction::Increasing).expect("table");
        let down = page_trend(&y, Direction::Decreasing).expect("table");
        assert!(up.p < 0.001 && down.p > 0.999, "up {} down {}", up.p, down.p);
        assert!(friedman(&y).expect("table").p < 0.001);
    }

    #[test]
    fn all_tied_blocks_give_no_statistic() {
        let y = vec![vec![1.0, 2.0, 3.0]; 3];
        let r = friedman(&y).expect("table");
        assert_eq!((r.statistic, r.p), (None, 1.0));
        let page = page_trend(&y, Direction::Increasing).expect("table");
        assert_eq!((page.z, page.p), (None, 1.0));
        assert!(
            friedman(&[vec![1.0, 2.0]]).is_none()
                && page_trend(&[vec![1.0], vec![2.0]], Direction::Increasing).is_none()
        );
    }
}
