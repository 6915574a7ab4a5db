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
//!   most all but 1, into the test set, drawn with a [`ChaCha8Rng`] seeded by
//!   [`FolderOptions::seed`] on stream [`FOLDER_SPLIT_STREAM`]. So every class is in
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
//! files. Refused, each with an [`Error`] naming the file or folder: a folder inside a
//! class folder, an image outside any class folder, a class folder with no image,
//! a single class, different classes in `train/` and `test/`, and every image that
//! cannot be read or decoded (empty, truncated, corrupt).
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
//! a large allocation. The total, images × channels × height × width bytes, must be
//! within the limit too; it is allocated once.
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

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use cnnvar_core::{DatasetName, Error, ImageShape, Result};
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use crate::dataset::{DataSplit, Dataset};
use crate::hash;
use crate::limits::{MAX_DATA_BYTES_ENV, max_data_bytes};

/// The file name extensions read as images (compared ignoring case).
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// The ChaCha stream the seeded train/test split of a one-set folder draws from.
pub const FOLDER_SPLIT_STREAM: u64 = u64::MAX - 5;

/// The default share of each class that goes into the test set of a one-set folder.
pub const DEFAULT_TEST_FRACTION: f64 = 0.2;

/// The most classes a folder may have (labels are bytes).
pub const MAX_CLASSES: usize = 256;

/// The best compression deflate (PNG's compression) can achieve: 258 bytes from 2
/// bits. A PNG file is at least its raw data divided by this.
const DEFLATE_MAX_RATIO: u64 = 1032;

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
/// image; a folder inside a class folder; an image outside any class folder; an image
/// that is empty, unreadable, neither PNG nor JPEG by content, truncated or corrupt;
/// a channel count or size unlike the first image's (when not converted); an image
/// or a total over the data memory limit; invalid options.
pub fn load_folder(root: &Path, options: &FolderOptions) -> Result<FolderData> {
    load_folder_limited(root, options, max_data_bytes()?)
}

/// [`load_folder`] with an explicit data memory limit in bytes.
pub(crate) fn load_folder_limited(
    root: &Path,
    options: &FolderOptions,
    limit: u64,
) -> Result<FolderData> {
    check_options(options)?;
    let mut skipped = Vec::new();
    let (layout, plan, class_names) = plan(root, options, &mut skipped)?;

    // Pass 1: every header, before anything is decoded.
    let headers =
        plan.iter().map(|item| read_header(&item.path, limit)).collect::<Result<Vec<Header>>>()?;
    let (first, first_path) = (&headers[0], &plan[0].path);
    let channels = options.channels.unwrap_or(first.channels);
    let (height, width) = options.image_size.unwrap_or((first.height, first.width));
    for (header, item) in headers.iter().zip(&plan) {
        check_like_first(header, &item.path, first, first_path, options)?;
    }
    let shape = ImageShape { channels, height, width };
    let pixels = shape.pixels();
    let total = (pixels as u64).saturating_mul(plan.len() as u64);
    check_limit(
        root,
        total,
        &format!(
            "{} images of {height}×{width} pixels × {channels} channel{}",
            plan.len(),
            if channels == 1 { "" } else { "s" }
        ),
        limit,
    )?;

    // Pass 2: decode each image into its set.
    let test_count = plan.iter().filter(|item| item.test).count();
    let train_count = plan.len() - test_count;
    let mut sets = [
        (Vec::with_capacity(train_count * pixels), Vec::with_capacity(train_count)),
        (Vec::with_capacity(test_count * pixels), Vec::with_capacity(test_count)),
    ];
    for (item, header) in plan.iter().zip(&headers) {
        let (images, labels) = &mut sets[usize::from(item.test)];
        decode_into(&item.path, header, shape, limit, images)?;
        labels.push(item.label);
    }
    let [(train_images, train_labels), (test_images, test_labels)] = sets;
    let classes = class_names.len();
    let dataset = |images, labels| {
        Dataset::new(images, labels, shape, classes).map_err(|e| Error::data(root, e.to_string()))
    };
    let train = dataset(train_images, train_labels)?;
    let test = dataset(test_images, test_labels)?;
    let sha256 = checksum(&class_names, &train, &test);
    Ok(FolderData { train, test, source: root.to_path_buf(), sha256, class_names, layout, skipped })
}

/// Refuses options out of range.
fn check_options(options: &FolderOptions) -> Result<()> {
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

/// One image to read: its file, label and set.
struct Item {
    path: PathBuf,
    label: u8,
    test: bool,
}

/// A class folder and its image files, sorted by name.
struct Class {
    name: String,
    dir: PathBuf,
    files: Vec<PathBuf>,
}

/// The layout, every image to read in order, and the class names.
fn plan(
    root: &Path,
    options: &FolderOptions,
    skipped: &mut Vec<PathBuf>,
) -> Result<(FolderLayout, Vec<Item>, Vec<String>)> {
    const EXPECTED: &str = "expected a folder holding one folder of images per class, or \
                            train/ and test/ each holding them";
    if !root.is_dir() {
        let what = if root.exists() { "is not a directory" } else { "does not exist" };
        return Err(Error::data(root, format!("{what}; {EXPECTED}")));
    }
    let (train_dir, test_dir) = (root.join("train"), root.join("test"));
    match (train_dir.is_dir(), test_dir.is_dir()) {
        (true, true) => {
            let listed = entries(root)?;
            let others: Vec<String> = listed
                .iter()
                .filter(|e| e.is_dir && e.name != "train" && e.name != "test")
                .map(|e| format!("{}/", e.name.to_string_lossy()))
                .collect();
            if !others.is_empty() {
                return Err(Error::data(
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
            Err(Error::data(
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
                    return Err(Error::data(
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
fn test_share(n: usize, fraction: f64) -> usize {
    let k = (fraction * n as f64).round() as usize;
    k.clamp(1, n - 1)
}

fn names(classes: &[Class]) -> Vec<String> {
    classes.iter().map(|c| c.name.clone()).collect()
}

/// A directory entry that is not hidden.
struct Entry {
    name: std::ffi::OsString,
    path: PathBuf,
    is_dir: bool,
}

/// The entries of `dir` whose names do not start with `.`, sorted by name. A link
/// is followed (a dangling link counts as a file).
fn entries(dir: &Path) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        if name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        out.push(Entry { is_dir: path.is_dir(), name, path });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Whether `path`'s name ends in one of [`IMAGE_EXTENSIONS`].
fn is_image_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// A file found where class folders are expected: an image is an error, anything
/// else is skipped.
fn not_in_class(path: PathBuf, skipped: &mut Vec<PathBuf>) -> Result<()> {
    if is_image_name(&path) {
        return Err(Error::data(
            &path,
            "is an image outside any class folder; expected every image in a folder named \
             after its class (e.g. cat/0001.png)",
        ));
    }
    skipped.push(path);
    Ok(())
}

/// The class folders in `dir` and their image files, checked: at least 2 classes
/// with UTF-8 names, at most [`MAX_CLASSES`], each with at least one image and no
/// folder inside.
fn classes_in(dir: &Path, skipped: &mut Vec<PathBuf>) -> Result<Vec<Class>> {
    let mut classes = Vec::new();
    for e in entries(dir)? {
        if !e.is_dir {
            not_in_class(e.path, skipped)?;
            continue;
        }
        let Some(name) = e.name.to_str().map(str::to_owned) else {
            return Err(Error::data(
                &e.path,
                "class folder name is not valid UTF-8; expected class names as text",
            ));
        };
        let mut files = Vec::new();
        let mut others = 0usize;
        for f in entries(&e.path)? {
            if f.is_dir {
                return Err(Error::data(
                    &f.path,
                    format!(
                        "is a folder inside the class folder `{name}`; expected only image files \
                         there (a class folder holds no folders)"
                    ),
                ));
            }
            if is_image_name(&f.path) {
                files.push(f.path);
            } else {
                others += 1;
                skipped.push(f.path);
            }
        }
        if files.is_empty() {
            let other = if others > 0 {
                format!(" (only {others} file(s) with other extensions)")
            } else {
                String::new()
            };
            return Err(Error::data(
                &e.path,
                format!(
                    "class folder `{name}` holds no image{other}; expected at least one .png, \
                     .jpg or .jpeg file"
                ),
            ));
        }
        classes.push(Class { name, dir: e.path, files });
    }
    match classes.len() {
        0 => Err(Error::data(
            dir,
            "holds no class folder; expected one folder of images per class (e.g. cat/, dog/), \
             at least two",
        )),
        1 => Err(Error::data(
            dir,
            format!(
                "holds only one class folder, `{}`; expected at least two classes",
                classes[0].name
            ),
        )),
        n if n > MAX_CLASSES => Err(Error::data(
            dir,
            format!("holds {n} class folders; expected at most {MAX_CLASSES} (labels are bytes)"),
        )),
        _ => Ok(classes),
    }
}

/// Refuses a test set whose classes are not the training set's.
fn same_classes(train_dir: &Path, train: &[Class], test_dir: &Path, test: &[Class]) -> Result<()> {
    let (train_names, test_names) = (names(train), names(test));
    if train_names == test_names {
        return Ok(());
    }
    let missing: Vec<&str> =
        train_names.iter().filter(|n| !test_names.contains(n)).map(String::as_str).collect();
    let extra: Vec<&str> =
        test_names.iter().filter(|n| !train_names.contains(n)).map(String::as_str).collect();
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!("lacks class folder(s) {} that train/ has", missing.join(", ")));
    }
    if !extra.is_empty() {
        problems.push(format!("has class folder(s) {} that train/ lacks", extra.join(", ")));
    }
    Err(Error::data(
        test_dir,
        format!(
            "{}; expected the same classes as {} ({})",
            problems.join(" and "),
            train_dir.display(),
            train_names.join(", ")
        ),
    ))
}

/// What an image's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    format: ImageFormat,
    width: usize,
    height: usize,
    /// 1 for grey (with or without alpha), 3 for colour.
    channels: usize,
}

impl Header {
    fn describe_channels(&self) -> &'static str {
        if self.channels == 1 { "grey (1 channel)" } else { "RGB (3 channels)" }
    }
}

fn format_name(format: ImageFormat) -> String {
    format!("{format:?}").to_uppercase()
}

/// Opens `path`, refusing an empty file and one larger than `limit`; gives its length.
fn open_file(path: &Path, limit: u64) -> Result<(File, u64)> {
    let io_err = |e| Error::io(path, e);
    let file = File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len();
    if len == 0 {
        return Err(Error::data(path, "is empty; expected a PNG or JPEG image"));
    }
    check_limit(path, len, "the file", limit)?;
    Ok((file, len))
}

/// A PNG or JPEG decoder over `source` (the `len` bytes of `path`) that has read the
/// header, after checking that the decoded image would fit in `limit` bytes and (PNG)
/// that the file is large enough for the size its header claims.
fn open_decoder<R: BufRead + Seek + 'static>(
    path: &Path,
    source: R,
    len: u64,
    limit: u64,
) -> Result<(impl ImageDecoder, Header)> {
    let mut reader =
        ImageReader::new(source).with_guessed_format().map_err(|e| Error::io(path, e))?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => f,
        Some(other) => {
            return Err(Error::data(
                path,
                format!(
                    "is a {} image by its content; expected PNG or JPEG (convert it, or move it \
                     out)",
                    format_name(other)
                ),
            ));
        }
        None => {
            return Err(Error::data(
                path,
                "is not an image by its content (neither PNG nor JPEG); expected a PNG or JPEG \
                 file (or move it out, or rename it without an image extension)",
            ));
        }
    };
    let mut limits = Limits::default();
    limits.max_alloc = Some(limit);
    reader.limits(limits);
    let decoder =
        reader.into_decoder().map_err(|e| image_error(path, format, "header", limit, e))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(Error::data(
            path,
            format!("header says {h}×{w} pixels; expected at least 1×1"),
        ));
    }
    let decoded = decoder.total_bytes();
    check_limit(path, decoded, &format!("one image of {h}×{w} pixels decoded"), limit)?;
    if format == ImageFormat::Png {
        // Every row starts with a filter byte, interlaced or not.
        let bits = u64::from(decoder.original_color_type().bits_per_pixel());
        let raw = u64::from(h)
            .saturating_add((u64::from(h) * u64::from(w)).saturating_mul(bits).div_ceil(8));
        let least = raw / DEFLATE_MAX_RATIO;
        if len < least {
            return Err(Error::data(
                path,
                format!(
                    "header says {h}×{w} pixels ({raw} bytes of raw data) but the file is only \
                     {len} bytes, less than the {least} bytes any PNG of that size needs; the \
                     file is truncated or corrupt"
                ),
            ));
        }
    }
    let channels = if decoder.color_type().has_color() { 3 } else { 1 };
    let header = Header { format, width: w as usize, height: h as usize, channels };
    Ok((decoder, header))
}

/// The error for a decoder's failure to read `path`'s `part` ("header" or "pixels").
fn image_error(path: &Path, format: ImageFormat, part: &str, limit: u64, e: ImageError) -> Error {
    let format = format_name(format);
    // The decoders' messages may span lines; ours are one line.
    let why = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
    let message = if matches!(e, ImageError::Limits(_)) {
        format!(
            "decoding this {format} image's {part} needs more memory than the data limit of \
             {limit} bytes allows ({why}); refusing to load it (set {MAX_DATA_BYTES_ENV} to \
             raise the limit if the image is genuine)"
        )
    } else {
        format!(
            "cannot decode this {format} image's {part} ({why}); the file is truncated or corrupt"
        )
    };
    Error::data(path, message)
}

/// Reads and checks `path`'s header (see [`open_decoder`]), reading no more of the
/// file than the decoder needs for it.
fn read_header(path: &Path, limit: u64) -> Result<Header> {
    let (file, len) = open_file(path, limit)?;
    open_decoder(path, BufReader::new(file), len, limit).map(|(_, header)| header)
}

/// Whether the JPEG `bytes` hold an end-of-image marker after their first scan. (The
/// JPEG decoder fills a truncated scan with grey instead of failing.) Inside a scan a
/// 0xFF byte is always followed by 0x00 or a restart marker, so 0xFF 0xD9 after the
/// start of the first scan is the end marker.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let Some(scan) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    bytes[scan + 2..].windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Refuses an image unlike the first, unless the options convert it.
fn check_like_first(
    header: &Header,
    path: &Path,
    first: &Header,
    first_path: &Path,
    options: &FolderOptions,
) -> Result<()> {
    if options.channels.is_none() && header.channels != first.channels {
        return Err(Error::data(
            path,
            format!(
                "is {} but the first image, {}, is {}; expected every image alike (or set the \
                 `channels` option to 1 or 3 to convert them)",
                header.describe_channels(),
                first_path.display(),
                first.describe_channels()
            ),
        ));
    }
    if options.image_size.is_none() && (header.height, header.width) != (first.height, first.width)
    {
        return Err(Error::data(
            path,
            format!(
                "is {}×{} pixels (height×width) but the first image, {}, is {}×{}; expected every \
                 image the same size (or set the `image_size` option to resize them)",
                header.height,
                header.width,
                first_path.display(),
                first.height,
                first.width
            ),
        ));
    }
    Ok(())
}

/// Decodes `path` (whose header was `expected`), converts it to `shape` and appends
/// its pixels, CHW, to `out`.
fn decode_into(
    path: &Path,
    expected: &Header,
    shape: ImageShape,
    limit: u64,
    out: &mut Vec<u8>,
) -> Result<()> {
    let (file, len) = open_file(path, limit)?;
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && !jpeg_is_complete(&bytes) {
        return Err(Error::data(
            path,
            "this JPEG image has no end marker after its image data; the file is truncated or \
             corrupt",
        ));
    }
    let (decoder, header) = open_decoder(path, Cursor::new(bytes), len, limit)?;
    if header != *expected {
        return Err(Error::data(
            path,
            "changed while the folder was being read; expected the files to stay as they are",
        ));
    }
    let image = DynamicImage::from_decoder(decoder)
        .map_err(|e| image_error(path, header.format, "pixels", limit, e))?;
    let (w, h) = (shape.width as u32, shape.height as u32);
    let resize = (header.height, header.width) != (shape.height, shape.width);
    if shape.channels == 1 {
        let mut grey = image.into_luma8();
        if resize {
            grey = image::imageops::resize(&grey, w, h, FilterType::Triangle);
        }
        out.extend_from_slice(grey.as_raw());
    } else {
        let mut rgb = image.into_rgb8();
        if resize {
            rgb = image::imageops::resize(&rgb, w, h, FilterType::Triangle);
        }
        let raw = rgb.as_raw();
        for c in 0..3 {
            out.extend(raw.iter().skip(c).step_by(3));
        }
    }
    Ok(())
}

/// Refuses `bytes` of data for `path` (described by `what`) over `limit`.
fn check_limit(path: &Path, bytes: u64, what: &str, limit: u64) -> Result<()> {
    if bytes > limit {
        return Err(Error::data(
            path,
            format!(
                "needs memory for {what} ({bytes} bytes), more than the data limit of {limit} \
                 bytes; refusing to load it (set {MAX_DATA_BYTES_ENV} to raise the limit if the \
                 images are genuine)"
            ),
        ));
    }
    Ok(())
}

/// The content checksum (see the [module docs](self#checksum)).
fn checksum(class_names: &[String], train: &Dataset, test: &Dataset) -> String {
    let sha = |bytes: &[u8]| hash::hex(&Sha256::digest(bytes));
    let mut names = Vec::new();
    for n in class_names {
        names.extend_from_slice(format!("{}:{n}\n", n.len()).as_bytes());
    }
    let ImageShape { channels, height, width } = train.shape();
    let lines = [
        ("format", "image-folder".to_owned()),
        ("classes", sha(&names)),
        ("shape", format!("{channels}x{height}x{width}")),
        ("train-images", sha(train.images())),
        ("train-labels", sha(train.labels())),
        ("test-images", sha(test.images())),
        ("test-labels", sha(test.labels())),
    ];
    hash::combine(lines.iter().map(|(n, v)| (*n, v.as_str())))
}

#[cfg(test)]
mod tests;
