use std::path::Path;

use cnnvar_core::ImageShape;

use crate::idx::{write_images, write_labels};

use super::*;

/// Writes a small IDX data set into `dir`: `train` and `test` examples of
/// `rows × cols`, labels cycling through 0..10.
fn write_set(dir: &Path, train: usize, test: usize, rows: usize, gz: bool) {
    let ext = if gz { ".gz" } else { "" };
    for (count, images, labels) in
        [(train, IDX_FILES[0], IDX_FILES[1]), (test, IDX_FILES[2], IDX_FILES[3])]
    {
        let pixels: Vec<u8> = (0..count * rows * rows).map(|i| (i % 256) as u8).collect();
        let lab: Vec<u8> = (0..count).map(|i| (i % 10) as u8).collect();
        write_images(&dir.join(format!("{images}{ext}")), &pixels, count, rows, rows, gz)
            .expect("write images");
        write_labels(&dir.join(format!("{labels}{ext}")), &lab, gz).expect("write labels");
    }
}

fn load_err(dir: &Path) -> String {
    load_idx_dir(dir, DatasetName::Mnist).expect_err("must fail").to_string()
}

#[test]
fn loads_a_small_set() {
    let tmp = tempfile::tempdir().expect("temp dir");
    write_set(tmp.path(), 30, 20, 5, false);
    let split = load_idx_dir(tmp.path(), DatasetName::Mnist).expect("load");
    assert_eq!((split.train.len(), split.test.len()), (30, 20));
    assert_eq!(split.train.shape(), ImageShape { channels: 1, height: 5, width: 5 });
    assert_eq!(split.train.class_counts(), [3; 10]);
    assert_eq!(split.test.label(13), 3);
    assert_eq!(split.test.image(1), &(25..50).map(|i| i as u8).collect::<Vec<_>>()[..]);
    assert_eq!(split.sha256.len(), 64);
    assert_eq!(split.source, tmp.path());
    assert_eq!(split.name, DatasetName::Mnist);

    // Same data, gzip files alongside: the .gz are preferred, so the hash changes.
    write_set(tmp.path(), 30, 20, 5, true);
    let gz = load_idx_dir(tmp.path(), DatasetName::Mnist).expect("load gz");
    assert_eq!(gz.train, split.train);
    assert_ne!(gz.sha256, split.sha256);
    // Any change of bytes changes the hash.
    write_labels(&tmp.path().join("t10k-labels-idx1-ubyte.gz"), &[1; 20], true).expect("write");
    let other = load_idx_dir(tmp.path(), DatasetName::Mnist).expect("load");
    assert_ne!(other.sha256, gz.sha256);
}

#[test]
fn count_mismatch_names_both_files() {
    let tmp = tempfile::tempdir().expect("temp dir");
    write_set(tmp.path(), 30, 20, 5, false);
    write_labels(&tmp.path().join(IDX_FILES[3]), &[0; 19], false).expect("write");
    let msg = load_err(tmp.path());
    for needle in ["t10k-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "19 labels", "20 images"] {
        assert!(msg.contains(needle), "{needle:?} not in {msg}");
    }
}

#[test]
fn label_out_of_range_names_file_index_and_value() {
    let tmp = tempfile::tempdir().expect("temp dir");
    write_set(tmp.path(), 30, 20, 5, false);
    let mut labels = vec![0u8; 30];
    labels[17] = 10;
    write_labels(&tmp.path().join(IDX_FILES[1]), &labels, false).expect("write");
    let msg = load_err(tmp.path());
    for needle in ["train-labels-idx1-ubyte", "label 10 at index 17", "0 to 9"] {
        assert!(msg.contains(needle), "{needle:?} not in {msg}");
    }
}

#[test]
fn train_and_test_shapes_must_agree() {
    let tmp = tempfile::tempdir().expect("temp dir");
    write_set(tmp.path(), 30, 20, 5, false);
    write_images(&tmp.path().join(IDX_FILES[2]), &[0; 20 * 6 * 6], 20, 6, 6, false).expect("write");
    let msg = load_err(tmp.path());
    assert!(
        msg.contains("t10k-images-idx3-ubyte") && msg.contains("6×6") && msg.contains("5×5"),
        "{msg}"
    );
}

#[test]
fn missing_file_is_named() {
    let tmp = tempfile::tempdir().expect("temp dir");
    write_set(tmp.path(), 3, 2, 2, false);
    std::fs::remove_file(tmp.path().join(IDX_FILES[1])).expect("remove");
    let msg = load_err(tmp.path());
    assert!(msg.contains("train-labels-idx1-ubyte"), "{msg}");
}

#[test]
fn dataset_new_checks_its_input() {
    let shape = ImageShape { channels: 1, height: 2, width: 2 };
    assert!(Dataset::new(vec![0; 8], vec![0, 1], shape, 10).is_ok());
    assert!(Dataset::new(vec![0; 7], vec![0, 1], shape, 10).is_err());
    assert!(Dataset::new(vec![0; 8], vec![0, 10], shape, 10).is_err());
    assert!(
        Dataset::new(vec![], vec![], ImageShape { channels: 1, height: 0, width: 2 }, 10).is_err()
    );
    assert!(Dataset::new(vec![0; 8], vec![0, 1], shape, 0).is_err());
    let huge = ImageShape { channels: usize::MAX, height: 2, width: 2 };
    assert!(Dataset::new(vec![], vec![], huge, 10).is_err());
    let ds = Dataset::new(vec![], vec![], shape, 3).expect("empty is fine");
    assert!(ds.is_empty() && ds.class_counts() == [0, 0, 0]);
}

/// The real Fashion-MNIST from Debian's `dataset-fashion-mnist`, if installed.
#[test]
fn real_fashion_mnist() {
    let dir = Path::new("/usr/share/datasets/fashion-mnist");
    if !dir.is_dir() {
        eprintln!(
            "skipping: {} not installed (apt-get install dataset-fashion-mnist)",
            dir.display()
        );
        return;
    }
    let split = load_idx_dir(dir, DatasetName::FashionMnist).expect("load Fashion-MNIST");
    assert_eq!((split.train.len(), split.test.len()), (60_000, 10_000));
    assert_eq!(split.train.shape(), ImageShape::MNIST);
    assert_eq!(split.train.classes(), 10);
    assert_eq!(split.train.class_counts(), [6000; 10]);
    assert_eq!(split.test.class_counts(), [1000; 10]);
    let again = load_idx_dir(dir, DatasetName::FashionMnist).expect("load again");
    assert_eq!(again.sha256, split.sha256);
    eprintln!("Fashion-MNIST sha256 {}", split.sha256);
}
