//! # cnnvar-core
//!
//! The vocabulary every other cnnvar crate speaks:
//!
//! - [`RunSpec`]: everything that determines one training run (data, subset, model,
//!   optimizer, seeds, backend), serialisable to TOML and JSON. Its canonical JSON
//!   hashes to the run id ([`RunSpec::run_id`]).
//! - [`RunRecord`]: what a run produced (per-epoch curve, final and per-class test
//!   accuracy, divergence) and where it came from ([`Provenance`]).
//! - [`Error`]: the one error type; every variant says which file or field was wrong.
//! - [`Backend`]: the burn backends cnnvar can run on, and `Backend::device`, the one
//!   function that turns a choice into a `burn::tensor::Device`. Which backends exist is
//!   decided by this crate's Cargo features (`flex`, `ndarray`, `tch`, `vulkan`, `wgpu`,
//!   `metal`, `cuda`); every other crate forwards its features here.
//!
//! ```
//! use cnnvar_core::{RunSpec, ModelName};
//! let spec = RunSpec { model: ModelName::Simple, train_size: Some(1000), ..RunSpec::default() };
//! spec.validate().unwrap();
//! let same: RunSpec = toml::from_str(&toml::to_string(&spec).unwrap()).unwrap();
//! assert_eq!(spec.run_id(), same.run_id());
//! ```

mod backend;
mod error;
mod record;
mod shape;
mod spec;

pub use backend::{Backend, ThreadConfig, configure_threads};
pub use error::{Error, Result};
pub use record::{EpochRecord, Provenance, RunRecord};
pub use shape::ImageShape;
pub use spec::{
    AugmentName, DEFAULT_MINORITY, DatasetName, Downsample, EvalSet, ModelName, OptimizerName,
    Preset, Rebalance, RunSpec, SubsetMethod, toml_error,
};

/// The cnnvar version, as recorded in every [`Provenance`].
pub const CNNVAR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The burn version cnnvar is built against, as recorded in every [`Provenance`].
pub const BURN_VERSION: &str = "0.22.1";

/// Writes `bytes` to `path` atomically: to a temporary file in the same directory,
/// flushed to disk, then renamed over `path`. A reader sees the old file or the new
/// one, never a partial write.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name =
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let io = |source| Error::Io { path: tmp.clone(), source };
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    // Make the rename itself durable.
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
