use std::path::{Path, PathBuf};

use super::*;
use cnnvar_core::Error;

/// Writes a small CIFAR-10 set into `dir`: `per_file` records in each of the six
/// files, labels cycling through 0..10, pixels a function of file, record and byte.
fn write_set(dir: &Path, per_file: usize) {
    for (f, name) in CIFAR10_FILES.iter().enumerate() {
        let labels: Vec<u8> = (0..per_file).map(|i| ((i + f) % 10) as u8).collect();
        let images: Vec<u8> =
            (0..per_file * 3072).map(|i| ((i * 7 + f * 13) % 256) as u8).collect();
        write_batch(&dir.join(name), &images, &labels).expect("write batch");
    }
}

/// A fresh directory holding a good set, and the path of file `name` in it.
fn set_with(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    write_set(tmp.path(), 3);
    let path = tmp.path().join(name);
    (tmp, path)
}

/// Loading fails with a one-line error naming `file` and holding every needle.
fn assert_fails(dir: &Path, file: &str, needles: &[&str]) {
    let err = load_cifar10_dir(dir).expect_err("broken input must fail");
    assert!(matches!(err, Error::Data { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "not one line: {msg}");
    assert!(msg.contains(file), "{file:?} not in {msg}");
    for needle in needles {
        assert!(msg.contains(needle), "{needle:?} not in {msg}");
    }
}

#[test]
fn loads_a_small_set() {
    let tmp = tempfile::tempdir().expect("temp dir");
    write_set(tmp.path(), 4);
    let split = load_cifar10_dir(tmp.path()).expect("load");
    assert_eq!((split.train.len(), split.test.len()), (20, 4));
    assert_eq!(split.train.shape(), ImageShape::CIFAR10);
    assert_eq!(split.train.classes(), 10);
    // Record 1 of data_batch_2 (f = 1) is training example 5.
    assert_eq!(split.train.label(5), 2);
    let first: Vec<u8> = (3072..2 * 3072).map(|i| ((i * 7 + 13) % 256) as u8).collect();
    assert_eq!(split.train.image(5), &first[..]);
    assert_eq!(split.test.labels(), [5, 6, 7, 8]);
    assert_eq!(split.sha256.len(), 64);
    assert_eq!(split.source, tmp.path());
    assert_eq!(split.name, DatasetName::Cifar10);

    // The same files in cifar-10-batches-bin/ are found there, with the same hash.
    let outer = tempfile::tempdir().expect("temp dir");
    let nested = outer.path().join(CIFAR10_DIR);
    std::fs::create_dir(&nested).expect("mkdir");
    write_set(&nested, 4);
    let again = load_cifar10_dir(outer.path()).expect("load nested");
    assert_eq!(again.source, nested);
    assert_eq!(again.sha256, split.sha256);
    assert_eq!(again.train, split.train);

    // The hash follows the scheme of the IDX data sets.
    let lines: Vec<(String, String)> = CIFAR10_FILES
        .iter()
        .map(|f| (f.to_string(), read_batch(&tmp.path().join(f)).expect("read").2))
        .collect();
    assert_eq!(split.sha256, hash::combine(lines.iter().map(|(n, h)| (n.as_str(), h.as_str()))));
    // Any change of bytes changes it.
    write_batch(&tmp.path().join("test_batch.bin"), &[0; 3072], &[1]).expect("write");
    assert_ne!(load_cifar10_dir(tmp.path()).expect("load").sha256, split.sha256);
}

#[test]
fn writer_rejects_wrong_length() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = tmp.path().join("x.bin");
    let msg = write_batch(&path, &[0; 100], &[0]).expect_err("wrong length").to_string();
    assert!(msg.contains("x.bin") && msg.contains("3072"), "{msg}");
}

// The ten kinds of broken input.

#[test]
fn broken_1_missing_training_batch() {
    let (tmp, path) = set_with("data_batch_3.bin");
    std::fs::remove_file(&path).expect("rm");
    assert_fails(tmp.path(), "data_batch_3.bin", &["missing CIFAR-10 file(s) data_batch_3.bin"]);
}

#[test]
fn broken_2_missing_test_batch() {
    let (tmp, path) = set_with("test_batch.bin");
    std::fs::remove_file(&path).expect("rm");
    assert_fails(tmp.path(), "test_batch.bin", &["missing", "expected the six files"]);
}

#[test]
fn broken_3_empty_training_batch() {
    let (tmp, path) = set_with("data_batch_1.bin");
    std::fs::write(&path, b"").expect("truncate");
    assert_fails(tmp.path(), "data_batch_1.bin", &["empty file", "3073"]);
}

#[test]
fn broken_4_empty_test_batch() {
    let (tmp, path) = set_with("test_batch.bin");
    std::fs::write(&path, b"").expect("truncate");
    assert_fails(tmp.path(), "test_batch.bin", &["empty file"]);
}

#[test]
fn broken_5_truncated_record() {
    let (tmp, path) = set_with("data_batch_4.bin");
    let len = std::fs::metadata(&path).expect("meta").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(len - 1000))
        .expect("truncate");
    let size = format!("size {} bytes", len - 1000);
    assert_fails(tmp.path(), "data_batch_4.bin", &[&size, "2 records and 2073 bytes", "truncated"]);
}

#[test]
fn broken_6_trailing_bytes() {
    let (tmp, path) = set_with("data_batch_2.bin");
    let mut bytes = std::fs::read(&path).expect("read");
    bytes.extend_from_slice(b"junk");
    std::fs::write(&path, bytes).expect("write");
    assert_fails(tmp.path(), "data_batch_2.bin", &["3 records and 4 bytes left over"]);
}

#[test]
fn broken_7_label_10() {
    let (tmp, path) = set_with("data_batch_5.bin");
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[2 * RECORD_BYTES] = 10;
    std::fs::write(&path, bytes).expect("write");
    assert_fails(
        tmp.path(),
        "data_batch_5.bin",
        &["record 2 (byte offset 6146) has label 10", "expected labels 0 to 9"],
    );
}

#[test]
fn broken_8_label_255_in_test_batch() {
    let (tmp, path) = set_with("test_batch.bin");
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[0] = 255;
    std::fs::write(&path, bytes).expect("write");
    assert_fails(tmp.path(), "test_batch.bin", &["record 0 (byte offset 0) has label 255"]);
}

#[test]
fn broken_9_directory_in_place_of_a_file() {
    let (tmp, path) = set_with("data_batch_2.bin");
    std::fs::remove_file(&path).expect("rm");
    std::fs::create_dir(&path).expect("mkdir");
    assert_fails(tmp.path(), "data_batch_2.bin", &["is a directory"]);
}

#[test]
fn broken_10_compressed_archive_instead_of_the_batch() {
    let (tmp, path) = set_with("data_batch_1.bin");
    // A gzip stream (what `cifar-10-binary.tar.gz` is) under the batch's name.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&vec![0u8; 3 * RECORD_BYTES]).expect("gzip");
    std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
    assert_fails(tmp.path(), "data_batch_1.bin", &["compressed archive", "cnnvar data fetch"]);
    // An uncompressed tar archive is recognised too.
    let mut tar = vec![0u8; 3 * RECORD_BYTES];
    tar[257..262].copy_from_slice(b"ustar");
    std::fs::write(&path, tar).expect("write");
    assert_fails(tmp.path(), "data_batch_1.bin", &["a tar archive"]);
}

#[test]
fn broken_11_huge_file_is_refused_before_allocation() {
    let (tmp, path) = set_with("data_batch_3.bin");
    // A sparse file: cheap on disk, 307 MB long.
    let file = std::fs::OpenOptions::new().write(true).open(&path).expect("open");
    file.set_len((MAX_RECORDS + 1) * RECORD_BYTES as u64).expect("set_len");
    drop(file);
    let start = std::time::Instant::now();
    assert_fails(tmp.path(), "data_batch_3.bin", &["holds 100001 records", "at most 100000"]);
    assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
}

#[test]
fn broken_12_extra_batch_file() {
    let (tmp, path) = set_with("data_batch_6.bin");
    write_batch(&path, &[0; 3072], &[0]).expect("write");
    assert_fails(
        tmp.path(),
        "data_batch_6.bin",
        &["unexpected batch file(s) data_batch_6.bin", "exactly five training batches"],
    );
}

#[test]
fn broken_13_only_the_archive() {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join("cifar-10-binary.tar.gz"), [0x1f, 0x8b, 0]).expect("write");
    assert_fails(
        tmp.path(),
        "data_batch_1.bin",
        &["it holds cifar-10-binary.tar.gz: extract it, or run `cnnvar data fetch cifar10`"],
    );
}

#[test]
fn broken_14_missing_directory() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let gone = tmp.path().join("gone");
    assert_fails(&gone, "gone", &["missing CIFAR-10 file(s) data_batch_1.bin"]);
}

/// The fuzz target's seeds read as intended, and every input kept as a fuzz
/// regression gives an answer, never a panic.
#[test]
fn fuzz_seeds_and_regressions() {
    let seeds = crate::idx::tests::fuzz_inputs("seeds", "cifar");
    assert_eq!(seeds.len(), 2, "{seeds:?}");
    for p in &seeds {
        let good = p.ends_with("two-records");
        match read_batch(p) {
            Ok((images, labels, _)) => {
                assert!(good, "{} should be refused", p.display());
                assert_eq!((images.len(), labels), (2 * 3072, vec![3, 9]));
            }
            Err(e) => assert!(!good, "{}: {e}", p.display()),
        }
    }
    for p in crate::idx::tests::fuzz_inputs("regressions", "cifar") {
        let _ = read_batch(&p);
    }
}
