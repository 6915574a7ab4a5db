//! [`RunSpec`]: everything that determines one training run, its canonical JSON and
//! run id, and its field list.
//!
//! The spec's vocabulary is in `names` (data sets, models, optimizers…), its checks in
//! `validate`, what an unset optional field stands for in `defaults`
//! ([`RunSpec::resolved`]), and the serde and TOML-error helpers in `serde_util` and
//! `toml_error`.

mod defaults;
mod names;
pub(crate) mod script;
mod serde_util;
#[cfg(test)]
mod tests;
mod toml_error;
mod validate;

pub use defaults::{
    DEFAULT_DEPTH, DEFAULT_EVAL_SUBSET, DEFAULT_KERNEL, DEFAULT_MINORITY, DEFAULT_TEST_FRACTION,
    DEFAULT_WIDTH, Resolved,
};
pub(crate) use names::named_enum;
pub use names::{
    AugmentName, DatasetName, Downsample, EvalSet, ModelName, OptimizerName, Preset, Rebalance,
    SubsetMethod,
};
pub use script::{OPTIONAL_RUN_VALUES, RUN_VALUES, SCRIPT_SETTINGS, Script, ScriptRun};
pub use serde_util::serde_field_names;
pub use toml_error::toml_error;
pub use validate::{MAX_BATCH_SIZE, MAX_EPOCHS, MAX_IMAGE_SIDE};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Backend, Error, Result};

/// Everything that determines one training run. Two runs with equal specs on the same
/// backend produce the same numbers; the run id is a hash of the spec's canonical JSON
/// (every field but `data_dir`, a location: an image folder enters by its checksum,
/// `data_sha256`).
///
/// Fields missing from a file take [`RunSpec::default`]'s values (the write-up's: Adam
/// 1e-3, batch 32, 10 epochs, Keras preset, Fashion-MNIST, the whole training set); what
/// an unset optional field means when the run executes is [`RunSpec::resolved`]'s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunSpec {
    /// The data set.
    pub dataset: DatasetName,
    /// How many training examples to use; `None` means the whole training set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_size: Option<usize>,
    /// How those examples are drawn.
    pub subset: SubsetMethod,
    /// Evaluate on the first N test examples only (quick runs); `None`: the whole test set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_size: Option<usize>,
    /// The model.
    pub model: ModelName,
    /// The optimizer.
    pub optimizer: OptimizerName,
    /// The learning rate.
    pub lr: f64,
    /// Momentum for SGD and RMSprop; unset means the preset's default (Keras: none;
    /// burn: none for SGD, 0.9 for RMSprop). Adam ignores it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
    /// Whose defaults fill in init and optimizer constants.
    pub preset: Preset,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Passes over the training subset.
    pub epochs: usize,
    /// Seed of the weight initialisation.
    pub init_seed: u64,
    /// Seed of the order in which examples are visited (and, unless `dropout_seed` or
    /// `augment_seed` is set, of dropout masks and augmentation).
    pub order_seed: u64,
    /// Seed of the random subset (only used with `subset = "stratified"`).
    pub subset_seed: u64,
    /// A rerun's number: the same spec trained again as a run of its own. It changes
    /// the run id and nothing else (training never reads it); 0, the default, is no
    /// rerun and is left out of the canonical JSON, so every spec without it keeps its
    /// run id. A variance-sources experiment's `rerun` source gives replicate *r* the
    /// number *r* + 1 ([`crate::study::expand_to`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub rerun: u32,
    /// Moves one weight of the initialised model by one unit in the last place before
    /// training (`cnnvar_models::nudge`): the seed chooses the weight, uniformly over
    /// the model's non-zero float parameters, and whether its magnitude moves up or
    /// down. Unset (the default, left out of the canonical JSON): no weight is moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nudge_seed: Option<u64>,
    /// When the `nudge_seed`'s weight moves: 0 (the default, left out of the canonical
    /// JSON), before training; *E* ≥ 1, after epoch *E* has been trained and evaluated
    /// (so before epoch *E* + 1), for the butterfly curve of a variance-sources
    /// experiment's `nudge@E` sources. Needs a `nudge_seed`, and fewer than `epochs`.
    #[serde(skip_serializing_if = "is_zero")]
    pub nudge_epoch: u32,
    /// Seed of the dropout masks. Unset (the default, left out of the canonical JSON):
    /// a fixed scramble of `order_seed` ([`RunSpec::dropout_stream_seed`]), as before
    /// the field existed. A variance-sources experiment's `dropout` source sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropout_seed: Option<u64>,
    /// Seed of the augmentation's random transforms. Unset (the default, left out of
    /// the canonical JSON): `order_seed` ([`RunSpec::augment_stream_seed`]). A
    /// variance-sources experiment's `augment` source sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub augment_seed: Option<u64>,
    /// The compute threads this run trains with, whatever its worker was given. Unset
    /// (the default, left out of the canonical JSON): the worker's count. A
    /// variance-sources experiment's `threads` source sets it, so that only the order
    /// of the arithmetic's reductions changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// Evaluates the trained model on a bootstrap resample of the evaluation set (as many
    /// examples, drawn with replacement by this seed: `cnnvar_data::bootstrap`) instead
    /// of the set itself; its predictions and accuracy are those of the resample.
    /// Unset (the default, left out of the canonical JSON): the evaluation set as it is.
    /// A variance-sources experiment's `split` source sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_seed: Option<u64>,
    /// The burn backend.
    pub backend: Backend,
    /// The backend whose random generator draws the initial weights (from `init_seed`),
    /// which are then moved, value for value, onto `backend` to train. Unset (the
    /// default, left out of the canonical JSON): the weights are drawn on `backend`
    /// itself. A variance-sources experiment's `backend` source sets it, so that two
    /// backends train the same initial model and only their arithmetic differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights_backend: Option<Backend>,
    /// `cnn` model: conv blocks (unset: [`DEFAULT_DEPTH`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<usize>,
    /// `cnn` model: filters of the first block, doubling per block (unset:
    /// [`DEFAULT_WIDTH`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<usize>,
    /// `cnn` model: kernel size, odd (unset: [`DEFAULT_KERNEL`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<usize>,
    /// `cnn` model: how each block downsamples (default `max`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downsample: Option<Downsample>,
    /// Dropout probability before each dense layer (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropout: Option<f64>,
    /// L2 penalty added to the gradients by the optimizer (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_decay: Option<f64>,
    /// Training-time augmentation (default none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub augment: Option<AugmentName>,
    /// Fraction of the `minority` classes' training examples kept (class imbalance;
    /// default 1: all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imbalance: Option<f64>,
    /// The classes `imbalance` downsamples (unset: [`DEFAULT_MINORITY`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minority: Option<Vec<u8>>,
    /// How training corrects the imbalance (default none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebalance: Option<Rebalance>,
    /// Fraction of training labels replaced by a random other class (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_noise: Option<f64>,
    /// What `test_accuracy` is measured on (default the test split).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluate_on: Option<EvalSet>,
    /// Cross-validation folds of the training subset (with `evaluate_on = "validation"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folds: Option<usize>,
    /// The held-out fold, 0-based (with `evaluate_on = "validation"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fold: Option<usize>,
    /// How many examples each epoch's curve point is evaluated on, but the last epoch's:
    /// a fixed class-stratified subset of the evaluation set, the same for every epoch
    /// and every run that evaluates on the same examples (see `cnnvar_experiments::run`).
    /// The last epoch (and an epoch whose loss diverged, which ends the run) is always
    /// evaluated on the whole evaluation set, so the final accuracy and the predictions
    /// do not depend on it. `None` (written `"full"`): every epoch on the whole set, as
    /// before the field existed; a subset at least as large as the set is the whole set.
    /// A new run ([`RunSpec::new_run`]: a study's, or one made without a spec file) is
    /// given [`DEFAULT_EVAL_SUBSET`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "serde_util::count_or_full::deserialize"
    )]
    pub eval_subset: Option<usize>,
    /// `dataset = "folder"`: the image folder, `root/<class>/*` or
    /// `root/{train,test}/<class>/*` (PNG or JPEG; see `cnnvar_data::folder`). Where
    /// the images are is not what they are: this field is left out of the canonical
    /// JSON and the run id ([`RunSpec::canonical_json`]); the content enters as
    /// [`RunSpec::data_sha256`]. A sweep makes a relative path absolute (from the
    /// directory it is started in) when it plans the study.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<std::path::PathBuf>,
    /// `dataset = "folder"`: the SHA-256 of the folder's decoded content as read with
    /// this spec's `channels`, `image_size` and `test_fraction` (`cnnvar_data::folder`'s
    /// checksum: pixels, labels, class names and split, not paths). Filled in when a
    /// study is planned, or when a single run loads the folder; a run whose
    /// folder has other content is refused. It is part of the run id, so the same
    /// images give the same runs wherever they are, and changed images give new runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_sha256: Option<String>,
    /// `dataset = "folder"`: colour channels every image is converted to, 1 (grey) or 3
    /// (RGB); unset: as the files are (they must then all be alike).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<usize>,
    /// `dataset = "folder"`: `[height, width]` every image is resized to; unset: as the
    /// files are (they must then all be the same size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<[usize; 2]>,
    /// `dataset = "folder"` with one folder per class (no `train/` and `test/`): the
    /// share of each class held out as the test set, strictly between 0 and 1 (default
    /// [`DEFAULT_TEST_FRACTION`]). The split is seeded by a fixed seed (0), not by the
    /// run's seeds, so every run on the folder tests on the same images; the subset
    /// seed draws `train_size` examples from the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_fraction: Option<f64>,
    /// The user's own training command ([`Script`]) instead of a built-in model: the
    /// run's parameters are the script's, and of this spec's own fields only the seeds
    /// and `rerun` mean anything (the canonical JSON holds only those and the script).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<Script>,
}

impl Default for RunSpec {
    fn default() -> Self {
        RunSpec {
            dataset: DatasetName::FashionMnist,
            train_size: None,
            subset: SubsetMethod::First,
            test_size: None,
            model: ModelName::Simple,
            optimizer: OptimizerName::Adam,
            lr: 1e-3,
            momentum: None,
            preset: Preset::Keras,
            batch_size: 32,
            epochs: 10,
            init_seed: 0,
            order_seed: 0,
            subset_seed: 0,
            rerun: 0,
            nudge_seed: None,
            nudge_epoch: 0,
            dropout_seed: None,
            augment_seed: None,
            threads: None,
            split_seed: None,
            backend: Backend::default(),
            weights_backend: None,
            depth: None,
            width: None,
            kernel: None,
            downsample: None,
            dropout: None,
            weight_decay: None,
            augment: None,
            imbalance: None,
            minority: None,
            rebalance: None,
            label_noise: None,
            evaluate_on: None,
            folds: None,
            fold: None,
            eval_subset: None,
            data_dir: None,
            data_sha256: None,
            channels: None,
            image_size: None,
            test_fraction: None,
            script: None,
        }
    }
}

impl RunSpec {
    /// The name of every field, as written in files and study factors, in declaration
    /// order: the list serde's derive makes from the struct itself (see
    /// `serde_field_names`), so no copy is typed by hand. `results.csv` takes its spec
    /// columns from it, and a front end may set each one
    /// ([`overridable_settings`](crate::overridable_settings)).
    pub fn fields() -> &'static [&'static str] {
        static FIELDS: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
        FIELDS.get_or_init(serde_field_names::<RunSpec>)
    }

    /// The seed fields, which studies derive rather than take from the file.
    pub const SEED_FIELDS: &'static [&'static str] = &["init_seed", "order_seed", "subset_seed"];

    /// The fields only a variance-sources experiment's sources set in a study (`rerun`,
    /// `nudge`, `dropout`, `augment`, `threads`, `split`, `backend`; a single run may set
    /// them): a study file may not.
    pub const SOURCE_FIELDS: &'static [&'static str] = &[
        "rerun",
        "nudge_seed",
        "nudge_epoch",
        "dropout_seed",
        "augment_seed",
        "threads",
        "split_seed",
        "weights_backend",
    ];

    /// The scramble of `order_seed` that seeds the dropout masks of a spec without a
    /// `dropout_seed` (the value every run trained before that field existed used).
    pub const DROPOUT_SCRAMBLE: u64 = 0x9e37_79b9_7f4a_7c15;

    /// The seed of this run's dropout masks: `dropout_seed`, or `order_seed` XOR
    /// [`RunSpec::DROPOUT_SCRAMBLE`].
    pub fn dropout_stream_seed(&self) -> u64 {
        self.dropout_seed.unwrap_or(self.order_seed ^ Self::DROPOUT_SCRAMBLE)
    }

    /// The seed of this run's augmentation: `augment_seed`, or `order_seed`.
    pub fn augment_stream_seed(&self) -> u64 {
        self.augment_seed.unwrap_or(self.order_seed)
    }

    /// The canonical JSON form: fields in declaration order, no whitespace, unset
    /// options left out, and without `data_dir` (a location, not content: an image
    /// folder enters by its `data_sha256`). Equal specs give equal strings, and so do
    /// specs that differ only in where their folder is.
    ///
    /// A script's run ([`RunSpec::script`]) is the script (without its `dir` and
    /// `timeout_s`), the three seeds and `rerun`: the built-in fields it ignores are
    /// left out.
    pub fn canonical_json(&self) -> String {
        // A struct of plain fields always serialises (a path that is not UTF-8 cannot
        // be written, but it is not part of this form).
        let json = |spec: &RunSpec| serde_json::to_string(spec).unwrap_or_default();
        if let Some(script) = &self.script {
            return serde_json::to_string(&ScriptIdentity {
                script: script.canonical(),
                init_seed: self.init_seed,
                order_seed: self.order_seed,
                subset_seed: self.subset_seed,
                dropout_seed: self.dropout_seed,
                augment_seed: self.augment_seed,
                threads: self.threads,
                rerun: self.rerun,
            })
            .unwrap_or_default();
        }
        if self.data_dir.is_none() {
            return json(self);
        }
        json(&RunSpec { data_dir: None, ..self.clone() })
    }

    /// The training this run's model comes from, as an id: the run id of the spec
    /// without its evaluation set, for a run evaluated on the test split or its
    /// twilight copy (the training is the same; only the examples scored after each
    /// epoch differ); the run's own id for one evaluated on a held-out fold, whose
    /// training set the fold changes. Runs with equal keys are trained once, together
    /// (`cnnvar-experiments`' worker), and their results are repeated measures of the
    /// same models.
    pub fn training_key(&self) -> String {
        match self.evaluate_on {
            Some(EvalSet::Validation) => self.run_id(),
            _ => RunSpec { evaluate_on: None, ..self.clone() }.run_id(),
        }
    }

    /// The run id: the first 16 hex digits of the SHA-256 of the canonical JSON.
    pub fn run_id(&self) -> String {
        let digest = Sha256::digest(self.canonical_json().as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// Parses a spec from TOML text; errors name `location` and the line.
    pub fn from_toml(text: &str, location: &str) -> Result<RunSpec> {
        let spec: RunSpec = toml::from_str(text).map_err(|e| toml_error(location, text, &e))?;
        spec.validate_at(location)?;
        Ok(spec)
    }

    /// Parses a spec from JSON text; errors name `location`.
    pub fn from_json(text: &str, location: &str) -> Result<RunSpec> {
        let spec: RunSpec = serde_json::from_str(text)
            .map_err(|e| Error::field(format!("{location}:{}", e.line()), "spec", e.to_string()))?;
        spec.validate_at(location)?;
        Ok(spec)
    }
}

/// What identifies a script's run: its canonical JSON ([`RunSpec::canonical_json`]).
#[derive(Serialize)]
struct ScriptIdentity {
    script: Script,
    init_seed: u64,
    order_seed: u64,
    subset_seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    dropout_seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    augment_seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threads: Option<usize>,
    #[serde(skip_serializing_if = "is_zero")]
    rerun: u32,
}

/// Serde's `skip_serializing_if` for [`RunSpec::rerun`] and [`RunSpec::nudge_epoch`]:
/// 0 is no rerun, and a nudge before training.
fn is_zero(n: &u32) -> bool {
    *n == 0
}
