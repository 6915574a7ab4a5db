//! IDX writers, for tests, fixtures and tools.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use cnnvar_core::Result;
use flate2::Compression;
use flate2::write::GzEncoder;

use super::{IMAGES_MAGIC, LABELS_MAGIC};
use crate::shown;

/// Writes `count` images of `rows × cols` unsigned bytes as an IDX file, gzip-
/// compressed if `gzip`. `images.len()` must be `count × rows × cols`.
pub fn write_images(
    path: &Path,
    images: &[u8],
    count: usize,
    rows: usize,
    cols: usize,
    gzip: bool,
) -> Result<()> {
    let expected = count.checked_mul(rows).and_then(|n| n.checked_mul(cols));
    if expected != Some(images.len()) {
        return Err(shown::data(
            path,
            format!(
                "cannot write {count} images of {rows}×{cols} pixels from {} bytes; expected \
                 count × rows × cols bytes",
                images.len()
            ),
        ));
    }
    write_idx(path, IMAGES_MAGIC, &[count, rows, cols], images, gzip)
}

/// Writes `labels` as an IDX labels file, gzip-compressed if `gzip`.
pub fn write_labels(path: &Path, labels: &[u8], gzip: bool) -> Result<()> {
    write_idx(path, LABELS_MAGIC, &[labels.len()], labels, gzip)
}

fn write_idx(path: &Path, magic: u32, dims: &[usize], data: &[u8], gzip: bool) -> Result<()> {
    let mut header = magic.to_be_bytes().to_vec();
    for &d in dims {
        let d = u32::try_from(d).map_err(|_| {
            shown::data(path, format!("size {d} does not fit in the IDX header's 32 bits"))
        })?;
        header.extend_from_slice(&d.to_be_bytes());
    }
    let io_err = |e| shown::io(path, e);
    let mut out = BufWriter::new(File::create(path).map_err(io_err)?);
    if gzip {
        let mut encoder = GzEncoder::new(out, Compression::default());
        encoder.write_all(&header).map_err(io_err)?;
        encoder.write_all(data).map_err(io_err)?;
        out = encoder.finish().map_err(io_err)?;
    } else {
        out.write_all(&header).map_err(io_err)?;
        out.write_all(data).map_err(io_err)?;
    }
    out.into_inner().map_err(|e| shown::io(path, e.into_error()))?;
    Ok(())
}
