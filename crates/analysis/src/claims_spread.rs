//! `less-than`: one factor moves test accuracy less than another, compared on their
//! noise-corrected between-level sds with a bootstrap over each experiment's seeds.

use crate::claims::{PartResult, PartTest, Reason, Verdict};
use crate::factor::blocked_table;
use crate::inference::rcbd::block_anova;
use crate::splitmix::SplitMix;
use crate::{ALPHA, ExperimentStats, LevelStats};
use cnnvar_core::study::ClaimCheck;

/// Bootstrap resamples of each experiment's replicates.
const RESAMPLES: usize = 2000;

/// The noise-corrected between-level sd of a blocked table, `√max(0, (MS_level −
/// MS_error)/b)`, in points.
fn spread(y: &[Vec<f64>]) -> Option<f64> {
    let a = block_anova(y)?;
    Some(((a.ms_level - a.ms_error) / a.blocks as f64).max(0.0).sqrt())
}

/// The table of `exp`'s levels (points) and its replicates resampled by `pick`.
fn resample(y: &[Vec<f64>], rng: &mut SplitMix) -> Vec<Vec<f64>> {
    let b = y.first().map_or(0, Vec::len);
    let picks: Vec<usize> = (0..b).map(|_| rng.below(b.max(1))).collect();
    y.iter().map(|row| picks.iter().map(|&i| row[i]).collect()).collect()
}

fn table(exp: &ExperimentStats) -> Vec<Vec<f64>> {
    let levels: Vec<&LevelStats> =
        exp.levels.iter().filter(|l| !l.scored_accuracies.is_empty()).collect();
    blocked_table(&levels).0
}

/// Whether `this` experiment's factor moves test accuracy less than `other`'s: the
/// difference of their between-level sds (other minus this, points) with a 95%
/// percentile bootstrap over each experiment's replicates (resampled independently).
pub(crate) fn less_than(
    this: &ExperimentStats,
    other: &ExperimentStats,
    check: &ClaimCheck,
) -> PartResult {
    let (a, b) = (table(this), table(other));
    let estimate = spread(&a).zip(spread(&b)).map(|(x, y)| y - x);
    let mut rng = SplitMix(0x1e55_7a4e);
    let mut diffs: Vec<f64> = (0..RESAMPLES)
        .filter_map(|_| {
            let (ra, rb) = (resample(&a, &mut rng), resample(&b, &mut rng));
            Some(spread(&rb)? - spread(&ra)?)
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    let ci = (diffs.len() >= RESAMPLES / 2).then(|| {
        let at = |q: f64| diffs[((diffs.len() - 1) as f64 * q).round() as usize];
        (at(ALPHA / 2.0), at(1.0 - ALPHA / 2.0))
    });
    let (this, other) = (this.name.clone(), other.name.clone());
    let (verdict, why) = match ci {
        Some((lo, _)) if lo > 0.0 => (Verdict::Supported, Reason::SpreadLess { this, other }),
        Some((_, hi)) if hi < 0.0 => (Verdict::Contradicted, Reason::SpreadMore { this, other }),
        Some(_) => (Verdict::NotResolved, Reason::SpreadNotResolved { this, other }),
        None => (Verdict::NotResolved, Reason::TooFewSeedsForSpreads),
    };
    PartResult {
        check: check.clone(),
        verdict,
        test: PartTest::SpreadBootstrap { resamples: RESAMPLES },
        estimate,
        ci,
        p: None,
        why,
    }
}
