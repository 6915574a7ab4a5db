//! Analysis of a study's records and stored predictions: per-level summaries, how much
//! of each level's seed noise is the test set alone ([`noise`]), pairwise comparisons
//! with verdicts that agree with the intervals they show ([`power`]), trends over
//! ordered numeric factors, and sources of seed variance. A run is diverged by the rule of
//! [`RunRecord::divergence`] (judged here, so old records are judged alike): diverged
//! runs are listed with their reason and left out of the level summaries (means,
//! losses, curves), but count at chance accuracy in the comparisons and the ranking,
//! so a setting that wrecks training shows as the effect it is.
//!
//! The statistics of a study, as pure functions: data in (the study, its planned runs,
//! their records and stored predictions), data out. Reads no files and depends on no
//! burn crate (and on nothing of the run store or the sweeps).

pub mod claims;
mod claims_spread;
mod compare;
pub mod cv;
pub mod decisions;
pub mod factor;
pub mod inference;
mod levels;
pub mod noise;
pub mod power;
pub mod powerlaw;
pub mod rank;
pub mod sequential;
pub mod sources;
mod splitmix;
pub mod stats;
mod study;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
pub mod timing;
mod types;

pub use compare::{experiment_stats, experiment_stats_with};
pub(crate) use levels::*;
pub use study::{analyze, study_noise};
pub use types::*;

use crate::power::Scale;

/// Family-wise significance level of verdicts (Bonferroni over an experiment's
/// comparisons).
pub const ALPHA: f64 = 0.05;

/// Examples the runs of a level disagree on most, kept per level (for drawing them).
pub const MOST_CONTESTED: usize = 16;

/// The factors whose levels are ordered numbers (each level sets the one spec field to
/// a number), with the scale of their trend test: levels swept in multiples (sizes,
/// rates) on a log scale, fractions on a linear one. Such experiments compare
/// neighbouring levels only.
pub const ORDERED_FACTORS: [(&str, Scale); 8] = [
    ("train_size", Scale::Log),
    ("lr", Scale::Log),
    ("batch_size", Scale::Log),
    ("width", Scale::Log),
    ("label_noise", Scale::Linear),
    ("dropout", Scale::Linear),
    ("weight_decay", Scale::Linear),
    ("imbalance", Scale::Linear),
];
