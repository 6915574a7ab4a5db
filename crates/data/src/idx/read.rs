//! The IDX reader: header validation and bounded reading of the data.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use cnnvar_core::Result;
use flate2::bufread::GzDecoder;

use super::{Idx, Kind};
use crate::hash::HashingReader;
use crate::shown;

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads and validates one IDX file of `kind`, hashing its bytes as on disk.
pub(crate) fn read_idx(path: &Path, kind: Kind) -> Result<Idx> {
    let io_err = |e| shown::io(path, e);
    let file = File::open(path).map_err(io_err)?;
    let file_len = file.metadata().map_err(io_err)?.len();
    let mut src = BufReader::new(HashingReader::new(file));
    let gzip = src.fill_buf().map_err(io_err)?.starts_with(&GZIP_MAGIC);
    let (dims, data, mut src) = if gzip {
        let mut decoder = GzDecoder::new(src);
        let (dims, data) = parse(&mut decoder, path, kind, None)?;
        (dims, data, decoder.into_inner())
    } else {
        let (dims, data) = parse(&mut src, path, kind, Some(file_len))?;
        (dims, data, src)
    };
    // Hash whatever the parser did not need (the gzip trailer, for instance).
    io::copy(&mut src, &mut io::sink()).map_err(io_err)?;
    let sha256 = src.into_inner().finish_hex();
    Ok(Idx { dims, data, sha256 })
}

/// Parses header and data from `r`. `raw_len` is the file's length for a raw file,
/// `None` for a gzip stream (whose decompressed length is unknown up front).
fn parse<R: Read>(
    r: &mut R,
    path: &Path,
    kind: Kind,
    raw_len: Option<u64>,
) -> Result<(Vec<usize>, Vec<u8>)> {
    let gzip = raw_len.is_none();
    let read_err = |e: io::Error| {
        if gzip {
            shown::data(path, format!("truncated or corrupt gzip stream ({e})"))
        } else {
            shown::io(path, e)
        }
    };
    let after = if gzip { " after decompression" } else { "" };

    let mut magic = [0u8; 4];
    let got = fill(r, &mut magic).map_err(read_err)?;
    if got < magic.len() {
        return Err(shown::data(
            path,
            format!(
                "too short to be an IDX file: {got} bytes{after}; expected at least the \
                 4-byte magic number 0x{:08x}",
                kind.magic()
            ),
        ));
    }
    check_magic(path, kind, u32::from_be_bytes(magic))?;

    let ndims = kind.ndims();
    let mut sizes = vec![0u8; 4 * ndims];
    let got = fill(r, &mut sizes).map_err(read_err)?;
    if got < sizes.len() {
        return Err(shown::data(
            path,
            format!(
                "IDX header cut short: expected {ndims} 4-byte sizes {}, found only {got} bytes{after}",
                kind.layout()
            ),
        ));
    }
    let dims: Vec<usize> = sizes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let claimed = check_dims(path, kind, &dims)?;

    let data = match raw_len {
        Some(file_len) => read_raw(r, path, kind, &dims, claimed, file_len)?,
        None => {
            crate::limits::check_data_bytes(path, claimed as u64, &claim(kind, &dims))?;
            read_gzip(r, path, kind, &dims, claimed).map_err(read_err)??
        }
    };
    Ok((dims, data))
}

/// Checks the magic number, saying what was found and what was expected.
fn check_magic(path: &Path, kind: Kind, magic: u32) -> Result<()> {
    let expected = kind.magic();
    if magic == expected {
        return Ok(());
    }
    let message = match magic.to_be_bytes() {
        [0, 0, 0x08, n] => format!(
            "IDX header declares {n} dimension(s) (magic number 0x{magic:08x}); expected {} {} \
             for {} (magic number 0x{expected:08x})",
            kind.ndims(),
            kind.layout(),
            kind.noun(),
        ),
        _ => format!(
            "not an IDX {} file: magic number is 0x{magic:08x}, expected 0x{expected:08x} \
             (nor is it gzip-compressed)",
            kind.noun()
        ),
    };
    Err(shown::data(path, message))
}

/// Checks the header's sizes and returns the number of data bytes they claim.
fn check_dims(path: &Path, kind: Kind, dims: &[usize]) -> Result<usize> {
    if dims.first() == Some(&0) {
        return Err(shown::data(
            path,
            format!("contains no {}: the header's count is 0; expected at least 1", kind.noun()),
        ));
    }
    if let [_, rows, cols] = dims
        && (*rows == 0 || *cols == 0)
    {
        return Err(shown::data(
            path,
            format!("images of {rows}×{cols} pixels; expected at least 1 row and 1 column"),
        ));
    }
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(|| {
        shown::data(
            path,
            format!(
                "header claims {}, which overflows this machine's memory size",
                claim(kind, dims)
            ),
        )
    })
}

/// "60000 images of 28×28 pixels" or "60000 labels".
fn claim(kind: Kind, dims: &[usize]) -> String {
    match dims {
        [count, rows, cols] => format!("{count} images of {rows}×{cols} pixels"),
        [count] => format!("{count} {}", kind.noun()),
        _ => format!("sizes {dims:?}"),
    }
}

/// Reads the data of a raw file, checking the claim against the file's length first.
fn read_raw<R: Read>(
    r: &mut R,
    path: &Path,
    kind: Kind,
    dims: &[usize],
    claimed: usize,
    file_len: u64,
) -> Result<Vec<u8>> {
    let header_len = 4 + 4 * kind.ndims() as u64;
    let available = file_len.saturating_sub(header_len);
    let claimed64 = claimed as u64;
    if claimed64 > available {
        return Err(shown::data(
            path,
            format!(
                "header claims {} ({claimed} bytes) but the file holds only {available} bytes \
                 after the {header_len}-byte header; the file is truncated or its header is wrong",
                claim(kind, dims)
            ),
        ));
    }
    if claimed64 < available {
        return Err(shown::data(
            path,
            format!(
                "{} trailing bytes after the {claimed} bytes of data the header declares ({}); \
                 expected the file to end there",
                available - claimed64,
                claim(kind, dims)
            ),
        ));
    }
    crate::limits::check_data_bytes(path, claimed64, &claim(kind, dims))?;
    let mut data = vec![0u8; claimed];
    r.read_exact(&mut data).map_err(|e| shown::io(path, e))?;
    Ok(data)
}

/// Reads the data of a gzip stream without reserving the claimed size: at most
/// `claimed + 1` bytes, and only as many as the stream really holds. The outer
/// `io::Result` is a decompression error, the inner one a size mismatch.
fn read_gzip<R: Read>(
    r: &mut R,
    path: &Path,
    kind: Kind,
    dims: &[usize],
    claimed: usize,
) -> io::Result<Result<Vec<u8>>> {
    let mut data = Vec::new();
    r.by_ref().take((claimed as u64).saturating_add(1)).read_to_end(&mut data)?;
    Ok(match data.len() {
        n if n < claimed => Err(shown::data(
            path,
            format!(
                "header claims {} ({claimed} bytes) but the decompressed data ends after {n} \
                 bytes; the file is truncated or its header is wrong",
                claim(kind, dims)
            ),
        )),
        n if n > claimed => Err(shown::data(
            path,
            format!(
                "trailing bytes after the {claimed} bytes of data the header declares ({}); \
                 expected the decompressed data to end there",
                claim(kind, dims)
            ),
        )),
        _ => Ok(data),
    })
}

/// Reads until `buf` is full or the input ends; returns the number of bytes read.
fn fill<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
