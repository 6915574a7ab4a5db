//! [`Dataset`]: labelled images held as bytes, and [`DataSplit`]: a train/test pair.

use std::path::PathBuf;

use cnnvar_core::{DatasetName, Error, ImageShape, Result};

/// Labelled images, all in memory as `u8`: pixels image after image, each image in
/// channel-first (CHW) order, and one label byte per image.
///
/// Conversion to `f32` happens one batch at a time ([`crate::fill_batch`]); a whole
/// set is never copied to `f32`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    images: Vec<u8>,
    labels: Vec<u8>,
    shape: ImageShape,
    classes: usize,
}

impl Dataset {
    /// Builds a data set from `labels.len()` images of `shape`, checking that
    /// `images.len() == labels.len() × shape.pixels()`, that the shape has no zero
    /// size, that `classes` is between 1 and 256 and that every label is below it.
    pub fn new(
        images: Vec<u8>,
        labels: Vec<u8>,
        shape: ImageShape,
        classes: usize,
    ) -> Result<Dataset> {
        let ImageShape { channels, height, width } = shape;
        let pixels = channels.checked_mul(height).and_then(|n| n.checked_mul(width));
        let pixels = match pixels {
            Some(p) if p > 0 => p,
            _ => {
                return Err(Error::Dataset(format!(
                    "image shape {channels}×{height}×{width} (C×H×W) is empty or too \
                     large; expected every size at least 1"
                )));
            }
        };
        if !(1..=256).contains(&classes) {
            return Err(Error::Dataset(format!(
                "{classes} classes; expected 1 to 256 (labels are bytes)"
            )));
        }
        if labels.len().checked_mul(pixels) != Some(images.len()) {
            return Err(Error::Dataset(format!(
                "{} pixel bytes for {} labels of {pixels}-pixel images; expected {} \
                 bytes",
                images.len(),
                labels.len(),
                labels.len().saturating_mul(pixels)
            )));
        }
        if let Some((i, label)) =
            labels.iter().enumerate().find(|&(_, &l)| usize::from(l) >= classes)
        {
            return Err(Error::Dataset(format!(
                "label {label} at index {i} is not below the {classes} classes"
            )));
        }
        Ok(Dataset { images, labels, shape, classes })
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The shape of one image.
    pub fn shape(&self) -> ImageShape {
        self.shape
    }

    /// The number of classes; every label is below it.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The pixels of image `i`, CHW.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn image(&self, i: usize) -> &[u8] {
        let pixels = self.shape.pixels();
        &self.images[i * pixels..(i + 1) * pixels]
    }

    /// The label of example `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn label(&self, i: usize) -> u8 {
        self.labels[i]
    }

    /// All labels, in order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// All pixels: image after image, each CHW.
    pub fn images(&self) -> &[u8] {
        &self.images
    }

    /// A new data set holding copies of the examples at `indices`, in that order
    /// (an index may repeat).
    ///
    /// # Panics
    /// If an index is `>= self.len()`.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut images = Vec::with_capacity(indices.len() * self.shape.pixels());
        for &i in indices {
            images.extend_from_slice(self.image(i));
        }
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        Dataset { images, labels, shape: self.shape, classes: self.classes }
    }

    /// The same images with new labels, one per example, each below
    /// [`Dataset::classes`]. Takes `self` so that the pixels are moved, not copied.
    pub fn with_labels(self, labels: Vec<u8>) -> Result<Dataset> {
        if labels.len() != self.len() {
            return Err(Error::Dataset(format!(
                "{} new labels for {} examples; expected one per example",
                labels.len(),
                self.len()
            )));
        }
        Dataset::new(self.images, labels, self.shape, self.classes)
    }

    /// The same labels with new pixels, as long as the old ones (crate-internal: the
    /// callers keep the length).
    pub(crate) fn with_images(&self, images: Vec<u8>) -> Dataset {
        debug_assert_eq!(images.len(), self.images.len());
        Dataset { images, labels: self.labels.clone(), shape: self.shape, classes: self.classes }
    }

    /// How many examples each class has, indexed by label.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }
}

/// A data set's training and test sets, where they came from and their hash.
#[derive(Clone, Debug)]
pub struct DataSplit {
    /// The training set.
    pub train: Dataset,
    /// The test set.
    pub test: Dataset,
    /// The directory the files were read from.
    pub source: PathBuf,
    /// SHA-256 (lower-case hex) identifying the files' bytes as on disk. For IDX data
    /// sets: each of the four files is hashed, then the hash is taken over the lines
    /// `"<file name>:<hex sha256>\n"` in the order train-images, train-labels,
    /// test-images, test-labels (file names as found, e.g.
    /// `train-images-idx3-ubyte.gz`).
    pub sha256: String,
    /// Which data set this is.
    pub name: DatasetName,
}
