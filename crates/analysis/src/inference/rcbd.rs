//! The randomized complete block ANOVA of a table `y[level][block]`: each replicate
//! (seed) is a block shared by every level, so the block-to-block variation is taken
//! out of the error before the levels are compared.

use serde::Serialize;

use super::common::{f_sf, max_abs, negligible, table_shape};

/// Two-way additive ANOVA of levels and blocks, one value per cell.
///
/// `y_ij = μ + α_i + β_j + ε_ij`. Sums of squares: levels `b Σ (ȳ_i· − ȳ)²` on
/// `k − 1` df, blocks `k Σ (ȳ_·j − ȳ)²` on `b − 1` df, error
/// `Σ (y_ij − ȳ_i· − ȳ_·j + ȳ)²` on `(k − 1)(b − 1)` df; every mean square is its sum
/// of squares over its df. Equals statsmodels'
/// `anova_lm(ols("y ~ C(level) + C(block)"))` (balanced, so type I = type II).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BlockAnova {
    /// Levels `k`.
    pub levels: usize,
    /// Blocks (replicates) `b`.
    pub blocks: usize,
    /// Mean of each level over the blocks, in level order.
    pub level_means: Vec<f64>,
    /// Mean of all `k·b` values.
    pub grand_mean: f64,
    /// Level mean square.
    pub ms_level: f64,
    /// Block mean square.
    pub ms_block: f64,
    /// Error (level × block interaction) mean square: the variance of a single run
    /// around its level and block, the seed noise.
    pub ms_error: f64,
    /// `k − 1`.
    pub df_level: f64,
    /// `b − 1`.
    pub df_block: f64,
    /// `(k − 1)(b − 1)`.
    pub df_error: f64,
    /// `ms_level / ms_error`; `None` when the error is nil: the data are exactly
    /// additive up to rounding (its root mean square at most 1e-10 of the total's
    /// or of the largest value).
    pub f: Option<f64>,
    /// Upper-tail p-value of `f` on `(df_level, df_error)`. With a nil error it is
    /// 1 when the level sum of squares is nil too, else 0.
    pub p: f64,
}

/// The block ANOVA of `y[level][block]`; `None` unless there are at least 2 levels
/// and 2 blocks, every level has the same number of blocks (complete blocks: drop
/// incomplete ones first) and every value is finite.
pub fn block_anova<R: AsRef<[f64]>>(y: &[R]) -> Option<BlockAnova> {
    let (k, b) = table_shape(y).filter(|&(k, b)| k >= 2 && b >= 2)?;
    let cell = |i: usize, j: usize| y[i].as_ref()[j];
    let level_means: Vec<f64> =
        y.iter().map(|row| row.as_ref().iter().sum::<f64>() / b as f64).collect();
    let block_means: Vec<f64> =
        (0..b).map(|j| (0..k).map(|i| cell(i, j)).sum::<f64>() / k as f64).collect();
    let grand = level_means.iter().sum::<f64>() / k as f64;
    let squares = |xs: &[f64]| xs.iter().map(|m| (m - grand) * (m - grand)).sum::<f64>();
    let ss_level = b as f64 * squares(&level_means);
    let ss_block = k as f64 * squares(&block_means);
    let mut ss_error = 0.0;
    let mut ss_total = 0.0;
    for (i, level_mean) in level_means.iter().enumerate() {
        for (j, block_mean) in block_means.iter().enumerate() {
            let residual = cell(i, j) - level_mean - block_mean + grand;
            ss_error += residual * residual;
            ss_total += (cell(i, j) - grand) * (cell(i, j) - grand);
        }
    }
    let (df_level, df_block) = ((k - 1) as f64, (b - 1) as f64);
    let df_error = df_level * df_block;
    let (ms_level, ms_error) = (ss_level / df_level, ss_error / df_error);
    // Rounding error relative to the spread or to the values themselves.
    let n = (k * b) as f64;
    let magnitude = y.iter().map(|row| max_abs(row.as_ref())).fold(0.0, f64::max);
    let nil = |ss: f64| ss <= 1e-20 * ss_total || negligible((ss / n).sqrt(), magnitude);
    let (f, p) = if nil(ss_error) {
        (None, if nil(ss_level) { 1.0 } else { 0.0 })
    } else {
        let f = ms_level / ms_error;
        (Some(f), f_sf(f, df_level, df_error))
    };
    Some(BlockAnova {
        levels: k,
        blocks: b,
        level_means,
        grand_mean: grand,
        ms_level,
        ms_block: ss_block / df_block,
        ms_error,
        df_level,
        df_block,
        df_error,
        f,
        p,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{cases, f, matrix, near, reference};
    use super::*;

    /// Against statsmodels' two-way additive OLS ANOVA.
    #[test]
    fn matches_statsmodels_anova_lm() {
        let r = reference();
        for c in cases(&r, "rcbd") {
            let a = block_anova(&matrix(&c["y"])).expect("a complete table");
            near(a.f.expect("error variance"), f(&c["f"]), 1e-9, "F");
            near(a.p, f(&c["p"]), 1e-9, "p");
            near(a.ms_level, f(&c["ms_level"]), 1e-9, "MS level");
            near(a.ms_block, f(&c["ms_block"]), 1e-9, "MS block");
            near(a.ms_error, f(&c["ms_error"]), 1e-9, "MS error");
            near(a.df_error, f(&c["df_error"]), 0.0, "df error");
            for (m, want) in
                a.level_means.iter().zip(super::super::testutil::floats(&c["level_means"]))
            {
                near(*m, want, 1e-12, "level mean");
            }
        }
    }

    /// A block shift added to every level leaves the level test unchanged, and the
    /// one-way analysis (blocks ignored) would have lost the effect in it.
    #[test]
    fn block_effects_leave_the_level_test_unchanged() {
        let y = vec![vec![1.0, 2.1, 2.9, 4.2], vec![1.4, 2.3, 3.5, 4.4], vec![0.8, 2.0, 3.1, 3.9]];
        let shifted: Vec<Vec<f64>> = y
            .iter()
            .map(|row| row.iter().enumerate().map(|(j, v)| v + 10.0 * j as f64).collect())
            .collect();
        let (a, s) = (block_anova(&y).expect("table"), block_anova(&shifted).expect("table"));
        near(a.f.expect("F"), s.f.expect("F"), 1e-9, "F under block shifts");
        assert!(s.ms_block > 100.0 * a.ms_block);
        assert!(a.p < 0.05, "blocked test finds the level effect: p = {}", a.p);
    }

    #[test]
    fn degenerate_tables_give_none_or_a_stated_result() {
        assert!(block_anova(&[vec![1.0, 2.0]]).is_none(), "one level");
        assert!(block_anova(&[vec![1.0], vec![2.0]]).is_none(), "one block");
        assert!(block_anova(&[vec![1.0, 2.0], vec![2.0]]).is_none(), "ragged");
        assert!(block_anova(&[vec![1.0, f64::NAN], vec![2.0, 3.0]]).is_none(), "NaN");
        assert!(block_anova::<Vec<f64>>(&[]).is_none(), "empty");
        let flat = block_anova(&[vec![0.1; 4], vec![0.1; 4], vec![0.1; 4]]).expect("table");
        assert_eq!((flat.f, flat.p), (None, 1.0));
        // Exactly additive: level shifts with no noise.
        let additive = block_anova(&[vec![0.1, 0.7, 0.3], vec![1.1, 1.7, 1.3]]).expect("table");
        assert_eq!((additive.f, additive.p), (None, 0.0));
    }
}
