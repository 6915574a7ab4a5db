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
    /// `record.json` exists and parses.
    Done,
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
        let json =
            serde_json::to_string_pretty(failure).map_err(|e| Error::Other(e.to_string()))?;
        write_atomic(&self.path.join(FAILED_FILE), json.as_bytes())
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
        } else if self.is_locked() {
            RunState::Running
        } else if self.path.join(FAILED_FILE).exists() {
            RunState::Failed
        } else {
            RunState::Pending
        }
    }
}
