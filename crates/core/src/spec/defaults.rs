//! The defaults of a spec's optional fields, in one place. There are two kinds, kept
//! apart on purpose:
//!
//! - What an unset field *means* when a run executes: [`RunSpec::resolved`]. An unset
//!   field is left out of the canonical JSON, so its meaning is part of what every
//!   stored run with that field unset did: it must never change.
//! - What a *new* spec is given where its author says nothing (a study's `[base]`, a
//!   single run without a spec file): [`RunSpec::new_run`]. That value is written into
//!   the spec, hence into the new run's id. [`RunSpec::default`] (what a field missing
//!   from a stored spec reads as) leaves those fields unset, so a spec.json written
//!   before a field existed keeps its run id.

use serde_json::{Map, Value};

use super::{AugmentName, Downsample, EvalSet, OptimizerName, Preset, Rebalance, RunSpec};

/// The share of each class an image folder without `train/` and `test/` holds out as
/// its test set when a spec sets no `test_fraction`.
pub const DEFAULT_TEST_FRACTION: f64 = 0.2;

/// The `eval_subset` a new run is given when its author sets none
/// ([`RunSpec::new_run`]): 2000 test images, enough for a curve point within about one
/// accuracy point (standard error ≤ 1.1 points), a fifth of the cost of evaluating the
/// whole 10 000-image test set. Not what an unset `eval_subset` means: that is the whole
/// evaluation set ([`Resolved::eval_subset`]).
pub const DEFAULT_EVAL_SUBSET: usize = 2000;

/// The classes `imbalance` downsamples when `minority` is unset.
pub const DEFAULT_MINORITY: [u8; 5] = [0, 2, 4, 6, 8];

/// Conv blocks of the `cnn` family when `depth` is unset.
pub const DEFAULT_DEPTH: usize = 2;

/// Filters of the `cnn` family's first block when `width` is unset.
pub const DEFAULT_WIDTH: usize = 32;

/// Kernel size of the `cnn` family when `kernel` is unset.
pub const DEFAULT_KERNEL: usize = 3;

/// The effective value of each optional field of a spec that has a default, with what
/// an unset field stands for filled in ([`RunSpec::resolved`]). Fields without a default
/// are not here: `folds` and `fold` (required with `evaluate_on = "validation"`, else
/// not applicable), `channels` and `image_size` (unset: as the image files are),
/// `data_dir` and `data_sha256`.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// Training examples used: `train_size`, else the whole training split; `None` only
    /// for an image folder without `train_size`, whose size is known once it is read.
    pub train_size: Option<usize>,
    /// Test examples evaluated: `test_size`, else the whole test split; `None` only for
    /// an image folder without `test_size`.
    pub test_size: Option<usize>,
    /// Momentum of SGD and RMSprop: `momentum`, else the preset's (0.9 for RMSprop
    /// under the burn preset, otherwise 0: none). Adam ignores it.
    pub momentum: f64,
    /// `cnn` family: conv blocks, else [`DEFAULT_DEPTH`]. A registered model reads the
    /// spec's own field and may choose its own default.
    pub depth: usize,
    /// `cnn` family: filters of the first block, else [`DEFAULT_WIDTH`].
    pub width: usize,
    /// `cnn` family: kernel size, else [`DEFAULT_KERNEL`].
    pub kernel: usize,
    /// `cnn` family: how each block downsamples, else 2×2 max pooling.
    pub downsample: Downsample,
    /// Dropout probability before each dense layer, else 0.
    pub dropout: f64,
    /// L2 penalty added to the gradients, else 0.
    pub weight_decay: f64,
    /// Training-time augmentation, else none.
    pub augment: AugmentName,
    /// Fraction of the minority classes' examples kept, else 1 (all: no imbalance).
    pub imbalance: f64,
    /// The classes `imbalance` downsamples, else [`DEFAULT_MINORITY`].
    pub minority: Vec<u8>,
    /// How training corrects an imbalance, else not at all.
    pub rebalance: Rebalance,
    /// Fraction of training labels replaced, else 0.
    pub label_noise: f64,
    /// What `test_accuracy` is measured on, else the test split.
    pub evaluate_on: EvalSet,
    /// Examples each epoch's curve point but the last is evaluated on: `Some(n)`, or
    /// `None`, the whole evaluation set, which is what an unset `eval_subset` (written
    /// `"full"`) means. A count at least the size of the set is the whole set too.
    pub eval_subset: Option<usize>,
    /// An image folder's held-out share of each class, else [`DEFAULT_TEST_FRACTION`].
    pub test_fraction: f64,
}

impl RunSpec {
    /// The effective value of every optional field with a default: the one answer to
    /// "what does this run do where its spec says nothing?". Reads the spec only; the
    /// spec, its canonical JSON and its run id are unchanged.
    pub fn resolved(&self) -> Resolved {
        let burn_rmsprop = self.preset == Preset::Burn && self.optimizer == OptimizerName::Rmsprop;
        Resolved {
            train_size: self.train_size.or(self.dataset.train_examples()),
            test_size: self.test_size.or(self.dataset.test_examples()),
            momentum: self.momentum.unwrap_or(if burn_rmsprop { 0.9 } else { 0.0 }),
            depth: self.depth.unwrap_or(DEFAULT_DEPTH),
            width: self.width.unwrap_or(DEFAULT_WIDTH),
            kernel: self.kernel.unwrap_or(DEFAULT_KERNEL),
            downsample: self.downsample.unwrap_or(Downsample::Max),
            dropout: self.dropout.unwrap_or(0.0),
            weight_decay: self.weight_decay.unwrap_or(0.0),
            augment: self.augment.unwrap_or(AugmentName::None),
            imbalance: self.imbalance.unwrap_or(1.0),
            minority: self.minority.clone().unwrap_or_else(|| DEFAULT_MINORITY.to_vec()),
            rebalance: self.rebalance.unwrap_or(Rebalance::None),
            label_noise: self.label_noise.unwrap_or(0.0),
            evaluate_on: self.evaluate_on.unwrap_or(EvalSet::Test),
            eval_subset: self.eval_subset,
            test_fraction: self.test_fraction.unwrap_or(DEFAULT_TEST_FRACTION),
        }
    }

    /// The spec a new run starts from where its author says nothing: a study's runs
    /// (under its `[base]`) and a single run made without a spec file.
    /// [`RunSpec::default`] but with each epoch's curve point on
    /// [`DEFAULT_EVAL_SUBSET`] examples.
    pub fn new_run() -> RunSpec {
        RunSpec { eval_subset: Some(DEFAULT_EVAL_SUBSET), ..RunSpec::default() }
    }

    /// The fields [`RunSpec::new_run`] sets over [`RunSpec::default`], by name, as
    /// they are written in the spec's JSON: what a study's fields start from.
    pub(crate) fn new_run_fields() -> Map<String, Value> {
        let as_map = |spec: &RunSpec| match serde_json::to_value(spec) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let default = as_map(&RunSpec::default());
        as_map(&RunSpec::new_run()).into_iter().filter(|(k, v)| default.get(k) != Some(v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DatasetName;

    /// An unset field resolves to its documented default; a set one to itself.
    #[test]
    fn unset_fields_resolve_to_their_defaults() {
        let r = RunSpec::default().resolved();
        assert_eq!((r.train_size, r.test_size), (Some(60_000), Some(10_000)));
        assert_eq!((r.depth, r.width, r.kernel), (2, 32, 3));
        assert_eq!(
            (r.downsample, r.augment, r.rebalance),
            (Downsample::Max, AugmentName::None, Rebalance::None)
        );
        assert_eq!((r.momentum, r.dropout, r.weight_decay, r.label_noise), (0.0, 0.0, 0.0, 0.0));
        assert_eq!((r.imbalance, r.minority.as_slice()), (1.0, &DEFAULT_MINORITY[..]));
        assert_eq!((r.evaluate_on, r.eval_subset, r.test_fraction), (EvalSet::Test, None, 0.2));
        let set = RunSpec {
            train_size: Some(100),
            depth: Some(4),
            eval_subset: Some(50),
            minority: Some(vec![3]),
            ..RunSpec::default()
        }
        .resolved();
        assert_eq!((set.train_size, set.depth, set.eval_subset), (Some(100), 4, Some(50)));
        assert_eq!(set.minority, [3]);
        let folder = RunSpec { dataset: DatasetName::Folder, ..RunSpec::default() }.resolved();
        assert_eq!((folder.train_size, folder.test_size), (None, None));
    }

    /// Momentum follows the preset: burn's RMSprop has 0.9, everything else none.
    #[test]
    fn momentum_follows_the_preset() {
        let of = |optimizer, preset| RunSpec { optimizer, preset, ..RunSpec::default() };
        assert_eq!(of(OptimizerName::Rmsprop, Preset::Burn).resolved().momentum, 0.9);
        assert_eq!(of(OptimizerName::Rmsprop, Preset::Keras).resolved().momentum, 0.0);
        assert_eq!(of(OptimizerName::Sgd, Preset::Burn).resolved().momentum, 0.0);
        let own = RunSpec { momentum: Some(0.5), ..of(OptimizerName::Rmsprop, Preset::Burn) };
        assert_eq!(own.resolved().momentum, 0.5);
    }

    /// A new run differs from the default in `eval_subset` alone, and the default (what
    /// a stored spec without the field reads as) keeps it unset.
    #[test]
    fn a_new_run_sets_the_eval_subset_and_nothing_else() {
        assert_eq!(RunSpec::new_run().eval_subset, Some(DEFAULT_EVAL_SUBSET));
        assert_eq!(RunSpec::default().eval_subset, None);
        let fields = RunSpec::new_run_fields();
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["eval_subset"]);
        assert_eq!(fields["eval_subset"], DEFAULT_EVAL_SUBSET);
    }
}
