//! The limits on data read from files, checked before anything is allocated for it:
//!
//! - the data memory limit ([`max_data_bytes`], `$CNNVAR_MAX_DATA_BYTES`): a header or
//!   a file that would need more is refused with a clear error;
//! - the per-image pixel limit of image folders ([`max_image_pixels`],
//!   `$CNNVAR_MAX_IMAGE_PIXELS`): an image whose header declares more pixels is refused
//!   before it is decoded, whatever size the folder is read at.

use std::path::Path;

use crate::shown;
use cnnvar_core::{Error, Result};

/// The environment variable that sets the data memory limit, in bytes.
pub const MAX_DATA_BYTES_ENV: &str = "CNNVAR_MAX_DATA_BYTES";

/// The default limit: 4 GiB, far above any data set cnnvar reads (full CIFAR-10 is
/// 184 MB as u8) and below what a worker could hold alongside a model.
pub const DEFAULT_MAX_DATA_BYTES: u64 = 4 << 30;

/// The environment variable that sets the per-image pixel limit of image folders
/// (width × height, whatever the channels).
pub const MAX_IMAGE_PIXELS_ENV: &str = "CNNVAR_MAX_IMAGE_PIXELS";

/// The default per-image pixel limit: 64 megapixels (e.g. 8000 × 8000), above the
/// photos of today's cameras and phones (12 to 50 megapixels) and far below what the
/// data limit allows one image: decoding one takes at most 256 MB (8-bit RGBA) and a
/// second or so, where a forged 60 000 × 60 000 PNG of 3.5 MB would take 3.6 GB and
/// minutes.
pub const DEFAULT_MAX_IMAGE_PIXELS: u64 = 64_000_000;

/// The data memory limit in force: [`MAX_DATA_BYTES_ENV`] if set, else
/// [`DEFAULT_MAX_DATA_BYTES`]. An unparsable value is an error naming the variable.
pub fn max_data_bytes() -> Result<u64> {
    parse_limit(
        MAX_DATA_BYTES_ENV,
        std::env::var(MAX_DATA_BYTES_ENV).ok().as_deref(),
        DEFAULT_MAX_DATA_BYTES,
        "a number of bytes",
        "4294967296",
        0,
    )
}

/// The per-image pixel limit in force: [`MAX_IMAGE_PIXELS_ENV`] if set, else
/// [`DEFAULT_MAX_IMAGE_PIXELS`]. A value that is not a whole number of at least 1 is
/// an error naming the variable.
pub fn max_image_pixels() -> Result<u64> {
    parse_max_image_pixels(std::env::var(MAX_IMAGE_PIXELS_ENV).ok().as_deref())
}

/// [`max_image_pixels`] for the variable's value (`None`: unset).
fn parse_max_image_pixels(value: Option<&str>) -> Result<u64> {
    parse_limit(
        MAX_IMAGE_PIXELS_ENV,
        value,
        DEFAULT_MAX_IMAGE_PIXELS,
        "a number of pixels",
        "100000000 for 100 megapixels",
        1,
    )
}

/// The limit `variable` sets to `value` (`None`: unset, the `default`), at least
/// `least`; an error naming the variable, what it holds and an `example` otherwise.
fn parse_limit(
    variable: &str,
    value: Option<&str>,
    default: u64,
    what: &str,
    example: &str,
    least: u64,
) -> Result<u64> {
    let Some(v) = value else { return Ok(default) };
    match v.trim().parse::<u64>() {
        Ok(n) if n >= least => Ok(n),
        Ok(n) => Err(Error::environment(
            variable,
            format!("{n} is too small; expected {what} of at least {least}, e.g. {example}"),
        )),
        Err(e) => Err(Error::environment(
            variable,
            format!("{v:?} is not {what} ({e}); expected a whole number, e.g. {example}"),
        )),
    }
}

/// Refuses `bytes` of data for `path` (described by `what`, e.g. "60000 images of
/// 28×28 pixels") when it exceeds the limit.
pub(crate) fn check_data_bytes(path: &Path, bytes: u64, what: &str) -> Result<()> {
    check_against(path, bytes, what, max_data_bytes()?)
}

/// [`check_data_bytes`] against an explicit `limit`.
fn check_against(path: &Path, bytes: u64, what: &str, limit: u64) -> Result<()> {
    if bytes > limit {
        return Err(shown::data(
            path,
            format!(
                "needs memory for {what} ({bytes} bytes), more than the data limit of {limit} bytes; \
                 refusing to load it (set {MAX_DATA_BYTES_ENV} to raise the limit if the file \
                 is genuine)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_the_limit_passes_and_above_it_names_file_size_and_variable() {
        let p = Path::new("train-images-idx3-ubyte");
        assert!(check_against(p, 100, "x", 100).is_ok());
        let e = check_against(p, 101, "1 image of 101×1 pixels", 100).expect_err("over");
        let msg = e.to_string();
        assert!(msg.contains("train-images-idx3-ubyte"), "{msg}");
        assert!(msg.contains("101 bytes") && msg.contains("limit of 100 bytes"), "{msg}");
        assert!(msg.contains(MAX_DATA_BYTES_ENV), "{msg}");
        assert!(!msg.contains('\n'), "one line: {msg}");
    }

    #[test]
    fn the_pixel_limit_is_parsed_with_a_clear_error() {
        assert_eq!(parse_max_image_pixels(None).expect("unset"), DEFAULT_MAX_IMAGE_PIXELS);
        assert_eq!(parse_max_image_pixels(Some(" 250000000 ")).expect("set"), 250_000_000);
        for bad in ["64M", "-1", "1e8", "", "0"] {
            let msg = parse_max_image_pixels(Some(bad)).expect_err(bad).to_string();
            assert!(msg.starts_with("$CNNVAR_MAX_IMAGE_PIXELS: "), "{msg}");
            assert!(msg.contains("number of pixels") && msg.contains("e.g. 100000000"), "{msg}");
            assert!(!msg.contains('\n'), "one line: {msg}");
        }
        let msg = parse_max_image_pixels(Some("64M")).expect_err("unit").to_string();
        assert!(msg.contains("\"64M\" is not a number of pixels"), "{msg}");
        let msg = parse_max_image_pixels(Some("0")).expect_err("zero").to_string();
        assert!(msg.contains("0 is too small") && msg.contains("at least 1"), "{msg}");
    }
}
