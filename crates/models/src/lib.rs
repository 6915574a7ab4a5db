//! # cnnvar-models
//!
//! The CNNs cnnvar trains, described by an [`Architecture`] (a list of conv blocks,
//! hidden dense layers and dropout) and built as a burn [`Cnn`] module on any
//! `burn::tensor::Device`.
//!
//! - The write-up's three models exactly ([`Architecture::for_model`]): `simple`,
//!   `two-conv` and `complex`, for any input shape (28×28×1 or 32×32×3).
//! - Parameter count ([`Architecture::params`]) and forward FLOPs per example
//!   ([`Architecture::flops`]), computed from the architecture and checked against the
//!   built module.
//! - Two initialisations ([`cnnvar_core::Preset`]): `keras` (Glorot-uniform weights,
//!   zero biases) and `burn` (burn's Kaiming-uniform default).
//! - The harness every model is trained through: [`Classifier`] (build from a seeded
//!   device and a [`ModelInput`], forward images to logits, parameter count), which
//!   [`Cnn`] implements and your own module can, and [`Models`], the registry of models
//!   by name that a spec's `model` picks from ([`Models::standard`]: the four above).
//! - The `nudge` variance source: one weight of a built model moved by one unit in the
//!   last place, chosen by a seed ([`nudge()`]).
//!
//! ```
//! use cnnvar_core::{ImageShape, ModelName};
//! use cnnvar_models::Architecture;
//! let arch = Architecture::for_model(ModelName::Simple, ImageShape::MNIST).unwrap();
//! assert_eq!(arch.params(), 54_410);
//! ```

mod architecture;
mod classifier;
mod cnn;
mod nudge;

pub use architecture::{Architecture, ConvBlock, Pool};
pub use classifier::{Classifier, DynClassifier, ModelInput, Models};
pub use cnn::Cnn;
pub use nudge::{float_parameters, nudge, nudge_value};
