//! Seeded transforms of data sets and batches: augmentation ([`augment`]), class
//! imbalance ([`imbalance`]), label noise ([`noise`]), distribution shift
//! ([`mod@shift`]) and cross-validation folds ([`folds`]).
//!
//! Every random transform takes an explicit `u64` seed and draws from
//! [`ChaCha8Rng`]: the seed picks the key (`seed_from_u64`) and the transform picks
//! the stream, so that results are bit-identical across runs, thread counts and
//! platforms, and two transforms given the same seed draw independent numbers. The
//! streams in use by this crate:
//!
//! | stream | purpose |
//! |---|---|
//! | `0, 1, …` (the epoch) | [`crate::epoch_order`] |
//! | [`crate::SUBSET_STREAM`] = `u64::MAX` | [`crate::select`] |
//! | [`DOWNSAMPLE_STREAM`] = `u64::MAX - 1` | [`downsample_classes`] |
//! | [`OVERSAMPLE_STREAM`] = `u64::MAX - 2` | [`oversample`] |
//! | [`LABEL_NOISE_STREAM`] = `u64::MAX - 3` | [`noisy_labels`], [`label_noise`] |
//! | [`KFOLD_STREAM`] = `u64::MAX - 4` | [`kfold`] |
//! | [`AUGMENT_STREAM_TAG`] `\| epoch << 32 \| batch` | [`fill_batch_augmented`] |
//!
//! Floating-point work uses only `+ − × ÷`, `floor` and `round` (correctly rounded
//! everywhere); the sine and cosine of a rotation come from a series written out
//! here rather than the platform's maths library.
//!
//! [`ChaCha8Rng`]: rand_chacha::ChaCha8Rng

pub mod augment;
pub mod folds;
pub mod imbalance;
pub mod noise;
pub mod shift;

use cnnvar_core::{Error, Result};

use crate::dataset::Dataset;

pub use augment::{Augmentation, fill_batch_augmented};
pub use folds::kfold;
pub use imbalance::{class_weights, downsample_classes, oversample};
pub use noise::{label_noise, noisy_labels};
pub use shift::{TWILIGHT_BRIGHTNESS, TWILIGHT_CONTRAST, dim, twilight};

/// The ChaCha stream [`downsample_classes`] draws from.
pub const DOWNSAMPLE_STREAM: u64 = u64::MAX - 1;
/// The ChaCha stream [`oversample`] draws from.
pub const OVERSAMPLE_STREAM: u64 = u64::MAX - 2;
/// The ChaCha stream [`noisy_labels`] and [`label_noise`] draw from.
pub const LABEL_NOISE_STREAM: u64 = u64::MAX - 3;
/// The ChaCha stream [`kfold`] draws from.
pub const KFOLD_STREAM: u64 = u64::MAX - 4;
/// The top byte of the ChaCha streams [`fill_batch_augmented`] draws from: batch `b`
/// of epoch `e` uses stream `AUGMENT_STREAM_TAG | (e mod 2²⁴) << 32 | (b mod 2³²)`,
/// distinct from the epoch streams (below 2⁵⁶) and from the constants above.
pub const AUGMENT_STREAM_TAG: u64 = 0xA0 << 56;

/// Errors unless every index is below `ds.len()`; `what` names the caller.
fn check_indices(ds: &Dataset, indices: &[usize], what: &str) -> Result<()> {
    match indices.iter().find(|&&i| i >= ds.len()) {
        Some(i) => Err(Error::transform(
            what,
            format!("index {i} is out of range; expected below the {} examples", ds.len()),
        )),
        None => Ok(()),
    }
}

/// The positions in `indices` of each class's examples, indexed by label.
///
/// # Panics
/// If an index is `>= ds.len()`.
fn by_class(ds: &Dataset, indices: &[usize]) -> Vec<Vec<usize>> {
    let mut groups = vec![Vec::new(); ds.classes()];
    for &i in indices {
        groups[usize::from(ds.label(i))].push(i);
    }
    groups
}

#[cfg(test)]
pub(crate) mod test_util {
    use cnnvar_core::ImageShape;

    use crate::dataset::Dataset;

    /// A 1×1×1 data set of `sizes[k]` examples of class `k`, classes interleaved;
    /// each pixel is its example's index modulo 256.
    pub(crate) fn labelled(sizes: &[usize]) -> Dataset {
        let mut labels = Vec::new();
        let mut left = sizes.to_vec();
        while left.iter().any(|&n| n > 0) {
            for (k, n) in left.iter_mut().enumerate() {
                if *n > 0 {
                    *n -= 1;
                    labels.push(k as u8);
                }
            }
        }
        let shape = ImageShape { channels: 1, height: 1, width: 1 };
        let images = (0..labels.len()).map(|i| i as u8).collect();
        Dataset::new(images, labels, shape, sizes.len()).expect("valid data set")
    }

    /// How many of `indices` have each label.
    pub(crate) fn counts(ds: &Dataset, indices: &[usize]) -> Vec<usize> {
        let mut counts = vec![0; ds.classes()];
        for &i in indices {
            counts[usize::from(ds.label(i))] += 1;
        }
        counts
    }
}
