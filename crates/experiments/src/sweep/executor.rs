//! The local executor: a pool of `cnnvar worker` processes, `jobs` at a time, one
//! process per run (burn's seed may be process-global; a crash kills one run only).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use cnnvar_core::{Error, Result};

use cnnvar_core::study::PlannedRun;
use cnnvar_store::{Failure, RunDir};

/// Exit code of a worker that found its run locked by another process.
pub const EXIT_BUSY: i32 = 75;

/// Exit code of a worker that found its run already complete (another process trained
/// it after this sweep looked), so that it is not counted as trained by this sweep.
pub const EXIT_ALREADY_COMPLETE: i32 = 76;

/// How to start a worker: `program worker RUN_DIR --threads T … extra_args`.
#[derive(Clone, Debug)]
pub struct WorkerCommand {
    /// The `cnnvar` executable.
    pub program: PathBuf,
    /// Compute threads per worker.
    pub threads: usize,
    /// Further arguments (e.g. `--data-dir DIR`).
    pub extra_args: Vec<String>,
    /// Whether the workers share cores (jobs × threads > cores), so that LibTorch's
    /// OpenMP threads must sleep rather than spin while they wait
    /// (`OMP_WAIT_POLICY=PASSIVE`): spinning threads would steal the other workers'
    /// cores. On cores of their own, OpenMP's default (spin a little, then sleep) trains
    /// 1.4–1.8× faster on 2 threads.
    pub passive_wait: bool,
}

impl WorkerCommand {
    /// The command that runs the run in `run_dir`.
    pub fn command(&self, run_dir: &Path) -> Command {
        let mut c = Command::new(&self.program);
        c.arg("worker")
            .arg(run_dir)
            .args(["--threads", &self.threads.to_string(), "--report-progress", "--watch-parent"])
            .args(&self.extra_args)
            // LibTorch's OpenMP: no more threads than asked.
            .env("OMP_NUM_THREADS", self.threads.to_string());
        if self.passive_wait {
            c.env("OMP_WAIT_POLICY", "PASSIVE");
        }
        c
    }
}

/// What the executor reports as runs progress.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A worker started on a run.
    Started {
        /// The run.
        run_id: String,
    },
    /// A run finished an epoch.
    Epoch {
        /// The run.
        run_id: String,
        /// Epochs done.
        epoch: usize,
        /// Epochs in all.
        epochs: usize,
        /// Test accuracy after it.
        test_accuracy: f64,
    },
    /// A worker ended.
    Finished {
        /// The run.
        run_id: String,
        /// How.
        outcome: RunOutcome,
    },
}

/// How one worker ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    /// The record is written.
    Done,
    /// It failed; the reason is also in the run's `failed.json`.
    Failed(String),
    /// Another process holds the run's lock (a concurrent sweep).
    Busy,
    /// Another process completed the run after this sweep planned it.
    DoneElsewhere,
    /// Stopped by an interrupt; the run stays incomplete and reruns next time.
    Interrupted,
}

/// Counts of how the executed runs ended.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExecOutcome {
    /// Completed.
    pub done: usize,
    /// Failed.
    pub failed: usize,
    /// Left to another process.
    pub busy: usize,
    /// Found complete, trained by another process.
    pub done_elsewhere: usize,
    /// Interrupted.
    pub interrupted: usize,
}

impl ExecOutcome {
    /// Counts one run's ending.
    pub fn count(&mut self, result: &RunOutcome) {
        match result {
            RunOutcome::Done => self.done += 1,
            RunOutcome::Failed(_) => self.failed += 1,
            RunOutcome::Busy => self.busy += 1,
            RunOutcome::DoneElsewhere => self.done_elsewhere += 1,
            RunOutcome::Interrupted => self.interrupted += 1,
        }
    }
}

/// A pool of worker processes.
#[derive(Clone, Debug)]
pub struct LocalExecutor {
    /// Workers at a time.
    pub jobs: usize,
    /// How to start one.
    pub worker: WorkerCommand,
}

struct Slot {
    run_id: String,
    child: Child,
    reader: std::thread::JoinHandle<Vec<String>>,
    log: PathBuf,
}

/// Forwards a worker's stderr: to its log file, as events, and keeps the last lines.
fn read_stderr(
    run_id: String,
    stderr: std::process::ChildStderr,
    log: PathBuf,
    tx: mpsc::Sender<(String, String)>,
) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut file = std::fs::File::create(&log).ok();
        let mut tail: VecDeque<String> = VecDeque::new();
        for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
            if let Some(f) = file.as_mut() {
                let _ = writeln!(f, "{line}");
            }
            let _ = tx.send((run_id.clone(), line.clone()));
            tail.push_back(line);
            if tail.len() > 20 {
                tail.pop_front();
            }
        }
        tail.into()
    })
}

/// Parses a worker's progress line `epoch E/N ACC`.
pub fn parse_epoch_line(line: &str) -> Option<(usize, usize, f64)> {
    let rest = line.strip_prefix("epoch ")?;
    let (frac, acc) = rest.split_once(' ')?;
    let (e, n) = frac.split_once('/')?;
    Some((e.parse().ok()?, n.parse().ok()?, acc.trim().parse().ok()?))
}

/// Formats a worker's progress line (the inverse of [`parse_epoch_line`]).
pub fn epoch_line(epoch: usize, epochs: usize, test_accuracy: f64) -> String {
    format!("epoch {epoch}/{epochs} {test_accuracy:.6}")
}

impl LocalExecutor {
    /// Runs `runs` (directories under `study_dir`), `jobs` at a time, until all ended
    /// or `stop` is set (then running workers are killed and their runs stay
    /// incomplete).
    pub fn run(
        &self,
        study_dir: &Path,
        runs: &[&PlannedRun],
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(Event),
    ) -> Result<ExecOutcome> {
        let mut queue: VecDeque<&PlannedRun> = runs.iter().copied().collect();
        let mut running: Vec<Slot> = Vec::new();
        let mut outcome = ExecOutcome::default();
        let (tx, rx) = mpsc::channel::<(String, String)>();
        let jobs = self.jobs.max(1);
        loop {
            let stopping = stop.load(Ordering::SeqCst);
            while !stopping && running.len() < jobs {
                let Some(run) = queue.pop_front() else { break };
                let dir = study_dir.join(&run.run_id);
                // Held by another sweep's worker, or completed by one since the plan was
                // read: leave it (the worker would only say so).
                let other = match RunDir::open(&dir) {
                    d if d.is_locked() => Some(RunOutcome::Busy),
                    d if matches!(d.read_record(), Ok(Some(_))) => Some(RunOutcome::DoneElsewhere),
                    _ => None,
                };
                if let Some(other) = other {
                    outcome.count(&other);
                    on_event(Event::Finished { run_id: run.run_id.clone(), outcome: other });
                    continue;
                }
                let mut cmd = self.worker.command(&dir);
                cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
                let mut child = cmd.spawn().map_err(|e| Error::io(&self.worker.program, e))?;
                let log = dir.join("worker.log");
                let Some(stderr) = child.stderr.take() else {
                    return Err(Error::program(
                        self.worker.program.display().to_string(),
                        "the worker's stderr was not captured",
                    ));
                };
                let reader = read_stderr(run.run_id.clone(), stderr, log.clone(), tx.clone());
                on_event(Event::Started { run_id: run.run_id.clone() });
                running.push(Slot { run_id: run.run_id.clone(), child, reader, log });
            }
            if running.is_empty() && (queue.is_empty() || stopping) {
                outcome.interrupted += queue.len();
                break;
            }
            while let Ok((run_id, line)) = rx.recv_timeout(Duration::from_millis(50)) {
                if let Some((epoch, epochs, test_accuracy)) = parse_epoch_line(&line) {
                    on_event(Event::Epoch { run_id, epoch, epochs, test_accuracy });
                }
            }
            if stop.load(Ordering::SeqCst) {
                for slot in &mut running {
                    let _ = slot.child.kill();
                }
            }
            let mut i = 0;
            while i < running.len() {
                match running[i].child.try_wait() {
                    Ok(Some(status)) => {
                        let slot = running.swap_remove(i);
                        let tail = slot.reader.join().unwrap_or_default();
                        let dir = RunDir::open(study_dir.join(&slot.run_id));
                        let result = match status.code() {
                            Some(0) if matches!(dir.read_record(), Ok(Some(_))) => RunOutcome::Done,
                            Some(EXIT_BUSY) => RunOutcome::Busy,
                            Some(EXIT_ALREADY_COMPLETE) => RunOutcome::DoneElsewhere,
                            _ if stop.load(Ordering::SeqCst) => RunOutcome::Interrupted,
                            code => {
                                let last = tail
                                    .iter()
                                    .rev()
                                    .find(|l| l.starts_with("error:"))
                                    .or_else(|| tail.last())
                                    .cloned()
                                    .unwrap_or_default();
                                let error = match code {
                                    Some(c) => format!("worker exited with code {c}: {last}"),
                                    None => format!("worker was killed ({status}): {last}"),
                                };
                                let _ = dir.write_failure(&Failure {
                                    exit_code: code,
                                    error: error.clone(),
                                    log: Some(slot.log.clone()),
                                });
                                RunOutcome::Failed(error)
                            }
                        };
                        outcome.count(&result);
                        on_event(Event::Finished { run_id: slot.run_id, outcome: result });
                    }
                    Ok(None) => i += 1,
                    Err(e) => {
                        return Err(Error::program(
                            self.worker.program.display().to_string(),
                            format!("waiting for a worker: {e}"),
                        ));
                    }
                }
            }
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_lines_round_trip() {
        assert_eq!(parse_epoch_line(&epoch_line(3, 10, 0.875)), Some((3, 10, 0.875)));
        assert_eq!(parse_epoch_line("epoch 1: train loss"), None);
    }

    /// Workers always get their thread count for OpenMP, and the passive wait policy
    /// exactly when they share cores.
    #[test]
    fn openmp_waits_passively_only_on_shared_cores() {
        let env_of = |passive_wait| {
            let w = WorkerCommand {
                program: "cnnvar".into(),
                threads: 3,
                extra_args: vec![],
                passive_wait,
            };
            let c = w.command(Path::new("runs/x"));
            c.get_envs()
                .map(|(k, v)| {
                    (k.to_string_lossy().into_owned(), v.map(|v| v.to_string_lossy().into_owned()))
                })
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let shared = env_of(true);
        assert_eq!(shared.get("OMP_NUM_THREADS"), Some(&Some("3".to_string())));
        assert_eq!(shared.get("OMP_WAIT_POLICY"), Some(&Some("PASSIVE".to_string())));
        let own = env_of(false);
        assert_eq!(own.get("OMP_NUM_THREADS"), Some(&Some("3".to_string())));
        assert_eq!(own.get("OMP_WAIT_POLICY"), None);
    }
}
