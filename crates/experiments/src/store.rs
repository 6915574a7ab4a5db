//! The run store: one directory per run, named by its id, holding `spec.json`, the
//! per-epoch `curve.csv` and, written last and atomically, `record.json`. A run is
//! complete exactly when `record.json` exists and parses.

use std::path::{Path, PathBuf};

use cnnvar_core::{EpochRecord, Error, Result, RunRecord, RunSpec, write_atomic};

/// File names inside a run directory.
pub const SPEC_FILE: &str = "spec.json";
/// The per-epoch curve.
pub const CURVE_FILE: &str = "curve.csv";
/// The record; its presence marks the run complete.
pub const RECORD_FILE: &str = "record.json";

/// One run's directory.
#[derive(Clone, Debug)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// The directory of `spec` under `root` (`root/<run-id>`), created with its
    /// `spec.json` if it does not exist yet.
    pub fn create(root: &Path, spec: &RunSpec) -> Result<RunDir> {
        let path = root.join(spec.run_id());
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        let dir = RunDir { path };
        let spec_path = dir.path.join(SPEC_FILE);
        if !spec_path.exists() {
            let json =
                serde_json::to_string_pretty(spec).map_err(|e| Error::Other(e.to_string()))?;
            write_atomic(&spec_path, json.as_bytes())?;
        }
        Ok(dir)
    }

    /// An existing run directory.
    pub fn open(path: impl Into<PathBuf>) -> RunDir {
        RunDir { path: path.into() }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and validates `spec.json`.
    pub fn read_spec(&self) -> Result<RunSpec> {
        let p = self.path.join(SPEC_FILE);
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        RunSpec::from_json(&text, &p.display().to_string())
    }

    /// Rewrites `curve.csv` (atomically) with the epochs so far.
    pub fn write_curve(&self, epochs: &[EpochRecord]) -> Result<()> {
        let mut csv = String::from(
            "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds,train_samples_per_sec,eval_samples_per_sec\n",
        );
        for e in epochs {
            csv += &format!(
                "{},{},{},{},{},{:.3},{:.1},{:.1}\n",
                e.epoch,
                e.train_loss,
                e.train_accuracy,
                e.test_loss,
                e.test_accuracy,
                e.seconds,
                e.train_samples_per_sec,
                e.eval_samples_per_sec
            );
        }
        write_atomic(&self.path.join(CURVE_FILE), csv.as_bytes())
    }

    /// Writes `record.json` atomically: the run is complete once this returns.
    pub fn write_record(&self, record: &RunRecord) -> Result<()> {
        write_atomic(&self.path.join(RECORD_FILE), record.to_json().as_bytes())
    }

    /// The complete record, `None` if the run is not complete, an error if the file
    /// exists but is damaged.
    pub fn read_record(&self) -> Result<Option<RunRecord>> {
        let p = self.path.join(RECORD_FILE);
        match std::fs::read_to_string(&p) {
            Ok(text) => RunRecord::from_json(&text, &p).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&p, e)),
        }
    }
}
