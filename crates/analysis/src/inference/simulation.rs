//! Monte-Carlo checks of the properties the verdicts rely on, each with a fixed seed
//! and a companion assertion that a flawed method fails, so the check has teeth.
//! Bounds are the nominal rate plus 3 Monte-Carlo standard errors (4 where one test
//! checks seven settings at once).

use super::bootstrap::SplitMix;
use super::common::t_upper;
use super::effect::{best_vs_worst, level_spread};
use super::equivalence::tost_paired;
use super::multiplicity::holm;
use super::rcbd::block_anova;

const BLOCKS: usize = 5;

/// A null table `y[level][block]`: a block effect (sd 2) shared by every level plus
/// unit-sd noise, no level effect.
fn null_table(rng: &mut SplitMix, levels: usize, blocks: usize) -> Vec<Vec<f64>> {
    let block_effects: Vec<f64> = (0..blocks).map(|_| 2.0 * rng.normal()).collect();
    (0..levels).map(|_| block_effects.iter().map(|b| 50.0 + b + rng.normal()).collect()).collect()
}

/// Mean and Monte-Carlo standard error of `xs`.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

/// The standard error of a share `p` estimated from `n` trials.
fn share_se(p: f64, n: usize) -> f64 {
    (p * (1.0 - p) / n as f64).sqrt()
}

/// Under no effect the noise-corrected variance is unbiased for 0 and the shown sd
/// does not grow with the number of levels; the best-minus-worst range does.
#[test]
fn null_spread_does_not_grow_with_levels_but_the_range_does() {
    const SIMS: usize = 2000;
    let mut rng = SplitMix(0x5eed_0001);
    let (mut sds, mut ranges) = (Vec::new(), Vec::new());
    for k in 3..=9 {
        let (mut variances, mut sd, mut range) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..SIMS {
            let a = block_anova(&null_table(&mut rng, k, BLOCKS)).expect("a table");
            let s = level_spread(&a, 0.05).expect("alpha");
            variances.push(s.variance);
            sd.push(s.sd);
            let max = a.level_means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            range.push(max - a.level_means.iter().copied().fold(f64::INFINITY, f64::min));
        }
        let (m, se) = mean_se(&variances);
        assert!(m.abs() <= 4.0 * se, "k = {k}: mean variance {m} is not 0 (se {se})");
        sds.push(mean_se(&sd));
        ranges.push(mean_se(&range).0);
    }
    let (sd3, se3) = sds[0];
    for (k, &(sd, se)) in (3..).zip(&sds) {
        let slack = 3.0 * (se * se + se3 * se3).sqrt();
        assert!(sd <= sd3 + slack, "k = {k}: mean shown sd {sd} exceeds k = 3's {sd3}");
    }
    assert!(sds[6].0 < sds[0].0, "the shown sd at k = 9 is not below k = 3's: {sds:?}");
    // The biased measure fails the same check: its mean grows by over half.
    assert!(ranges[6] > 1.5 * ranges[0], "range does not grow: {ranges:?}");
    assert!(ranges.windows(2).all(|w| w[1] > w[0]), "range not increasing: {ranges:?}");
}

/// A study of 16 null factors tested by the block F test: Holm keeps the chance of
/// any false "distinguishable" at 5%; without it most studies have one.
#[test]
fn holm_over_a_study_controls_the_familywise_error() {
    const STUDIES: usize = 1500;
    const FACTORS: usize = 16;
    let mut rng = SplitMix(0x5eed_0002);
    let (mut holm_any, mut raw_any) = (0, 0);
    for _ in 0..STUDIES {
        let p: Vec<f64> = (0..FACTORS)
            .map(|_| {
                let k = 3 + rng.below(7);
                block_anova(&null_table(&mut rng, k, BLOCKS)).expect("a table").p
            })
            .collect();
        let adjusted = holm(&p).expect("p-values");
        holm_any += usize::from(adjusted.iter().any(|&q| q <= 0.05));
        raw_any += usize::from(p.iter().any(|&q| q <= 0.05));
    }
    let (holm_rate, raw_rate) = (holm_any as f64 / STUDIES as f64, raw_any as f64 / STUDIES as f64);
    let bound = 0.05 + 3.0 * share_se(0.05, STUDIES);
    assert!(holm_rate <= bound, "Holm: {holm_rate} of null studies flagged (bound {bound})");
    assert!(raw_rate > 0.3, "unadjusted: only {raw_rate} of null studies flagged");
}

/// Under no effect the simultaneous interval of the data-selected best-versus-worst
/// pair covers 0 at least 95% of the time; the unadjusted one does not at 9 levels.
#[test]
fn best_worst_interval_covers_after_selection() {
    const SIMS: usize = 1500;
    let mut rng = SplitMix(0x5eed_0003);
    for k in [3, 5, 9] {
        let (mut covered, mut naive_covered) = (0, 0);
        for _ in 0..SIMS {
            let r = best_vs_worst(&null_table(&mut rng, k, BLOCKS), 0.05).expect("a table");
            covered += usize::from(r.ci.0 <= 0.0 && 0.0 <= r.ci.1);
            let half = t_upper(0.025, r.df) * r.se;
            naive_covered += usize::from(r.diff.abs() <= half);
        }
        let coverage = covered as f64 / SIMS as f64;
        let bound = 0.95 - 3.0 * share_se(0.95, SIMS);
        assert!(coverage >= bound, "k = {k}: coverage {coverage} below {bound}");
        if k == 9 {
            let naive = naive_covered as f64 / SIMS as f64;
            assert!(naive < 0.9, "unadjusted interval covers {naive} at k = 9");
        }
    }
}

/// At a true difference of exactly the margin, TOST declares equivalence at most
/// `alpha` of the time; at a true difference of 0 it usually does (it has power).
#[test]
fn tost_size_at_the_margin() {
    const SIMS: usize = 6000;
    const PAIRS: usize = 10;
    let mut rng = SplitMix(0x5eed_0004);
    let mut rate = |shift: f64| {
        let mut equivalent = 0;
        for _ in 0..SIMS {
            let blocks: Vec<f64> = (0..PAIRS).map(|_| 2.0 * rng.normal()).collect();
            let a: Vec<f64> =
                blocks.iter().map(|b| b + shift + rng.normal() / 2f64.sqrt()).collect();
            let b: Vec<f64> = blocks.iter().map(|b| b + rng.normal() / 2f64.sqrt()).collect();
            equivalent +=
                usize::from(tost_paired(&a, &b, 1.0, 0.05, 1).expect("valid").is_equivalent());
        }
        equivalent as f64 / SIMS as f64
    };
    for shift in [1.0, -1.0] {
        let size = rate(shift);
        let bound = 0.05 + 3.0 * share_se(0.05, SIMS);
        assert!(size <= bound, "difference {shift}: equivalence declared {size} (bound {bound})");
    }
    let power = rate(0.0);
    assert!(power > 0.5, "no difference: equivalence declared only {power}");
}
