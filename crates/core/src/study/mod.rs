//! Studies: a TOML file that names experiments, each varying one or more run-spec
//! fields over listed levels, with a number of seeds; expanded into the runs to do.
//!
//! ```toml
//! name = "seed"
//! seeds = 5            # replicates per level (default 5)
//! seed = 2024          # the study seed all run seeds derive from
//! paired_seeds = true  # replicate r uses the same seeds at every level (default)
//!
//! [base]               # a run spec: the fields every run shares
//! epochs = 10
//! eval_subset = 2000   # curve points on 2000 test images (the default); "full": all
//!
//! [[experiment]]
//! name = "exp1"
//! title = "Training-set size"
//! claim = "More training data gives higher accuracy."
//! base = { model = "simple" }
//! vary = { train_size = [1000, 60000] }     # one factor, or several (full grid)
//!
//! [[experiment]]
//! name = "batch-scaled"
//! levels = [{ batch_size = 16, lr = 0.0005 }, { batch_size = 64, lr = 0.002 }]
//!
//! [[experiment]]
//! name = "exp0"
//! kind = "variance-sources"                 # varies init, order, subset seeds, then all
//! base = { model = "simple", train_size = 1000, subset = "stratified" }
//! # sources = ["init", "order", "subset", "all", "rerun", "nudge"]   # optional; default the first four
//! ```
//!
//! Instead of a fixed `seeds = N`, a study may seed adaptively ([`AdaptiveSeeds`]):
//!
//! ```toml
//! seeds = { min = 3, max = 20, step = 2 }   # 3 seeds of every level, then 2 more at a time
//! resolve = { delta = 0.5 }                 # until each pair of levels is told apart
//!                                           # or within ±0.5 accuracy points, or at 20
//! [[experiment]]
//! name = "exp1"
//! resolve = { delta = 1.0, alpha = 0.01 }   # an experiment's own (over the study's)
//! vary = { train_size = [1000, 60000] }
//! ```
//!
//! Replicate r's seeds (so its runs) are the same whatever the design: an adaptive
//! study's first replicates are a fixed study's.
//!
//! A study's runs start from [`RunSpec::new_run`](crate::RunSpec::new_run), so unlike a
//! stored spec whose `eval_subset` is unset (every epoch on the whole test set), they
//! evaluate each epoch but the last on
//! [`DEFAULT_EVAL_SUBSET`](crate::DEFAULT_EVAL_SUBSET) examples unless the study, an
//! experiment or a level sets `eval_subset` (a count, or `"full"`).
//!
//! From a study to its runs: [`parse`] (or [`Study::load`]) reads and checks the file;
//! a front end's [`StudyOverrides`] are checked and set with
//! [`Study::apply_overrides`]; [`SeedCounts`] says how many seeds each experiment runs
//! now ([`SeedCounts::initial`], then each adaptive round's [`SeedCounts::update`]); and
//! [`expand_to`] lays out the runs once for those counts.
//!
//! The modules: `parse` (the file), `adaptive` (adaptive seeding's settings), `limits`
//! (the run, seed and look limits), `overrides`, `counts`, `expand` (runs and their
//! seeds, `QuickScale`) and `seeds` (seed derivation).

mod adaptive;
mod claims;
mod counts;
mod expand;
mod limits;
mod overrides;
mod parse;
#[cfg(test)]
mod props;
mod seeds;

pub use adaptive::{
    AdaptiveSeeds, AlphaSpending, DEFAULT_ALPHA, DEFAULT_SD_INTERVAL_RATIO, Resolve,
};
pub use claims::{ClaimCheck, ClaimOutcome, ClaimShape, DEFAULT_MARGIN, TrendDirection};
pub use counts::SeedCounts;
pub use expand::{PlannedRun, QuickScale, expand, expand_to, expand_with};
pub use limits::{MAX_ADAPTIVE_SEEDS, MAX_LOOKS, MAX_RUNS};
pub use overrides::{StudyOverrides, overridable_settings};
pub use parse::{parse, parse_bytes};
pub use seeds::derive_seed;

use std::path::PathBuf;

use crate::{Backend, RunSpec};
use serde::{Deserialize, Serialize};

/// What an experiment varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExperimentKind {
    /// Run-spec fields over listed levels.
    Factor,
    /// The config fixed; the levels vary only the init seed, only the data-order seed,
    /// only the subset seed, then all three (or the sources the experiment lists,
    /// [`ALL_VARIANCE_SOURCES`]).
    VarianceSources,
}

/// The one field a protocol experiment varies: the cross-validation fold. Such an
/// experiment compares evaluation protocols (k-fold against a single split), so it is
/// analysed as a protocol and not ranked as a cause of variation.
pub const PROTOCOL_FACTOR: &str = "fold";

/// Whether an experiment varying `factors` is a protocol experiment
/// ([`PROTOCOL_FACTOR`] alone).
pub fn is_protocol(factors: &[String]) -> bool {
    matches!(factors, [one] if one == PROTOCOL_FACTOR)
}

/// The levels of a variance-sources experiment that lists no `sources`, in order.
pub const VARIANCE_SOURCES: [&str; 4] = ["init", "order", "subset", "all"];

/// Every source a variance-sources experiment may list in `sources = [...]`: the four
/// of [`VARIANCE_SOURCES`]; `rerun` (the same seeds every replicate, run again) and
/// `nudge` (the same seeds every replicate, one initial weight moved by one unit in the
/// last place); `dropout` and `augment` (the dropout masks' or the augmentation's own
/// seed, new every replicate, everything else fixed); `threads` (the same seeds every
/// replicate, trained with [`THREAD_COUNTS`]`[r % 4]` threads); `split` (the same
/// seeds every replicate, evaluated on a new bootstrap resample of the test set);
/// `backend` (the same initial weights every replicate, trained on [`backend_cycle`]'s
/// backends in turn); and `nudge@E` ([`NUDGE_AT`]) for any epoch *E* ≥ 1 below the
/// spec's `epochs`. How each derives its seeds: `expand.rs`.
pub const ALL_VARIANCE_SOURCES: [&str; 11] = [
    "init", "order", "subset", "all", "rerun", "nudge", "dropout", "augment", "threads", "split",
    "backend",
];

/// The CPU backends a `backend` source trains on besides the experiment's own.
pub const SOURCE_BACKENDS: [Backend; 3] = [Backend::Flex, Backend::Ndarray, Backend::Tch];

/// The backends of a `backend` source's replicates, in turn (replicate *r* trains on
/// element *r* mod the length): the experiment's own backend `base` first, then each of
/// [`SOURCE_BACKENDS`] that is not `base`. Every replicate's initial weights are drawn
/// on `base` (`RunSpec::weights_backend`).
pub fn backend_cycle(base: Backend) -> Vec<Backend> {
    std::iter::once(base).chain(SOURCE_BACKENDS.into_iter().filter(|b| *b != base)).collect()
}

/// The thread counts of a `threads` source's replicates, in turn: replicate *r* trains
/// with `THREAD_COUNTS[r % 4]` threads (more threads than cores only slows a run).
pub const THREAD_COUNTS: [usize; 4] = [1, 2, 3, 4];

/// The prefix of the later nudges: `nudge@E` moves the same weight as `nudge` (the same
/// nudge seeds, replicate by replicate) after epoch *E* has been trained instead of before
/// training, for the butterfly curve (1 ≤ *E* < `epochs`).
pub const NUDGE_AT: &str = "nudge@";

/// The epoch after which a nudge source moves its weight: 0 for `nudge` (before
/// training), *E* for `nudge@E` written plainly (no sign, no leading zero, *E* ≥ 1);
/// `None` for every other label.
pub fn nudge_epoch(label: &str) -> Option<u32> {
    if label == "nudge" {
        return Some(0);
    }
    let e: u32 = label.strip_prefix(NUDGE_AT)?.parse().ok()?;
    (e >= 1 && label[NUDGE_AT.len()..] == e.to_string()).then_some(e)
}

/// Whether a variance-sources level draws no new training seed (`rerun`, `threads`,
/// `split`, `backend`, `nudge`, `nudge@E`):
/// every replicate has the seeds the single-source levels hold fixed.
pub fn is_seedless(label: &str) -> bool {
    matches!(label, "rerun" | "threads" | "split" | "backend") || nudge_epoch(label).is_some()
}

/// One level of an experiment: its label and the spec all its replicates share
/// (seeds aside).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Level {
    /// Short label, e.g. `1000` or `batch_size=16, lr=0.0005`.
    pub label: String,
    /// The field values this level sets (empty for variance sources).
    pub values: serde_json::Map<String, serde_json::Value>,
    /// The resolved spec (seeds not yet set).
    pub spec: RunSpec,
}

/// One experiment of a study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// Unique name (`exp1`).
    pub name: String,
    /// Human title (`Training-set size`).
    pub title: String,
    /// The claim under test, in the write-up's words, if any.
    pub claim: Option<String>,
    /// The level the claim expects to come out best, if it names one.
    #[serde(default)]
    pub expect_best: Option<String>,
    /// The claim as checkable parts (`checks = [...]`); empty when the file gives
    /// none ([`Experiment::claim_checks`] then makes the default ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<ClaimCheck>,
    /// What it varies.
    pub kind: ExperimentKind,
    /// The fields varied (for variance sources: `seed source`).
    pub factors: Vec<String>,
    /// Its levels, in file order.
    pub levels: Vec<Level>,
}

impl Experiment {
    /// The parts its claim is tested by: the file's `checks`; else, for a factor
    /// experiment (not a protocol one, which compares estimates, not levels), that the
    /// levels differ, and that `expect_best` is best when it names a level.
    pub fn claim_checks(&self) -> Vec<ClaimCheck> {
        if !self.checks.is_empty()
            || self.kind != ExperimentKind::Factor
            || is_protocol(&self.factors)
        {
            return self.checks.clone();
        }
        let check = |shape| ClaimCheck { says: None, shape, outcome: ClaimOutcome::TestAccuracy };
        let mut checks = vec![check(ClaimShape::Differs)];
        if let Some(level) = &self.expect_best {
            checks.push(check(ClaimShape::Best { level: level.clone() }));
        }
        checks
    }
}

/// A parsed, validated study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Study {
    /// The study's name (default: the file stem); names its run directory.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Replicates per level (with [`Study::adaptive`], its `min`: the first look's). How
    /// many each experiment runs now is a [`SeedCounts`], which starts from this.
    pub seeds: usize,
    /// Adaptive seeding, when the file's `seeds` is `{ min, max, step }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<AdaptiveSeeds>,
    /// The study seed.
    pub seed: u64,
    /// Whether replicate r shares its seeds across the levels of an experiment
    /// (common random numbers; pairs runs for comparisons).
    pub paired_seeds: bool,
    /// The equivalence margin in accuracy points: two levels are "within seed noise"
    /// only when an equivalence test shows their difference inside ±margin
    /// (`margin = 0.5`, the default [`DEFAULT_MARGIN`]).
    #[serde(default = "default_margin", skip_serializing_if = "is_default_margin")]
    pub margin: f64,
    /// The experiments, in file order.
    pub experiments: Vec<Experiment>,
    /// The file it was read from.
    pub source: PathBuf,
}

fn default_margin() -> f64 {
    DEFAULT_MARGIN
}

fn is_default_margin(m: &f64) -> bool {
    *m == DEFAULT_MARGIN
}

impl Study {
    /// Whether the study trains with the user's own command ([`crate::Script`]): its
    /// `[base]` names one, so every level's spec has it.
    pub fn is_script(&self) -> bool {
        self.experiments.iter().flat_map(|e| &e.levels).any(|l| l.spec.script.is_some())
    }

    /// Reads and validates a study file; errors name the file, line and field.
    pub fn load(path: &std::path::Path) -> crate::Result<Study> {
        let bytes = std::fs::read(path).map_err(|e| crate::Error::io(path, e))?;
        parse_bytes(&bytes, path)
    }
}

#[cfg(test)]
mod tests {
    use super::is_protocol;

    /// Only an experiment that varies the fold and nothing else is a protocol experiment.
    #[test]
    fn a_protocol_experiment_varies_the_fold_alone() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(is_protocol(&names(&["fold"])));
        assert!(!is_protocol(&names(&["fold", "lr"])));
        assert!(!is_protocol(&names(&["folds"])));
        assert!(!is_protocol(&names(&[])));
    }
}
