//! Your own images, one folder per class: a validated reader for PNG and JPEG
//! files laid out as torchvision's `ImageFolder` and Keras's
//! `image_dataset_from_directory` expect them.
//!
//! # Layouts
//!
//! - **Already split** ([`FolderLayout::TrainTest`]): `root/train/<class>/*` and
//!   `root/test/<class>/*`. Both must hold the same class folders, and `root` no
//!   other folder besides `train` and `test`.
//! - **One set** ([`FolderLayout::Classes`]): `root/<class>/*`, split into a
//!   training and a test set by a seeded, stratified split: each class puts
//!   `round(test_fraction × its image count)` of its images, but at least 1 and at
//!   most all but 1, into the test set, drawn with a
//!   [`ChaCha8Rng`](rand_chacha::ChaCha8Rng) seeded by [`FolderOptions::seed`] on
//!   stream [`FOLDER_SPLIT_STREAM`]. So every class is in
//!   both sets (a class needs at least 2 images), and the same seed gives the same
//!   split on every platform.
//!
//! `root` is split when it holds a folder `train` or `test` (it must then hold both).
//!
//! # Classes, files and order
//!
//! Class names are the class folders' names (UTF-8), sorted; label `k` is the
//! `k`-th name ([`FolderData::class_names`]). There must be 2 to 256 classes. Within
//! a class the files are read in the order of their names (byte order), and the
//! examples of each set are class after class, in that order (the test set of a
//! seeded split keeps it too).
//!
//! Images are the files ending in `.png`, `.jpg` or `.jpeg` (any case); their content
//! decides the format, so a JPEG named `.png` is read as JPEG, and a file whose content
//! is neither (text, GIF, …) is refused. Other files (`README.txt`, `labels.csv`, …)
//! are skipped and listed in [`FolderData::skipped`]; names starting with `.`
//! (`.DS_Store`, `._x.png`, `.ipynb_checkpoints/`) are ignored everywhere, as hidden
//! files. Symbolic links are followed: a link to a folder is a folder (a class folder
//! is named after the link), a link to an image an image. Refused, each with an
//! [`Error`](cnnvar_core::Error) naming the file or folder: a folder inside a class
//! folder, an image outside any class folder, a class folder with no image, a single
//! class, different classes in `train/` and `test/`, a link that cannot be followed
//! (dangling, or a loop: skipping it could make a whole class vanish), a FIFO, socket
//! or device named like an image, and every image that cannot be read or decoded
//! (empty, truncated, corrupt).
//!
//! # Pixels
//!
//! Each image is decoded once into the same `u8`, channel-first (CHW) layout as
//! the IDX and CIFAR-10 readers ([`Dataset`]). Channels: 1 (grey) or 3 (RGB); an alpha
//! channel is dropped (as torchvision's `convert("RGB")` does), 16-bit samples become
//! 8-bit, and a palette image counts as RGB. Without [`FolderOptions::channels`] every
//! image must have the first image's channel count (a mix is refused, naming the
//! file); with it, each image is converted (RGB to grey by the sRGB luma weights
//! 0.2126 R + 0.7152 G + 0.0722 B; grey to RGB by copying). Size: without
//! [`FolderOptions::image_size`] every image must be the size of the first (a
//! different size is refused, naming the file and both sizes); with it, each image of
//! another size is resized to it (triangle filter, aspect ratio not kept), after the
//! channel conversion.
//!
//! # Memory
//!
//! Every image's header is read before any image is decoded. An image whose decoded
//! size exceeds the data memory limit ([`crate::limits::max_data_bytes`]) is
//! refused, and so is a PNG whose file is too small for the size its header claims
//! (deflate compresses at most 1032:1), so a forged or truncated header never causes
//! a large allocation. So is an image whose header declares more pixels (width ×
//! height) than the per-image limit ([`crate::limits::max_image_pixels`]: 64
//! megapixels unless `$CNNVAR_MAX_IMAGE_PIXELS` says otherwise), whatever size the
//! folder is read at: each image is decoded in full before it is resized, so a valid
//! 3.5 MB PNG of 60 000 × 60 000 pixels would otherwise take 3.6 GB and minutes. The
//! total, images × channels × height × width bytes, must be within the data limit
//! too; it is allocated once.
//!
//! # Checksum
//!
//! [`FolderData::sha256`] identifies the decoded content, not the files: moving or
//! renaming the folder (or re-encoding a PNG losslessly) keeps it, while changing a
//! pixel, a label, a class name, the order, the options' effect or the split changes
//! it. It is the SHA-256 over these lines, in this order (as for IDX data sets,
//! `"<name>:<value>\n"`):
//!
//! ```text
//! format:image-folder
//! classes:<sha256 of "<byte length>:<name>\n" for each class name, in label order>
//! shape:<channels>x<height>x<width>
//! train-images:<sha256 of the training pixels, image after image, CHW>
//! train-labels:<sha256 of the training labels, one byte each>
//! test-images:<sha256 of the test pixels>
//! test-labels:<sha256 of the test labels>
//! ```
//!
//! (all SHA-256 values lower-case hex).

mod checksum;
mod decode;
mod options;
mod plan;
mod scan;

use std::path::{Path, PathBuf};

use cnnvar_core::{DatasetName, ImageShape, Result};

use crate::dataset::{DataSplit, Dataset};
use crate::limits::{max_data_bytes, max_image_pixels};
use crate::shown;
use checksum::checksum;
pub(crate) use decode::FolderLimits;
use decode::{Header, check_like_first, check_limit, decode_into, read_header};
use options::check_options;
use plan::plan;

pub use options::{DEFAULT_TEST_FRACTION, FolderOptions};
pub use plan::FOLDER_SPLIT_STREAM;
pub use scan::{IMAGE_EXTENSIONS, MAX_CLASSES};

/// Which of the two layouts a folder has (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolderLayout {
    /// `root/train/<class>/*` and `root/test/<class>/*`.
    TrainTest,
    /// `root/<class>/*`, split into train and test by the seed.
    Classes,
}

/// An image folder read into memory: the same training and test [`Dataset`]s,
/// source and hash as a [`DataSplit`], plus the class names.
#[derive(Clone, Debug)]
pub struct FolderData {
    /// The training set.
    pub train: Dataset,
    /// The test set.
    pub test: Dataset,
    /// The folder read (`root`, as given).
    pub source: PathBuf,
    /// SHA-256 (lower-case hex) of the decoded content and the class names, not of
    /// the files or paths (see the [module docs](self#checksum)).
    pub sha256: String,
    /// The name of each class, indexed by label: the class folders' names, sorted.
    pub class_names: Vec<String>,
    /// Which layout the folder had.
    pub layout: FolderLayout,
    /// Files that were not read because their name does not end in an image
    /// extension (hidden files are not listed), in the order met.
    pub skipped: Vec<PathBuf>,
}

impl FolderData {
    /// The data as a [`DataSplit`] labelled `name`, and the class names.
    pub fn into_split(self, name: DatasetName) -> (DataSplit, Vec<String>) {
        let split = DataSplit {
            train: self.train,
            test: self.test,
            source: self.source,
            sha256: self.sha256,
            name,
        };
        (split, self.class_names)
    }
}

/// Reads the image folder `root` (see the [module docs](self) for the layouts, the
/// files read, the conversions and the checksum).
///
/// Errors, each naming the file or folder and saying what was expected: `root` not a
/// directory; only one of `train/` and `test/`, or another folder beside them; no
/// class folder, only one, more than [`MAX_CLASSES`], or different ones in `train/`
/// and `test/`; a class folder without images, or (one-set layout) with a single
/// image; a folder inside a class folder; an image outside any class folder; a
/// symbolic link that cannot be followed (dangling, or a loop); a FIFO, socket or
/// device named like an image; an image that is empty, unreadable, neither PNG nor
/// JPEG by content, truncated or corrupt; a channel count or size unlike the first
/// image's (when not converted); an image whose header declares more pixels than the
/// per-image limit; an image or a total over the data memory limit; a malformed
/// `$CNNVAR_MAX_DATA_BYTES` or `$CNNVAR_MAX_IMAGE_PIXELS`; invalid options.
pub fn load_folder(root: &Path, options: &FolderOptions) -> Result<FolderData> {
    let limits = FolderLimits { data_bytes: max_data_bytes()?, image_pixels: max_image_pixels()? };
    load_folder_limited(root, options, limits)
}

/// [`load_folder`] with explicit limits.
pub(crate) fn load_folder_limited(
    root: &Path,
    options: &FolderOptions,
    limits: FolderLimits,
) -> Result<FolderData> {
    check_options(options)?;
    let mut skipped = Vec::new();
    let (layout, plan, class_names) = plan(root, options, &mut skipped)?;

    // Pass 1: every header, before anything is decoded.
    let headers =
        plan.iter().map(|item| read_header(&item.path, limits)).collect::<Result<Vec<Header>>>()?;
    let (first, first_path) = (&headers[0], &plan[0].path);
    let channels = options.channels.unwrap_or(first.channels);
    let (height, width) = options.image_size.unwrap_or((first.height, first.width));
    for (header, item) in headers.iter().zip(&plan) {
        check_like_first(header, &item.path, first, first_path, options)?;
    }
    let shape = ImageShape { channels, height, width };
    // Saturating: `image_size` may ask for up to 2^32 × 2^32 (checked before
    // `shape.pixels()`, which could overflow).
    let total =
        [channels, height, width, plan.len()].iter().fold(1u64, |n, &k| n.saturating_mul(k as u64));
    check_limit(
        root,
        total,
        &format!(
            "{} images of {height}×{width} pixels × {channels} channel{}",
            plan.len(),
            if channels == 1 { "" } else { "s" }
        ),
        limits.data_bytes,
    )?;

    let pixels = shape.pixels();

    // Pass 2: decode each image into its set.
    let test_count = plan.iter().filter(|item| item.test).count();
    let train_count = plan.len() - test_count;
    let mut sets = [
        (Vec::with_capacity(train_count * pixels), Vec::with_capacity(train_count)),
        (Vec::with_capacity(test_count * pixels), Vec::with_capacity(test_count)),
    ];
    for (item, header) in plan.iter().zip(&headers) {
        let (images, labels) = &mut sets[usize::from(item.test)];
        decode_into(&item.path, header, shape, limits, images)?;
        labels.push(item.label);
    }
    let [(train_images, train_labels), (test_images, test_labels)] = sets;
    let classes = class_names.len();
    let dataset = |images, labels| {
        Dataset::new(images, labels, shape, classes).map_err(|e| shown::data(root, e.to_string()))
    };
    let train = dataset(train_images, train_labels)?;
    let test = dataset(test_images, test_labels)?;
    let sha256 = checksum(&class_names, &train, &test);
    Ok(FolderData { train, test, source: root.to_path_buf(), sha256, class_names, layout, skipped })
}

#[cfg(test)]
mod tests;
