//! Adaptive seeding's settings as a study holds them: the seeds range and each
//! experiment's error control. Read from the file in `parse::adaptive`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Adaptive, sequential seeding (`seeds = { min, max, step }` with `resolve`): every
/// level of an experiment runs `min` seeds, then `step` more at a time while some pair
/// of its levels is neither told apart nor shown equivalent, up to `max`. The
/// statistics are `cnnvar_experiments::analysis::sequential`'s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveSeeds {
    /// Seeds of every level before the first look.
    pub min: usize,
    /// Most seeds of a level.
    pub max: usize,
    /// Seeds added to every level of an undecided experiment between looks.
    pub step: usize,
    /// Each experiment's error control (its own `resolve`, else the study's), by
    /// experiment name.
    pub resolve: BTreeMap<String, Resolve>,
}

impl AdaptiveSeeds {
    /// Seeds per level at each look: `min`, `min + step`, …, `max`.
    pub fn looks(&self) -> Vec<usize> {
        let mut looks: Vec<usize> = (self.min..self.max).step_by(self.step.max(1)).collect();
        looks.push(self.max);
        looks
    }
}

/// An experiment's family-wise error when its `resolve` gives no `alpha`.
pub const DEFAULT_ALPHA: f64 = 0.05;

/// A variance-sources experiment's precision target when its `resolve` gives no
/// `sd_interval_ratio`: each source's 95% sd interval at most a factor 2 from its lower
/// to its upper end (19 degrees of freedom give 1.92; 18 seeds reach it).
pub const DEFAULT_SD_INTERVAL_RATIO: f64 = 2.0;

fn default_sd_interval_ratio() -> f64 {
    DEFAULT_SD_INTERVAL_RATIO
}

/// `resolve = { delta = 0.5, alpha = 0.05, spending = "obrien-fleming" }`: when an
/// adaptive experiment's pairs of levels count as decided; for a variance-sources
/// experiment, `sd_interval_ratio` (its levels' sds are estimated, not compared: it
/// stops once they are precise enough, and ignores the rest).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resolve {
    /// The smallest difference in final test accuracy that matters, in accuracy points
    /// (0.5: half a point): pairs of levels within ±delta may be decided equivalent
    /// (0: never).
    pub delta: f64,
    /// The family-wise error of the experiment's decisions, over all its pairs and
    /// looks ([`DEFAULT_ALPHA`] unless given).
    pub alpha: f64,
    /// How alpha is spent over the looks.
    pub spending: AlphaSpending,
    /// A variance-sources experiment stops at the first look where the 95% chi-square
    /// interval of every source's sd has an upper end at most this many times its lower
    /// end (above 1; [`DEFAULT_SD_INTERVAL_RATIO`] unless given), or at `max`. Unused by
    /// factor experiments.
    #[serde(default = "default_sd_interval_ratio")]
    pub sd_interval_ratio: f64,
}

/// How an adaptive experiment spends its alpha over the looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlphaSpending {
    /// O'Brien–Fleming type: almost nothing early (the default).
    #[default]
    #[serde(rename = "obrien-fleming")]
    OBrienFleming,
    /// Pocock type: evenly, stopping large effects sooner.
    #[serde(rename = "pocock")]
    Pocock,
}
