//! Reading images: each header first (format, size, channels, checked against the
//! per-image pixel limit and the memory limit), then the pixels, converted and resized
//! to the data set's shape.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek};
use std::path::Path;

use cnnvar_core::{Error, ImageShape, Result};
use image::imageops::FilterType;
use image::{ColorType, DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use super::FolderOptions;
use crate::limits::{MAX_DATA_BYTES_ENV, MAX_IMAGE_PIXELS_ENV};
use crate::shown;

/// The best compression deflate (PNG's compression) can achieve: 258 bytes from 2
/// bits. A PNG file is at least its raw data divided by this.
const DEFLATE_MAX_RATIO: u64 = 1032;

/// The limits a folder is read under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FolderLimits {
    /// The data memory limit in bytes ([`crate::limits::max_data_bytes`]): for one
    /// file, one decoded image, and all images together.
    pub(crate) data_bytes: u64,
    /// The most pixels (width × height) an image's header may declare
    /// ([`crate::limits::max_image_pixels`]).
    pub(crate) image_pixels: u64,
}

/// What an image's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Header {
    pub(super) format: ImageFormat,
    pub(super) width: usize,
    pub(super) height: usize,
    /// 1 for grey (with or without alpha), 3 for colour.
    pub(super) channels: usize,
    /// The colour type the image decodes to (a palette is RGB or RGBA).
    pub(super) colour: ColorType,
}

impl Header {
    /// The image's colour type as a reader would name it: `grey (1 channel)`, `grey+alpha
    /// (2 channels)`, `RGB (3 channels)`, `RGBA (4 channels)`, with the bit depth when
    /// it is not 8 (`RGBA (4 channels, 16-bit)`).
    pub(super) fn describe_channels(&self) -> String {
        let c = self.colour;
        let kind = match (c.has_color(), c.has_alpha()) {
            (false, false) => "grey",
            (false, true) => "grey+alpha",
            (true, false) => "RGB",
            (true, true) => "RGBA",
        };
        let n = c.channel_count();
        let s = if n == 1 { "" } else { "s" };
        let bits = c.bits_per_pixel() / u16::from(n.max(1));
        let depth = if bits == 8 { String::new() } else { format!(", {bits}-bit") };
        format!("{kind} ({n} channel{s}{depth})")
    }
}

fn format_name(format: ImageFormat) -> String {
    format!("{format:?}").to_uppercase()
}

/// Opens `path`, refusing an empty file and one larger than `limit`; gives its length.
fn open_file(path: &Path, limit: u64) -> Result<(File, u64)> {
    let io_err = |e| shown::io(path, e);
    let file = File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len();
    if len == 0 {
        return Err(shown::data(path, "is empty; expected a PNG or JPEG image"));
    }
    check_limit(path, len, "the file", limit)?;
    Ok((file, len))
}

/// A PNG or JPEG decoder over `source` (the `len` bytes of `path`) that has read the
/// header, after checking that the decoded image would fit in `limits.data_bytes`,
/// (PNG) that the file is large enough for the size its header claims, and that the
/// header declares at most `limits.image_pixels` pixels.
fn open_decoder<R: BufRead + Seek + 'static>(
    path: &Path,
    source: R,
    len: u64,
    limits: FolderLimits,
) -> Result<(impl ImageDecoder, Header)> {
    let limit = limits.data_bytes;
    let mut reader =
        ImageReader::new(source).with_guessed_format().map_err(|e| shown::io(path, e))?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => f,
        Some(other) => {
            return Err(shown::data(
                path,
                format!(
                    "is a {} image by its content; expected PNG or JPEG (convert it, or move it \
                     out)",
                    format_name(other)
                ),
            ));
        }
        None => {
            return Err(shown::data(
                path,
                "is not an image by its content (neither PNG nor JPEG); expected a PNG or JPEG \
                 file (or move it out, or rename it without an image extension)",
            ));
        }
    };
    let mut decoder_limits = Limits::default();
    decoder_limits.max_alloc = Some(limit);
    reader.limits(decoder_limits);
    let decoder =
        reader.into_decoder().map_err(|e| image_error(path, format, "header", limit, e))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(shown::data(
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
            return Err(shown::data(
                path,
                format!(
                    "header says {h}×{w} pixels ({raw} bytes of raw data) but the file is only \
                     {len} bytes, less than the {least} bytes any PNG of that size needs; the \
                     file is truncated or corrupt"
                ),
            ));
        }
    }
    // After the checks above, so that a forged or truncated header is called that.
    let pixels = u64::from(h) * u64::from(w);
    if pixels > limits.image_pixels {
        return Err(shown::data(
            path,
            format!(
                "header says {h}×{w} pixels (height×width, {pixels} pixels), more than the \
                 limit of {} pixels per image; refusing to decode it (set \
                 {MAX_IMAGE_PIXELS_ENV} to raise the limit if the image is genuine, or shrink \
                 it first)",
                limits.image_pixels
            ),
        ));
    }
    let colour = decoder.color_type();
    let channels = if colour.has_color() { 3 } else { 1 };
    let header = Header { format, width: w as usize, height: h as usize, channels, colour };
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
    shown::data(path, message)
}

/// Reads and checks `path`'s header (see [`open_decoder`]), reading no more of the
/// file than the decoder needs for it.
pub(super) fn read_header(path: &Path, limits: FolderLimits) -> Result<Header> {
    let (file, len) = open_file(path, limits.data_bytes)?;
    open_decoder(path, BufReader::new(file), len, limits).map(|(_, header)| header)
}

/// Whether the JPEG `bytes` hold an end-of-image marker after their first scan. (The
/// JPEG decoder fills a truncated scan with grey instead of failing.) Inside a scan a
/// 0xFF byte is always followed by 0x00 or a restart marker, so 0xFF 0xD9 after the
/// start of the first scan is the end marker.
pub(super) fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let Some(scan) = bytes.windows(2).position(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    bytes[scan + 2..].windows(2).any(|w| w == [0xFF, 0xD9])
}

/// Refuses an image unlike the first, unless the options convert it.
pub(super) fn check_like_first(
    header: &Header,
    path: &Path,
    first: &Header,
    first_path: &Path,
    options: &FolderOptions,
) -> Result<()> {
    if options.channels.is_none() && header.channels != first.channels {
        return Err(shown::data(
            path,
            format!(
                "is {} but the first image, {}, is {}; expected every image grey or every \
                 image colour, an alpha channel being dropped (or set the `channels` option to \
                 1 or 3 to convert them)",
                header.describe_channels(),
                shown::display(first_path),
                first.describe_channels()
            ),
        ));
    }
    if options.image_size.is_none() && (header.height, header.width) != (first.height, first.width)
    {
        return Err(shown::data(
            path,
            format!(
                "is {}×{} pixels (height×width) but the first image, {}, is {}×{}; expected every \
                 image the same size (or set the `image_size` option to resize them)",
                header.height,
                header.width,
                shown::display(first_path),
                first.height,
                first.width
            ),
        ));
    }
    Ok(())
}

/// Decodes `path` (whose header was `expected`), converts it to `shape` and appends
/// its pixels, CHW, to `out`.
pub(super) fn decode_into(
    path: &Path,
    expected: &Header,
    shape: ImageShape,
    limits: FolderLimits,
    out: &mut Vec<u8>,
) -> Result<()> {
    let (file, len) = open_file(path, limits.data_bytes)?;
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut bytes).map_err(|e| shown::io(path, e))?;
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && !jpeg_is_complete(&bytes) {
        return Err(shown::data(
            path,
            "this JPEG image has no end marker after its image data; the file is truncated or \
             corrupt",
        ));
    }
    let (decoder, header) = open_decoder(path, Cursor::new(bytes), len, limits)?;
    if header != *expected {
        return Err(shown::data(
            path,
            "changed while the folder was being read; expected the files to stay as they are",
        ));
    }
    let image = DynamicImage::from_decoder(decoder)
        .map_err(|e| image_error(path, header.format, "pixels", limits.data_bytes, e))?;
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
pub(super) fn check_limit(path: &Path, bytes: u64, what: &str, limit: u64) -> Result<()> {
    if bytes > limit {
        return Err(shown::data(
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
