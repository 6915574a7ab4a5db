//! The data a study's runs were trained on, recorded in the study directory.

use std::path::Path;

use cnnvar_core::{Error, Result, write_json_atomic};

/// The data one data set's runs of a study were trained on: recorded in the study
/// directory by the first worker that loaded it ([`crate::StudyDir::check_study_data`]), so that a
/// study never mixes runs made from different data.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudyData {
    /// The data set (`fashion-mnist`, …).
    pub dataset: String,
    /// Its checksum (the data set's combined SHA-256).
    pub sha256: String,
    /// Where it was loaded from.
    pub source: String,
}

/// The data recorded in `p` (a study's `data-<dataset>.json`), `None` if none is yet.
pub(crate) fn read(p: &Path) -> Result<Option<StudyData>> {
    match std::fs::read_to_string(p) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            Error::data(p, format!("not a cnnvar data record (line {}): {e}", e.line()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(p, e)),
    }
}

/// Records `data` as the study's data for its data set if none is recorded yet (the
/// first of concurrent workers wins), else checks that it is the recorded data: an
/// error naming both checksums and sources if not.
pub(crate) fn check(p: &Path, data: &StudyData) -> Result<()> {
    let damaged = |e: Error| match e {
        Error::Data { path, message } => Error::Data {
            path,
            message: format!(
                "{message}; the next sweep moves it aside and rebuilds it from the records"
            ),
        },
        e => e,
    };
    if read(p).map_err(damaged)?.is_none() {
        record_if_absent(p, data)?;
    }
    let recorded = read(p)?.ok_or_else(|| Error::data(p, "vanished right after it was written"))?;
    if recorded.sha256 == data.sha256 {
        return Ok(());
    }
    Err(Error::data(
        p,
        format!(
            "this run's data set {} from {} has sha256 {}, but this study's runs were trained \
             on {} (sha256 {}, recorded in this file); give that data again (data_dir), or \
             sweep into another output directory to start a study on the new data",
            data.dataset, data.source, data.sha256, recorded.source, recorded.sha256
        ),
    ))
}

/// Writes `data` to `path` unless it exists, never leaving a partial file there: a
/// complete temporary file is hard-linked into place (which fails if `path` exists);
/// where hard links are not supported, it is renamed there.
fn record_if_absent(path: &Path, data: &StudyData) -> Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    write_json_atomic(&tmp, data)?;
    let linked = std::fs::hard_link(&tmp, path);
    let result = match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(_) => std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)),
    };
    let _ = std::fs::remove_file(&tmp);
    result
}
