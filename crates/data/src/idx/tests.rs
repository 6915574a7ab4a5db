//! Round trips and every kind of broken IDX file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;

use super::*;
use cnnvar_core::Error;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).expect("gzip to memory");
    enc.finish().expect("gzip to memory")
}

/// An IDX header: magic then sizes, big-endian.
fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
    let mut h = magic.to_be_bytes().to_vec();
    for d in dims {
        h.extend_from_slice(&d.to_be_bytes());
    }
    h
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

/// Asserts that reading `path` as images (or labels) fails, naming the file and
/// containing each of `needles`.
fn assert_fails(path: &Path, kind: Kind, needles: &[&str]) {
    let err = match kind {
        Kind::Images => read_images(path).map(|_| ()),
        Kind::Labels => read_labels(path).map(|_| ()),
    }
    .expect_err("broken file must be rejected");
    assert!(matches!(err, Error::Data { .. }), "{err:?}");
    let msg = err.to_string();
    let name = path.file_name().expect("file name").to_string_lossy();
    assert!(msg.contains(name.as_ref()), "message does not name the file: {msg}");
    for needle in needles {
        assert!(msg.contains(needle), "message lacks {needle:?}: {msg}");
    }
}

#[test]
fn round_trip_raw_and_gzip() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let pixels: Vec<u8> = (0..3 * 4 * 5).map(|i| (i * 7) as u8).collect();
    for gz in [false, true] {
        let images = tmp.path().join(format!("img-{gz}"));
        let labels = tmp.path().join(format!("lab-{gz}"));
        write_images(&images, &pixels, 3, 4, 5, gz).expect("write images");
        write_labels(&labels, &[1, 2, 9], gz).expect("write labels");
        let (read, shape, count) = read_images(&images).expect("read images");
        assert_eq!((read, count), (pixels.clone(), 3));
        assert_eq!(shape, ImageShape { channels: 1, height: 4, width: 5 });
        assert_eq!(read_labels(&labels).expect("read labels"), [1, 2, 9]);
        let head = std::fs::read(&images).expect("read back");
        assert_eq!(head.starts_with(&[0x1f, 0x8b]), gz);
    }
}

#[test]
fn writer_rejects_wrong_length() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = tmp.path().join("w");
    let err = write_images(&path, &[0; 10], 2, 2, 2, false).expect_err("8 != 10");
    assert!(err.to_string().contains("10 bytes"), "{err}");
}

#[test]
fn wrong_magic() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut bytes = header(0x0000_0801, &[2]);
    bytes.extend_from_slice(&[0, 1]);
    // A labels file read as images: wrong number of dimensions.
    let p = write(tmp.path(), "labels-as-images", &bytes);
    assert_fails(&p, Kind::Images, &["0x00000801", "0x00000803", "1 dimension"]);
    // Another format altogether.
    let mut bytes = header(0x1234_5678, &[1, 1, 1]);
    bytes.push(0);
    let p = write(tmp.path(), "png-ish", &bytes);
    assert_fails(&p, Kind::Images, &["0x12345678", "0x00000803"]);
    let p = write(tmp.path(), "png-ish.gz", &gzip(&bytes));
    assert_fails(&p, Kind::Labels, &["0x12345678", "0x00000801"]);
}

#[test]
fn wrong_number_of_dimensions() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut bytes = header(0x0000_0802, &[2, 2]);
    bytes.extend_from_slice(&[0; 4]);
    let p = write(tmp.path(), "two-dims", &bytes);
    assert_fails(&p, Kind::Images, &["2 dimension", "expected 3"]);
    let p = write(tmp.path(), "images-as-labels", &header(IMAGES_MAGIC, &[1, 1, 1]));
    assert_fails(&p, Kind::Labels, &["3 dimension", "expected 1"]);
}

#[test]
fn garbage_is_not_idx() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let p = write(tmp.path(), "garbage.gz", b"this is plainly not an IDX file at all");
    assert_fails(&p, Kind::Images, &["not an IDX images file", "expected 0x00000803"]);
    let p = write(tmp.path(), "tiny", &[0, 0]);
    assert_fails(&p, Kind::Labels, &["too short"]);
    let p = write(tmp.path(), "empty", &[]);
    assert_fails(&p, Kind::Images, &["too short"]);
    let p = write(tmp.path(), "cut-header", &header(IMAGES_MAGIC, &[1])); // rows, cols missing
    assert_fails(&p, Kind::Images, &["cut short"]);
}

#[test]
fn truncated_gzip() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let full = tmp.path().join("full.gz");
    let pixels: Vec<u8> = (0..50 * 28 * 28).map(|i| (i % 251) as u8).collect();
    write_images(&full, &pixels, 50, 28, 28, true).expect("write");
    let bytes = std::fs::read(&full).expect("read");
    for keep in [bytes.len() / 2, bytes.len() - 4, 12] {
        let p = write(tmp.path(), &format!("cut-{keep}.gz"), &bytes[..keep]);
        assert_fails(&p, Kind::Images, &["truncated"]);
    }
    // A corrupt byte in the middle of the deflate data.
    let mut bad = bytes.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    bad[mid + 1] ^= 0x55;
    let p = write(tmp.path(), "corrupt.gz", &bad);
    let err = read_images(&p).expect_err("corrupt gzip");
    assert!(err.to_string().contains("corrupt.gz"), "{err}");
}

#[test]
fn header_larger_than_file_returns_quickly() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut bytes = header(IMAGES_MAGIC, &[1_000_000_000, 28, 28]);
    bytes.resize(100, 7);
    let raw = write(tmp.path(), "huge-claim", &bytes);
    let gz = write(tmp.path(), "huge-claim.gz", &gzip(&bytes));
    let start = Instant::now();
    assert_fails(&raw, Kind::Images, &["1000000000 images of 28×28", "84 bytes"]);
    assert_fails(&gz, Kind::Images, &["1000000000 images of 28×28", "data limit"]);
    let mut labels = header(LABELS_MAGIC, &[u32::MAX]);
    labels.extend_from_slice(&[1, 2, 3]);
    let p = write(tmp.path(), "huge-labels", &labels);
    assert_fails(&p, Kind::Labels, &["4294967295 labels"]);
    let p = write(tmp.path(), "huge-labels.gz", &gzip(&labels));
    assert_fails(&p, Kind::Labels, &["4294967295 labels"]);
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
}

#[test]
fn sizes_that_overflow() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let bytes = header(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX]);
    let p = write(tmp.path(), "overflow", &bytes);
    let msg = read_images(&p).expect_err("overflow").to_string();
    assert!(msg.contains("overflow") || msg.contains("truncated"), "{msg}");
    assert!(msg.contains("4294967295 images"), "{msg}");
}

#[test]
fn zero_images_or_pixels() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let p = tmp.path().join("none");
    write_images(&p, &[], 0, 28, 28, false).expect("write");
    assert_fails(&p, Kind::Images, &["contains no images"]);
    let p = tmp.path().join("none.gz");
    write_labels(&p, &[], true).expect("write");
    assert_fails(&p, Kind::Labels, &["contains no labels"]);
    let p = tmp.path().join("flat");
    write_images(&p, &[], 3, 0, 28, false).expect("write");
    assert_fails(&p, Kind::Images, &["0×28"]);
}

#[test]
fn trailing_bytes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut bytes = header(LABELS_MAGIC, &[3]);
    bytes.extend_from_slice(&[1, 2, 3, 4, 5]);
    let p = write(tmp.path(), "trailing", &bytes);
    assert_fails(&p, Kind::Labels, &["2 trailing bytes"]);
    let p = write(tmp.path(), "trailing.gz", &gzip(&bytes));
    assert_fails(&p, Kind::Labels, &["trailing bytes"]);
}

#[test]
fn hash_is_of_the_bytes_on_disk() {
    use sha2::{Digest, Sha256};
    let tmp = tempfile::tempdir().expect("temp dir");
    let p = tmp.path().join("l.gz");
    write_labels(&p, &[3; 1000], true).expect("write");
    let bytes = std::fs::read(&p).expect("read");
    let expected = crate::hash::hex(&Sha256::digest(&bytes));
    assert_eq!(read_idx(&p, Kind::Labels).expect("read").sha256, expected);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn round_trip(count in 1usize..50, rows in 1usize..40, cols in 1usize..40, gz: bool, seed: u64) {
        let tmp = tempfile::tempdir().expect("temp dir");
        let pixels: Vec<u8> = (0..count * rows * cols)
            .map(|i| (seed.wrapping_mul(i as u64 + 1) >> 13) as u8)
            .collect();
        let labels: Vec<u8> = (0..count).map(|i| (i % 10) as u8).collect();
        let ip = tmp.path().join("images");
        let lp = tmp.path().join("labels");
        write_images(&ip, &pixels, count, rows, cols, gz).expect("write images");
        write_labels(&lp, &labels, gz).expect("write labels");
        let (read, shape, n) = read_images(&ip).expect("read images");
        prop_assert_eq!(n, count);
        prop_assert_eq!(shape, ImageShape { channels: 1, height: rows, width: cols });
        prop_assert_eq!(read, pixels);
        prop_assert_eq!(read_labels(&lp).expect("read labels"), labels);
    }
}

/// The files under `fuzz/<kind>/<target>/` (seed inputs or fixed crashes).
pub(crate) fn fuzz_inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz").join(kind).join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// The fuzz target's seeds read as intended, and every input kept as a fuzz
/// regression gives an answer (a value or an error), never a panic.
#[test]
fn fuzz_seeds_and_regressions() {
    let seeds = fuzz_inputs("seeds", "idx");
    assert!(seeds.len() >= 5, "seed inputs: {seeds:?}");
    for p in &seeds {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match name.as_str() {
            n if n.starts_with("images-3x4x5") => {
                let (px, shape, count) = read_images(p).expect("seed images");
                assert_eq!((px.len(), shape.height, shape.width, count), (60, 4, 5, 3));
            }
            n if n.starts_with("labels-6") => {
                assert_eq!(read_labels(p).expect("seed labels"), [0, 1, 2, 3, 9, 5]);
            }
            _ => assert!(read_images(p).is_err() && read_labels(p).is_err(), "{name}"),
        }
    }
    for p in fuzz_inputs("regressions", "idx") {
        let _ = read_images(&p);
        let _ = read_labels(&p);
    }
}
