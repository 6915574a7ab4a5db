//! [`RunSpec`]: everything that determines one training run.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Backend, Error, Result};

/// Declares a fieldless enum whose values are written as short kebab-case names in
/// TOML, JSON and on the command line, with `as_str`, `Display`, `FromStr` and `ALL`.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in files and on the command line.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "unknown {} `{}`; expected one of: {}",
                        stringify!($name), s, [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}
pub(crate) use named_enum;

named_enum! {
    /// A data set cnnvar knows how to find, verify and read.
    DatasetName {
        /// Zalando's Fashion-MNIST (IDX format; Debian package `dataset-fashion-mnist`).
        FashionMnist => "fashion-mnist",
        /// LeCun's MNIST digits (IDX format).
        Mnist => "mnist",
        /// CIFAR-10, binary version.
        Cifar10 => "cifar10",
        /// Your own images, one folder per class, in the folder a spec's `data_dir`
        /// names (read by `cnnvar_data::folder`; see [`RunSpec::data_dir`]).
        Folder => "folder",
    }
}

impl DatasetName {
    /// Examples in the data set's training split; `None` for an image folder, whose
    /// size is known only once it is read.
    pub fn train_examples(self) -> Option<usize> {
        match self {
            DatasetName::FashionMnist | DatasetName::Mnist => Some(60_000),
            DatasetName::Cifar10 => Some(50_000),
            DatasetName::Folder => None,
        }
    }

    /// Examples in its test split; `None` for an image folder.
    pub fn test_examples(self) -> Option<usize> {
        match self {
            DatasetName::Folder => None,
            _ => Some(10_000),
        }
    }

    /// The name of each class, indexed by label, as the data set's authors give them.
    /// Empty for an image folder: its class names are its class folders' names, known
    /// from the data (a run records them in `Provenance::class_names`).
    pub fn class_names(self) -> &'static [&'static str] {
        match self {
            DatasetName::Folder => &[],
            DatasetName::FashionMnist => &[
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
            DatasetName::Mnist => &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            DatasetName::Cifar10 => &[
                "airplane",
                "automobile",
                "bird",
                "cat",
                "deer",
                "dog",
                "frog",
                "horse",
                "ship",
                "truck",
            ],
        }
    }
}

named_enum! {
    /// How the training subset of `train_size` examples is drawn.
    SubsetMethod {
        /// The first N examples of the training file, as the write-up does (`x_train[:N]`).
        First => "first",
        /// N examples drawn at random (seeded by `subset_seed`), stratified by class so
        /// each class keeps its share.
        Stratified => "stratified",
    }
}

/// The model a run trains: one of the standard models (the write-up's three CNNs and
/// the configurable `cnn` family), or a model a program registered under a name of its
/// own (`cnnvar_models::Models`). Written as its name in files and on the command line;
/// a name that is not a standard one is a [`ModelName::Custom`] name, known only to the
/// program that registered it (a program that does not know it refuses the run).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModelName {
    /// Conv 32 3×3 ReLU, MaxPool 2, Flatten, Dense 10 (the write-up's experiment 1).
    Simple,
    /// Conv 32, MaxPool, Conv 64, MaxPool, Flatten, Dense 10 (its experiment 2).
    TwoConv,
    /// Conv 64, MaxPool, Conv 128, MaxPool, Conv 256, Flatten, Dense 512, Dense 10
    /// (its experiment 3's big model).
    Complex,
    /// A configurable family: `depth` conv blocks (same padding) of `width`,
    /// 2×`width`, 4×`width`… filters with `kernel`×`kernel` kernels, each
    /// downsampled by `downsample`, then a dense output layer.
    Cnn,
    /// A model registered by name in the program that trains it (lower-case ASCII
    /// letters, digits, `-` and `_`, starting with a letter, at most
    /// [`ModelName::MAX_CUSTOM_LEN`] characters, and not a standard name).
    Custom(String),
}

impl ModelName {
    /// Every standard model, in declaration order (custom models are not listed: they
    /// are the registering program's).
    pub const ALL: &'static [ModelName] =
        &[ModelName::Simple, ModelName::TwoConv, ModelName::Complex, ModelName::Cnn];

    /// The longest name a custom model may have.
    pub const MAX_CUSTOM_LEN: usize = 64;

    /// The name used in files and on the command line.
    pub fn as_str(&self) -> &str {
        match self {
            ModelName::Simple => "simple",
            ModelName::TwoConv => "two-conv",
            ModelName::Complex => "complex",
            ModelName::Cnn => "cnn",
            ModelName::Custom(name) => name,
        }
    }

    /// Whether this is one of the standard models (not [`ModelName::Custom`]).
    pub fn is_standard(&self) -> bool {
        !matches!(self, ModelName::Custom(_))
    }

    /// The model named `name`: a standard one, else a custom name, checked (see
    /// [`ModelName::Custom`]).
    pub fn parse(name: &str) -> std::result::Result<ModelName, String> {
        if let Some(standard) = ModelName::ALL.iter().find(|m| m.as_str() == name) {
            return Ok(standard.clone());
        }
        let mut chars = name.chars();
        let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && name.len() <= ModelName::MAX_CUSTOM_LEN;
        if well_formed {
            return Ok(ModelName::Custom(name.to_string()));
        }
        Err(format!(
            "model `{name}` is neither a standard model ({}) nor a possible name of a \
             registered one (lower-case letters, digits, `-` and `_`, starting with a letter, \
             at most {} characters)",
            ModelName::ALL.iter().map(ModelName::as_str).collect::<Vec<_>>().join(", "),
            ModelName::MAX_CUSTOM_LEN
        ))
    }
}

impl std::fmt::Display for ModelName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for ModelName {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        ModelName::parse(s)
    }
}

impl Serialize for ModelName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ModelName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        ModelName::parse(&name).map_err(serde::de::Error::custom)
    }
}

named_enum! {
    /// How a block of the `cnn` model family halves its spatial size.
    Downsample {
        /// 2×2 max pooling after the convolution.
        Max => "max",
        /// 2×2 average pooling after the convolution.
        Avg => "avg",
        /// A stride-2 convolution instead of pooling.
        Stride => "stride",
    }
}

named_enum! {
    /// Training-time data augmentation (seeded by the order seed).
    AugmentName {
        /// None.
        None => "none",
        /// Random shifts (±2 px), horizontal flips and small rotations (±10°).
        Geometric => "geometric",
        /// Random brightness and contrast (±60%).
        Photometric => "photometric",
        /// Both of the above.
        Both => "both",
    }
}

named_enum! {
    /// How training corrects a class imbalance.
    Rebalance {
        /// Not at all.
        None => "none",
        /// Loss weighted per class by n / (classes × count), sklearn's "balanced".
        ClassWeights => "class-weights",
        /// Minority classes' examples repeated until every class is as large as the
        /// largest.
        Oversample => "oversample",
    }
}

named_enum! {
    /// What a run's `test_accuracy` is measured on.
    EvalSet {
        /// The data set's test split.
        Test => "test",
        /// A darkened, low-contrast copy of the test split (distribution shift: the
        /// write-up's birds photographed at twilight).
        Twilight => "twilight",
        /// Fold `fold` of `folds` of the training subset, held out from training
        /// (cross-validation).
        Validation => "validation",
    }
}

named_enum! {
    /// The optimizer.
    OptimizerName {
        /// Stochastic gradient descent, with optional (undampened in the Keras preset) momentum.
        Sgd => "sgd",
        /// Adam.
        Adam => "adam",
        /// RMSprop.
        Rmsprop => "rmsprop",
    }
}

named_enum! {
    /// Whose defaults fill in what a spec leaves unsaid: weight init and optimizer
    /// constants (epsilon, RMSprop rho and momentum, SGD dampening).
    Preset {
        /// Keras 3 defaults: Glorot-uniform weights and zero biases; Adam epsilon 1e-7;
        /// RMSprop rho 0.9, no momentum, epsilon 1e-7; SGD momentum without dampening.
        Keras => "keras",
        /// burn 0.22 defaults: Kaiming-uniform init; Adam epsilon 1e-5; RMSprop alpha
        /// 0.99 with momentum 0.9, epsilon 1e-5; SGD momentum dampening 0.1.
        Burn => "burn",
    }
}

/// Everything that determines one training run. Two runs with equal specs on the same
/// backend produce the same numbers; the run id is a hash of the spec's canonical JSON
/// (every field but `data_dir`, a location: an image folder enters by its checksum,
/// `data_sha256`).
///
/// Unset fields take the defaults below (the write-up's: Adam 1e-3, batch 32, 10
/// epochs, Keras preset, Fashion-MNIST, the whole training set).
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
    /// Seed of the order in which examples are visited (and of dropout masks).
    pub order_seed: u64,
    /// Seed of the random subset (only used with `subset = "stratified"`).
    pub subset_seed: u64,
    /// The burn backend.
    pub backend: Backend,
    /// `cnn` model: conv blocks (default 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<usize>,
    /// `cnn` model: filters of the first block, doubling per block (default 32).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<usize>,
    /// `cnn` model: kernel size, odd (default 3).
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
    /// The classes `imbalance` downsamples (default 0, 2, 4, 6, 8).
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
    /// `cnnvar train` and studies default to [`DEFAULT_EVAL_SUBSET`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "count_or_full::deserialize"
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
    /// study is planned, or by `cnnvar train` when it loads the folder; a run whose
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
}

/// The share of each class an image folder without `train/` and `test/` holds out as
/// its test set when a spec sets no `test_fraction`.
pub const DEFAULT_TEST_FRACTION: f64 = 0.2;

/// The largest `image_size` side a spec may ask for (an image is held as f32 in a
/// batch; 4096 × 4096 is already 64 MiB per grey image).
pub const MAX_IMAGE_SIDE: usize = 4096;

/// The `eval_subset` of `cnnvar train` and of study runs when they set none: 2000 test
/// images, enough for a curve point within about one accuracy point (standard error ≤ 1.1
/// points), a fifth of the cost of evaluating the whole 10 000-image test set.
pub const DEFAULT_EVAL_SUBSET: usize = 2000;

/// Serde for `eval_subset`: a count, or `"full"` (or null) for none.
mod count_or_full {
    use serde::Deserializer;
    use serde::de::{Error, Visitor};

    /// Reads a whole number as `Some`, `"full"` or null as `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_any(CountOrFull)
    }

    struct CountOrFull;

    impl<'de> Visitor<'de> for CountOrFull {
        type Value = Option<usize>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number of examples, or \"full\"")
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<Option<usize>, E> {
            usize::try_from(v).map(Some).map_err(|_| E::custom(format!("{v} is too large")))
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<Option<usize>, E> {
            u64::try_from(v)
                .map_err(|_| {
                    E::custom(format!("expected a whole number of examples or \"full\", got {v}"))
                })
                .and_then(|v| self.visit_u64(v))
        }

        fn visit_str<E: Error>(self, v: &str) -> Result<Option<usize>, E> {
            match v {
                "full" => Ok(None),
                _ => Err(E::custom(format!(
                    "expected a whole number of examples or \"full\", got \"{v}\""
                ))),
            }
        }

        fn visit_unit<E: Error>(self) -> Result<Option<usize>, E> {
            Ok(None)
        }

        fn visit_none<E: Error>(self) -> Result<Option<usize>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
            d.deserialize_any(CountOrFull)
        }
    }
}

/// The field names of the struct `T` in declaration order, as serde's derive hands them
/// to `Deserializer::deserialize_struct`: a deserializer that only records that list
/// (and then declines to produce a value). Empty for a type that is not a struct.
pub fn serde_field_names<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    let mut names = None;
    // The error is the point: the deserializer stops as soon as it has the names.
    let _ = T::deserialize(FieldNames(&mut names));
    names.unwrap_or(&[])
}

/// A deserializer that records the field names of the struct asked of it.
struct FieldNames<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("only field names are read"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(serde::de::Error::custom("only field names are read"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The classes `imbalance` downsamples when `minority` is unset.
pub const DEFAULT_MINORITY: [u8; 5] = [0, 2, 4, 6, 8];

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
            backend: Backend::default(),
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
        }
    }
}

/// The largest batch a spec may ask for: a batch is held as f32 activations, so a
/// larger one would need memory no worker has, and is refused before training.
pub const MAX_BATCH_SIZE: usize = 65_536;

/// The most epochs a spec may ask for.
pub const MAX_EPOCHS: usize = 100_000;

impl RunSpec {
    /// The name of every field, as written in files and study factors, in declaration
    /// order: the list serde's derive makes from the struct itself (see
    /// [`serde_field_names`]), so no copy is typed by hand. `results.csv` takes its spec
    /// columns from it, and `cnnvar train` has a flag for each (a test in the CLI holds
    /// it to that).
    pub fn fields() -> &'static [&'static str] {
        static FIELDS: std::sync::OnceLock<&'static [&'static str]> = std::sync::OnceLock::new();
        FIELDS.get_or_init(serde_field_names::<RunSpec>)
    }

    /// The seed fields, which studies derive rather than take from the file.
    pub const SEED_FIELDS: &'static [&'static str] = &["init_seed", "order_seed", "subset_seed"];

    /// Checks every field's range; `Error::Field` names the first bad one.
    pub fn validate(&self) -> Result<()> {
        self.validate_at("spec")
    }

    /// Like [`RunSpec::validate`], naming `location` (a file or flag) in the error.
    pub fn validate_at(&self, location: &str) -> Result<()> {
        let bad = |field: &str, msg: String| Err(Error::field(location, field, msg));
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", format!("must be a positive finite number, got {}", self.lr));
        }
        if let Some(m) = self.momentum
            && !(m.is_finite() && (0.0..1.0).contains(&m))
        {
            return bad("momentum", format!("must be in [0, 1), got {m}"));
        }
        if !(1..=MAX_BATCH_SIZE).contains(&self.batch_size) {
            return bad(
                "batch_size",
                format!(
                    "must be 1 to {MAX_BATCH_SIZE} (one batch is held as f32 on the device), \
                     got {}",
                    self.batch_size
                ),
            );
        }
        if !(1..=MAX_EPOCHS).contains(&self.epochs) {
            return bad("epochs", format!("must be 1 to {MAX_EPOCHS}, got {}", self.epochs));
        }
        if self.train_size == Some(0) {
            return bad("train_size", "must be at least 1 (omit it for the whole set)".into());
        }
        if self.test_size == Some(0) {
            return bad("test_size", "must be at least 1 (omit it for the whole test set)".into());
        }
        if self.eval_subset == Some(0) {
            return bad(
                "eval_subset",
                "must be at least 1 (\"full\" evaluates every epoch on the whole set)".into(),
            );
        }
        if let (Some(n), Some(have)) = (self.train_size, self.dataset.train_examples())
            && n > have
        {
            return bad(
                "train_size",
                format!("{n} exceeds the {have} training examples of {}", self.dataset),
            );
        }
        if let (Some(n), Some(have)) = (self.test_size, self.dataset.test_examples())
            && n > have
        {
            return bad(
                "test_size",
                format!("{n} exceeds the {have} test examples of {}", self.dataset),
            );
        }
        if self.subset == SubsetMethod::Stratified && self.train_size.is_none() {
            return bad("subset", "`stratified` needs a `train_size`".into());
        }
        self.validate_folder(location)?;
        self.validate_options(location)
    }

    /// Checks the image-folder fields: `data_dir` with `dataset = "folder"`, the others
    /// in range, and none of them with another data set.
    fn validate_folder(&self, location: &str) -> Result<()> {
        let bad = |field: &str, msg: String| Err(Error::field(location, field, msg));
        if self.dataset != DatasetName::Folder {
            for (name, set) in [
                ("data_dir", self.data_dir.is_some()),
                ("data_sha256", self.data_sha256.is_some()),
                ("channels", self.channels.is_some()),
                ("image_size", self.image_size.is_some()),
                ("test_fraction", self.test_fraction.is_some()),
            ] {
                if set {
                    let hint = if name == "data_dir" {
                        " (where a named data set's files are is the command line's \
                         --data-dir, or $CNNVAR_DATA_DIR)"
                    } else {
                        ""
                    };
                    return bad(
                        name,
                        format!(
                            "only applies to dataset = \"folder\", not `{}`{hint}",
                            self.dataset
                        ),
                    );
                }
            }
            return Ok(());
        }
        match &self.data_dir {
            None => {
                return bad(
                    "data_dir",
                    "dataset = \"folder\" needs `data_dir`, the folder of images (one \
                     folder per class; on the command line, --data-dir DIR)"
                        .into(),
                );
            }
            Some(d) if d.as_os_str().is_empty() => {
                return bad("data_dir", "is empty; expected the image folder's path".into());
            }
            Some(_) => {}
        }
        if let Some(sha) = &self.data_sha256
            && !(sha.len() == 64
                && sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        {
            return bad(
                "data_sha256",
                format!("must be 64 lower-case hex digits (a SHA-256), got \"{sha}\""),
            );
        }
        if let Some(c) = self.channels
            && c != 1
            && c != 3
        {
            return bad("channels", format!("must be 1 (grey) or 3 (RGB), got {c}"));
        }
        if let Some([h, w]) = self.image_size
            && !((1..=MAX_IMAGE_SIDE).contains(&h) && (1..=MAX_IMAGE_SIDE).contains(&w))
        {
            return bad(
                "image_size",
                format!(
                    "must be [height, width], each 1 to {MAX_IMAGE_SIDE} pixels, got [{h}, {w}]"
                ),
            );
        }
        if let Some(f) = self.test_fraction
            && !(f > 0.0 && f < 1.0)
        {
            return bad(
                "test_fraction",
                format!(
                    "must be strictly between 0 and 1 (default {DEFAULT_TEST_FRACTION}), got {f}"
                ),
            );
        }
        Ok(())
    }

    /// Checks the optional fields (model family, regularisation, data transforms,
    /// evaluation protocol).
    fn validate_options(&self, location: &str) -> Result<()> {
        let bad = |field: &str, msg: String| Err(Error::field(location, field, msg));
        let fraction = |v: Option<f64>, lo_open: bool| match v {
            None => true,
            Some(x) => x.is_finite() && x <= 1.0 && if lo_open { x > 0.0 } else { x >= 0.0 },
        };
        // The family's options, which a registered model may read too.
        if !matches!(self.model, ModelName::Cnn | ModelName::Custom(_)) {
            for (name, set) in [
                ("depth", self.depth.is_some()),
                ("width", self.width.is_some()),
                ("kernel", self.kernel.is_some()),
                ("downsample", self.downsample.is_some()),
            ] {
                if set {
                    return bad(
                        name,
                        format!(
                            "only applies to model = \"cnn\" (or a registered model), not `{}`",
                            self.model
                        ),
                    );
                }
            }
        }
        if let Some(d) = self.depth
            && !(1..=6).contains(&d)
        {
            return bad("depth", format!("must be 1 to 6 conv blocks, got {d}"));
        }
        if let Some(w) = self.width
            && !(1..=1024).contains(&w)
        {
            return bad("width", format!("must be 1 to 1024 filters, got {w}"));
        }
        if let Some(k) = self.kernel
            && (k % 2 == 0 || !(1..=11).contains(&k))
        {
            return bad("kernel", format!("must be an odd size from 1 to 11, got {k}"));
        }
        if let Some(p) = self.dropout
            && !(p.is_finite() && (0.0..1.0).contains(&p))
        {
            return bad("dropout", format!("must be in [0, 1), got {p}"));
        }
        if let Some(w) = self.weight_decay
            && !(w.is_finite() && w >= 0.0)
        {
            return bad("weight_decay", format!("must be a finite number ≥ 0, got {w}"));
        }
        if !fraction(self.imbalance, true) {
            return bad("imbalance", format!("must be in (0, 1], got {:?}", self.imbalance));
        }
        if let Some(m) = &self.minority
            && m.is_empty()
        {
            return bad("minority", "must list at least one class".into());
        }
        if !fraction(self.label_noise, false) {
            return bad("label_noise", format!("must be in [0, 1], got {:?}", self.label_noise));
        }
        let validation = self.evaluate_on == Some(EvalSet::Validation);
        match (validation, self.folds, self.fold) {
            (true, Some(k), Some(f)) if k >= 2 && f < k => Ok(()),
            (true, Some(k), _) if k < 2 => bad("folds", format!("must be at least 2, got {k}")),
            (true, Some(k), Some(f)) => {
                bad("fold", format!("must be below folds = {k} (0-based), got {f}"))
            }
            (true, _, _) => bad(
                "evaluate_on",
                "`validation` needs `folds` (at least 2) and `fold` (0-based)".into(),
            ),
            (false, None, None) => Ok(()),
            (false, _, _) => bad("folds", "only applies with evaluate_on = \"validation\"".into()),
        }
    }

    /// The canonical JSON form: fields in declaration order, no whitespace, unset
    /// options left out, and without `data_dir` (a location, not content: an image
    /// folder enters by its `data_sha256`). Equal specs give equal strings, and so do
    /// specs that differ only in where their folder is.
    pub fn canonical_json(&self) -> String {
        // A struct of plain fields always serialises (a path that is not UTF-8 cannot
        // be written, but it is not part of this form).
        let json = |spec: &RunSpec| serde_json::to_string(spec).unwrap_or_default();
        if self.data_dir.is_none() {
            return json(self);
        }
        json(&RunSpec { data_dir: None, ..self.clone() })
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

/// Turns a TOML parse error into an [`Error::Field`] that names file, line and field,
/// or, where the error belongs to no field (a syntax error), an [`Error::Syntax`] that
/// names file, line and column.
pub fn toml_error(location: &str, text: &str, e: &toml::de::Error) -> Error {
    let message = e.message().trim().replace('\n', "; ");
    let Some(span) = e.span() else { return Error::syntax(location, message) };
    let start = span.start.min(text.len());
    let before = text.get(..start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    match key_of_span(text, span) {
        Some(key) => Error::field(format!("{location}:{line}"), key, message),
        None => {
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Error::syntax(format!("{location}:{line}:{column}"), format!("invalid TOML: {message}"))
        }
    }
}

/// The key an error span belongs to: the span itself when it is a key (`name = …`),
/// else the key of the `key = value` the span starts in, on the same line.
fn key_of_span(text: &str, span: std::ops::Range<usize>) -> Option<String> {
    let is_key = |s: &str| {
        !s.is_empty()
            && s.len() < 64
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    let own = text.get(span.clone()).unwrap_or("").trim().trim_matches('"');
    let after = text.get(span.end..).unwrap_or("").trim_start();
    if is_key(own) && after.starts_with('=') {
        return Some(own.to_string());
    }
    let before = text.get(..span.start)?;
    let line = before.rsplit('\n').next().unwrap_or("");
    let (lhs, _) = line.rsplit_once('=')?;
    let key = lhs.rsplit(['{', ',']).next()?.trim().trim_matches('"');
    is_key(key).then(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_set_names_its_ten_classes() {
        for &d in DatasetName::ALL.iter().filter(|&&d| d != DatasetName::Folder) {
            let names = d.class_names();
            assert_eq!(names.len(), 10, "{d}");
            let distinct: std::collections::BTreeSet<_> = names.iter().collect();
            assert_eq!(distinct.len(), 10, "{d}");
        }
        assert_eq!(DatasetName::FashionMnist.class_names()[0], "T-shirt/top");
        assert_eq!(DatasetName::FashionMnist.class_names()[9], "Ankle boot");
        assert_eq!(DatasetName::Cifar10.class_names()[0], "airplane");
        assert_eq!(DatasetName::Mnist.class_names()[7], "7");
        // An image folder's names are its class folders', known from the data.
        assert!(DatasetName::Folder.class_names().is_empty());
    }

    #[test]
    fn defaults_validate_and_round_trip() {
        let spec = RunSpec::default();
        spec.validate().unwrap();
        let toml_text = toml::to_string(&spec).unwrap();
        assert_eq!(RunSpec::from_toml(&toml_text, "t").unwrap(), spec);
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(RunSpec::from_json(&json, "t").unwrap(), spec);
    }

    #[test]
    fn fields_lists_every_field() {
        let full = RunSpec {
            train_size: Some(1),
            test_size: Some(1),
            momentum: Some(0.5),
            model: ModelName::Cnn,
            depth: Some(2),
            width: Some(8),
            kernel: Some(3),
            downsample: Some(Downsample::Stride),
            dropout: Some(0.1),
            weight_decay: Some(1e-4),
            augment: Some(AugmentName::Both),
            imbalance: Some(0.05),
            minority: Some(vec![1]),
            rebalance: Some(Rebalance::Oversample),
            label_noise: Some(0.1),
            evaluate_on: Some(EvalSet::Validation),
            folds: Some(5),
            fold: Some(0),
            eval_subset: Some(500),
            ..RunSpec::default()
        };
        let folder = RunSpec {
            dataset: DatasetName::Folder,
            data_dir: Some("images".into()),
            data_sha256: Some("0".repeat(64)),
            channels: Some(1),
            image_size: Some([8, 8]),
            test_fraction: Some(0.25),
            ..full.clone()
        };
        let v = serde_json::to_value(&folder).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut listed = RunSpec::fields().to_vec();
        listed.sort();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, listed);
        // In declaration order too (results.csv's columns follow it).
        let json = serde_json::to_string(&folder).unwrap();
        let at: Vec<usize> = RunSpec::fields()
            .iter()
            .map(|f| json.find(&format!("\"{f}\":")).expect("field in the JSON"))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "fields() out of declaration order");
    }

    #[test]
    fn run_id_depends_on_every_seed() {
        let a = RunSpec::default();
        let ids: Vec<String> = [
            a.clone(),
            RunSpec { init_seed: 1, ..a.clone() },
            RunSpec { order_seed: 1, ..a.clone() },
            RunSpec { subset_seed: 1, ..a.clone() },
        ]
        .iter()
        .map(RunSpec::run_id)
        .collect();
        for i in 0..ids.len() {
            for j in i + 1..ids.len() {
                assert_ne!(ids[i], ids[j]);
            }
        }
        assert_eq!(a.run_id().len(), 16);
    }

    /// Unset optional fields are left out of the canonical JSON, so adding one to the
    /// spec does not change the id of any earlier run.
    #[test]
    fn unset_options_keep_old_run_ids() {
        let json = RunSpec::default().canonical_json();
        for field in ["depth", "dropout", "augment", "imbalance", "label_noise", "folds"] {
            assert!(!json.contains(field), "{json}");
        }
    }

    /// A spec.json written before `eval_subset` existed reads back to the same spec and
    /// run id (this one is the committed record's, `fuzz/seeds/record/record.json`).
    #[test]
    fn an_old_spec_json_keeps_its_run_id() {
        let old = r#"{"dataset":"fashion-mnist","train_size":1000,"subset":"first","model":"simple","optimizer":"adam","lr":0.001,"preset":"keras","batch_size":32,"epochs":10,"init_seed":2412040665073568,"order_seed":4826499243410388,"subset_seed":8586762844841619,"backend":"flex"}"#;
        let spec = RunSpec::from_json(old, "spec.json").unwrap();
        assert_eq!(spec.eval_subset, None);
        assert_eq!(spec.canonical_json(), old);
        assert_eq!(spec.run_id(), "1f498587fa453c83");
    }

    /// A model name that is not a standard one is a custom (registered) model's,
    /// written as it is; standard names read and write as before (same run ids).
    #[test]
    fn a_spec_may_name_a_registered_model() {
        let spec = RunSpec::from_toml("model = \"my-resnet\"\nwidth = 16\n", "x.toml").unwrap();
        assert_eq!(spec.model, ModelName::Custom("my-resnet".into()));
        assert!(!spec.model.is_standard());
        assert!(spec.canonical_json().contains("\"model\":\"my-resnet\""));
        assert_eq!(RunSpec::from_json(&spec.canonical_json(), "s.json").unwrap(), spec);
        for m in ModelName::ALL {
            assert_eq!(m.as_str().parse::<ModelName>().unwrap(), *m);
            assert!(m.is_standard());
        }
        assert_eq!("cnn".parse::<ModelName>().unwrap(), ModelName::Cnn);
        for bad in ["", "My", "9lives", "a b", "x/y", &"m".repeat(65)] {
            assert!(bad.parse::<ModelName>().is_err(), "{bad:?}");
        }
        // The write-up's fixed models still take no family options.
        let e = RunSpec::from_toml("model = \"simple\"\nwidth = 16\n", "x.toml").unwrap_err();
        assert!(e.to_string().contains("`width`"), "{e}");
    }

    /// An image folder enters the run id by its content, not its place: `data_dir` is
    /// not in the canonical JSON, `data_sha256` is; a spec on a named data set is as
    /// before.
    #[test]
    fn a_folder_enters_the_run_id_by_its_checksum_not_its_path() {
        let toml = "dataset = \"folder\"\ndata_dir = \"/data/digits\"\nchannels = 1\n\
                    image_size = [8, 8]\ntest_fraction = 0.25\n";
        let here = RunSpec::from_toml(toml, "x.toml").unwrap();
        assert_eq!(here.image_size, Some([8, 8]));
        let elsewhere = RunSpec { data_dir: Some("/mnt/copy/digits".into()), ..here.clone() };
        assert_ne!(here, elsewhere);
        assert_eq!(here.run_id(), elsewhere.run_id());
        assert!(!here.canonical_json().contains("data_dir"), "{}", here.canonical_json());
        assert!(!here.canonical_json().contains("digits"));
        let sha = |c: char| Some(c.to_string().repeat(64));
        let a = RunSpec { data_sha256: sha('a'), ..here.clone() };
        let b = RunSpec { data_sha256: sha('b'), ..here.clone() };
        assert_ne!(a.run_id(), b.run_id());
        assert_ne!(a.run_id(), here.run_id());
        assert!(a.canonical_json().contains(&format!("\"data_sha256\":\"{}\"", "a".repeat(64))));
        // spec.json keeps the folder (a worker reads it from there) and reads back.
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.contains("\"data_dir\":\"/data/digits\""), "{json}");
        assert_eq!(RunSpec::from_json(&json, "spec.json").unwrap(), a);
        assert_eq!(RunSpec::from_json(&json, "spec.json").unwrap().run_id(), a.run_id());
    }

    /// The folder fields are checked, named, and refused with a named data set.
    #[test]
    fn folder_fields_are_checked() {
        let bad = |toml: &str, field: &str, needle: &str| {
            let e = RunSpec::from_toml(toml, "x.toml").unwrap_err().to_string();
            assert!(e.contains(&format!("`{field}`")) && e.contains(needle), "{toml}: {e}");
        };
        let folder = "dataset = \"folder\"\ndata_dir = \"d\"\n";
        bad("dataset = \"folder\"\n", "data_dir", "--data-dir");
        bad(&format!("{folder}channels = 2\n"), "channels", "1 (grey) or 3");
        bad(&format!("{folder}image_size = [0, 8]\n"), "image_size", "[height, width]");
        bad(&format!("{folder}image_size = [8]\n"), "image_size", "");
        bad(&format!("{folder}test_fraction = 1.0\n"), "test_fraction", "between 0 and 1");
        bad(&format!("{folder}data_sha256 = \"ABC\"\n"), "data_sha256", "64 lower-case hex");
        bad("data_dir = \"d\"\n", "data_dir", "--data-dir");
        bad("channels = 1\n", "channels", "dataset = \"folder\"");
        // No size limits before the folder is read.
        let ok = format!("{folder}train_size = 1000000\ntest_size = 50000\n");
        let spec = RunSpec::from_toml(&ok, "x.toml").unwrap();
        assert_eq!(spec.dataset.train_examples(), None);
    }

    /// `eval_subset` is a count or `"full"`, which is the field unset (same run id);
    /// 0, negative counts and other words are refused, naming the field.
    #[test]
    fn eval_subset_is_a_count_or_full() {
        let toml = |t: &str| RunSpec::from_toml(t, "x.toml");
        assert_eq!(toml("eval_subset = 2000\n").unwrap().eval_subset, Some(2000));
        let full = toml("eval_subset = \"full\"\n").unwrap();
        assert_eq!(full, RunSpec::default());
        assert_eq!(full.run_id(), RunSpec::default().run_id());
        let json = RunSpec::from_json(r#"{"eval_subset":"full"}"#, "s.json").unwrap();
        assert_eq!(json, RunSpec::default());
        assert_eq!(RunSpec::from_json(r#"{"eval_subset":null}"#, "s.json").unwrap(), full);
        let some = RunSpec { eval_subset: Some(300), ..RunSpec::default() };
        assert!(
            some.canonical_json().ends_with(",\"eval_subset\":300}"),
            "{}",
            some.canonical_json()
        );
        assert_eq!(RunSpec::from_json(&some.canonical_json(), "s.json").unwrap(), some);
        assert_ne!(some.run_id(), full.run_id());
        for bad in ["eval_subset = 0\n", "eval_subset = -5\n", "eval_subset = \"half\"\n"] {
            let e = toml(bad).unwrap_err().to_string();
            assert!(e.contains("`eval_subset`") && e.contains("full"), "{bad}: {e}");
        }
    }

    #[test]
    fn option_fields_are_checked() {
        let bad = |toml: &str, field: &str| {
            let e = RunSpec::from_toml(toml, "x.toml").unwrap_err().to_string();
            assert!(e.contains(&format!("`{field}`")), "{toml}: {e}");
        };
        bad("depth = 2\n", "depth");
        bad("model = \"cnn\"\nkernel = 4\n", "kernel");
        bad("dropout = 1.0\n", "dropout");
        bad("weight_decay = -1e-4\n", "weight_decay");
        bad("imbalance = 0.0\n", "imbalance");
        bad("label_noise = 1.5\n", "label_noise");
        bad("evaluate_on = \"validation\"\n", "evaluate_on");
        bad("evaluate_on = \"validation\"\nfolds = 5\nfold = 5\n", "fold");
        bad("folds = 5\n", "folds");
        let ok = "model = \"cnn\"\ndepth = 3\nevaluate_on = \"validation\"\nfolds = 5\nfold = 4\n";
        RunSpec::from_toml(ok, "x.toml").unwrap();
    }

    #[test]
    fn bad_fields_are_named() {
        let e = RunSpec::from_toml("lr = -1.0\n", "x.toml").unwrap_err().to_string();
        assert!(e.contains("x.toml") && e.contains("`lr`"), "{e}");
        let e = RunSpec::from_toml("epochs = 1\nlearning_rate = 0.1\n", "x.toml").unwrap_err();
        let e = e.to_string();
        assert!(e.contains("x.toml:2") && e.contains("learning_rate"), "{e}");
        let e = RunSpec::from_toml("model = \"Huge Net\"\n", "x.toml").unwrap_err().to_string();
        assert!(e.contains("x.toml:1") && e.contains("Huge Net") && e.contains("`model`"), "{e}");
        assert!(e.contains("simple, two-conv, complex, cnn"), "{e}");
    }

    /// A syntax error names its line and column and no made-up field.
    #[test]
    fn syntax_errors_name_line_and_column() {
        let e = RunSpec::from_toml("epochs = 1\n[base\n", "x.toml").unwrap_err();
        assert!(matches!(e, Error::Syntax { .. }), "{e:?}");
        let e = e.to_string();
        assert!(
            e.starts_with("x.toml:2:") && e.contains("invalid TOML") && !e.contains('?'),
            "{e}"
        );
    }

    #[test]
    fn sizes_that_need_too_much_memory_are_refused() {
        let e = RunSpec::from_toml("batch_size = 1000000000\n", "x.toml").unwrap_err().to_string();
        assert!(e.contains("x.toml") && e.contains("`batch_size`") && e.contains("65536"), "{e}");
        let e = RunSpec::from_toml("epochs = 1000000\n", "x.toml").unwrap_err().to_string();
        assert!(e.contains("`epochs`") && e.contains("100000"), "{e}");
        assert!(RunSpec::from_toml("batch_size = 65536\n", "x.toml").is_ok());
    }

    /// Sizes beyond a known data set's splits are refused when the spec is read, not
    /// by every worker after it has loaded the data.
    #[test]
    fn sizes_beyond_the_data_set_are_refused() {
        let e = RunSpec::from_toml("train_size = 10000000\n", "x.toml").unwrap_err().to_string();
        assert!(e.contains("`train_size`") && e.contains("60000"), "{e}");
        let e = RunSpec::from_toml("test_size = 20000\n", "x.toml").unwrap_err().to_string();
        assert!(e.contains("`test_size`") && e.contains("10000"), "{e}");
        let cifar = "dataset = \"cifar10\"\ntrain_size = 60000\n";
        let e = RunSpec::from_toml(cifar, "x.toml").unwrap_err().to_string();
        assert!(e.contains("`train_size`") && e.contains("50000"), "{e}");
        assert!(RunSpec::from_toml("train_size = 60000\ntest_size = 10000\n", "x.toml").is_ok());
    }
}
