//! How a folder is read: [`FolderOptions`] and their checks.

use cnnvar_core::{Error, Result};

/// The default share of each class that goes into the test set of a one-set folder.
pub const DEFAULT_TEST_FRACTION: f64 = 0.2;

/// How to read an image folder. `Default` gives: channels and size as the files
/// are, a test fraction of [`DEFAULT_TEST_FRACTION`] and seed 0.
#[derive(Clone, Debug, PartialEq)]
pub struct FolderOptions {
    /// Colour channels of the data set, 1 (grey) or 3 (RGB): every image is converted
    /// to it. `None`: the first image's; then an image with another count is an error.
    pub channels: Option<usize>,
    /// `(height, width)` of the data set: every image of another size is resized to
    /// it. `None`: the first image's size; then an image of another size is an error.
    pub image_size: Option<(usize, usize)>,
    /// For a one-set folder (`root/<class>/*`): the share of each class that goes into
    /// the test set, strictly between 0 and 1. Not used when the folder is already
    /// split into `train/` and `test/` (but still checked).
    pub test_fraction: f64,
    /// For a one-set folder: the seed of the train/test split.
    pub seed: u64,
}

impl Default for FolderOptions {
    fn default() -> Self {
        FolderOptions {
            channels: None,
            image_size: None,
            test_fraction: DEFAULT_TEST_FRACTION,
            seed: 0,
        }
    }
}

/// Refuses options out of range.
pub(super) fn check_options(options: &FolderOptions) -> Result<()> {
    if let Some(c) = options.channels
        && c != 1
        && c != 3
    {
        return Err(Error::field(
            "image folder options",
            "channels",
            format!("{c}; expected 1 (grey) or 3 (RGB)"),
        ));
    }
    if let Some((h, w)) = options.image_size
        && (h == 0 || w == 0 || u32::try_from(h).is_err() || u32::try_from(w).is_err())
    {
        return Err(Error::field(
            "image folder options",
            "image_size",
            format!("{h}×{w} (height×width); expected both at least 1 and below 2^32"),
        ));
    }
    let f = options.test_fraction;
    if !(f > 0.0 && f < 1.0) {
        return Err(Error::field(
            "image folder options",
            "test_fraction",
            format!(
                "{f}; expected a number strictly between 0 and 1, e.g. {DEFAULT_TEST_FRACTION}"
            ),
        ));
    }
    Ok(())
}
