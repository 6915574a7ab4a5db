//! The run store: one directory per run, named by its id, holding `spec.json`, the
//! per-epoch `curve.csv`, the predictions of the final evaluation `predictions.u8` and,
//! written last and atomically, `record.json`. A run is complete exactly when
//! `record.json` exists, parses and belongs to the directory (its run id and the hash of
//! its spec are the directory's name), and its predictions, if any, are sound. A
//! `spec.json`, `record.json` or `predictions.u8` that exists but fails those checks is
//! damaged ([`RunDir::damage`]); a sweep moves such files aside ([`RunDir::move_aside`]),
//! never deleting them.
//!
//! # `predictions.u8`
//!
//! For each example of the run's final evaluation, in evaluation order, the class the
//! trained model predicts (the argmax of its logits) and the example's true class (its
//! label), so that correctness, agreement between runs and ensembles can be computed
//! from the run store alone, without the data set. Evaluation order is the test set's
//! order (its first `test_size` examples with `test_size`, the held-out fold's examples
//! in the training file's order with `evaluate_on = "validation"`). The file is a
//! 32-byte header, then *n* predicted classes, then the *n* labels of the same examples
//! (32 + 2*n* bytes):
//!
//! | bytes        | content                                                       |
//! |--------------|---------------------------------------------------------------|
//! | 0..8         | the magic `CNNVPRED` (ASCII)                                  |
//! | 8..12        | the format version, little-endian `u32`: 1                    |
//! | 12..16       | the number of examples *n*, little-endian `u32`               |
//! | 16..32       | the run id, 16 lowercase hex digits (ASCII)                   |
//! | 32..32+n     | the predicted class of each example (below the classes)       |
//! | 32+n..32+2n  | the true class of each example, in the same order (below the classes) |
//!
//! It is written atomically before `record.json` ([`RunDir::write_outputs`]), so a
//! complete run of this version always has it; *n* equals the record's `test_examples`.
//! Reading it ([`RunDir::read_predictions`]) checks it against the record: its length
//! first (before reading, so a damaged header never sizes an allocation), then the
//! magic, version, count, run id and every class and label. Records made before the
//! file existed have none: their predictions are absent, not damaged. In Python:
//! `b = numpy.fromfile(path, dtype=numpy.uint8); n = (len(b) - 32) // 2;
//! predicted, labels = b[32:32 + n], b[32 + n:]`.

use std::path::{Path, PathBuf};

use cnnvar_core::{
    EpochRecord, Error, Result, RunRecord, RunSpec, write_atomic, write_json_atomic,
};

/// File names inside a run directory.
pub const SPEC_FILE: &str = "spec.json";
/// The per-epoch curve.
pub const CURVE_FILE: &str = "curve.csv";
/// The record; its presence marks the run complete.
pub const RECORD_FILE: &str = "record.json";
/// The predicted and the true class of each example of the final evaluation (see the
/// module docs).
pub const PREDICTIONS_FILE: &str = "predictions.u8";
/// The first bytes of [`PREDICTIONS_FILE`].
pub const PREDICTIONS_MAGIC: &[u8; 8] = b"CNNVPRED";
/// The version of [`PREDICTIONS_FILE`]'s format this build writes and reads.
pub const PREDICTIONS_VERSION: u32 = 1;
/// The length of [`PREDICTIONS_FILE`]'s header: magic, version, count, run id.
pub const PREDICTIONS_HEADER: usize = 32;

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

/// A run's stored [`PREDICTIONS_FILE`]: the predicted and the true class of each example
/// of its final evaluation, in evaluation order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Predictions {
    /// The predicted class of each example.
    pub predicted: Vec<u8>,
    /// The true class of each example (as long as `predicted`).
    pub labels: Vec<u8>,
}

impl Predictions {
    /// Whether each example was classified correctly.
    pub fn correct(&self) -> Vec<bool> {
        self.predicted.iter().zip(&self.labels).map(|(p, l)| p == l).collect()
    }
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

    /// Writes `record.json` atomically: the run is complete once this returns. A run's
    /// outputs are written by [`RunDir::write_outputs`], which calls this last.
    pub fn write_record(&self, record: &RunRecord) -> Result<()> {
        write_json_atomic(&self.path.join(RECORD_FILE), record)
    }

    /// Writes everything a finished run leaves, each file atomically and in this order:
    /// `curve.csv` (the record's epochs), `predictions.u8`, then `record.json`, so that a
    /// complete record always has its curve and its predictions. Refuses predictions or
    /// labels that are not one per example of the record's final evaluation, writing
    /// nothing.
    pub fn write_outputs(
        &self,
        record: &RunRecord,
        predictions: &[u8],
        labels: &[u8],
    ) -> Result<()> {
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
        self.write_predictions(predictions, labels)?;
        self.write_record(record)
    }

    /// Writes `predictions.u8` (atomically) for this directory's run: the header, then
    /// one byte per example for the predicted classes, then one per example for the
    /// labels (as many as the predictions).
    pub fn write_predictions(&self, predictions: &[u8], labels: &[u8]) -> Result<()> {
        let p = self.path.join(PREDICTIONS_FILE);
        let count = u32::try_from(predictions.len()).map_err(|_| {
            Error::outputs(
                self.run_id(),
                format!("{} predictions are too many for one file", predictions.len()),
            )
        })?;
        if labels.len() != predictions.len() {
            return Err(Error::outputs(
                self.run_id(),
                format!(
                    "{} labels for {} predictions; expected one per prediction",
                    labels.len(),
                    predictions.len()
                ),
            ));
        }
        let id = self.run_id();
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::data(&p, format!("`{id}` is not a run id (16 hex digits)")));
        }
        let mut bytes = Vec::with_capacity(PREDICTIONS_HEADER + 2 * predictions.len());
        bytes.extend_from_slice(PREDICTIONS_MAGIC);
        bytes.extend_from_slice(&PREDICTIONS_VERSION.to_le_bytes());
        bytes.extend_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(id.as_bytes());
        bytes.extend_from_slice(predictions);
        bytes.extend_from_slice(labels);
        write_atomic(&p, &bytes)
    }

    /// The predictions and labels of `record`'s run (this directory's complete record),
    /// `None` if there are none (a record made before runs stored them), an error if the
    /// file exists but is damaged: not the header and twice `record.test_examples` bytes
    /// long, not of this format, of another run, or holding a class or label the record
    /// does not have.
    pub fn read_predictions(&self, record: &RunRecord) -> Result<Option<Predictions>> {
        use std::io::Read;
        let p = self.path.join(PREDICTIONS_FILE);
        let file = match std::fs::File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&p, e)),
        };
        let expected = (PREDICTIONS_HEADER as u64)
            .saturating_add((record.test_examples as u64).saturating_mul(2));
        let length = file.metadata().map_err(|e| Error::io(&p, e))?.len();
        let wrong_length = |length: u64| {
            Error::data(
                &p,
                format!(
                    "{length} bytes; expected {expected}: the {PREDICTIONS_HEADER}-byte header, \
                     then a predicted class and a label for each of the record's {} test \
                     examples",
                    record.test_examples
                ),
            )
        };
        if length != expected {
            return Err(wrong_length(length));
        }
        // Never more than the record says, however the file changes meanwhile.
        let mut bytes = Vec::new();
        file.take(expected.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(&p, e))?;
        if bytes.len() as u64 != expected {
            return Err(wrong_length(bytes.len() as u64));
        }
        let (header, body) = bytes.split_at(PREDICTIONS_HEADER);
        let (predictions, labels) = body.split_at(record.test_examples);
        let word = |at: usize| {
            u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
        };
        if &header[..8] != PREDICTIONS_MAGIC {
            return Err(Error::data(&p, "not a cnnvar predictions file (no CNNVPRED header)"));
        }
        if word(8) != PREDICTIONS_VERSION {
            return Err(Error::data(
                &p,
                format!(
                    "predictions format version {}; this cnnvar reads version {PREDICTIONS_VERSION}",
                    word(8)
                ),
            ));
        }
        if word(12) as u64 != record.test_examples as u64 {
            return Err(Error::data(
                &p,
                format!(
                    "the header counts {} predictions, the record {} test examples",
                    word(12),
                    record.test_examples
                ),
            ));
        }
        let id = String::from_utf8_lossy(&header[16..32]);
        if id != record.run_id {
            return Err(Error::data(
                &p,
                format!(
                    "the predictions of run {id}, in the directory of run {}; expected run {}'s",
                    record.run_id, record.run_id
                ),
            ));
        }
        let classes = match record.per_class_accuracy.len() {
            0 => 256,
            n => n,
        };
        for (what, values) in [("prediction", predictions), ("label", labels)] {
            if let Some((i, &c)) =
                values.iter().enumerate().find(|&(_, &c)| usize::from(c) >= classes)
            {
                return Err(Error::data(
                    &p,
                    format!("{what} {i} is class {c}, but the record has {classes} classes"),
                ));
            }
        }
        Ok(Some(Predictions { predicted: predictions.to_vec(), labels: labels.to_vec() }))
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

    /// The files of this run that exist but cannot be trusted (`spec.json` or
    /// `record.json` that does not parse or is another run's, `predictions.u8` that does
    /// not match its record: [`RunDir::read_predictions`]), each with why. Damaged
    /// predictions make the record incomplete too: both are listed, so that a sweep moves
    /// both aside and trains the run again. Files that are missing, or that cannot be read
    /// at all (permissions), are not damage; text that is not UTF-8 is.
    pub fn damage(&self) -> Vec<Damage> {
        let record = self.read_record();
        let predictions = match &record {
            Ok(Some(r)) => self.read_predictions(r).err(),
            _ => None,
        };
        let lost =
            predictions.as_ref().and_then(|e| self.damage_of(PREDICTIONS_FILE, e)).map(|d| {
                Damage {
                    file: self.path.join(RECORD_FILE),
                    why: format!("its predictions ({PREDICTIONS_FILE}) are damaged: {}", d.why),
                }
            });
        let checks = [
            (SPEC_FILE, self.read_spec().err()),
            (RECORD_FILE, record.err()),
            (PREDICTIONS_FILE, predictions),
        ];
        checks
            .into_iter()
            .filter_map(|(name, err)| self.damage_of(name, &err?))
            .chain(lost)
            .collect()
    }

    /// The damage `err`, from reading file `name`, shows; `None` if it shows none.
    fn damage_of(&self, name: &str, err: &Error) -> Option<Damage> {
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
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut to = self.path.join(format!("{name}.damaged-{now}"));
        let mut n = 1;
        while to.exists() {
            n += 1;
            to = self.path.join(format!("{name}.damaged-{now}-{n}"));
        }
        std::fs::rename(file, &to).map_err(|e| Error::io(file, e))?;
        Ok(to)
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

/// The lock file a worker holds while it trains the run.
pub const LOCK_FILE: &str = "lock";
/// Written when a run failed (the worker's error or how it died).
pub const FAILED_FILE: &str = "failed.json";
/// One line per training attempt (`unix-seconds pid host`), appended by the worker
/// once it holds the lock and has found no record: how often, where and when a run
/// was (re)started.
pub const ATTEMPTS_FILE: &str = "attempts.log";

/// What went wrong with a run that produced no record.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    /// The worker's exit code, if it exited.
    pub exit_code: Option<i32>,
    /// The error: the worker's last lines on stderr, or how it died.
    pub error: String,
    /// Where the worker's full stderr is.
    pub log: Option<PathBuf>,
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    /// `record.json` exists, parses and is this run's.
    Done,
    /// `spec.json` or `record.json` exists but is damaged ([`RunDir::damage`]); the
    /// next sweep moves it aside and retrains the run.
    Damaged,
    /// A worker holds the run's lock.
    Running,
    /// The last attempt failed (and nothing is running it now).
    Failed,
    /// Not started, or interrupted: will run next time.
    Pending,
}

/// An exclusive claim on a run: held by the worker that trains it, released when the
/// worker exits, however it exits (the operating system drops the lock of a dead
/// process), so a crashed holder never blocks a run.
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
}

impl RunDir {
    /// Takes the run's lock, or `None` if another process holds it.
    pub fn try_lock(&self) -> Result<Option<RunLock>> {
        let p = self.path.join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| Error::io(&p, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(RunLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&p, e)),
        }
    }

    /// Whether a live process holds the run's lock.
    pub fn is_locked(&self) -> bool {
        self.path.join(LOCK_FILE).exists() && matches!(self.try_lock(), Ok(None))
    }

    /// Appends this process to [`ATTEMPTS_FILE`]. Call it only while holding the lock.
    pub fn log_attempt(&self) -> Result<()> {
        use std::io::Write;
        let p = self.path.join(ATTEMPTS_FILE);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        let line = format!("{now} {} {host}\n", std::process::id());
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(|e| Error::io(&p, e))
    }

    /// The training attempts logged so far (lines of [`ATTEMPTS_FILE`]).
    pub fn attempts(&self) -> usize {
        std::fs::read_to_string(self.path.join(ATTEMPTS_FILE)).map_or(0, |t| t.lines().count())
    }

    /// Records a failure (atomically).
    pub fn write_failure(&self, failure: &Failure) -> Result<()> {
        write_json_atomic(&self.path.join(FAILED_FILE), failure)
    }

    /// The recorded failure, if any.
    pub fn read_failure(&self) -> Option<Failure> {
        let text = std::fs::read_to_string(self.path.join(FAILED_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Removes a stale failure note (before a new attempt).
    pub fn clear_failure(&self) {
        let _ = std::fs::remove_file(self.path.join(FAILED_FILE));
    }

    /// Where the run stands now.
    pub fn state(&self) -> RunState {
        let complete = |r: &RunRecord| match self.read_predictions(r) {
            Ok(_) => true,
            Err(e) => self.damage_of(PREDICTIONS_FILE, &e).is_none(),
        };
        if matches!(self.read_record(), Ok(Some(r)) if complete(&r)) {
            RunState::Done
        } else if !self.damage().is_empty() {
            RunState::Damaged
        } else if self.is_locked() {
            RunState::Running
        } else if self.path.join(FAILED_FILE).exists() {
            RunState::Failed
        } else {
            RunState::Pending
        }
    }
}

/// The data one data set's runs of a study were trained on: recorded in the study
/// directory by the first worker that loaded it ([`check_study_data`]), so that a
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

/// The file in `study_dir` that records the data of `dataset`: `data-<dataset>.json`.
pub fn study_data_file(study_dir: &Path, dataset: &str) -> PathBuf {
    study_dir.join(format!("data-{dataset}.json"))
}

/// The data recorded for `dataset` in `study_dir`, `None` if none is yet.
pub fn read_study_data(study_dir: &Path, dataset: &str) -> Result<Option<StudyData>> {
    let p = study_data_file(study_dir, dataset);
    match std::fs::read_to_string(&p) {
        Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
            Error::data(&p, format!("not a cnnvar data record (line {}): {e}", e.line()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(&p, e)),
    }
}

/// Records `data` as the study's data for its data set if none is recorded yet (the
/// first of concurrent workers wins), else checks that it is the recorded data: an
/// error naming both checksums and sources if not.
pub fn check_study_data(study_dir: &Path, data: &StudyData) -> Result<()> {
    let p = study_data_file(study_dir, &data.dataset);
    if read_study_data(study_dir, &data.dataset)?.is_none() {
        record_if_absent(&p, data)?;
    }
    let recorded = read_study_data(study_dir, &data.dataset)?
        .ok_or_else(|| Error::data(&p, "vanished right after it was written"))?;
    if recorded.sha256 == data.sha256 {
        return Ok(());
    }
    Err(Error::data(
        &p,
        format!(
            "this run's data set {} from {} has sha256 {}, but this study's runs were trained \
             on {} (sha256 {}, recorded in this file); pass that data again (--data-dir), or \
             sweep into another --out to start a study on the new data",
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn spec(seed: u64) -> RunSpec {
        RunSpec { init_seed: seed, ..RunSpec::default() }
    }

    /// A record of `spec` with made-up numbers.
    pub(crate) fn record_of(spec: &RunSpec) -> RunRecord {
        RunRecord {
            run_id: spec.run_id(),
            test_accuracy: 0.8,
            test_loss: 0.5,
            train_accuracy: 0.9,
            train_loss: 0.3,
            per_class_accuracy: vec![0.8; 10],
            epochs: vec![],
            diverged: false,
            error: None,
            train_examples: 1,
            test_examples: 1,
            params: 1,
            flops: 1,
            seconds: 1.0,
            spec: spec.clone(),
            provenance: cnnvar_core::Provenance::default(),
        }
    }

    /// A record copied from another run's directory is damage, not completion.
    #[test]
    fn a_record_of_another_run_is_damaged() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (a, b) = (
            RunDir::create(tmp.path(), &spec(1)).expect("a"),
            RunDir::create(tmp.path(), &spec(2)).expect("b"),
        );
        let record = record_of(&spec(1));
        a.write_record(&record).expect("write");
        std::fs::copy(a.path().join(RECORD_FILE), b.path().join(RECORD_FILE)).expect("copy");
        assert_eq!(a.state(), RunState::Done);
        assert_eq!(b.state(), RunState::Damaged);
        let e = b.read_record().expect_err("another run's").to_string();
        assert!(e.contains(&spec(1).run_id()) && e.contains(&spec(2).run_id()), "{e}");
        let damage = b.damage();
        assert_eq!(damage.len(), 1);
        assert_eq!(damage[0].file, b.path().join(RECORD_FILE));
        // A spec of another run is damage too.
        std::fs::copy(a.path().join(SPEC_FILE), b.path().join(SPEC_FILE)).expect("copy");
        assert_eq!(b.damage().len(), 2);
    }

    /// Moving aside keeps the bytes and never overwrites an earlier damaged copy.
    #[test]
    fn moving_aside_keeps_every_damaged_file() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = RunDir::create(tmp.path(), &spec(1)).expect("dir");
        let record = dir.path().join(RECORD_FILE);
        let mut moved = Vec::new();
        for text in ["{\"run_id\": \"tr", "garbage"] {
            std::fs::write(&record, text).expect("write");
            assert_eq!(dir.state(), RunState::Damaged);
            let to = dir.move_aside(&record).expect("moved");
            assert!(
                to.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("record.json.damaged-"))
            );
            assert_eq!(std::fs::read_to_string(&to).expect("kept"), text);
            moved.push(to);
        }
        assert_ne!(moved[0], moved[1]);
        assert_eq!(dir.state(), RunState::Pending);
    }

    /// A record with `n` test examples, its predictions and their labels.
    fn outputs(spec: &RunSpec, n: usize) -> (RunRecord, Vec<u8>, Vec<u8>) {
        let record = RunRecord { test_examples: n, ..record_of(spec) };
        let predictions = (0..n).map(|i| (i * 7 % 10) as u8).collect();
        (record, predictions, (0..n).map(|i| (i * 3 % 10) as u8).collect())
    }

    /// Issue 18: the outputs come back as written, the predictions and then their labels
    /// in their documented format, with the curve, predictions and record all there.
    #[test]
    fn outputs_round_trip() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = RunDir::create(tmp.path(), &spec(1)).expect("dir");
        let (record, predictions, labels) = outputs(&spec(1), 25);
        dir.write_outputs(&record, &predictions, &labels).expect("writes");
        assert_eq!(dir.read_record().expect("reads"), Some(record.clone()));
        let read = dir.read_predictions(&record).expect("reads").expect("there");
        assert_eq!(read, Predictions { predicted: predictions.clone(), labels: labels.clone() });
        // 7i = 3i (mod 10) for i = 0, 5, 10, 15, 20.
        assert_eq!(read.correct().iter().filter(|&&c| c).count(), 5);
        assert!(dir.path().join(CURVE_FILE).is_file());
        let bytes = std::fs::read(dir.path().join(PREDICTIONS_FILE)).expect("file");
        assert_eq!(bytes.len(), 32 + 2 * 25);
        assert_eq!(&bytes[..8], b"CNNVPRED");
        assert_eq!(bytes[8..12], 1u32.to_le_bytes());
        assert_eq!(bytes[12..16], 25u32.to_le_bytes());
        assert_eq!(&bytes[16..32], spec(1).run_id().as_bytes());
        assert_eq!(&bytes[32..57], &predictions[..]);
        assert_eq!(&bytes[57..], &labels[..]);
        assert_eq!(dir.state(), RunState::Done);
        assert!(dir.damage().is_empty());
    }

    /// The predictions are written before the record: when they cannot be written, no
    /// record is, and the run is not complete. Predictions or labels that are not one
    /// per test example are refused before anything is written.
    #[test]
    fn no_record_without_its_predictions() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = RunDir::create(tmp.path(), &spec(1)).expect("dir");
        let (record, predictions, labels) = outputs(&spec(1), 10);
        let e = dir
            .write_outputs(&record, &predictions[..9], &labels)
            .expect_err("9 of 10")
            .to_string();
        assert!(e.contains("9 predictions for 10 test examples"), "{e}");
        let e = dir
            .write_outputs(&record, &predictions, &labels[..8])
            .expect_err("8 of 10")
            .to_string();
        assert!(e.contains("8 labels for 10 test examples"), "{e}");
        assert!(!dir.path().join(CURVE_FILE).exists() && !dir.path().join(RECORD_FILE).exists());
        assert!(!dir.path().join(PREDICTIONS_FILE).exists());
        // A directory where the file should be makes its write fail.
        std::fs::create_dir_all(dir.path().join(PREDICTIONS_FILE).join("blocker")).expect("dir");
        dir.write_outputs(&record, &predictions, &labels)
            .expect_err("predictions cannot be written");
        assert!(!dir.path().join(RECORD_FILE).exists(), "a record without its predictions");
        assert_eq!(dir.state(), RunState::Pending);
    }

    /// A predictions file of the wrong length, format, run or classes is damage, and
    /// so is its record, which the sweep moves aside with it to train the run again.
    #[test]
    fn damaged_predictions_are_found() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (a, b) = (
            RunDir::create(tmp.path(), &spec(1)).expect("a"),
            RunDir::create(tmp.path(), &spec(2)).expect("b"),
        );
        let (record, predictions, labels) = outputs(&spec(1), 10);
        a.write_outputs(&record, &predictions, &labels).expect("a");
        let (record_b, _, _) = outputs(&spec(2), 10);
        b.write_outputs(&record_b, &predictions, &labels).expect("b");
        let file = a.path().join(PREDICTIONS_FILE);
        let good = std::fs::read(&file).expect("written");
        let mut other_class = good.clone();
        other_class[32 + 4] = 10;
        let mut other_label = good.clone();
        other_label[32 + 10 + 6] = 200;
        let mut magic = good.clone();
        magic[0] = b'X';
        let mut version = good.clone();
        version[8] = 2;
        let mut count = good.clone();
        count[12] = 11;
        let copied = std::fs::read(b.path().join(PREDICTIONS_FILE)).expect("b's");
        let cases: [(&[u8], &str); 9] = [
            (&good[..good.len() - 1], "51 bytes; expected 52"),
            (&[good.as_slice(), &[0]].concat(), "53 bytes; expected 52"),
            (&good[..42], "42 bytes; expected 52"),
            (&other_class, "prediction 4 is class 10"),
            (&other_label, "label 6 is class 200"),
            (&magic, "not a cnnvar predictions file"),
            (&version, "version 2"),
            (&count, "counts 11 predictions"),
            (&copied, "the predictions of run"),
        ];
        for (bytes, why) in cases {
            std::fs::write(&file, bytes).expect("damage");
            let e = a.read_predictions(&record).expect_err(why).to_string();
            assert!(e.contains(why), "{why}: {e}");
            assert_eq!(a.state(), RunState::Damaged, "{why}");
            let damage = a.damage();
            let files: Vec<&Path> = damage.iter().map(|d| d.file.as_path()).collect();
            assert_eq!(files, [file.as_path(), a.path().join(RECORD_FILE).as_path()], "{why}");
            assert!(damage[0].why.contains(why) && damage[1].why.contains(why), "{damage:?}");
        }
        for d in a.damage() {
            a.move_aside(&d.file).expect("moved");
        }
        assert_eq!(a.state(), RunState::Pending, "trains again");
    }

    /// A record made before runs stored predictions (the committed one, in its own
    /// directory) is complete, undamaged and without predictions.
    #[test]
    fn an_old_record_has_no_predictions_and_is_complete() {
        let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/record/record.json");
        let text = std::fs::read_to_string(seed).expect("committed record");
        let old = RunRecord::from_json(&text, Path::new(seed)).expect("reads");
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = RunDir::create(tmp.path(), &old.spec).expect("dir");
        std::fs::write(dir.path().join(RECORD_FILE), &text).expect("record");
        let record = dir.read_record().expect("reads").expect("complete");
        assert_eq!(dir.read_predictions(&record).expect("no damage"), None);
        assert_eq!(dir.state(), RunState::Done);
        assert!(dir.damage().is_empty());
    }

    /// The first data recorded is the study's; other data is refused naming both.
    #[test]
    fn study_data_is_recorded_once_and_checked() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = |sha: &str, src: &str| StudyData {
            dataset: "mnist".into(),
            sha256: sha.into(),
            source: src.into(),
        };
        check_study_data(tmp.path(), &data("aaa", "/a")).expect("first is recorded");
        check_study_data(tmp.path(), &data("aaa", "/elsewhere")).expect("same data");
        let e = check_study_data(tmp.path(), &data("bbb", "/b")).expect_err("differs").to_string();
        assert!(
            e.contains("aaa") && e.contains("bbb") && e.contains("/a") && e.contains("/b"),
            "{e}"
        );
        assert!(e.contains("data-mnist.json"), "{e}");
        let recorded = read_study_data(tmp.path(), "mnist").expect("reads").expect("recorded");
        assert_eq!(recorded, data("aaa", "/a"));
    }
}
