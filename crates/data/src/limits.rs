//! The memory limit for data read from files: a header or a file that would need
//! more than [`max_data_bytes`] is refused with a clear error before anything is
//! allocated for it.

use std::path::Path;

use cnnvar_core::{Error, Result};

/// The environment variable that sets the limit, in bytes.
pub const MAX_DATA_BYTES_ENV: &str = "CNNVAR_MAX_DATA_BYTES";

/// The default limit: 4 GiB, far above any data set cnnvar reads (full CIFAR-10 is
/// 184 MB as u8) and below what a worker could hold alongside a model.
pub const DEFAULT_MAX_DATA_BYTES: u64 = 4 << 30;

/// The limit in force: [`MAX_DATA_BYTES_ENV`] if set, else [`DEFAULT_MAX_DATA_BYTES`].
/// An unparsable value is an error naming the variable.
pub fn max_data_bytes() -> Result<u64> {
    match std::env::var(MAX_DATA_BYTES_ENV) {
        Ok(v) => v.trim().parse::<u64>().map_err(|e| {
            Error::environment(
                MAX_DATA_BYTES_ENV,
                format!("{v:?} is not a number of bytes ({e}); expected e.g. 4294967296"),
            )
        }),
        Err(_) => Ok(DEFAULT_MAX_DATA_BYTES),
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
        return Err(Error::data(
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
}
