//! The run store: one directory per run, named by its id, holding `spec.json`, the
//! per-epoch `curve.csv` and, written last and atomically, `record.json`. A run is
//! complete exactly when `record.json` exists, parses and belongs to the directory (its
//! run id and the hash of its spec are the directory's name). A `spec.json` or
//! `record.json` that exists but fails those checks is damaged ([`RunDir::damage`]); a
//! sweep moves such files aside ([`RunDir::move_aside`]), never deleting them.

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

    /// Writes `record.json` atomically: the run is complete once this returns.
    pub fn write_record(&self, record: &RunRecord) -> Result<()> {
        write_json_atomic(&self.path.join(RECORD_FILE), record)
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
    /// `record.json` that does not parse or is another run's), each with why. Files that
    /// are missing, or that cannot be read at all (permissions), are not damage; text
    /// that is not UTF-8 is.
    pub fn damage(&self) -> Vec<Damage> {
        let checks = [(SPEC_FILE, self.read_spec().err()), (RECORD_FILE, self.read_record().err())];
        checks
            .into_iter()
            .filter_map(|(name, err)| match err? {
                Error::Io { source, .. } if source.kind() != std::io::ErrorKind::InvalidData => {
                    None
                }
                Error::Data { message, .. } => {
                    Some(Damage { file: self.path.join(name), why: message })
                }
                e => Some(Damage { file: self.path.join(name), why: e.to_string() }),
            })
            .collect()
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
        if matches!(self.read_record(), Ok(Some(_))) {
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
