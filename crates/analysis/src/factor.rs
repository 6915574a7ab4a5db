//! Each factor tested as its study was run. With paired seeds (replicate r shares its
//! seeds across the levels) the replicates are blocks: the factor test is the
//! randomized complete block ANOVA, with Friedman's test as its rank check. Without
//! pairing it is the one-way ANOVA, with Kruskal–Wallis. Accuracy statistics use the
//! runs that did not diverge (a blocked test, the replicates whose runs all did);
//! divergence is its own outcome, its rate compared across levels by the Freeman–Halton
//! exact test. The effect is the noise-corrected between-level sd, which does not grow
//! with the number of levels under no effect, with its interval, and the best level
//! against the worst with an interval valid over every pair.

use serde::Serialize;

use crate::inference::effect::{BestWorst, LevelSpread, best_vs_worst, level_spread};
use crate::inference::exact::freeman_halton;
use crate::inference::ranks::friedman;
use crate::inference::rcbd::{BlockAnova, block_anova};
use crate::{ALPHA, LevelStats};

/// How the factor test treats the runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FactorDesign {
    /// Paired seeds: replicates are blocks (randomized complete block ANOVA, Friedman).
    Blocked,
    /// Independent seeds per level (one-way ANOVA, Kruskal–Wallis).
    Independent,
}

/// The factor test of one experiment, in accuracy points.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FactorTest {
    /// Blocked or independent.
    pub design: FactorDesign,
    /// Levels tested.
    pub levels: usize,
    /// Runs in the test (diverged runs and, blocked, incomplete replicates left out).
    pub runs: usize,
    /// Blocked: the replicates in the test (every level has a run that did not
    /// diverge); independent: 0.
    pub blocks: usize,
    /// Blocked: the replicates left out because some level's run is missing or
    /// diverged.
    pub dropped_blocks: usize,
    /// The ANOVA's F for levels; `None` when the runs have no spread at all.
    pub f: Option<f64>,
    /// Its degrees of freedom.
    pub df: (f64, f64),
    /// Its p-value.
    pub p: f64,
    /// The p-value Holm-adjusted over the study's factor tests (set by the ranking).
    pub p_holm: Option<f64>,
    /// The rank check: `friedman` or `kruskal-wallis`.
    pub rank_test: &'static str,
    /// Its p-value.
    pub rank_p: Option<f64>,
    /// The noise-corrected between-level sd with its interval (its `ratio` is to the
    /// residual noise `√MS_error`, a run's sd around its level and seed block).
    pub spread: Option<LevelSpread>,
    /// The seed noise a reader sees: the sd between the seeds of one level, pooled over
    /// levels (`√((SS_block + SS_error)/(df_block + df_error))` blocked; `√MS_error`
    /// without blocks), diverged runs out.
    pub seed_sd: Option<f64>,
    /// The best level against the worst, with an interval valid over every pair.
    pub best_worst: Option<BestWorstLevels>,
}

/// The best level against the worst, named.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BestWorstLevels {
    /// Best level (highest mean).
    pub best: String,
    /// Worst level.
    pub worst: String,
    /// Best minus worst, points.
    pub diff: f64,
    /// Its simultaneous 95% interval (Bonferroni over every pair of levels).
    pub ci: (f64, f64),
    /// Its p-value, adjusted over every pair.
    pub p_adjusted: f64,
    /// Pairs of levels in the family.
    pub pairs: usize,
}

/// How often each level's runs diverged, and whether the rate differs between levels.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DivergenceTest {
    /// Per level with runs: (label, diverged runs, runs).
    pub levels: Vec<(String, usize, usize)>,
    /// The Freeman–Halton exact test of equal rates; `None` when no run diverged or
    /// there are fewer than 2 levels.
    pub p: Option<f64>,
}

impl DivergenceTest {
    /// Runs that diverged, over every level.
    pub fn diverged(&self) -> usize {
        self.levels.iter().map(|l| l.1).sum()
    }
}

/// The table `y[level][block]` (points) of the replicates every level has a run of
/// that did not diverge, and how many replicates were left out.
pub fn blocked_table(levels: &[&LevelStats]) -> (Vec<Vec<f64>>, Vec<usize>, usize) {
    let mut all: Vec<usize> = levels
        .iter()
        .flat_map(|l| {
            l.outcomes.iter().map(|o| o.replicate).chain(l.scored_replicates.iter().copied())
        })
        .collect();
    all.sort_unstable();
    all.dedup();
    let has = |l: &LevelStats, r: usize| l.scored_replicates.contains(&r);
    let blocks: Vec<usize> =
        all.iter().copied().filter(|&r| levels.iter().all(|l| has(l, r))).collect();
    let value = |l: &LevelStats, r: usize| {
        let at = l.scored_replicates.iter().position(|&x| x == r).unwrap_or(0);
        100.0 * l.scored_accuracies.get(at).copied().unwrap_or(f64::NAN)
    };
    let y = levels.iter().map(|l| blocks.iter().map(|&r| value(l, r)).collect()).collect();
    (y, blocks.clone(), all.len() - blocks.len())
}

/// The factor test of `levels` (those with runs), blocked when `paired`.
pub fn factor_test(levels: &[LevelStats], paired: bool) -> Option<FactorTest> {
    let levels: Vec<&LevelStats> =
        levels.iter().filter(|l| !l.scored_accuracies.is_empty()).collect();
    if levels.len() < 2 {
        return None;
    }
    if paired { blocked_test(&levels) } else { independent_test(&levels) }
}

fn blocked_test(levels: &[&LevelStats]) -> Option<FactorTest> {
    let (y, blocks, dropped) = blocked_table(levels);
    let anova = block_anova(&y)?;
    let best_worst = best_vs_worst(&y, ALPHA)
        .filter(|bw| blocks.len() >= 3 || bw.t.is_some())
        .map(|bw| named(&bw, levels));
    Some(FactorTest {
        design: FactorDesign::Blocked,
        levels: levels.len(),
        runs: levels.len() * blocks.len(),
        blocks: blocks.len(),
        dropped_blocks: dropped,
        f: anova.f,
        df: (anova.df_level, anova.df_error),
        p: anova.p,
        p_holm: None,
        rank_test: "friedman",
        rank_p: friedman(&y).map(|f| f.p),
        spread: level_spread(&anova, ALPHA),
        seed_sd: seed_sd(&anova),
        best_worst,
    })
}

/// The sd between seeds within a level, pooled over levels.
fn seed_sd(a: &BlockAnova) -> Option<f64> {
    let df = a.df_block + a.df_error;
    (df > 0.0).then(|| ((a.ms_block * a.df_block + a.ms_error * a.df_error) / df).sqrt())
}

fn named(bw: &BestWorst, levels: &[&LevelStats]) -> BestWorstLevels {
    BestWorstLevels {
        best: levels[bw.best].label.clone(),
        worst: levels[bw.worst].label.clone(),
        diff: bw.diff,
        ci: bw.ci,
        p_adjusted: bw.p_adjusted,
        pairs: bw.pairs,
    }
}

/// The one-way ANOVA as the block ANOVA's numbers (no block term; `blocks` is the
/// effective runs per level `n₀ = (N − Σnᵢ²/N)/(k − 1)`), so that the spread's
/// formulas apply alike.
fn one_way(groups: &[Vec<f64>]) -> Option<BlockAnova> {
    let k = groups.len();
    let n: usize = groups.iter().map(Vec::len).sum();
    if k < 2 || n <= k {
        return None;
    }
    let mean = |g: &[f64]| g.iter().sum::<f64>() / g.len() as f64;
    let all: Vec<f64> = groups.iter().flatten().copied().collect();
    let grand = mean(&all);
    let ssb: f64 = groups.iter().map(|g| g.len() as f64 * (mean(g) - grand).powi(2)).sum();
    let ssw: f64 =
        groups.iter().map(|g| g.iter().map(|x| (x - mean(g)).powi(2)).sum::<f64>()).sum();
    let (df1, df2) = ((k - 1) as f64, (n - k) as f64);
    let (ms_level, ms_error) = (ssb / df1, ssw / df2);
    let nf = n as f64;
    let n0 = (nf - groups.iter().map(|g| (g.len() as f64).powi(2)).sum::<f64>() / nf) / df1;
    let f = (ms_error > 1e-12 * ms_level.max(1e-300)).then(|| ms_level / ms_error);
    let p = crate::rank::anova_p(&groups.iter().map(Vec::as_slice).collect::<Vec<_>>())?;
    Some(BlockAnova {
        levels: k,
        blocks: n0.round().max(1.0) as usize,
        level_means: groups.iter().map(|g| mean(g)).collect(),
        grand_mean: grand,
        ms_level,
        ms_block: 0.0,
        ms_error,
        df_level: df1,
        df_block: 0.0,
        df_error: df2,
        f,
        p,
    })
}

fn independent_test(levels: &[&LevelStats]) -> Option<FactorTest> {
    let groups: Vec<Vec<f64>> =
        levels.iter().map(|l| l.scored_accuracies.iter().map(|a| 100.0 * a).collect()).collect();
    let anova = one_way(&groups)?;
    let refs: Vec<&[f64]> = groups.iter().map(Vec::as_slice).collect();
    Some(FactorTest {
        design: FactorDesign::Independent,
        levels: levels.len(),
        runs: groups.iter().map(Vec::len).sum(),
        blocks: 0,
        dropped_blocks: 0,
        f: anova.f,
        df: (anova.df_level, anova.df_error),
        p: anova.p,
        p_holm: None,
        rank_test: "kruskal-wallis",
        rank_p: crate::rank::kruskal_p(&refs),
        spread: level_spread(&anova, ALPHA),
        seed_sd: seed_sd(&anova),
        best_worst: welch_best_worst(&groups, levels),
    })
}

/// Best against worst with Welch intervals Bonferroni-adjusted over every pair.
fn welch_best_worst(groups: &[Vec<f64>], levels: &[&LevelStats]) -> Option<BestWorstLevels> {
    let mean = |g: &[f64]| g.iter().sum::<f64>() / g.len() as f64;
    let order = |cmp: fn(f64, f64) -> bool| {
        (1..groups.len())
            .fold(0, |at, i| if cmp(mean(&groups[i]), mean(&groups[at])) { i } else { at })
    };
    let (best, worst) = (order(|a, b| a > b), order(|a, b| a < b));
    let t = crate::power::welch(&groups[best], &groups[worst]).ok()?;
    let pairs = groups.len() * (groups.len() - 1) / 2;
    Some(BestWorstLevels {
        best: levels[best].label.clone(),
        worst: levels[worst].label.clone(),
        diff: t.diff,
        ci: t.ci_adjusted(ALPHA, pairs),
        p_adjusted: t.p_bonferroni(pairs),
        pairs,
    })
}

/// How often each of `levels` diverged, with the exact test of equal rates.
pub fn divergence_test(levels: &[LevelStats]) -> DivergenceTest {
    let counts: Vec<(String, usize, usize)> = levels
        .iter()
        .filter(|l| l.complete > 0)
        .map(|l| (l.label.clone(), l.diverged, l.complete))
        .collect();
    let any = counts.iter().any(|c| c.1 > 0);
    let rows: Vec<[u64; 2]> =
        counts.iter().map(|&(_, d, n)| [d as u64, (n - d.min(n)) as u64]).collect();
    let p = (any && rows.len() >= 2).then(|| freeman_halton(&rows)).flatten();
    DivergenceTest { levels: counts, p }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RunOutcome;
    use crate::inference::multiplicity::holm;

    /// A level whose runs scored `acc` (fractions) in replicates 0, 1, …; `None` is a
    /// diverged run.
    fn level(label: &str, acc: &[Option<f64>]) -> LevelStats {
        let scored: Vec<(usize, f64)> =
            acc.iter().enumerate().filter_map(|(r, a)| a.map(|a| (r, a))).collect();
        LevelStats {
            label: label.into(),
            complete: acc.len(),
            diverged: acc.iter().filter(|a| a.is_none()).count(),
            outcomes: (0..acc.len())
                .map(|r| RunOutcome {
                    replicate: r,
                    diverged: acc[r].is_none(),
                    ..Default::default()
                })
                .collect(),
            scored_accuracies: scored.iter().map(|s| s.1).collect(),
            scored_replicates: scored.iter().map(|s| s.0).collect(),
            ..Default::default()
        }
    }

    /// The blocked test uses the replicates every level has a non-diverged run of, and
    /// matches the block ANOVA on that table; a seed effect shared by the levels
    /// (blocks) does not hide a consistent difference.
    #[test]
    fn paired_seeds_are_blocks() {
        let a = level("a", &[Some(0.80), Some(0.85), Some(0.90), Some(0.82), None]);
        let b = level("b", &[Some(0.81), Some(0.86), Some(0.91), Some(0.83), Some(0.9)]);
        let t = factor_test(&[a.clone(), b.clone()], true).expect("test");
        assert_eq!(
            (t.design, t.blocks, t.dropped_blocks, t.runs),
            (FactorDesign::Blocked, 4, 1, 8)
        );
        assert!(t.p < 1e-6, "a constant 1-point difference over blocks: {}", t.p);
        let one_way = factor_test(&[a, b], false).expect("test");
        assert!(one_way.p > 0.5, "the same runs unblocked: {}", one_way.p);
        let bw = t.best_worst.expect("best and worst");
        assert_eq!((bw.best.as_str(), bw.worst.as_str(), bw.pairs), ("b", "a", 1));
        assert!((bw.diff - 1.0).abs() < 1e-9);
    }

    /// Two seeds that agree exactly are no evidence: no best-versus-worst certainty.
    #[test]
    fn two_identical_differences_are_not_certainty() {
        let a = level("a", &[Some(0.80), Some(0.85)]);
        let b = level("b", &[Some(0.81), Some(0.86)]);
        let t = factor_test(&[a, b], true).expect("test");
        assert_eq!(t.best_worst, None);
    }

    /// Divergence counts are compared exactly; none diverged: no test.
    #[test]
    fn divergence_rates_are_compared_exactly() {
        let a = level("a", &[None, None, None, None, None]);
        let b = level("b", &[Some(0.8), Some(0.8), Some(0.8), Some(0.8), Some(0.8)]);
        let d = divergence_test(&[a, b.clone()]);
        assert_eq!(d.diverged(), 5);
        // 5 of 5 against 0 of 5: p = 2 / C(10, 5) = 0.00794.
        assert!((d.p.expect("p") - 2.0 / 252.0).abs() < 1e-9, "{:?}", d.p);
        assert_eq!(divergence_test(&[b.clone(), b]).p, None);
    }

    /// A study of null factors (3 to 9 levels, 5 paired seeds, block effects): the
    /// between-level sd does not grow with the levels, and with Holm over the factors
    /// a study calls some factor distinguishable at most 5% of the time (plus Monte
    /// Carlo error); without Holm far more often.
    #[test]
    fn null_studies_call_a_factor_distinguishable_at_most_five_percent_of_the_time() {
        let mut rng = crate::splitmix::SplitMix(0xfac7_0001);
        let mut normal = move || rng.normal();
        let (studies, factors) = (400, 16);
        let (mut any_holm, mut any_raw) = (0, 0);
        let mut sd_by_k = [0.0f64; 10];
        let mut n_by_k = [0usize; 10];
        for s in 0..studies {
            let mut ps = Vec::new();
            for f in 0..factors {
                let k = 3 + (s + f) % 7;
                let blocks: Vec<f64> = (0..5).map(|_| 2.0 * normal()).collect();
                let levels: Vec<LevelStats> = (0..k)
                    .map(|i| {
                        let acc: Vec<Option<f64>> = blocks
                            .iter()
                            .map(|b| Some(0.85 + (b + 0.7 * normal()) / 100.0))
                            .collect();
                        level(&format!("l{i}"), &acc)
                    })
                    .collect();
                let t = factor_test(&levels, true).expect("test");
                if let Some(sp) = &t.spread {
                    sd_by_k[k] += sp.sd;
                    n_by_k[k] += 1;
                }
                ps.push(t.p);
            }
            any_raw += usize::from(ps.iter().any(|&p| p < ALPHA));
            any_holm += usize::from(holm(&ps).expect("holm").iter().any(|&p| p < ALPHA));
        }
        let rate = any_holm as f64 / studies as f64;
        let se = (0.05 * 0.95 / studies as f64).sqrt();
        assert!(rate <= 0.05 + 3.0 * se, "Holm: {rate}");
        assert!(any_raw as f64 / studies as f64 > 0.3, "unadjusted: {any_raw}");
        let mean_sd = |k: usize| sd_by_k[k] / n_by_k[k] as f64;
        // Noise sd 0.7 points: the spread stays well below it, and k = 9 not above k = 3.
        assert!(
            mean_sd(3) < 0.25 && mean_sd(9) <= mean_sd(3) + 0.03,
            "{} {}",
            mean_sd(3),
            mean_sd(9)
        );
    }
}
