//! The names a spec is written in: data sets, subset methods, models, downsampling,
//! augmentation, rebalancing, evaluation sets, optimizers and presets, each a short
//! kebab-case name wherever a spec is written.

use serde::{Deserialize, Serialize};

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
        /// names (read by `cnnvar_data::folder`; see [`RunSpec::data_dir`](crate::RunSpec::data_dir)).
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
