//! The layout of a folder and the images to read, in order, each with its label and
//! set: the two layouts and the seeded, stratified split of a one-set folder.

use std::path::{Path, PathBuf};

use cnnvar_core::Result;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::scan::{classes_in, entries, follow, not_in_class, same_classes};
use super::{FolderLayout, FolderOptions};
use crate::shown;

/// The ChaCha stream the seeded train/test split of a one-set folder draws from.
pub const FOLDER_SPLIT_STREAM: u64 = u64::MAX - 5;

/// One image to read: its file, label and set.
pub(super) struct Item {
    pub(super) path: PathBuf,
    pub(super) label: u8,
    pub(super) test: bool,
}

/// A class folder and its image files, sorted by name.
pub(super) struct Class {
    pub(super) name: String,
    pub(super) dir: PathBuf,
    pub(super) files: Vec<PathBuf>,
}

/// The layout, every image to read in order, and the class names.
pub(super) fn plan(
    root: &Path,
    options: &FolderOptions,
    skipped: &mut Vec<PathBuf>,
) -> Result<(FolderLayout, Vec<Item>, Vec<String>)> {
    const EXPECTED: &str = "expected a folder holding one folder of images per class, or \
                            train/ and test/ each holding them";
    if !root.is_dir() {
        if std::fs::symlink_metadata(root).is_ok_and(|m| m.is_symlink()) {
            follow(root)?;
        }
        let what = if root.exists() { "is not a directory" } else { "does not exist" };
        return Err(shown::data(root, format!("{what}; {EXPECTED}")));
    }
    let (train_dir, test_dir) = (root.join("train"), root.join("test"));
    match (train_dir.is_dir(), test_dir.is_dir()) {
        (true, true) => {
            let listed = entries(root)?;
            let others: Vec<String> = listed
                .iter()
                .filter(|e| e.is_dir && e.name != "train" && e.name != "test")
                .map(|e| format!("{}/", shown::display(Path::new(&e.name))))
                .collect();
            if !others.is_empty() {
                return Err(shown::data(
                    root,
                    format!(
                        "holds train/ and test/ and also {}; expected only train/ and test/ in a \
                         split folder (move the others out)",
                        others.join(", ")
                    ),
                ));
            }
            for e in listed {
                if !e.is_dir {
                    not_in_class(e.path, skipped)?;
                }
            }
            let train = classes_in(&train_dir, skipped)?;
            let test = classes_in(&test_dir, skipped)?;
            same_classes(&train_dir, &train, &test_dir, &test)?;
            let mut items = Vec::new();
            for (classes, is_test) in [(&train, false), (&test, true)] {
                for (label, class) in classes.iter().enumerate() {
                    items.extend(class.files.iter().map(|path| Item {
                        path: path.clone(),
                        label: label as u8,
                        test: is_test,
                    }));
                }
            }
            Ok((FolderLayout::TrainTest, items, names(&train)))
        }
        (true, false) | (false, true) => {
            let (has, lacks) =
                if train_dir.is_dir() { ("train", "test") } else { ("test", "train") };
            Err(shown::data(
                root,
                format!(
                    "holds {has}/ but no {lacks}/; expected both train/ and test/ (each with \
                     one folder per class), or only class folders"
                ),
            ))
        }
        (false, false) => {
            let classes = classes_in(root, skipped)?;
            let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
            rng.set_stream(FOLDER_SPLIT_STREAM);
            let mut items = Vec::new();
            for (label, class) in classes.iter().enumerate() {
                let n = class.files.len();
                if n < 2 {
                    return Err(shown::data(
                        &class.dir,
                        "holds only 1 image; splitting into a training and a test set needs at \
                         least 2 images per class (or split the folder into train/ and test/ \
                         yourself)",
                    ));
                }
                let k = test_share(n, options.test_fraction);
                let mut order: Vec<usize> = (0..n).collect();
                let (picked, _) = order.partial_shuffle(&mut rng, k);
                let mut is_test = vec![false; n];
                for &i in picked.iter() {
                    is_test[i] = true;
                }
                items.extend(class.files.iter().zip(is_test).map(|(path, test)| Item {
                    path: path.clone(),
                    label: label as u8,
                    test,
                }));
            }
            Ok((FolderLayout::Classes, items, names(&classes)))
        }
    }
}

/// How many of a class's `n >= 2` images go into the test set: `round(fraction × n)`,
/// at least 1 and at most `n - 1`.
pub(super) fn test_share(n: usize, fraction: f64) -> usize {
    let k = (fraction * n as f64).round() as usize;
    k.clamp(1, n - 1)
}

pub(super) fn names(classes: &[Class]) -> Vec<String> {
    classes.iter().map(|c| c.name.clone()).collect()
}
