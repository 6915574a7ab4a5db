//! # cnnvar-core
//!
//! The vocabulary every other cnnvar crate speaks:
//!
//! - [`RunSpec`]: everything that determines one training run (data, subset, model,
//!   optimizer, seeds, backend), serialisable to TOML and JSON. Its canonical JSON
//!   hashes to the run id ([`RunSpec::run_id`]). What an unset optional field means is
//!   [`RunSpec::resolved`]'s to say; what a new run is given where its author says
//!   nothing is [`RunSpec::new_run`]'s. The spec's names ([`ModelName`],
//!   [`DatasetName`], [`OptimizerName`]…), validation and defaults are in the `spec`
//!   module's files, re-exported here.
//! - [`RunRecord`]: what a run produced (per-epoch curve, final and per-class test
//!   accuracy, divergence) and where it came from ([`Provenance`]).
//! - [`Error`]: the one error type; every variant says which file, field or setting was
//!   wrong. A setting a front end overrides is named as in files ([`Error::Setting`];
//!   the list is [`overridable_settings`]): this crate knows no command line.
//! - [`Backend`]: the burn backends cnnvar can run on, and `Backend::device`, the one
//!   function that turns a choice into a `burn::tensor::Device`. Which backends exist is
//!   decided by this crate's Cargo features (`flex`, `ndarray`, `tch`, `vulkan`, `wgpu`,
//!   `metal`, `cuda`); every other crate forwards its features here.
//!   [`Backend::check_compiled`] is the one answer to "does this build have it?";
//!   [`BackendChoice`] is a user's choice, `auto` included, resolved (which starts GPU
//!   devices) only when runs are about to be made.
//! - [`study`]: study files (experiments × levels × seeds), parsed with file, line and
//!   field in every error, overridden by a front end ([`study::StudyOverrides`]), and
//!   expanded into the runs they stand for at the seeds each experiment runs now
//!   ([`study::SeedCounts`], [`study::expand_to`]). Here rather than in
//!   `cnnvar-experiments` so that anything reading a study file needs no burn.
//!
//! ```
//! use cnnvar_core::{RunSpec, ModelName};
//! let spec = RunSpec { model: ModelName::Simple, train_size: Some(1000), ..RunSpec::default() };
//! spec.validate().unwrap();
//! let same: RunSpec = toml::from_str(&toml::to_string(&spec).unwrap()).unwrap();
//! assert_eq!(spec.run_id(), same.run_id());
//! ```

mod alloc;
mod backend;
mod curve;
mod error;
mod predictions;
mod record;
mod shape;
mod spec;
mod splitmix;
pub mod study;
pub mod testing;

pub use alloc::{TUNING_VAR, tune_allocator};
pub use backend::{Backend, BackendChoice, ThreadConfig, configure_threads};
pub use error::{Error, Result};
pub use predictions::Predictions;
pub use record::Adapter;
pub use record::{CHANCE_MARGIN, EpochRecord, Nudge, Provenance, RunRecord};
pub use shape::ImageShape;
pub use spec::{
    AugmentName, DEFAULT_DEPTH, DEFAULT_EVAL_SUBSET, DEFAULT_KERNEL, DEFAULT_MINORITY,
    DEFAULT_TEST_FRACTION, DEFAULT_WIDTH, DatasetName, Downsample, EvalSet, MAX_BATCH_SIZE,
    MAX_EPOCHS, MAX_IMAGE_SIDE, ModelName, OPTIONAL_RUN_VALUES, OptimizerName, Preset, RUN_VALUES,
    Rebalance, Resolved, RunSpec, SCRIPT_SETTINGS, Script, ScriptRun, SubsetMethod, toml_error,
};
pub use splitmix::SplitMix64;
pub use study::overridable_settings;

/// The cnnvar version, as recorded in every [`Provenance`].
pub const CNNVAR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The burn version cnnvar is built against, as recorded in every [`Provenance`]: the
/// `=` pin in the workspace's `Cargo.toml` (a unit test checks it against `Cargo.lock`).
pub const BURN_VERSION: &str = "0.22.1";

/// Writes `bytes` to `path` atomically: to a temporary file in the same directory
/// (named after the process and a per-process counter, so concurrent writers never share
/// one), flushed to disk, then renamed over `path`. A reader sees the old file or the new
/// one, never a partial write; on failure (a full disk, say) the temporary file is
/// removed and `path` is untouched.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name =
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp.{}.{n}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(source) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Io { path: tmp, source });
    }
    if let Err(source) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Io { path: path.to_path_buf(), source });
    }
    // Make the rename itself durable.
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Writes `value` to `path` as pretty JSON through [`write_atomic`]; an error names the
/// file.
pub fn write_json_atomic(path: &std::path::Path, value: &impl serde::Serialize) -> Result<()> {
    let json = serde_json::to_string_pretty(value).map_err(|e| Error::io(path, e.into()))?;
    write_atomic(path, json.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `BURN_VERSION` is the burn that `Cargo.lock` resolves, so provenance cannot drift
    /// from the pinned dependency.
    #[test]
    fn burn_version_is_the_locked_one() {
        let lock =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"))
                .expect("the workspace's Cargo.lock");
        let locked = lock
            .split("[[package]]")
            .find(|p| p.lines().any(|l| l.trim() == "name = \"burn\""))
            .and_then(|p| p.lines().find_map(|l| l.trim().strip_prefix("version = ")))
            .map(|v| v.trim_matches('"').to_string());
        assert_eq!(locked.as_deref(), Some(BURN_VERSION));
    }

    /// Many writers on one path, threads of one process: a reader only ever sees a
    /// complete payload, and no temporary file is left behind.
    #[test]
    fn interleaved_writers_never_show_a_partial_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("record.json");
        let payload =
            |w: usize, i: usize| vec![b'a' + (w % 26) as u8; 1000 + 7919 * ((w * 31 + i) % 13)];
        write_atomic(&path, &payload(0, 0)).expect("first write");
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let reader = s.spawn(|| {
                let mut reads = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let bytes = std::fs::read(&path).expect("the file always exists");
                    let first = bytes[0];
                    assert!(bytes.iter().all(|&b| b == first), "mixed writers in one file");
                    assert!(
                        (bytes.len() - 1000).is_multiple_of(7919),
                        "partial file: {} bytes",
                        bytes.len()
                    );
                    reads += 1;
                }
                reads
            });
            let writers: Vec<_> = (0..8)
                .map(|w| {
                    let path = &path;
                    s.spawn(move || {
                        for i in 0..40 {
                            write_atomic(path, &payload(w, i)).expect("write");
                        }
                    })
                })
                .collect();
            for w in writers {
                w.join().expect("writer");
            }
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            assert!(reader.join().expect("reader") > 0);
        });
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["record.json"], "temporary files left: {names:?}");
    }

    /// A write that cannot complete leaves the old file and no temporary file.
    #[test]
    fn a_failed_write_loses_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.json");
        write_atomic(&path, b"old").expect("write");
        // Renaming a file over a non-empty directory fails after the data is written.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir_all(blocked.join("inside")).expect("mkdir");
        assert!(write_atomic(&blocked, b"new").is_err());
        assert_eq!(std::fs::read(&path).expect("read"), b"old");
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["blocked", "x.json"], "temporary files left: {names:?}");
    }
}
