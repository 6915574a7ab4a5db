//! # cnnvar-data
//!
//! Data sets for cnnvar: finding them on disk, reading and validating them, choosing
//! the training subset and the order of each epoch, and filling mini-batches.
//!
//! - [`load`] finds a data set ([`find`]) and reads it into a [`DataSplit`]: a
//!   training and a test [`Dataset`], the directory they came from and a SHA-256
//!   over the files' bytes ([`DataSplit::sha256`]).
//! - [`idx`] reads and writes the IDX files of MNIST and Fashion-MNIST, raw or
//!   gzip, and rejects every malformed file with an error naming the file, what was
//!   wrong and what was expected. [`cifar`] does the same for CIFAR-10's binary
//!   batch files.
//! - `fetch()` downloads a data set into the user cache from its canonical host,
//!   verified against pinned SHA-256 values, resumable and atomic (the `fetch` module,
//!   behind the default feature `fetch`: without it the crate has no network code and
//!   no ureq, rustls or tar).
//! - [`select`] picks the training subset (first N, or stratified by class with a
//!   seed); [`epoch_order`] is the seeded visiting order of each epoch.
//! - [`fill_batch`] turns a batch of examples into reusable `f32`/`i64` buffers
//!   (NCHW, pixels in `[0, 1]`).
//!
//! ## Transforms
//!
//! [`transform`] holds the seeded perturbations that experiments vary:
//! [`fill_batch_augmented`] fills a batch like [`fill_batch`] but shifts, flips,
//! rotates and re-lights each image as an [`Augmentation`] says; [`downsample_classes`],
//! [`oversample`] and [`class_weights`] make and undo class imbalance;
//! [`label_noise`] replaces a share of the labels by wrong ones; [`twilight`] is a
//! darkened, low-contrast copy of a test set (distribution shift); [`kfold`] splits
//! examples into stratified cross-validation folds. Each random transform takes an
//! explicit seed and its own ChaCha stream (listed in [`transform`]), so its result is
//! bit-identical on every run, thread count and platform.
//!
//! ## Where data sets are looked for
//!
//! [`resolve_data_dir`] is the data directory rule, the one place it is decided: a
//! directory the caller gives (the `data_dir` setting of a front end, e.g. its command
//! line) wins; else, for an image folder, the spec's `data_dir`, and for a named data
//! set a non-empty `$CNNVAR_DATA_DIR`. With such a directory `DIR`, a named data set is
//! looked for only there: `DIR`, then `DIR/<name>`. Otherwise, in order: the user cache
//! directory's `cnnvar/<name>` (e.g. `~/.cache/cnnvar/fashion-mnist`), and the Debian
//! package's directory (`/usr/share/datasets/fashion-mnist` from
//! `dataset-fashion-mnist`, or `/usr/share/datasets/mnist`). When none holds the
//! files, the error lists every place searched and says how to get the data, naming the
//! `data_dir` setting and `$CNNVAR_DATA_DIR` (this crate names settings, never a
//! command line's flags). There is never a fallback to synthetic data.
//!
//! ## Downloading on first use
//!
//! With the `fetch` feature (the default), when [`load`] is given no directory and
//! finds nothing, it downloads the data set into the user cache with `fetch()`
//! (announced through [`load_noting`]'s callback: the crate never prints), then loads
//! it. It does not when `$CNNVAR_AUTO_FETCH` is `0` or `$CNNVAR_OFFLINE` is
//! set (to anything but empty or `0`); if the download fails, the not-found error
//! says why. `$CNNVAR_DATA_URL` replaces the download host (see
//! `FetchOptions::base_url`). `cnnvar data fetch NAME` downloads explicitly.
//!
//! ## Your own images
//!
//! [`folder`] reads a folder of PNG or JPEG images, one folder per class
//! (`root/<class>/*`, split into training and test sets by a seeded stratified split,
//! or already split as `root/train/<class>/*` and `root/test/<class>/*`), into the same
//! [`Dataset`]s, with the class names taken from the folders' names and a checksum of
//! the decoded content. Links to folders and images are followed; one that cannot be
//! followed (dangling, or a loop) is refused rather than skipped, so that no class
//! vanishes unnoticed. A run spec names one with `dataset = "folder"` and `data_dir`;
//! [`load_spec`] reads whatever a spec names, a folder with the spec's `channels`,
//! `image_size` and `test_fraction` ([`folder_options`]).
//!
//! ```no_run
//! # #[cfg(feature = "folder")]
//! # fn main() -> Result<(), cnnvar_core::Error> {
//! use cnnvar_data::{FolderOptions, load_folder};
//! let options = FolderOptions { channels: Some(1), image_size: Some((8, 8)), ..FolderOptions::default() };
//! let data = load_folder(std::path::Path::new("data/digits"), &options)?;
//! println!("{} classes: {}", data.class_names.len(), data.class_names.join(", "));
//! println!("{} training and {} test images, sha256 {}", data.train.len(), data.test.len(), data.sha256);
//!
//! // The same through a spec, as training on a folder does:
//! let spec = cnnvar_core::RunSpec {
//!     dataset: cnnvar_core::DatasetName::Folder,
//!     data_dir: Some("data/digits".into()),
//!     ..cnnvar_core::RunSpec::default()
//! };
//! let (split, class_names) = cnnvar_data::load_spec(&spec, None, &mut |_| {})?;
//! assert_eq!(split.train.classes(), class_names.len());
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "folder"))]
//! # fn main() {}
//! ```
//!
//! ## Memory
//!
//! Data sets stay `u8` in memory (60 000 Fashion-MNIST images take 47 MB). Only the
//! current mini-batch is ever converted to `f32`, by [`fill_batch`].
//!
//! Nothing is allocated on a file's word: a header or file that would need more than
//! the data memory limit (4 GiB, `$CNNVAR_MAX_DATA_BYTES`) is refused before anything
//! is read into memory, and an image of a folder whose header declares more than the
//! per-image pixel limit (64 megapixels, `$CNNVAR_MAX_IMAGE_PIXELS`) is refused before
//! it is decoded ([`limits`]).
//!
//! ## Errors
//!
//! Every error names the file or setting at fault, what was wrong and what was
//! expected, in one line. A path or class name holding control characters (a
//! newline, a terminal escape), bidirectional controls or bytes that are not UTF-8 is
//! shown quoted and escaped as `{:?}` does (`"cat/a\nb.png"`); others as they are.
//! Settings are named as in spec and study files (`data_dir`, `channels`) with their
//! environment variables, never as a command line's flags: a front end shows them in
//! its own terms.
//!
//! ```no_run
//! use cnnvar_core::{DatasetName, SubsetMethod};
//! let split = cnnvar_data::load(DatasetName::FashionMnist, None)?;
//! let chosen = cnnvar_data::select(&split.train, Some(1000), SubsetMethod::Stratified, 7)?;
//! let order = cnnvar_data::epoch_order(chosen.len(), 0, 0);
//! let batch: Vec<usize> = order[..32].iter().map(|&k| chosen[k]).collect();
//! let (mut images, mut labels) = (Vec::new(), Vec::new());
//! cnnvar_data::fill_batch(&split.train, &batch, &mut images, &mut labels);
//! assert_eq!(images.len(), 32 * 28 * 28);
//! # Ok::<(), cnnvar_core::Error>(())
//! ```

mod batch;
pub mod cifar;
mod dataset;
#[cfg(feature = "fetch")]
pub mod fetch;
#[cfg(feature = "folder")]
pub mod folder;
mod hash;
pub mod idx;
pub mod limits;
mod load;
mod locate;
mod shown;
mod subset;
pub mod transform;

pub use batch::fill_batch;
pub use cifar::{CIFAR10_FILES, load_cifar10_dir};
pub use cnnvar_core::ImageShape;
pub use dataset::{DataSplit, Dataset};
#[cfg(feature = "fetch")]
pub use fetch::{FetchOptions, FetchProgress, fetch};
#[cfg(feature = "folder")]
pub use folder::{FolderData, FolderLayout, FolderOptions, load_folder};
pub use load::{IDX_CLASSES, IDX_FILES, load_idx_dir};
#[cfg(feature = "folder")]
pub use locate::folder_options;
pub use locate::{
    DATA_DIR_ENV, DataInfo, expected_shape, find, info, load, load_noting, load_spec,
    resolve_data_dir, train_images_file,
};
pub use subset::{BOOTSTRAP_STREAM, SUBSET_STREAM, bootstrap, epoch_order, select};
pub use transform::{
    Augmentation, class_weights, downsample_classes, fill_batch_augmented, kfold, label_noise,
    noisy_labels, oversample, twilight,
};

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The crate's sources (not its tests) in `dir`, with their text up to their test
    /// module.
    fn sources(dir: &Path, out: &mut Vec<(std::path::PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|n| n != "tests.rs")
            {
                let text = std::fs::read_to_string(&path).expect("read source");
                let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("").to_owned();
                out.push((path, code));
            }
        }
    }

    /// A library names its settings (`data_dir`, `offline`) and environment variables,
    /// never a command line's flags (`--data-dir`): its front ends show a setting in
    /// their own terms. Neither its messages nor its docs name one.
    #[test]
    fn no_message_or_doc_names_a_command_line_flag() {
        let mut files = Vec::new();
        sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        assert!(files.len() > 10, "{files:?}");
        let mut flags = Vec::new();
        for (path, code) in &files {
            for (i, line) in code.lines().enumerate() {
                let bytes = line.as_bytes();
                if bytes.windows(3).any(|w| w[..2] == *b"--" && w[2].is_ascii_lowercase()) {
                    flags.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                }
            }
        }
        assert!(flags.is_empty(), "command-line flags named:\n{}", flags.join("\n"));
    }

    /// Every error naming a user path goes through `shown`, which escapes control
    /// characters: no source builds `Error::data` or `Error::io` itself.
    #[test]
    fn errors_name_paths_through_shown() {
        let mut files = Vec::new();
        sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let raw: Vec<String> = files
            .iter()
            .filter(|(path, _)| !path.ends_with("shown.rs"))
            .flat_map(|(path, code)| {
                code.lines()
                    .enumerate()
                    .filter(|(_, l)| l.contains("Error::data(") || l.contains("Error::io("))
                    .map(move |(i, l)| format!("{}:{}: {}", path.display(), i + 1, l.trim()))
            })
            .collect();
        assert!(raw.is_empty(), "errors built without `shown`:\n{}", raw.join("\n"));
    }
}
