//! Unit tests of the image-folder reader that need an explicit memory limit or its
//! private helpers (the public behaviour is tested in `tests/folder.rs`).

use std::path::Path;

use image::{GrayImage, Luma};

use super::checksum::checksum;
use super::decode::jpeg_is_complete;
use super::plan::test_share;
use super::*;
use crate::limits::{DEFAULT_MAX_IMAGE_PIXELS, MAX_DATA_BYTES_ENV, MAX_IMAGE_PIXELS_ENV};

/// Limits of `data_bytes` and the default pixel limit.
fn data_limit(data_bytes: u64) -> FolderLimits {
    FolderLimits { data_bytes, image_pixels: DEFAULT_MAX_IMAGE_PIXELS }
}

/// `root/<class>/<i>.png`, `count` grey `w`×`h` images in each of two classes.
fn folder(root: &Path, count: usize, w: u32, h: u32) {
    for class in ["a", "b"] {
        std::fs::create_dir_all(root.join(class)).expect("mkdir");
        for i in 0..count {
            GrayImage::from_pixel(w, h, Luma([i as u8]))
                .save(root.join(class).join(format!("{i}.png")))
                .expect("save");
        }
    }
}

#[test]
fn the_total_over_the_limit_is_refused_naming_the_folder_before_decoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    folder(dir.path(), 3, 4, 4);
    let options = FolderOptions::default();
    // 6 images × 16 bytes = 96 bytes.
    assert!(load_folder_limited(dir.path(), &options, data_limit(96)).is_ok());
    let msg =
        load_folder_limited(dir.path(), &options, data_limit(95)).expect_err("over").to_string();
    assert!(msg.starts_with(&dir.path().display().to_string()), "{msg}");
    assert!(msg.contains("6 images of 4×4 pixels × 1 channel (96 bytes)"), "{msg}");
    assert!(msg.contains("limit of 95 bytes") && msg.contains(MAX_DATA_BYTES_ENV), "{msg}");

    // The total counts the converted size: RGB is three times as much.
    let rgb = FolderOptions { channels: Some(3), ..FolderOptions::default() };
    assert!(load_folder_limited(dir.path(), &rgb, data_limit(287)).is_err());
    assert!(load_folder_limited(dir.path(), &rgb, data_limit(288)).is_ok());
}

#[test]
fn one_image_over_the_limit_is_refused_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    folder(dir.path(), 2, 2, 2);
    let big = dir.path().join("a/big.png");
    GrayImage::from_pixel(64, 64, Luma([1])).save(&big).expect("save");
    // Resized to 2×2 the total is small, but decoding the big one needs 4096 bytes.
    let options = FolderOptions { image_size: Some((2, 2)), ..FolderOptions::default() };
    assert!(load_folder_limited(dir.path(), &options, data_limit(4096)).is_ok());
    let msg =
        load_folder_limited(dir.path(), &options, data_limit(4095)).expect_err("over").to_string();
    assert!(msg.starts_with(&big.display().to_string()), "{msg}");
    assert!(msg.contains("data limit of 4095 bytes"), "{msg}");
}

#[test]
fn a_file_over_the_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    folder(dir.path(), 2, 2, 2);
    let padded = dir.path().join("b/padded.png");
    let mut bytes = std::fs::read(dir.path().join("b/0.png")).expect("read");
    bytes.resize(10_000, 0);
    std::fs::write(&padded, bytes).expect("write");
    let msg = load_folder_limited(dir.path(), &FolderOptions::default(), data_limit(9_999))
        .expect_err("over")
        .to_string();
    assert!(msg.starts_with(&padded.display().to_string()), "{msg}");
    assert!(msg.contains("the file (10000 bytes)"), "{msg}");
}

#[test]
fn test_share_rounds_and_keeps_both_sets_non_empty() {
    assert_eq!(test_share(2, 0.2), 1);
    assert_eq!(test_share(2, 0.9), 1);
    assert_eq!(test_share(10, 0.2), 2);
    assert_eq!(test_share(10, 0.25), 3); // 2.5 rounds away from zero
    assert_eq!(test_share(10, 0.99), 9);
    assert_eq!(test_share(178, 0.2), 36);
    assert_eq!(test_share(3, 0.01), 1);
}

#[test]
fn jpeg_completeness_looks_for_the_end_marker_after_the_first_scan() {
    // SOI, an APP segment holding FF D9 (a thumbnail's end), SOS, data, EOI.
    let mut jpeg =
        vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x04, 0xFF, 0xD9, 0xFF, 0xDA, 0x12, 0xFF, 0x00];
    assert!(!jpeg_is_complete(&jpeg));
    jpeg.extend([0xFF, 0xD9]);
    assert!(jpeg_is_complete(&jpeg));
    // Data after the end marker (as some cameras append) is fine.
    jpeg.extend([1, 2, 3]);
    assert!(jpeg_is_complete(&jpeg));
    assert!(!jpeg_is_complete(&[0xFF, 0xD8, 0xFF, 0xD9]));
}

#[test]
fn the_checksum_covers_names_shape_and_both_sets() {
    let shape = ImageShape { channels: 1, height: 1, width: 2 };
    let ds = |px: Vec<u8>, labels: Vec<u8>| Dataset::new(px, labels, shape, 2).expect("dataset");
    let names = vec!["a".to_owned(), "b".to_owned()];
    let train = ds(vec![1, 2, 3, 4], vec![0, 1]);
    let test = ds(vec![5, 6], vec![1]);
    let base = checksum(&names, &train, &test);
    assert_eq!(base, checksum(&names, &train.clone(), &test.clone()));
    let other_names = vec!["a".to_owned(), "c".to_owned()];
    assert_ne!(base, checksum(&other_names, &train, &test));
    // Splitting "ab" differently is another name list.
    let joined = vec!["ab".to_owned(), String::new()];
    let split = vec!["a".to_owned(), "b".to_owned()];
    assert_ne!(checksum(&joined, &train, &test), checksum(&split, &train, &test));
    assert_ne!(base, checksum(&names, &ds(vec![1, 2, 3, 4], vec![1, 0]), &test));
    assert_ne!(base, checksum(&names, &test, &train));
    let tall = ImageShape { channels: 1, height: 2, width: 1 };
    let tall_train = Dataset::new(vec![1, 2, 3, 4], vec![0, 1], tall, 2).expect("dataset");
    let tall_test = Dataset::new(vec![5, 6], vec![1], tall, 2).expect("dataset");
    assert_ne!(base, checksum(&names, &tall_train, &tall_test));
}

#[test]
fn an_image_over_the_pixel_limit_is_refused_naming_it_the_size_and_the_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    folder(dir.path(), 2, 2, 2);
    let big = dir.path().join("b/big.png");
    GrayImage::from_pixel(10, 30, Luma([1])).save(&big).expect("save");
    let options = FolderOptions { image_size: Some((2, 2)), ..FolderOptions::default() };
    let limits = |image_pixels| FolderLimits { data_bytes: 1 << 20, image_pixels };
    assert!(load_folder_limited(dir.path(), &options, limits(300)).is_ok());
    let msg = load_folder_limited(dir.path(), &options, limits(299)).expect_err("over").to_string();
    assert!(msg.starts_with(&big.display().to_string()), "{msg}");
    assert!(msg.contains("header says 30×10 pixels (height×width, 300 pixels)"), "{msg}");
    assert!(msg.contains("limit of 299 pixels per image"), "{msg}");
    assert!(msg.contains(&format!("set {MAX_IMAGE_PIXELS_ENV} to raise the limit")), "{msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
}

/// A target size whose total overflows 64 bits is refused by the data limit (the
/// count saturates), not wrapped around or panicking.
#[test]
fn a_huge_image_size_option_is_refused_by_the_data_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    folder(dir.path(), 2, 2, 2);
    let side = u32::MAX as usize;
    let options = FolderOptions {
        channels: Some(3),
        image_size: Some((side, side)),
        ..FolderOptions::default()
    };
    let msg = load_folder_limited(dir.path(), &options, data_limit(1 << 30))
        .expect_err("over")
        .to_string();
    assert!(msg.starts_with(&dir.path().display().to_string()), "{msg}");
    assert!(msg.contains("more than the data limit"), "{msg}");
}

#[test]
fn colour_types_are_named_with_their_channels_and_depth() {
    use image::ColorType;
    let header = |colour| decode::Header {
        format: image::ImageFormat::Png,
        width: 1,
        height: 1,
        channels: 1,
        colour,
    };
    for (colour, name) in [
        (ColorType::L8, "grey (1 channel)"),
        (ColorType::La8, "grey+alpha (2 channels)"),
        (ColorType::Rgb8, "RGB (3 channels)"),
        (ColorType::Rgba8, "RGBA (4 channels)"),
        (ColorType::L16, "grey (1 channel, 16-bit)"),
        (ColorType::Rgba16, "RGBA (4 channels, 16-bit)"),
    ] {
        assert_eq!(header(colour).describe_channels(), name);
    }
}
