//! Inference primitives that match a study's design: blocked (paired-seed) factor tests,
//! multiplicity corrections, equivalence, effect sizes with honest intervals.
//!
//! A study's accuracy table for one experiment is `y[level][block]`: replicate `r`
//! shares its seeds across every level, so replicates are blocks. Every function here
//! takes plain slices, returns a plain struct (or `None` for input it cannot use:
//! NaN, empty, ragged, too few levels or blocks), never panics, and reports numbers in
//! the units of its input (the caller's accuracy points). `alpha` is always the
//! two-sided error rate of an interval (0.05 for 95%).
//!
//! * [`rcbd`]: the randomized complete block ANOVA.
//! * [`ranks`]: Friedman's test and Page's L test on within-block ranks.
//! * [`multiplicity`]: Holm and Bonferroni adjusted p-values.
//! * [`ncf`]: the noncentral F distribution and the noncentrality interval.
//! * [`effect`]: the noise-corrected between-level sd and the selection-adjusted
//!   best-versus-worst difference.
//! * [`equivalence`]: the paired TOST.
//! * [`trend`]: the per-block slope test of an ordered factor.
//! * [`variance`]: the sd's chi-square interval, the F test of two variances, the
//!   Brown–Forsythe test.
//! * [`bootstrap`]: percentile bootstrap over blocks for an sd and a ratio of sds.
//! * [`exact`]: Fisher's and the Freeman–Halton exact tests of divergence counts.
//!
//! Reference values come from scipy and statsmodels
//! (scripts/reference/inference_reference.py writes reference.json, which the
//! tests read).

pub mod bootstrap;
mod common;
pub mod effect;
pub mod equivalence;
pub mod exact;
pub mod multiplicity;
pub mod ncf;
pub mod ranks;
pub mod rcbd;
pub mod trend;
pub mod variance;

#[cfg(test)]
mod simulation;
#[cfg(test)]
mod testutil;

pub use bootstrap::{BootstrapInterval, bootstrap_sd, bootstrap_sd_ratio};
pub use effect::{BestWorst, LevelSpread, best_vs_worst, level_spread};
pub use equivalence::{Equivalence, Tost, tost_paired};
pub use exact::{fisher_exact, freeman_halton};
pub use multiplicity::{bonferroni, holm};
pub use ncf::{ncf_cdf, ncf_sf, noncentrality_interval};
pub use ranks::{Friedman, PageTrend, friedman, page_trend};
pub use rcbd::{BlockAnova, block_anova};
pub use trend::{Direction, SlopeTrend, slope_trend};
pub use variance::{
    BrownForsythe, SdInterval, VarianceRatio, brown_forsythe, sd_interval, sd_interval_df,
    variance_ratio,
};
