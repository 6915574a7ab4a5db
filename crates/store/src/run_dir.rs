//! One run's directory: its spec, curve and record, and what is damaged in it.

use std::path::{Path, PathBuf};

use cnnvar_core::{
    EpochRecord, Error, Result, RunRecord, RunSpec, write_atomic, write_json_atomic,
};

use crate::PREDICTIONS_FILE;

/// File names inside a run directory.
pub const SPEC_FILE: &str = "spec.json";
/// The per-epoch curve.
pub const CURVE_FILE: &str = "curve.csv";
/// The record; its presence marks the run complete.
pub const RECORD_FILE: &str = "record.json";

/// What a run produced: its record, and the predicted and the true class of each example
/// of its final evaluation, in evaluation order (`record.test_examples` of each).
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutput {
    /// The record.
    pub record: RunRecord,
    /// The predictions, one class per example.
    pub predictions: Vec<u8>,
    /// The labels of the same examples, in the same order.
    pub labels: Vec<u8>,
}

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
            write_json_atomic(&spec_path, spec)?;
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

    /// The run id this directory is named by (its last component, `.` resolved).
    pub fn run_id(&self) -> String {
        let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
        name(&self.path)
            .or_else(|| self.path.canonicalize().ok().as_deref().and_then(name))
            .unwrap_or_default()
    }

    /// Reads and validates `spec.json`, which must hash to the directory's run id.
    pub fn read_spec(&self) -> Result<RunSpec> {
        let p = self.path.join(SPEC_FILE);
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        let spec = RunSpec::from_json(&text, &p.display().to_string())?;
        let (id, dir) = (spec.run_id(), self.run_id());
        if id != dir {
            return Err(Error::data(
                &p,
                format!(
                    "the spec of run {id}, in the directory of run {dir}; expected run {dir}'s"
                ),
            ));
        }
        Ok(spec)
    }

    /// Rewrites `curve.csv` (atomically) with the epochs so far.
    pub fn write_curve(&self, epochs: &[EpochRecord]) -> Result<()> {
        write_atomic(&self.path.join(CURVE_FILE), EpochRecord::curve_csv(epochs).as_bytes())
    }

    /// Writes `record.json` atomically: the run is complete once this returns. A run's
    /// outputs are written by [`RunDir::write_outputs`], which calls this last.
    pub fn write_record(&self, record: &RunRecord) -> Result<()> {
        write_json_atomic(&self.path.join(RECORD_FILE), record)
    }

    /// Writes everything a finished run leaves, each file atomically and in this order:
    /// `curve.csv` (the record's epochs), `predictions.u8`, then `record.json` with the
    /// predictions' SHA-256 in its provenance (`predictions_sha256`), so that a complete
    /// record always has its curve and its predictions, and the predictions are known to
    /// be the ones it was written with. Returns the record as written. Refuses
    /// predictions or labels that are not one per example of the record's final
    /// evaluation, writing nothing.
    pub fn write_outputs(
        &self,
        record: &RunRecord,
        predictions: &[u8],
        labels: &[u8],
    ) -> Result<RunRecord> {
        for (what, len) in [("predictions", predictions.len()), ("labels", labels.len())] {
            if len != record.test_examples {
                return Err(Error::outputs(
                    &record.run_id,
                    format!(
                        "{len} {what} for {} test examples; expected one per example",
                        record.test_examples
                    ),
                ));
            }
        }
        self.write_curve(&record.epochs)?;
        let sha256 = self.write_predictions(predictions, labels)?;
        let mut written = record.clone();
        written.provenance.predictions_sha256 = Some(sha256);
        self.write_record(&written)?;
        Ok(written)
    }

    /// The complete record, `None` if the run is not complete, an error if the file
    /// exists but is damaged: it does not parse, or it is another run's (its run id, and
    /// so the hash of its spec, is not the directory's name: a copied record).
    pub fn read_record(&self) -> Result<Option<RunRecord>> {
        let p = self.path.join(RECORD_FILE);
        let record = match std::fs::read_to_string(&p) {
            Ok(text) => RunRecord::from_json(&text, &p)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&p, e)),
        };
        let dir = self.run_id();
        if record.run_id != dir {
            return Err(Error::data(
                &p,
                format!(
                    "the record of run {}, in the directory of run {dir} (copied from another \
                     run?); expected run {dir}'s record",
                    record.run_id
                ),
            ));
        }
        Ok(Some(record))
    }

    /// The record of this run when the run is complete and sound, else `None`: the one
    /// rule of what a complete run is, which `status`, the report, the results and the
    /// sweep all follow. Its `record.json` exists, parses and is the directory's run
    /// ([`RunDir::read_record`]), and its predictions are sound
    /// ([`RunDir::read_predictions`]: there, unless the record is of a run made before
    /// runs stored them, and the very file the record was written with, giving its
    /// accuracy). A run with a record but damaged predictions is damaged
    /// ([`RunDir::damage`]), not complete: out of every statistic, and trained again by
    /// the next sweep. Predictions that cannot be read at all (permissions) are not
    /// damage: such a run is complete, without them.
    pub fn complete_record(&self) -> Option<RunRecord> {
        let record = self.read_record().ok()??;
        match self.read_predictions(&record) {
            Ok(_) => Some(record),
            Err(e) => self.damage_of(PREDICTIONS_FILE, &e).is_none().then_some(record),
        }
    }

    /// The files of this run that cannot be trusted (`spec.json` or `record.json` that
    /// does not parse or is another run's, `predictions.u8` that does not match its
    /// record: [`RunDir::read_predictions`]), each with why. Damaged predictions make
    /// the record incomplete too: both are listed, so that a sweep moves both aside and
    /// trains the run again; predictions missing next to a record that holds their
    /// checksum list the record alone. Other files that are missing, or that cannot be
    /// read at all (permissions), are not damage; text that is not UTF-8 is.
    pub fn damage(&self) -> Vec<Damage> {
        let record = self.read_record();
        let predictions = match &record {
            Ok(Some(r)) => self.read_predictions(r).err(),
            _ => None,
        };
        let present = self.path.join(PREDICTIONS_FILE).symlink_metadata().is_ok();
        let lost =
            predictions.as_ref().and_then(|e| self.damage_of(PREDICTIONS_FILE, e)).map(|d| {
                let why = if present {
                    format!("its predictions ({PREDICTIONS_FILE}) are damaged: {}", d.why)
                } else {
                    format!("its predictions ({PREDICTIONS_FILE}) are {}", d.why)
                };
                Damage { file: self.path.join(RECORD_FILE), why }
            });
        let checks = [
            (SPEC_FILE, self.read_spec().err()),
            (RECORD_FILE, record.err()),
            (PREDICTIONS_FILE, predictions.filter(|_| present)),
        ];
        checks
            .into_iter()
            .filter_map(|(name, err)| self.damage_of(name, &err?))
            .chain(lost)
            .collect()
    }

    /// The damage `err`, from reading file `name`, shows; `None` if it shows none.
    pub(crate) fn damage_of(&self, name: &str, err: &Error) -> Option<Damage> {
        match err {
            Error::Io { source, .. } if source.kind() != std::io::ErrorKind::InvalidData => None,
            Error::Data { message, .. } => {
                Some(Damage { file: self.path.join(name), why: message.clone() })
            }
            e => Some(Damage { file: self.path.join(name), why: e.to_string() }),
        }
    }

    /// Moves a damaged `file` of this run aside, to `<file>.damaged-<unix seconds>`
    /// (`-2`, `-3`, … appended if taken), never deleting it; returns where it went.
    pub fn move_aside(&self, file: &Path) -> Result<PathBuf> {
        move_aside_in(&self.path, file)
    }
}

/// Moves a damaged `file` aside into `dir` (its own directory), to
/// `<file>.damaged-<unix seconds>` (`-2`, `-3`, … appended if taken), never deleting
/// it; returns where it went. A run's files ([`RunDir::move_aside`]) and the study
/// directory's ([`crate::StudyDir::repair`]) are moved alike.
pub(crate) fn move_aside_in(dir: &Path, file: &Path) -> Result<PathBuf> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut to = dir.join(format!("{name}.damaged-{now}"));
    let mut n = 1;
    while to.symlink_metadata().is_ok() {
        n += 1;
        to = dir.join(format!("{name}.damaged-{now}-{n}"));
    }
    std::fs::rename(file, &to).map_err(|e| Error::io(file, e))?;
    Ok(to)
}

impl std::fmt::Display for crate::Repair {
    /// `run ID: damaged FILE (WHY) moved aside to PATH; the run trains again`, or for
    /// a study file `damaged FILE (WHY) moved aside to PATH; rebuilt from …`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(id) = &self.run_id {
            write!(f, "run {id}: ")?;
        }
        write!(
            f,
            "damaged {} ({}) moved aside to {}; {}",
            self.damage.file.display(),
            self.damage.why,
            self.moved_to.display(),
            self.then
        )
    }
}

/// A run's file that exists but cannot be trusted.
#[derive(Clone, Debug, PartialEq)]
pub struct Damage {
    /// The file.
    pub file: PathBuf,
    /// What is wrong with it (without the file's name).
    pub why: String,
}
