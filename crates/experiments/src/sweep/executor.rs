//! The local executor: a pool of `cnnvar worker` processes, `jobs` at a time, one
//! process per run (burn's seed may be process-global; a crash kills one run only).

use std::collections::{HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use cnnvar_core::{Error, Result};

use cnnvar_core::study::PlannedRun;
use cnnvar_store::{Failure, RunDir, operand};

/// Exit code of a worker that found its run locked by another process.
pub const EXIT_BUSY: i32 = 75;

/// Exit code of a worker that found its run already complete (another process trained
/// it after this sweep looked), so that it is not counted as trained by this sweep.
pub const EXIT_ALREADY_COMPLETE: i32 = 76;

/// How to start a worker: the one owner of a worker's command line, `PROGRAM worker
/// RUN_DIR --threads T [--report-progress] [--watch-parent] [--data-dir DIR]`
/// ([`WorkerCommand::args`]), and of its environment ([`WorkerCommand::env`]). The local
/// executor runs it as a process ([`WorkerCommand::command`]); the Slurm executor
/// writes the same words into its job script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerCommand {
    /// The `cnnvar` executable.
    pub program: PathBuf,
    /// Compute threads per worker (`--threads`, and OpenMP's `OMP_NUM_THREADS`).
    pub threads: usize,
    /// The data directory the worker is told (`--data-dir`), if any.
    pub data_dir: Option<PathBuf>,
    /// Whether the worker prints a line per epoch for its parent to follow
    /// (`--report-progress`; [`cnnvar_core::EpochRecord::progress_line`]).
    pub report_progress: bool,
    /// Whether the worker exits when its parent goes away (`--watch-parent`), so that a
    /// killed sweep leaves no orphans.
    pub watch_parent: bool,
    /// Whether the workers share cores (jobs × threads > cores), so that LibTorch's
    /// OpenMP threads must sleep rather than spin while they wait
    /// (`OMP_WAIT_POLICY=PASSIVE`): spinning threads would steal the other workers'
    /// cores. On cores of their own, OpenMP's default (spin a little, then sleep) trains
    /// 1.4–1.8× faster on 2 threads.
    pub passive_wait: bool,
}

impl WorkerCommand {
    /// The arguments after the program for the run in `run_dir`.
    pub fn args(&self, run_dir: &Path) -> Vec<OsString> {
        self.args_with(operand(run_dir).into_owned().into_os_string(), OsStr::to_os_string)
    }

    /// The arguments after the program, each word made by `word`, with `run_dir` as the
    /// run directory's word: the one list that [`WorkerCommand::args`] gives a process
    /// and a job script quotes for its shell (with a shell variable as `run_dir`).
    pub fn args_with<T>(&self, run_dir: T, word: impl Fn(&OsStr) -> T) -> Vec<T> {
        let mut args = vec![word("worker".as_ref()), run_dir];
        args.push(word("--threads".as_ref()));
        args.push(word(self.threads.to_string().as_ref()));
        if self.report_progress {
            args.push(word("--report-progress".as_ref()));
        }
        if self.watch_parent {
            args.push(word("--watch-parent".as_ref()));
        }
        if let Some(dir) = &self.data_dir {
            args.push(word("--data-dir".as_ref()));
            args.push(word(operand(dir).as_os_str()));
        }
        args
    }

    /// The worker's environment: LibTorch's OpenMP gets no more threads than asked
    /// (`OMP_NUM_THREADS`), and waits passively when the workers share cores
    /// ([`WorkerCommand::passive_wait`]).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("OMP_NUM_THREADS", self.threads.to_string())];
        if self.passive_wait {
            env.push(("OMP_WAIT_POLICY", "PASSIVE".to_string()));
        }
        env
    }

    /// The process that runs the run in `run_dir`.
    pub fn command(&self, run_dir: &Path) -> Command {
        let mut c = Command::new(&self.program);
        c.args(self.args(run_dir)).envs(self.env());
        c
    }
}

/// What the executor reports as runs progress.
#[derive(Clone, Debug, PartialEq)]
pub enum SweepEvent {
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
    training_key: String,
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

impl LocalExecutor {
    /// Runs `runs` (directories under `study_dir`), `jobs` at a time, until all ended
    /// or `stop` is set (then running workers are killed and their runs stay
    /// incomplete).
    pub fn run(
        &self,
        study_dir: &Path,
        runs: &[&PlannedRun],
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(SweepEvent),
    ) -> Result<ExecOutcome> {
        let mut queue: VecDeque<&PlannedRun> = runs.iter().copied().collect();
        let mut running: Vec<Slot> = Vec::new();
        // Runs that share a training with a running one wait for it (its worker trains
        // them too); the runs this sweep's workers completed, partners included.
        let mut waiting: Vec<&PlannedRun> = Vec::new();
        let mut done_here: HashSet<String> = HashSet::new();
        let mut outcome = ExecOutcome::default();
        let (tx, rx) = mpsc::channel::<(String, String)>();
        let jobs = self.jobs.max(1);
        loop {
            let stopping = stop.load(Ordering::SeqCst);
            while !stopping && running.len() < jobs {
                let Some(run) = queue.pop_front() else { break };
                if running.iter().any(|slot| slot.training_key == run.spec.training_key()) {
                    waiting.push(run);
                    continue;
                }
                let dir = study_dir.join(&run.run_id);
                // Held by another sweep's worker, or completed by one since the plan was
                // read: leave it (the worker would only say so); trained by one of this
                // sweep's workers with a partner: done.
                let other = match RunDir::open(&dir) {
                    d if d.is_locked() => Some(RunOutcome::Busy),
                    d => match d.read_record() {
                        Ok(Some(r))
                            if r.trained_with.as_ref().is_some_and(|w| done_here.contains(w)) =>
                        {
                            Some(RunOutcome::Done)
                        }
                        Ok(Some(_)) => Some(RunOutcome::DoneElsewhere),
                        _ => None,
                    },
                };
                if let Some(other) = other {
                    outcome.count(&other);
                    on_event(SweepEvent::Finished { run_id: run.run_id.clone(), outcome: other });
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
                on_event(SweepEvent::Started { run_id: run.run_id.clone() });
                let training_key = run.spec.training_key();
                running.push(Slot { run_id: run.run_id.clone(), training_key, child, reader, log });
            }
            // A run waits only while a partner's worker runs: none waits when none runs.
            if running.is_empty() && (queue.is_empty() || stopping) {
                outcome.interrupted += queue.len() + waiting.len();
                break;
            }
            while let Ok((run_id, line)) = rx.recv_timeout(Duration::from_millis(50)) {
                if let Some((epoch, epochs, test_accuracy)) =
                    cnnvar_core::EpochRecord::parse_progress_line(&line)
                {
                    on_event(SweepEvent::Epoch { run_id, epoch, epochs, test_accuracy });
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
                        for run in waiting.drain(..).rev() {
                            queue.push_front(run);
                        }
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
                        if result == RunOutcome::Done {
                            done_here.insert(slot.run_id.clone());
                        }
                        outcome.count(&result);
                        on_event(SweepEvent::Finished { run_id: slot.run_id, outcome: result });
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

    /// Workers always get their thread count for OpenMP, and the passive wait policy
    /// exactly when they share cores.
    #[test]
    fn openmp_waits_passively_only_on_shared_cores() {
        let env_of = |passive_wait| {
            let w = WorkerCommand {
                program: "cnnvar".into(),
                threads: 3,
                data_dir: None,
                report_progress: true,
                watch_parent: true,
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

    /// The process gets the argument list, in order, with the run directory second
    /// and each option only when asked for.
    #[test]
    fn the_command_is_the_argument_list() {
        let w = WorkerCommand {
            program: "/bin/cnnvar".into(),
            threads: 2,
            data_dir: Some("/data/my set".into()),
            report_progress: true,
            watch_parent: false,
            passive_wait: false,
        };
        let c = w.command(Path::new("runs/s/abc"));
        assert_eq!(c.get_program(), "/bin/cnnvar");
        let args: Vec<&OsStr> = c.get_args().collect();
        assert_eq!(
            args,
            [
                "worker",
                "runs/s/abc",
                "--threads",
                "2",
                "--report-progress",
                "--data-dir",
                "/data/my set"
            ]
        );
        let bare = WorkerCommand { data_dir: None, report_progress: false, ..w };
        assert_eq!(bare.args(Path::new("r")), ["worker", "r", "--threads", "2"]);
        // A path that starts with a dash is not taken for an option.
        let dashed = WorkerCommand { data_dir: Some("-d".into()), ..bare };
        assert_eq!(
            dashed.args(Path::new("-r")),
            ["worker", "./-r", "--threads", "2", "--data-dir", "./-d"]
        );
    }
}
