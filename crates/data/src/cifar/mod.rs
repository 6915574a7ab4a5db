//! The binary version of CIFAR-10: a validated reader and a writer.
//!
//! The data set is six files, `data_batch_1.bin` … `data_batch_5.bin` (training) and
//! `test_batch.bin` (test), as extracted from `cifar-10-binary.tar.gz` into
//! `cifar-10-batches-bin/`. Each file is a sequence of 3073-byte records: one label
//! byte (0 to 9), then 3072 pixel bytes, the red, green and blue planes of a 32×32
//! image, row by row. That is channel-first (CHW), exactly a [`Dataset`]'s layout
//! with [`ImageShape::CIFAR10`], so the bytes are copied as they are and stay `u8`.
//!
//! Every malformed input ends in an [`Error::Data`](cnnvar_core::Error::Data) naming
//! the file: a missing, empty or extra file, a directory where a file should be, the
//! compressed archive given instead of the extracted files, a size that is not a whole
//! number of records, a label above 9, or more records than any batch file could hold. The
//! record count is checked against the file's length before anything is allocated.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use cnnvar_core::{DatasetName, ImageShape, Result};

use crate::dataset::{DataSplit, Dataset};
use crate::hash::{self, HashingReader};
use crate::shown;

/// The six CIFAR-10 binary files, in the order they are read and hashed.
pub const CIFAR10_FILES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];

/// The directory `cifar-10-binary.tar.gz` extracts to.
pub const CIFAR10_DIR: &str = "cifar-10-batches-bin";

/// The classes of CIFAR-10.
pub const CIFAR10_CLASSES: usize = 10;

/// Bytes of one record: a label byte and 32×32×3 pixel bytes.
pub const RECORD_BYTES: usize = 1 + 3 * 32 * 32;

/// The most records one file may hold (a real batch holds 10 000). A larger file is
/// refused before anything is allocated for it.
pub const MAX_RECORDS: u64 = 100_000;

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The directory holding the six files: `dir/cifar-10-batches-bin` if that is a
/// directory, else `dir`.
pub(crate) fn batches_dir(dir: &Path) -> PathBuf {
    let nested = dir.join(CIFAR10_DIR);
    if nested.is_dir() { nested } else { dir.to_path_buf() }
}

/// Reads CIFAR-10 (binary version) from `dir`, which holds the six files (see
/// [`CIFAR10_FILES`]) directly or in its `cifar-10-batches-bin`.
///
/// The training set is the five data batches in order, the test set `test_batch.bin`.
/// [`DataSplit::sha256`] is computed as for IDX data sets: each file's SHA-256, then
/// the hash over the lines `"<file name>:<hex sha256>\n"` in [`CIFAR10_FILES`] order.
pub fn load_cifar10_dir(dir: &Path) -> Result<DataSplit> {
    let dir = batches_dir(dir);
    check_files(&dir)?;
    let mut hashes = Vec::with_capacity(CIFAR10_FILES.len());
    let mut train = Batch::default();
    for name in &CIFAR10_FILES[..5] {
        hashes.push((*name, read_batch_into(&dir.join(name), &mut train)?));
    }
    let mut test = Batch::default();
    hashes.push((CIFAR10_FILES[5], read_batch_into(&dir.join(CIFAR10_FILES[5]), &mut test)?));
    let sha256 = hash::combine(hashes.iter().map(|(n, h)| (*n, h.as_str())));
    let dataset = |batch: Batch, file: &str| {
        Dataset::new(batch.images, batch.labels, ImageShape::CIFAR10, CIFAR10_CLASSES)
            .map_err(|e| shown::data(dir.join(file), e.to_string()))
    };
    Ok(DataSplit {
        train: dataset(train, CIFAR10_FILES[0])?,
        test: dataset(test, CIFAR10_FILES[5])?,
        source: dir.clone(),
        sha256,
        name: DatasetName::Cifar10,
    })
}

/// Reads one batch file: its pixels (image after image, CHW), its labels and the
/// SHA-256 of its bytes. Errors as [`load_cifar10_dir`] does.
pub fn read_batch(path: &Path) -> Result<(Vec<u8>, Vec<u8>, String)> {
    let mut batch = Batch::default();
    let sha = read_batch_into(path, &mut batch)?;
    Ok((batch.images, batch.labels, sha))
}

/// Writes `labels.len()` records as a CIFAR-10 binary batch file. `images` must be
/// `labels.len() × 3072` bytes (each image CHW).
pub fn write_batch(path: &Path, images: &[u8], labels: &[u8]) -> Result<()> {
    let pixels = RECORD_BYTES - 1;
    if labels.len().checked_mul(pixels) != Some(images.len()) {
        return Err(shown::data(
            path,
            format!(
                "cannot write {} records from {} pixel bytes; expected {pixels} bytes per record",
                labels.len(),
                images.len()
            ),
        ));
    }
    let io_err = |e| shown::io(path, e);
    let mut out = BufWriter::new(File::create(path).map_err(io_err)?);
    for (label, image) in labels.iter().zip(images.chunks_exact(pixels)) {
        out.write_all(&[*label]).map_err(io_err)?;
        out.write_all(image).map_err(io_err)?;
    }
    out.into_inner().map_err(|e| shown::io(path, e.into_error()))?;
    Ok(())
}

/// Pixels and labels read so far.
#[derive(Default)]
struct Batch {
    images: Vec<u8>,
    labels: Vec<u8>,
}

/// Checks that `dir` holds exactly the six files: none missing, no extra batch.
fn check_files(dir: &Path) -> Result<()> {
    let missing: Vec<&str> =
        CIFAR10_FILES.iter().copied().filter(|f| !dir.join(f).exists()).collect();
    if !missing.is_empty() {
        let archive = ["cifar-10-binary.tar.gz", "cifar-10-binary.tar"]
            .iter()
            .find(|a| dir.join(a).is_file())
            .map(|a| format!(" (it holds {a}: extract it, or run `cnnvar data fetch cifar10`)"))
            .unwrap_or_default();
        return Err(shown::data(
            dir.join(missing[0]),
            format!(
                "missing CIFAR-10 file(s) {} in {}{archive}; expected the six files {}",
                missing.join(", "),
                shown::display(dir),
                CIFAR10_FILES.join(", ")
            ),
        ));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| shown::io(dir, e))?;
    let mut extra: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| shown::name(&e.file_name().to_string_lossy()).into_owned())
        .filter(|n| {
            (n.starts_with("data_batch_") || n.starts_with("test_batch"))
                && n.ends_with(".bin")
                && !CIFAR10_FILES.contains(&n.as_str())
        })
        .collect();
    extra.sort();
    if let Some(first) = extra.first() {
        return Err(shown::data(
            dir.join(first),
            format!(
                "unexpected batch file(s) {}: CIFAR-10 has exactly five training batches and \
                 one test batch ({}); remove the extra file(s) or point to the original directory",
                extra.join(", "),
                CIFAR10_FILES.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Reads one batch file into `batch`, returning the SHA-256 of its bytes.
fn read_batch_into(path: &Path, batch: &mut Batch) -> Result<String> {
    let io_err = |e| shown::io(path, e);
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        return Err(shown::data(
            path,
            "is a directory; expected a CIFAR-10 binary batch file of 3073-byte records",
        ));
    }
    let len = meta.len();
    if len == 0 {
        return Err(shown::data(
            path,
            format!(
                "empty file; expected records of {RECORD_BYTES} bytes (1 label byte + 3072 pixel \
                 bytes), 10000 of them in a CIFAR-10 batch"
            ),
        ));
    }
    let file = File::open(path).map_err(io_err)?;
    let mut src = BufReader::new(HashingReader::new(file));
    let mut head = [0u8; 512];
    let got = fill(&mut src, &mut head).map_err(io_err)?;
    if let Some(what) = archive_kind(&head[..got]) {
        return Err(shown::data(
            path,
            format!(
                "this looks like the compressed archive ({what}), not an extracted batch file; \
                 extract it (`tar xzf cifar-10-binary.tar.gz`) or run `cnnvar data fetch cifar10`"
            ),
        ));
    }
    let record = RECORD_BYTES as u64;
    if len % record != 0 {
        return Err(shown::data(
            path,
            format!(
                "size {len} bytes is not a whole number of {RECORD_BYTES}-byte records ({} \
                 records and {} bytes left over); the file is truncated or not a CIFAR-10 binary \
                 batch",
                len / record,
                len % record
            ),
        ));
    }
    let records = len / record;
    if records > MAX_RECORDS {
        return Err(shown::data(
            path,
            format!(
                "holds {records} records ({len} bytes); expected at most {MAX_RECORDS} (a CIFAR-10 \
                 batch holds 10000)"
            ),
        ));
    }
    let total = (batch.images.len() + batch.labels.len()) as u64 + len;
    crate::limits::check_data_bytes(
        path,
        total,
        &format!("{records} records and the batches read before them"),
    )?;
    // Bounded by MAX_RECORDS, and the file holds that much.
    let records = records as usize;
    let pixels = RECORD_BYTES - 1;
    batch.labels.reserve(records);
    batch.images.reserve(records * pixels);
    // The first record starts with the bytes already read into `head` (shorter than
    // a record).
    let mut rec = vec![0u8; RECORD_BYTES];
    rec[..got].copy_from_slice(&head[..got]);
    let mut have = got;
    for i in 0..records {
        let n = fill(&mut src, &mut rec[have..]).map_err(io_err)?;
        if have + n < RECORD_BYTES {
            return Err(shown::data(
                path,
                format!(
                    "ended inside record {i}: the file shrank while being read (expected {len} \
                     bytes)"
                ),
            ));
        }
        have = 0;
        let label = rec[0];
        if usize::from(label) >= CIFAR10_CLASSES {
            return Err(shown::data(
                path,
                format!(
                    "record {i} (byte offset {}) has label {label}; expected labels 0 to {}",
                    i as u64 * record,
                    CIFAR10_CLASSES - 1
                ),
            ));
        }
        batch.labels.push(label);
        batch.images.extend_from_slice(&rec[1..]);
    }
    Ok(src.into_inner().finish_hex())
}

/// What kind of archive `head` (a file's first bytes) starts, if any.
fn archive_kind(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&GZIP_MAGIC) {
        Some("gzip data")
    } else if head.get(257..262) == Some(b"ustar") {
        Some("a tar archive")
    } else {
        None
    }
}

/// Reads into `buf` until it is full or the input ends; returns the bytes read.
fn fill<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests;
