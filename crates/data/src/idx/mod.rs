//! The IDX file format of MNIST and Fashion-MNIST: validated readers and writers.
//!
//! An IDX file is a big-endian header (a 4-byte magic number `00 00 08 NN`, where
//! `08` means unsigned bytes and `NN` is the number of dimensions, then one 4-byte
//! size per dimension) followed by the data. Images are `0x00000803` (count, rows,
//! cols); labels are `0x00000801` (count).
//!
//! Files may be raw or gzip-compressed; gzip is recognised by its magic bytes
//! `1f 8b`, not by the file name. The readers never trust the header's sizes for
//! allocation: a raw file's claim is checked against the file's length before
//! anything is allocated, and a gzip stream is read through `Read::take` so that
//! at most the data actually present is held.

mod read;
mod write;

use std::path::Path;

use crate::shown;
use cnnvar_core::{ImageShape, Result};

pub use write::{write_images, write_labels};

pub(crate) use read::read_idx;

/// Magic number of an IDX file of unsigned-byte images (count, rows, cols).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels (count).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// What an IDX file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `count × rows × cols` unsigned bytes.
    Images,
    /// `count` unsigned bytes.
    Labels,
}

impl Kind {
    fn magic(self) -> u32 {
        match self {
            Kind::Images => IMAGES_MAGIC,
            Kind::Labels => LABELS_MAGIC,
        }
    }

    fn ndims(self) -> usize {
        match self {
            Kind::Images => 3,
            Kind::Labels => 1,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Images => "images",
            Kind::Labels => "labels",
        }
    }

    fn layout(self) -> &'static str {
        match self {
            Kind::Images => "(count, rows, cols)",
            Kind::Labels => "(count)",
        }
    }
}

/// The decoded content of one IDX file.
pub(crate) struct Idx {
    /// The sizes from the header, `Kind::ndims` of them.
    pub dims: Vec<usize>,
    /// The data, exactly the product of `dims` bytes.
    pub data: Vec<u8>,
    /// SHA-256 (lower-case hex) of the file's bytes as on disk.
    pub sha256: String,
}

impl Idx {
    /// Splits an images file into (pixels, shape, count).
    pub(crate) fn into_images(self, path: &Path) -> Result<(Vec<u8>, ImageShape, usize)> {
        match self.dims[..] {
            [count, rows, cols] => {
                Ok((self.data, ImageShape { channels: 1, height: rows, width: cols }, count))
            }
            _ => Err(shown::data(path, "internal error: images header without 3 dimensions")),
        }
    }
}

/// Reads an IDX images file (raw or gzip): the pixels (image after image, row by
/// row), the shape of one image (`channels` is 1) and the number of images.
///
/// Errors ([`Error::Data`](cnnvar_core::Error::Data), naming the file) for a wrong
/// magic number or number of dimensions, zero images, a header that claims more or
/// less data than the file holds, sizes that overflow `usize`, and a truncated or
/// corrupt gzip stream.
pub fn read_images(path: &Path) -> Result<(Vec<u8>, ImageShape, usize)> {
    read_idx(path, Kind::Images)?.into_images(path)
}

/// Reads an IDX labels file (raw or gzip): one byte per example.
///
/// Errors as [`read_images`] does.
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    Ok(read_idx(path, Kind::Labels)?.data)
}

#[cfg(test)]
pub(crate) mod tests;
