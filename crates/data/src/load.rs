//! Reading a whole data set (train and test) from one directory.

use std::path::{Path, PathBuf};

use cnnvar_core::{DatasetName, Result};

use crate::dataset::{DataSplit, Dataset};
use crate::hash;
use crate::idx::{Kind, read_idx};
use crate::shown;

/// The classes of MNIST and Fashion-MNIST.
pub const IDX_CLASSES: usize = 10;

/// The four IDX files of an MNIST-style data set, without the optional `.gz`, in
/// the order they are hashed: train images, train labels, test images, test labels.
pub const IDX_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// The four IDX files in `dir`, each `NAME.gz` if present, else `NAME`; or the
/// names of those missing (both forms absent).
pub(crate) fn idx_paths(dir: &Path) -> std::result::Result<[PathBuf; 4], Vec<&'static str>> {
    let find = |name: &str| {
        let gz = dir.join(format!("{name}.gz"));
        let raw = dir.join(name);
        if gz.is_file() {
            Some(gz)
        } else if raw.is_file() {
            Some(raw)
        } else {
            None
        }
    };
    let found = IDX_FILES.map(find);
    let missing: Vec<&str> =
        IDX_FILES.iter().zip(&found).filter(|(_, p)| p.is_none()).map(|(n, _)| *n).collect();
    match found {
        [Some(a), Some(b), Some(c), Some(d)] => Ok([a, b, c, d]),
        _ => Err(missing),
    }
}

/// Reads an MNIST-style data set (Fashion-MNIST or MNIST) from the four IDX files in
/// `dir` (see [`IDX_FILES`]; gzip-compressed `NAME.gz` preferred over raw `NAME`).
///
/// Checks, besides each file's own validity, that each split has as many labels
/// as images, that every label is below 10, and that train and test images have
/// the same shape. Everything stays `u8`.
pub fn load_idx_dir(dir: &Path, name: DatasetName) -> Result<DataSplit> {
    let [train_images, train_labels, test_images, test_labels] =
        idx_paths(dir).map_err(|missing| {
            shown::data(
                dir,
                format!(
                    "missing IDX file(s) {}; expected each as NAME.gz or NAME in this directory",
                    missing.join(", ")
                ),
            )
        })?;
    let mut hashes = Vec::with_capacity(4);
    let train = read_split(&train_images, &train_labels, &mut hashes)?;
    let test = read_split(&test_images, &test_labels, &mut hashes)?;
    if train.shape() != test.shape() {
        return Err(shown::data(
            &test_images,
            format!(
                "test images are {}×{} but the training images ({}) are {}×{}; expected the \
                 same shape",
                test.shape().height,
                test.shape().width,
                shown::display(&train_images),
                train.shape().height,
                train.shape().width
            ),
        ));
    }
    let sha256 = hash::combine(hashes.iter().map(|(n, h)| (n.as_str(), h.as_str())));
    Ok(DataSplit { train, test, source: dir.to_path_buf(), sha256, name })
}

/// Reads one split's images and labels, pushing (file name, sha256) for each.
fn read_split(
    images_path: &Path,
    labels_path: &Path,
    hashes: &mut Vec<(String, String)>,
) -> Result<Dataset> {
    let images = read_idx(images_path, Kind::Images)?;
    hashes.push((file_name(images_path), images.sha256.clone()));
    let (pixels, shape, count) = images.into_images(images_path)?;
    let labels = read_idx(labels_path, Kind::Labels)?;
    hashes.push((file_name(labels_path), labels.sha256));
    let labels = labels.data;
    if labels.len() != count {
        return Err(shown::data(
            labels_path,
            format!(
                "holds {} labels but {} holds {count} images; expected one label per image",
                labels.len(),
                shown::display(images_path)
            ),
        ));
    }
    if let Some((i, &label)) =
        labels.iter().enumerate().find(|&(_, &l)| usize::from(l) >= IDX_CLASSES)
    {
        return Err(shown::data(
            labels_path,
            format!("label {label} at index {i}; expected labels 0 to {}", IDX_CLASSES - 1),
        ));
    }
    Dataset::new(pixels, labels, shape, IDX_CLASSES)
        .map_err(|e| shown::data(images_path, e.to_string()))
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests;
