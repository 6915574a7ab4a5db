//! The image-folder reader on small folders written here with the `image` crate's
//! encoders: both layouts, the seeded split, conversions, the checksum, and every
//! kind of bad input. Plus, when `CNNVAR_DIGITS_DIR` names an export made by
//! `scripts/digits_to_png.py`, scikit-learn's 8×8 digits.

use std::fs;
use std::path::{Path, PathBuf};

use cnnvar_core::DatasetName;
use cnnvar_data::folder::{FOLDER_SPLIT_STREAM, IMAGE_EXTENSIONS};
use cnnvar_data::{FolderData, FolderLayout, FolderOptions, ImageShape, load_folder};
use image::{GrayImage, ImageEncoder, ImageFormat, Luma, Rgb, RgbImage, RgbaImage};

/// The variable naming a digits export (see `scripts/digits_to_png.py`).
const DIGITS_ENV: &str = "CNNVAR_DIGITS_DIR";

/// A grey image whose pixels depend on `tag`, so that images differ.
fn grey(w: u32, h: u32, tag: u8) -> GrayImage {
    GrayImage::from_fn(w, h, |x, y| Luma([tag.wrapping_mul(7).wrapping_add((x * 3 + y * 5) as u8)]))
}

/// A colour image whose channels differ: R = tag, G = tag + 100, B = x + 10 y.
fn colour(w: u32, h: u32, tag: u8) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| Rgb([tag, tag.wrapping_add(100), (x + 10 * y) as u8]))
}

fn save(img: &impl Saveable, path: &Path) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    img.save_to(path);
}

/// Images that can be written to a path (format from its extension).
trait Saveable {
    fn save_to(&self, path: &Path);
}
impl Saveable for GrayImage {
    fn save_to(&self, path: &Path) {
        self.save(path).expect("save");
    }
}
impl Saveable for RgbImage {
    fn save_to(&self, path: &Path) {
        self.save(path).expect("save");
    }
}
impl Saveable for RgbaImage {
    fn save_to(&self, path: &Path) {
        self.save(path).expect("save");
    }
}

/// `root/<class>/<i>.png` for each `(class, count)`, grey `w`×`h`, each image tagged
/// by class and index.
fn one_set(root: &Path, classes: &[(&str, usize)], w: u32, h: u32) {
    for (c, &(name, count)) in classes.iter().enumerate() {
        for i in 0..count {
            save(&grey(w, h, (c * 50 + i) as u8), &root.join(name).join(format!("{i:03}.png")));
        }
    }
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
}

fn load(root: &Path) -> cnnvar_core::Result<FolderData> {
    load_folder(root, &FolderOptions::default())
}

/// The error message of loading `root` with `options`, which must fail.
fn error_with(root: &Path, options: &FolderOptions) -> String {
    let e = load_folder(root, options).expect_err("the folder should be refused");
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    msg
}

fn error(root: &Path) -> String {
    error_with(root, &FolderOptions::default())
}

/// A folder with two good classes, `a` and `b`, two grey 4×4 images each.
fn two_classes(root: &Path) {
    one_set(root, &[("a", 2), ("b", 2)], 4, 4);
}

fn png_bytes(img: &GrayImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).expect("encode");
    out.into_inner()
}

fn jpeg_bytes(img: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).expect("encode");
    out.into_inner()
}

/// A PNG of `img` whose header claims `w`×`h` pixels (CRC fixed, so only the size
/// is wrong).
fn png_claiming(img: &GrayImage, w: u32, h: u32) -> Vec<u8> {
    let mut b = png_bytes(img);
    assert_eq!(&b[12..16], b"IHDR");
    b[16..20].copy_from_slice(&w.to_be_bytes());
    b[20..24].copy_from_slice(&h.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&b[12..29]);
    b[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    b
}

/// A valid PNG of `w`×`h` black grey pixels, made without compressing them all: the
/// image data is one deflate segment of `d` rows of zeros (filter byte and pixels),
/// compressed once and ending on a byte boundary (a sync flush), repeated `h / d`
/// times, where `d` is the largest divisor of `h` up to 64. Back references only ever
/// reach zeros, so the repeated segments decode to `h` rows of zeros.
fn black_png(w: u32, h: u32) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress};
    let d = (1..=64).rev().find(|&d| h.is_multiple_of(d)).expect("1 divides");
    let zeros = vec![0u8; (w as usize + 1) * d as usize];
    let mut deflate = Compress::new(Compression::best(), false);
    let mut segment = Vec::with_capacity(zeros.len() / 100 + 64);
    deflate.compress_vec(&zeros, &mut segment, FlushCompress::Sync).expect("deflate");
    assert_eq!(deflate.total_in(), zeros.len() as u64, "one call takes it all");
    let mut zlib = vec![0x78, 0xDA];
    for _ in 0..h / d {
        zlib.extend_from_slice(&segment);
    }
    // A final empty stored block, then Adler-32 of n zeros: a = 1, b = n mod 65521.
    zlib.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
    let n = (u64::from(w) + 1) * u64::from(h);
    zlib.extend_from_slice(&((((n % 65521) as u32) << 16) | 1).to_be_bytes());

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(&png[start..]);
        png.extend_from_slice(&crc.sum().to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey, deflate, no interlace
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &zlib);
    chunk(b"IEND", &[]);
    png
}

// ---------------------------------------------------------------- good folders

#[test]
fn train_test_layout_reads_both_sets_with_sorted_classes_and_exact_pixels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for (set, n) in [("train", 3usize), ("test", 2)] {
        for (c, class) in ["dog", "cat"].iter().enumerate() {
            for i in 0..n {
                let tag = (c * 10 + i + if set == "test" { 100 } else { 0 }) as u8;
                save(&grey(5, 3, tag), &root.join(set).join(class).join(format!("{i}.png")));
            }
        }
    }
    let data = load(root).expect("loads");
    assert_eq!(data.layout, FolderLayout::TrainTest);
    assert_eq!(data.class_names, ["cat", "dog"]);
    assert_eq!(data.train.shape(), ImageShape { channels: 1, height: 3, width: 5 });
    assert_eq!(data.test.shape(), data.train.shape());
    assert_eq!(data.train.len(), 6);
    assert_eq!(data.test.len(), 4);
    assert_eq!(data.train.labels(), [0, 0, 0, 1, 1, 1]);
    assert_eq!(data.test.labels(), [0, 0, 1, 1]);
    assert_eq!(data.train.classes(), 2);
    // cat is folder index 1 in the writing loop, so tag 10 + i; PNG is lossless.
    assert_eq!(data.train.image(0), grey(5, 3, 10).as_raw().as_slice());
    assert_eq!(data.train.image(3), grey(5, 3, 0).as_raw().as_slice());
    assert_eq!(data.test.image(1), grey(5, 3, 111).as_raw().as_slice());
    assert_eq!(data.source, root);
    assert_eq!(data.sha256.len(), 64);
    assert!(data.skipped.is_empty());
}

#[test]
fn rgb_images_are_channel_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for class in ["x", "y"] {
        for i in 0..2u8 {
            save(&colour(3, 2, i + 1), &root.join(class).join(format!("{i}.png")));
        }
    }
    let data = load(root).expect("loads");
    assert_eq!(data.train.shape(), ImageShape { channels: 3, height: 2, width: 3 });
    let all: Vec<&[u8]> = (0..data.train.len())
        .map(|i| data.train.image(i))
        .chain((0..data.test.len()).map(|i| data.test.image(i)))
        .collect();
    for img in all {
        let tag = img[0];
        assert!(tag == 1 || tag == 2, "{img:?}");
        let (r, g, b) = (&img[0..6], &img[6..12], &img[12..18]);
        assert_eq!(r, [tag; 6]);
        assert_eq!(g, [tag + 100; 6]);
        assert_eq!(b, [0, 1, 2, 10, 11, 12]);
    }
}

#[test]
fn class_names_are_sorted_and_label_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let names = ["b", "a", "C", "10", "9", "é"];
    one_set(root, &names.map(|n| (n, 2)), 2, 2);
    let data = load(root).expect("loads");
    assert_eq!(data.class_names, ["10", "9", "C", "a", "b", "é"]);
    assert_eq!(data.train.classes(), 6);
    // One image of each class in each set (round(0.2 × 2) = 0, at least 1).
    assert_eq!(data.train.labels(), [0, 1, 2, 3, 4, 5]);
    assert_eq!(data.test.labels(), [0, 1, 2, 3, 4, 5]);
}

#[test]
fn files_are_read_in_name_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for (name, tag) in [("b.png", 2u8), ("c.PNG", 3), ("a.png", 1), ("10.png", 4)] {
        save(&grey(2, 2, tag), &root.join("train/k").join(name));
        save(&grey(2, 2, tag), &root.join("train/l").join(name));
    }
    save(&grey(2, 2, 0), &root.join("test/k/0.png"));
    save(&grey(2, 2, 0), &root.join("test/l/0.png"));
    let data = load(root).expect("loads");
    // "10.png" < "a.png" < "b.png" < "c.PNG" in byte order.
    for (i, tag) in [4u8, 1, 2, 3].into_iter().enumerate() {
        assert_eq!(data.train.image(i), grey(2, 2, tag).as_raw().as_slice(), "image {i}");
        assert_eq!(data.train.image(4 + i), grey(2, 2, tag).as_raw().as_slice(), "image {}", 4 + i);
    }
}

#[test]
fn jpeg_files_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let flat = RgbImage::from_pixel(8, 8, Rgb([200, 100, 50]));
    for class in ["p", "q"] {
        for i in 0..2 {
            save(&flat, &root.join(class).join(format!("{i}.jpg")));
        }
    }
    // A JPEG named .jpeg and one named .png (content decides) read as well.
    write(&root.join("p/2.jpeg"), &jpeg_bytes(&flat));
    write(&root.join("p/3.png"), &jpeg_bytes(&flat));
    let data = load(root).expect("loads");
    assert_eq!(data.train.shape(), ImageShape { channels: 3, height: 8, width: 8 });
    assert_eq!(data.train.len() + data.test.len(), 6);
    let img = data.train.image(0);
    for (c, want) in [200i32, 100, 50].into_iter().enumerate() {
        for &v in &img[c * 64..(c + 1) * 64] {
            assert!((i32::from(v) - want).abs() <= 3, "channel {c}: {v} vs {want}");
        }
    }
}

#[test]
fn grey_jpeg_is_one_channel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for class in ["p", "q"] {
        for i in 0..2 {
            save(
                &GrayImage::from_pixel(8, 8, Luma([90])),
                &root.join(class).join(format!("{i}.jpg")),
            );
        }
    }
    let data = load(root).expect("loads");
    assert_eq!(data.train.shape().channels, 1);
}

// ---------------------------------------------------------------- seeded split

#[test]
fn seeded_split_is_stratified_reproducible_and_proportional() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    one_set(root, &[("big", 100), ("mid", 10), ("small", 3), ("pair", 2)], 3, 3);
    let options = FolderOptions { test_fraction: 0.3, seed: 7, ..FolderOptions::default() };
    let a = load_folder(root, &options).expect("loads");
    assert_eq!(a.layout, FolderLayout::Classes);
    assert_eq!(a.class_names, ["big", "mid", "pair", "small"]);
    // round(0.3 n), at least 1 and at most n - 1: 30, 3, 1 (0.6 → 1), 1 (0.9 → 1).
    assert_eq!(a.test.class_counts(), [30, 3, 1, 1]);
    assert_eq!(a.train.class_counts(), [70, 7, 1, 2]);

    let b = load_folder(root, &options).expect("loads again");
    assert_eq!(a.train, b.train);
    assert_eq!(a.test, b.test);
    assert_eq!(a.sha256, b.sha256);

    let other = load_folder(root, &FolderOptions { seed: 8, ..options.clone() }).expect("loads");
    assert_ne!(a.test, other.test, "another seed, another split");
    assert_ne!(a.sha256, other.sha256);
    assert_eq!(other.test.class_counts(), a.test.class_counts());

    // Every image is in exactly one set.
    let mut all: Vec<(u8, &[u8])> =
        (0..a.train.len()).map(|i| (a.train.label(i), a.train.image(i))).collect();
    all.extend((0..a.test.len()).map(|i| (a.test.label(i), a.test.image(i))));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 115);

    // The default fraction is 0.2, and the folder's stream is distinct from the others.
    let d = load(root).expect("loads");
    assert_eq!(d.test.class_counts(), [20, 2, 1, 1]);
    assert_eq!(FOLDER_SPLIT_STREAM, u64::MAX - 5);
}

#[test]
fn a_class_of_one_image_cannot_be_split() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    one_set(root, &[("a", 3), ("b", 1)], 2, 2);
    let msg = error(root);
    assert!(msg.contains(&root.join("b").display().to_string()), "{msg}");
    assert!(msg.contains("only 1 image") && msg.contains("at least 2"), "{msg}");
}

// ---------------------------------------------------------------- conversions

#[test]
fn channels_option_converts_grey_and_rgb() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    save(&GrayImage::from_pixel(2, 2, Luma([77])), &root.join("train/g/0.png"));
    save(&RgbImage::from_pixel(2, 2, Rgb([255, 0, 0])), &root.join("train/r/0.png"));
    save(&RgbaImage::from_pixel(2, 2, image::Rgba([0, 255, 0, 9])), &root.join("test/g/0.png"));
    save(&RgbImage::from_pixel(2, 2, Rgb([0, 0, 255])), &root.join("test/r/0.png"));

    let rgb = load_folder(root, &FolderOptions { channels: Some(3), ..FolderOptions::default() })
        .expect("loads as RGB");
    assert_eq!(rgb.train.shape(), ImageShape { channels: 3, height: 2, width: 2 });
    assert_eq!(rgb.train.image(0), [77; 12]);
    assert_eq!(rgb.train.image(1), [255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0]);
    // Alpha is dropped.
    assert_eq!(rgb.test.image(0), [0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0]);

    let grey = load_folder(root, &FolderOptions { channels: Some(1), ..FolderOptions::default() })
        .expect("loads as grey");
    assert_eq!(grey.train.shape().channels, 1);
    assert_eq!(grey.train.image(0), [77; 4]);
    // sRGB luma: 0.2126 × 255 = 54.2, 0.7152 × 255 = 182.4, 0.0722 × 255 = 18.4.
    assert_eq!(grey.train.image(1), [54; 4]);
    assert_eq!(grey.test.image(0), [182; 4]);
    assert_eq!(grey.test.image(1), [18; 4]);
    assert_ne!(rgb.sha256, grey.sha256);
}

#[test]
fn grey_with_alpha_counts_as_grey() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let la = image::GrayAlphaImage::from_pixel(2, 2, image::LumaA([40, 128]));
    for class in ["a", "b"] {
        fs::create_dir_all(root.join(class)).expect("mkdir");
        la.save(root.join(class).join("0.png")).expect("save");
        save(&GrayImage::from_pixel(2, 2, Luma([41])), &root.join(class).join("1.png"));
    }
    let data = load(root).expect("grey and grey+alpha mix");
    assert_eq!(data.train.shape().channels, 1);
    let mut values: Vec<u8> = data.train.images().to_vec();
    values.extend_from_slice(data.test.images());
    values.sort_unstable();
    values.dedup();
    assert_eq!(values, [40, 41]);
}

#[test]
fn mixed_channels_are_refused_naming_the_file_unless_converted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let bad = root.join("b/005.png");
    save(&colour(4, 4, 1), &bad);
    let msg = error(root);
    assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
    assert!(msg.contains("RGB (3 channels)") && msg.contains("grey (1 channel)"), "{msg}");
    assert!(msg.contains(&root.join("a/000.png").display().to_string()), "names the first: {msg}");
    assert!(msg.contains("`channels`"), "says how to convert: {msg}");
    let data = load_folder(root, &FolderOptions { channels: Some(1), ..FolderOptions::default() })
        .expect("converted");
    assert_eq!(data.train.len() + data.test.len(), 5);
}

/// A mismatch names each image's real colour type: RGBA is 4 channels, grey+alpha 2
/// (their alpha is dropped, so they compare as RGB and grey).
#[test]
fn mixed_channels_name_the_real_colour_types() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let rgba = root.join("b/005.png");
    save(&RgbaImage::from_pixel(4, 4, image::Rgba([1, 2, 3, 4])), &rgba);
    let msg = error(root);
    assert!(msg.starts_with(&rgba.display().to_string()), "{msg}");
    assert!(msg.contains("is RGBA (4 channels)") && msg.contains("grey (1 channel)"), "{msg}");
    assert!(msg.contains("alpha"), "says that alpha is dropped: {msg}");

    // The first image grey+alpha, another RGB.
    fs::remove_file(&rgba).expect("rm");
    let first = root.join("a/000.png");
    image::GrayAlphaImage::from_pixel(4, 4, image::LumaA([9, 200])).save(&first).expect("save");
    save(&colour(4, 4, 1), &rgba);
    let msg = error(root);
    assert!(msg.starts_with(&rgba.display().to_string()), "{msg}");
    assert!(msg.contains("is RGB (3 channels)"), "{msg}");
    assert!(msg.contains("is grey+alpha (2 channels)"), "{msg}");
}

#[test]
fn image_size_option_resizes_other_sizes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    save(&GrayImage::from_pixel(16, 12, Luma([120])), &root.join("train/a/0.png"));
    save(&grey(8, 6, 3), &root.join("train/b/0.png"));
    save(&RgbImage::from_pixel(5, 9, Rgb([9, 9, 9])), &root.join("test/a/0.png"));
    save(&grey(8, 6, 4), &root.join("test/b/0.png"));
    let options =
        FolderOptions { image_size: Some((6, 8)), channels: Some(1), ..FolderOptions::default() };
    let data = load_folder(root, &options).expect("loads");
    assert_eq!(data.train.shape(), ImageShape { channels: 1, height: 6, width: 8 });
    // A flat image stays flat; an image of the right size is not touched.
    assert_eq!(data.train.image(0), [120; 48]);
    assert_eq!(data.train.image(1), grey(8, 6, 3).as_raw().as_slice());
    assert_eq!(data.test.image(0), [9; 48]);
    assert_eq!(data.test.image(1), grey(8, 6, 4).as_raw().as_slice());
}

#[test]
fn a_size_unlike_the_first_is_refused_naming_the_file_and_both_sizes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let bad = root.join("b/007.png");
    save(&grey(6, 5, 1), &bad);
    let msg = error(root);
    assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
    assert!(msg.contains("5×6") && msg.contains("4×4"), "both sizes: {msg}");
    assert!(msg.contains("`image_size`"), "says how to resize: {msg}");
}

// ---------------------------------------------------------------- checksum

#[test]
fn checksum_follows_the_content_not_the_place() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dir.path().join("mine");
    one_set(&first, &[("a", 3), ("b", 3)], 4, 4);
    let before = load(&first).expect("loads");

    let moved = dir.path().join("elsewhere/renamed");
    fs::create_dir_all(moved.parent().expect("parent")).expect("mkdir");
    fs::rename(&first, &moved).expect("move");
    let after = load(&moved).expect("loads after the move");
    assert_eq!(before.sha256, after.sha256);
    assert_eq!(after.source, moved);

    // Re-encoding the same pixels (another PNG compression) keeps it too.
    let path = moved.join("a/000.png");
    let img = image::open(&path).expect("open").into_luma8();
    let mut f = std::io::BufWriter::new(fs::File::create(&path).expect("create"));
    image::codecs::png::PngEncoder::new_with_quality(
        &mut f,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Paeth,
    )
    .write_image(img.as_raw(), 4, 4, image::ExtendedColorType::L8)
    .expect("encode");
    drop(f);
    assert_eq!(load(&moved).expect("loads").sha256, before.sha256);

    // A changed pixel, or a renamed class, changes it.
    let mut changed = img.clone();
    changed.put_pixel(0, 0, Luma([changed.get_pixel(0, 0)[0].wrapping_add(1)]));
    changed.save(&path).expect("save");
    let pixel = load(&moved).expect("loads");
    assert_ne!(pixel.sha256, before.sha256);
    img.save(&path).expect("restore");
    fs::rename(moved.join("b"), moved.join("c")).expect("rename class");
    let renamed = load(&moved).expect("loads");
    assert_eq!(renamed.train.images(), before.train.images());
    assert_ne!(renamed.sha256, before.sha256);
}

#[test]
fn into_split_gives_a_data_split() {
    let dir = tempfile::tempdir().expect("tempdir");
    two_classes(dir.path());
    let data = load(dir.path()).expect("loads");
    let (train, sha) = (data.train.clone(), data.sha256.clone());
    let (split, names) = data.into_split(DatasetName::Mnist);
    assert_eq!(split.train, train);
    assert_eq!(split.sha256, sha);
    assert_eq!(split.name, DatasetName::Mnist);
    assert_eq!(names, ["a", "b"]);
}

// ---------------------------------------------------------------- skipped files

#[test]
fn other_files_are_skipped_and_hidden_ones_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let baseline = load(root).expect("loads").sha256;
    write(&root.join("a/notes.txt"), b"not an image");
    write(&root.join("b/labels.csv"), b"x,y");
    write(&root.join("README.md"), b"my data");
    write(&root.join("a/.DS_Store"), b"\0\0\0\x01Bud1");
    write(&root.join("b/._000.png"), b"\0\x05\x16\x07AppleDouble");
    fs::create_dir_all(root.join(".ipynb_checkpoints/a")).expect("mkdir");
    write(&root.join(".hidden"), b"x");
    let data = load(root).expect("loads");
    assert_eq!(data.sha256, baseline);
    assert_eq!(
        data.skipped,
        [root.join("README.md"), root.join("a/notes.txt"), root.join("b/labels.csv")]
    );
    assert_eq!(IMAGE_EXTENSIONS, ["png", "jpg", "jpeg"]);
}

// ---------------------------------------------------------------- bad folders

#[test]
fn a_missing_root_or_a_file_as_root_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nothing");
    let msg = error(&missing);
    assert!(msg.contains("nothing") && msg.contains("does not exist"), "{msg}");
    write(&dir.path().join("file"), b"x");
    let msg = error(&dir.path().join("file"));
    assert!(msg.contains("is not a directory"), "{msg}");
    #[cfg(unix)]
    {
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&missing, &link).expect("symlink");
        let msg = error(&link);
        assert!(msg.starts_with(&link.display().to_string()), "{msg}");
        assert!(msg.contains("dangling symbolic link"), "{msg}");
    }
}

#[test]
fn a_truncated_png_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    // Cut inside the image data (the last 12 bytes are the end chunk).
    let bytes = png_bytes(&grey(4, 4, 9));
    let bad = root.join("a/009.png");
    write(&bad, &bytes[..bytes.len() - 16]);
    let msg = error(root);
    assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
    assert!(msg.contains("truncated or corrupt"), "{msg}");
}

#[test]
fn a_png_cut_inside_its_header_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let bad = root.join("b/009.png");
    write(&bad, &png_bytes(&grey(4, 4, 1))[..20]);
    let msg = error(root);
    assert!(msg.starts_with(&bad.display().to_string()) && msg.contains("PNG"), "{msg}");
    assert!(msg.contains("truncated or corrupt"), "{msg}");
}

#[test]
fn a_truncated_jpeg_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    // Noise, so that most of the file is image data.
    let mut state = 1u32;
    let noisy = RgbImage::from_fn(32, 32, |_, _| {
        let mut next = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        };
        Rgb([next(), next(), next()])
    });
    for class in ["a", "b"] {
        for i in 0..2 {
            write(&root.join(class).join(format!("{i}.jpg")), &jpeg_bytes(&noisy));
        }
    }
    assert!(load(root).is_ok());
    let bytes = jpeg_bytes(&noisy);
    let bad = root.join("a/2.jpg");
    // Cut in the headers, in the image data, and just before the end marker.
    for cut in [bytes.len() / 10, bytes.len() * 4 / 5, bytes.len() - 2] {
        write(&bad, &bytes[..cut]);
        let msg = error(root);
        assert!(msg.starts_with(&bad.display().to_string()), "cut at {cut}: {msg}");
        assert!(
            msg.contains("JPEG") && msg.contains("truncated or corrupt"),
            "cut at {cut}: {msg}"
        );
    }
}

#[test]
fn an_unreadable_image_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    // A link to nothing cannot be opened even by root.
    let bad = root.join("a/broken.png");
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("gone.png"), &bad).expect("symlink");
    #[cfg(not(unix))]
    return;
    let msg = error(root);
    assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
    assert!(msg.contains("dangling symbolic link"), "says what is wrong: {msg}");
    assert!(msg.contains(&root.join("gone.png").display().to_string()), "the target: {msg}");
}

/// A class folder that is a dangling link or a loop of links is refused, naming it and
/// what is wrong: skipped as a non-image, its class would vanish from the data set
/// (and from the run id). Any other link that cannot be followed is refused too, since
/// what it stood for cannot be known.
#[cfg(unix)]
#[test]
fn a_class_folder_link_that_cannot_be_followed_is_refused() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let dangling = root.join("c");
    symlink(root.join("gone"), &dangling).expect("symlink");
    let msg = error(root);
    assert!(msg.starts_with(&dangling.display().to_string()), "{msg}");
    assert!(msg.contains("dangling symbolic link"), "{msg}");
    assert!(msg.contains(&format!("its target {} does not exist", root.join("gone").display())));
    fs::remove_file(&dangling).expect("rm");

    // c → d → c.
    symlink(root.join("d"), &dangling).expect("symlink");
    symlink(&dangling, root.join("d")).expect("symlink");
    let msg = error(root);
    assert!(msg.starts_with(&dangling.display().to_string()), "{msg}");
    assert!(msg.to_lowercase().contains("too many levels of symbolic links"), "{msg}");
    fs::remove_file(root.join("d")).expect("rm");
    fs::remove_file(&dangling).expect("rm");

    // In a split folder, and for other names, the same.
    let split = dir.path().join("split");
    two_classes(&split.join("train"));
    two_classes(&split.join("test"));
    symlink(split.join("nowhere"), split.join("test/c")).expect("symlink");
    let msg = error(&split);
    assert!(msg.starts_with(&split.join("test/c").display().to_string()), "{msg}");
    assert!(msg.contains("dangling symbolic link"), "{msg}");
    symlink(root.join("gone.txt"), root.join("a/notes.txt")).expect("symlink");
    let msg = error(root);
    assert!(msg.starts_with(&root.join("a/notes.txt").display().to_string()), "{msg}");
}

/// A link to a real class folder or a real image is followed: the class is named after
/// the link, and the data are the same as with the folder itself.
#[cfg(unix)]
#[test]
fn links_to_real_folders_and_images_are_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("tempdir");
    let (real, linked) = (dir.path().join("real"), dir.path().join("linked"));
    two_classes(&real);
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir_all(linked.join("a")).expect("mkdir");
    for i in 0..2 {
        let name = format!("{i:03}.png");
        symlink(real.join("a").join(&name), linked.join("a").join(&name)).expect("symlink");
    }
    fs::rename(real.join("b"), &elsewhere).expect("move b");
    symlink(&elsewhere, linked.join("b")).expect("symlink");
    symlink(&elsewhere, real.join("b")).expect("symlink");
    let (a, b) = (load(&real).expect("loads"), load(&linked).expect("loads through links"));
    assert_eq!(b.class_names, ["a", "b"]);
    assert_eq!((a.sha256, a.train.len() + a.test.len()), (b.sha256, 4));
}

/// A FIFO (or socket, or device) named like an image is refused, not opened: opening a
/// FIFO would wait for a writer forever.
#[cfg(unix)]
#[test]
fn a_special_file_named_like_an_image_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let fifo = root.join("a/pipe.png");
    match std::process::Command::new("mkfifo").arg(&fifo).status() {
        Ok(s) if s.success() => {}
        other => {
            cnnvar_core::testing::skip(&format!("mkfifo failed ({other:?})"));
            return;
        }
    }
    let msg = error(root);
    assert!(msg.starts_with(&fifo.display().to_string()), "{msg}");
    assert!(msg.contains("not a regular file"), "{msg}");
}

/// A file or folder name with a newline or another control character is shown
/// escaped, so that an error stays one line and shows what is really there.
#[cfg(unix)]
#[test]
fn names_with_control_characters_are_escaped_in_errors() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let bad = root.join("a/x\nINFO: all good\r.png");
    write(&bad, b"");
    let msg = error(root); // asserts one line
    let escaped = format!("{:?}", bad.display().to_string());
    assert!(escaped.contains("\\n") && escaped.contains("\\r"), "{escaped}");
    assert!(msg.starts_with(&escaped), "{msg}");
    assert!(msg.contains("is empty"), "{msg}");
    fs::remove_file(&bad).expect("rm");

    // An empty class folder named with an escape sequence, named in the message too.
    let class = root.join("c\u{1b}[2Jd");
    fs::create_dir_all(&class).expect("mkdir");
    let msg = error(root);
    assert!(msg.starts_with(&format!("{:?}", class.display().to_string())), "{msg}");
    assert!(msg.contains("class folder `c\\u{1b}[2Jd`") && !msg.contains('\u{1b}'), "{msg}");
    fs::remove_dir(&class).expect("rm");

    // A name that is not UTF-8 shows its bytes.
    let class = root.join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    fs::create_dir_all(&class).expect("mkdir");
    let msg = error(root);
    assert!(msg.contains("caf\\xE9") && msg.contains("not valid UTF-8"), "{msg}");
    assert!(!msg.contains('\u{fffd}'), "no replacement character: {msg}");
}

#[test]
fn an_empty_image_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let bad = root.join("a/empty.jpg");
    write(&bad, b"");
    let msg = error(root);
    assert!(msg.starts_with(&bad.display().to_string()) && msg.contains("is empty"), "{msg}");
}

#[test]
fn a_non_image_with_an_image_extension_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let bad = root.join("b/000a.jpeg");
    write(&bad, b"this is not a picture at all\n");
    let msg = error(root);
    assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
    assert!(msg.contains("not an image by its content"), "{msg}");

    // Another image format is named.
    write(&bad, b"GIF89a\x01\x00\x01\x00\x00\x00\x00;");
    let msg = error(root);
    assert!(msg.starts_with(&bad.display().to_string()) && msg.contains("GIF"), "{msg}");
}

#[test]
fn an_empty_class_folder_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    fs::create_dir_all(root.join("c")).expect("mkdir");
    let msg = error(root);
    assert!(msg.starts_with(&root.join("c").display().to_string()), "{msg}");
    assert!(msg.contains("holds no image"), "{msg}");
    // Only non-images is the same, and says so.
    write(&root.join("c/list.txt"), b"x");
    let msg = error(root);
    assert!(msg.contains("holds no image") && msg.contains("other extensions"), "{msg}");
}

#[test]
fn only_one_class_or_none_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    one_set(root, &[("solo", 4)], 2, 2);
    let msg = error(root);
    assert!(msg.contains("only one class folder, `solo`") && msg.contains("at least two"), "{msg}");

    let empty = tempfile::tempdir().expect("tempdir");
    let msg = error(empty.path());
    assert!(msg.contains("holds no class folder"), "{msg}");

    let split = tempfile::tempdir().expect("tempdir");
    one_set(&split.path().join("train"), &[("solo", 2)], 2, 2);
    one_set(&split.path().join("test"), &[("solo", 2)], 2, 2);
    let msg = error(split.path());
    assert!(msg.starts_with(&split.path().join("train").display().to_string()), "{msg}");
    assert!(msg.contains("only one class folder"), "{msg}");
}

#[test]
fn an_image_outside_any_class_folder_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let bad = root.join("stray.png");
    save(&grey(4, 4, 0), &bad);
    let msg = error(root);
    assert!(
        msg.starts_with(&bad.display().to_string()) && msg.contains("outside any class"),
        "{msg}"
    );
}

#[test]
fn a_folder_inside_a_class_folder_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let nested = root.join("a/more");
    fs::create_dir_all(&nested).expect("mkdir");
    let msg = error(root);
    assert!(msg.starts_with(&nested.display().to_string()), "{msg}");
    assert!(msg.contains("inside the class folder `a`"), "{msg}");
}

#[test]
fn train_without_test_or_an_extra_folder_beside_them_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    one_set(&root.join("train"), &[("a", 2), ("b", 2)], 2, 2);
    let msg = error(root);
    assert!(msg.contains("holds train/ but no test/"), "{msg}");
    one_set(&root.join("test"), &[("a", 2), ("b", 2)], 2, 2);
    assert!(load(root).is_ok());
    one_set(&root.join("val"), &[("a", 2), ("b", 2)], 2, 2);
    let msg = error(root);
    assert!(msg.contains("also val/") && msg.contains("only train/ and test/"), "{msg}");
}

#[test]
fn different_classes_in_train_and_test_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    one_set(&root.join("train"), &[("a", 2), ("b", 2), ("c", 2)], 2, 2);
    one_set(&root.join("test"), &[("a", 2), ("b", 2), ("d", 2)], 2, 2);
    let msg = error(root);
    assert!(msg.starts_with(&root.join("test").display().to_string()), "{msg}");
    assert!(
        msg.contains("lacks class folder(s) c") && msg.contains("has class folder(s) d"),
        "{msg}"
    );
}

#[test]
fn a_png_header_larger_than_its_file_is_refused_before_decoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let bad = root.join("a/huge.png");
    // 20 000 × 20 000 grey: 400 MB decoded, under the data limit, but no PNG that
    // size fits in a few dozen bytes.
    write(&bad, &png_claiming(&grey(4, 4, 0), 20_000, 20_000));
    let msg = error(root);
    assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
    assert!(msg.contains("20000×20000") && msg.contains("truncated or corrupt"), "{msg}");
}

#[test]
fn an_image_header_over_the_memory_limit_is_refused_before_decoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    // 100 000 × 100 000 grey is 10 GB decoded, over the default 4 GiB limit.
    let bad = root.join("a/huge.png");
    write(&bad, &png_claiming(&grey(4, 4, 0), 100_000, 100_000));
    let msg = error(root);
    assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
    assert!(msg.contains("data limit") && msg.contains("CNNVAR_MAX_DATA_BYTES"), "{msg}");

    // A JPEG whose frame header claims 65 535 × 65 535 colour pixels (12.9 GB).
    fs::remove_file(&bad).expect("rm");
    let mut jpeg = jpeg_bytes(&colour(8, 8, 1));
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("baseline frame header");
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    let bad = root.join("a/huge.jpg");
    write(&bad, &jpeg);
    let msg = error(root);
    assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
    assert!(msg.contains("data limit"), "{msg}");
}

#[test]
fn the_black_png_helper_makes_valid_pngs() {
    for (w, h) in [(3, 2), (300, 120), (7, 67)] {
        let img = image::load_from_memory(&black_png(w, h)).expect("decodes").into_luma8();
        assert_eq!(img.dimensions(), (w, h));
        assert!(img.as_raw().iter().all(|&p| p == 0));
    }
}

/// A valid 3.5 MB PNG of 60 000 × 60 000 grey pixels (3.6 GB decoded, under the data
/// limit; PNG's 1032:1 ratio allows the file size) is refused by its declared pixel
/// count before anything is decoded, even when the folder is read at 8×8. Likewise a
/// JPEG whose frame header declares 60 000 × 60 000.
#[test]
fn an_image_over_the_pixel_limit_is_refused_before_decoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    two_classes(root);
    let bad = root.join("a/huge.png");
    write(&bad, &black_png(60_000, 60_000));
    let len = fs::metadata(&bad).expect("stat").len();
    assert!((3_000_000..5_000_000).contains(&len), "a few MB: {len}");
    let small = FolderOptions { image_size: Some((8, 8)), ..FolderOptions::default() };
    let start = std::time::Instant::now();
    let msg = error_with(root, &small);
    let took = start.elapsed();
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}: {msg}");
    assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
    assert!(msg.contains("60000×60000") && msg.contains("3600000000 pixels"), "{msg}");
    assert!(msg.contains("limit of 64000000 pixels"), "{msg}");
    assert!(msg.contains("CNNVAR_MAX_IMAGE_PIXELS"), "says how to raise it: {msg}");

    fs::remove_file(&bad).expect("rm");
    // Grey, so that 3.6 GB decoded is under the data limit too.
    let mut jpeg = std::io::Cursor::new(Vec::new());
    grey(8, 8, 1).write_to(&mut jpeg, ImageFormat::Jpeg).expect("encode");
    let mut jpeg = jpeg.into_inner();
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("baseline frame header");
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    let bad = root.join("a/huge.jpg");
    write(&bad, &jpeg);
    let msg = error_with(root, &small);
    assert!(msg.starts_with(&bad.display().to_string()), "{msg}");
    assert!(msg.contains("60000×60000") && msg.contains("CNNVAR_MAX_IMAGE_PIXELS"), "{msg}");
}

#[test]
fn invalid_options_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    two_classes(dir.path());
    for (options, field) in [
        (FolderOptions { channels: Some(2), ..FolderOptions::default() }, "`channels`"),
        (FolderOptions { image_size: Some((0, 4)), ..FolderOptions::default() }, "`image_size`"),
        (FolderOptions { test_fraction: 0.0, ..FolderOptions::default() }, "`test_fraction`"),
        (FolderOptions { test_fraction: 1.0, ..FolderOptions::default() }, "`test_fraction`"),
        (FolderOptions { test_fraction: f64::NAN, ..FolderOptions::default() }, "`test_fraction`"),
    ] {
        let msg = error_with(dir.path(), &options);
        assert!(msg.contains(field), "{msg}");
    }
}

// ---------------------------------------------------------------- a real data set

/// scikit-learn's 8×8 digits, exported by `scripts/digits_to_png.py` into the folder
/// `$CNNVAR_DIGITS_DIR`; skipped (a `cnnvar-test-skip` line) when the variable is unset,
/// failed instead when `CNNVAR_REQUIRE_DIGITS=1`.
#[test]
fn sklearn_digits_export_loads() {
    let Some(dir) = std::env::var_os(DIGITS_ENV).filter(|v| !v.is_empty()).map(PathBuf::from)
    else {
        if std::env::var("CNNVAR_REQUIRE_DIGITS").is_ok_and(|v| v == "1") {
            panic!("the digits are required (CNNVAR_REQUIRE_DIGITS=1) but {DIGITS_ENV} is not set");
        }
        cnnvar_core::testing::skip(&format!(
            "set {DIGITS_ENV} to a folder made by `python3 scripts/digits_to_png.py DIR` to read \
             scikit-learn's digits"
        ));
        return;
    };
    let data = load_folder(&dir, &FolderOptions { seed: 1, ..FolderOptions::default() })
        .expect("the digits export loads");
    assert_eq!(data.layout, FolderLayout::Classes);
    assert_eq!(data.class_names, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    assert_eq!(data.train.shape(), ImageShape { channels: 1, height: 8, width: 8 });
    assert_eq!(data.train.len() + data.test.len(), 1797);
    let mut total = data.train.class_counts();
    for (t, n) in total.iter_mut().zip(data.test.class_counts()) {
        *t += n;
    }
    // scikit-learn's class sizes.
    assert_eq!(total, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    // round(0.2 × n) of each class in the test set.
    assert_eq!(data.test.class_counts(), [36, 36, 35, 37, 36, 36, 36, 36, 35, 36]);
    assert!(data.skipped.is_empty());
    // Values are 0..16 scaled by 255/16, so 0 and 255 both occur.
    assert!(data.train.images().contains(&0) && data.train.images().contains(&255));
}
