//! A run's lock, its attempts log, its failure note and where it stands.

use std::path::PathBuf;

use cnnvar_core::{Error, Result, write_json_atomic};

use crate::RunDir;

/// The lock file a worker holds while it trains the run.
pub const LOCK_FILE: &str = "lock";
/// The lock of a training several runs share ([`cnnvar_core::RunSpec::training_key`]),
/// in the directory of the one with the smallest id: a worker waits for it before it
/// claims its runs, so that one worker trains them all and the others find them done.
pub const TRAINING_LOCK_FILE: &str = "training.lock";
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
    /// Complete and sound ([`RunDir::complete_record`]): `record.json` exists, parses
    /// and is this run's, and its predictions are sound.
    Done,
    /// `spec.json`, `record.json` or the record's predictions are damaged
    /// ([`RunDir::damage`]); the next sweep moves them aside and retrains the run.
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
        let (p, file) = self.lock_file(LOCK_FILE)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(RunLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&p, e)),
        }
    }

    /// Waits until no other process holds the [`TRAINING_LOCK_FILE`] of this run's
    /// directory, then takes it (released as [`RunDir::try_lock`]'s is).
    pub fn lock_training(&self) -> Result<RunLock> {
        let (p, file) = self.lock_file(TRAINING_LOCK_FILE)?;
        file.lock().map_err(|e| Error::io(&p, e))?;
        Ok(RunLock { _file: file })
    }

    /// The lock file `name` of this run's directory, opened (created if missing), with
    /// its path.
    fn lock_file(&self, name: &str) -> Result<(PathBuf, std::fs::File)> {
        let p = self.path().join(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| Error::io(&p, e))?;
        Ok((p, file))
    }

    /// Whether a live process holds the run's lock.
    pub fn is_locked(&self) -> bool {
        self.path().join(LOCK_FILE).exists() && matches!(self.try_lock(), Ok(None))
    }

    /// Appends this process to [`ATTEMPTS_FILE`]. Call it only while holding the lock.
    pub fn log_attempt(&self) -> Result<()> {
        use std::io::Write;
        let p = self.path().join(ATTEMPTS_FILE);
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
        std::fs::read_to_string(self.path().join(ATTEMPTS_FILE)).map_or(0, |t| t.lines().count())
    }

    /// Records a failure (atomically).
    pub fn write_failure(&self, failure: &Failure) -> Result<()> {
        write_json_atomic(&self.path().join(FAILED_FILE), failure)
    }

    /// The recorded failure, if any.
    pub fn read_failure(&self) -> Option<Failure> {
        let text = std::fs::read_to_string(self.path().join(FAILED_FILE)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Removes a stale failure note (before a new attempt).
    pub fn clear_failure(&self) {
        let _ = std::fs::remove_file(self.path().join(FAILED_FILE));
    }

    /// Where the run stands now: done exactly when [`RunDir::complete_record`] has its
    /// record.
    pub fn state(&self) -> RunState {
        if self.complete_record().is_some() {
            RunState::Done
        } else if !self.damage().is_empty() {
            RunState::Damaged
        } else if self.is_locked() {
            RunState::Running
        } else if self.path().join(FAILED_FILE).exists() {
            RunState::Failed
        } else {
            RunState::Pending
        }
    }
}
