//! The Slurm executor: a study's pending runs as one job array, one array task per
//! run, each task running the same `cnnvar worker` as the local executor and writing
//! into the same run store (on a filesystem the nodes share).
//!
//! What cnnvar submitted is kept in `slurm/submissions.json` in the study directory
//! (job id, script, and the run of each array task); the run store stays the truth
//! about which runs are done. Monitoring polls `squeue`; a task that leaves the queue
//! without a record is reported as failed with the path of its log.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cnnvar_core::{EpochRecord, Error, Result, write_atomic, write_json_atomic};
use serde::{Deserialize, Serialize};

use super::executor::{ExecOutcome, RunOutcome, SweepEvent, WorkerCommand};
use cnnvar_core::study::PlannedRun;
use cnnvar_store::{Failure, RunDir};

/// The directory, inside a study directory, with scripts, task lists and logs.
pub const SLURM_DIR: &str = "slurm";
/// The file, inside [`SLURM_DIR`], listing every submission.
pub const SUBMISSIONS_FILE: &str = "submissions.json";

/// What to ask Slurm for.
#[derive(Clone, Debug, Default)]
pub struct SlurmOptions {
    /// `--partition`; `None`: the cluster's default.
    pub partition: Option<String>,
    /// `--time` (e.g. `02:00:00`); `None`: the partition's default.
    pub time: Option<String>,
    /// `--cpus-per-task`, also the worker's thread count.
    pub cpus_per_task: usize,
    /// At most this many array tasks at once (`--array=…%K`); `None`: no limit.
    pub max_parallel: Option<usize>,
}

/// One `sbatch` call: a job array over some of a study's runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// Slurm's job id of the array.
    pub job_id: String,
    /// The batch script.
    pub script: PathBuf,
    /// Array task `i` runs `runs[i]` (a run id).
    pub runs: Vec<String>,
    /// Unix time of submission.
    pub submitted_unix: u64,
}

impl Submission {
    /// The log file of array task `index`.
    pub fn log(&self, study_dir: &Path, index: usize) -> PathBuf {
        log_dir(study_dir).join(format!("{}_{index}.log", self.job_id))
    }
}

/// The executor.
#[derive(Clone, Debug)]
pub struct SlurmExecutor {
    /// What to ask for.
    pub options: SlurmOptions,
    /// The worker every task runs (its `threads` is replaced by `cpus_per_task`; a
    /// task has no parent to follow it, so without `report_progress` and
    /// `watch_parent`).
    pub worker: WorkerCommand,
    /// How often to poll `squeue`.
    pub poll: Duration,
}

fn slurm_dir(study_dir: &Path) -> PathBuf {
    study_dir.join(SLURM_DIR)
}

fn log_dir(study_dir: &Path) -> PathBuf {
    slurm_dir(study_dir).join("logs")
}

/// Quotes `s` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-=:,+@%".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Reads the submissions recorded in `study_dir` (none if the file is missing).
pub fn read_submissions(study_dir: &Path) -> Result<Vec<Submission>> {
    let path = slurm_dir(study_dir).join(SUBMISSIONS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            Error::field(format!("{}:{}", path.display(), e.line()), "submissions", e.to_string())
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io(&path, e)),
    }
}

fn write_submissions(study_dir: &Path, subs: &[Submission]) -> Result<()> {
    write_json_atomic(&slurm_dir(study_dir).join(SUBMISSIONS_FILE), &subs)
}

/// Parses `squeue -h -o '%i %T'` output into (job id, task index or range, state):
/// running tasks show as `123_4 RUNNING`, pending ones as `123_[5-9%2] PENDING`.
pub fn parse_squeue(text: &str) -> Vec<(String, Vec<usize>, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(id), Some(state)) = (parts.next(), parts.next()) else { continue };
        let Some((job, tasks)) = id.split_once('_') else {
            out.push((id.to_string(), Vec::new(), state.to_string()));
            continue;
        };
        let tasks = tasks.trim_start_matches('[').trim_end_matches(']');
        let tasks = tasks.split('%').next().unwrap_or_default();
        let mut indices = Vec::new();
        for part in tasks.split(',') {
            match part.split_once('-') {
                Some((a, b)) => {
                    if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                        indices.extend(a..=b.min(a.saturating_add(1_000_000)));
                    }
                }
                None => indices.extend(part.parse::<usize>().ok()),
            }
        }
        out.push((job.to_string(), indices, state.to_string()));
    }
    out
}

impl SlurmExecutor {
    /// The batch script of an array over `count` tasks whose run directories are
    /// listed, one per line, in `tasks_file`.
    pub fn script(
        &self,
        study_name: &str,
        study_dir: &Path,
        tasks_file: &Path,
        count: usize,
    ) -> String {
        let o = &self.options;
        let cpus = o.cpus_per_task.max(1);
        let mut s = String::from("#!/bin/bash\n");
        s += &format!("#SBATCH --job-name={}\n", shell_quote(&format!("cnnvar-{study_name}")));
        let limit = o.max_parallel.map(|k| format!("%{}", k.max(1))).unwrap_or_default();
        s += &format!("#SBATCH --array=0-{}{limit}\n", count.saturating_sub(1));
        s += &format!("#SBATCH --cpus-per-task={cpus}\n");
        if let Some(p) = &o.partition {
            s += &format!("#SBATCH --partition={}\n", shell_quote(p));
        }
        if let Some(t) = &o.time {
            s += &format!("#SBATCH --time={}\n", shell_quote(t));
        }
        let logs = log_dir(study_dir);
        s += &format!(
            "#SBATCH --output={}\n",
            shell_quote(&logs.join("%A_%a.log").display().to_string())
        );
        s += "# Written by `cnnvar sweep --executor slurm`: array task i trains the run whose\n";
        s += "# directory is line i+1 of the task list, with the same worker as a local sweep.\n";
        s += "set -euo pipefail\n";
        s += &format!(
            "run_dir=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" {})\n",
            shell_quote(&tasks_file.display().to_string())
        );
        // The worker every local sweep starts, on the task's CPUs, the run directory
        // being the shell's `$run_dir`.
        let worker = WorkerCommand { threads: cpus, ..self.worker.clone() };
        for (name, value) in worker.env() {
            s += &format!("export {name}={}\n", shell_quote(&value));
        }
        let mut cmd = vec![shell_quote(&worker.program.display().to_string())];
        cmd.extend(
            worker.args_with("\"$run_dir\"".to_string(), |a| shell_quote(&a.to_string_lossy())),
        );
        s += &format!("exec {}\n", cmd.join(" "));
        s
    }

    /// Writes the script and task list for `runs` into the study's `slurm/` directory
    /// (numbered after the earlier submissions) and returns (script, count).
    pub fn write_script(
        &self,
        study_name: &str,
        study_dir: &Path,
        runs: &[&PlannedRun],
    ) -> Result<PathBuf> {
        let dir = slurm_dir(study_dir);
        std::fs::create_dir_all(log_dir(study_dir)).map_err(|e| Error::io(&dir, e))?;
        let n = read_submissions(study_dir)?.len() + 1;
        let tasks_file = dir.join(format!("tasks-{n}.txt"));
        let lines: String =
            runs.iter().map(|r| format!("{}\n", study_dir.join(&r.run_id).display())).collect();
        write_atomic(&tasks_file, lines.as_bytes())?;
        let script = dir.join(format!("job-{n}.sh"));
        write_atomic(
            &script,
            self.script(study_name, study_dir, &tasks_file, runs.len()).as_bytes(),
        )?;
        Ok(script)
    }

    /// Submits `script` with `sbatch --parsable` and returns the job id.
    fn sbatch(&self, script: &Path) -> Result<String> {
        let out = Command::new("sbatch").arg("--parsable").arg(script).output().map_err(|e| {
            Error::program(
                "sbatch",
                format!("cannot run it (is Slurm installed and SLURM_CONF set?): {e}"),
            )
        })?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let id = stdout.trim().split(';').next().unwrap_or_default().to_string();
        if !out.status.success() || id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::program(
                "sbatch",
                format!(
                    "{} failed ({}): {}",
                    script.display(),
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            ));
        }
        Ok(id)
    }

    /// The array tasks of `jobs` still known to Slurm: (job id, index) → state.
    fn queued(jobs: &[&str]) -> Result<BTreeMap<(String, usize), String>> {
        let mut found = BTreeMap::new();
        if jobs.is_empty() {
            return Ok(found);
        }
        let out = Command::new("squeue")
            .args(["-h", "-r", "-o", "%i %T", "-j", &jobs.join(",")])
            .output()
            .map_err(|e| Error::program("squeue", format!("cannot run it: {e}")))?;
        // squeue fails for job ids it has forgotten; that means nothing is queued.
        if out.status.success() {
            for (job, tasks, state) in parse_squeue(&String::from_utf8_lossy(&out.stdout)) {
                for t in tasks {
                    found.insert((job.clone(), t), state.clone());
                }
            }
        }
        Ok(found)
    }

    fn scancel(jobs: &[&str]) {
        if !jobs.is_empty() {
            let _ = Command::new("scancel").args(jobs).status();
        }
    }

    /// Submits the runs of `runs` that no earlier submission still has queued, then
    /// follows every queued task until all have left the queue or `stop` is set (then
    /// cnnvar's tasks are cancelled and their runs stay incomplete).
    pub fn run(
        &self,
        study_name: &str,
        study_dir: &Path,
        runs: &[&PlannedRun],
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(SweepEvent),
    ) -> Result<ExecOutcome> {
        let mut subs = read_submissions(study_dir)?;
        let mut tasks = Self::still_queued(study_dir, &subs, runs)?;
        let in_flight: BTreeSet<&str> = tasks.iter().map(|t| t.run.as_str()).collect();
        let fresh: Vec<&PlannedRun> =
            runs.iter().copied().filter(|r| !in_flight.contains(r.run_id.as_str())).collect();
        if !fresh.is_empty() {
            let sub = self.submit(study_name, study_dir, &fresh)?;
            tasks.extend(Task::all_of(&sub, study_dir));
            subs.push(sub);
            write_submissions(study_dir, &subs)?;
        }
        self.follow(study_dir, runs, tasks, stop, on_event)
    }

    /// The tasks of earlier submissions that Slurm still has queued and whose run is
    /// one of `runs`: they are followed instead of submitted again.
    fn still_queued(
        study_dir: &Path,
        subs: &[Submission],
        runs: &[&PlannedRun],
    ) -> Result<Vec<Task>> {
        let wanted: BTreeSet<&str> = runs.iter().map(|r| r.run_id.as_str()).collect();
        let old_jobs: Vec<&str> = subs.iter().map(|s| s.job_id.as_str()).collect();
        let queued = Self::queued(&old_jobs)?;
        Ok(subs
            .iter()
            .flat_map(|s| Task::all_of(s, study_dir))
            .filter(|t| {
                queued.contains_key(&(t.job.clone(), t.index)) && wanted.contains(t.run.as_str())
            })
            .collect())
    }

    /// Writes the script for `fresh` and submits it as one job array.
    fn submit(
        &self,
        study_name: &str,
        study_dir: &Path,
        fresh: &[&PlannedRun],
    ) -> Result<Submission> {
        let script = self.write_script(study_name, study_dir, fresh)?;
        let job_id = self.sbatch(&script)?;
        Ok(Submission {
            job_id,
            script,
            runs: fresh.iter().map(|r| r.run_id.clone()).collect(),
            submitted_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        })
    }

    /// Polls `squeue` every [`Self::poll`] until every task has left the queue (each
    /// then counted by what its run directory holds) or `stop` is set.
    fn follow(
        &self,
        study_dir: &Path,
        runs: &[&PlannedRun],
        mut tasks: Vec<Task>,
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(SweepEvent),
    ) -> Result<ExecOutcome> {
        let mut progress = Reported {
            epochs: runs.iter().map(|r| (r.run_id.clone(), r.spec.epochs)).collect(),
            ..Reported::default()
        };
        let mut outcome = ExecOutcome::default();
        while !tasks.is_empty() {
            let jobs: BTreeSet<&str> = tasks.iter().map(|t| t.job.as_str()).collect();
            let jobs: Vec<&str> = jobs.into_iter().collect();
            if stop.load(Ordering::SeqCst) {
                Self::scancel(&jobs);
                outcome.interrupted += tasks.len();
                for t in tasks.drain(..) {
                    on_event(SweepEvent::Finished {
                        run_id: t.run,
                        outcome: RunOutcome::Interrupted,
                    });
                }
                break;
            }
            let queued = Self::queued(&jobs)?;
            let mut i = 0;
            while i < tasks.len() {
                let task = &tasks[i];
                let dir = RunDir::open(study_dir.join(&task.run));
                match queued.get(&(task.job.clone(), task.index)) {
                    Some(state) => {
                        progress.report(task, state, &dir, on_event);
                        i += 1;
                    }
                    None => {
                        let result = task.outcome(&dir);
                        outcome.count(&result);
                        if !progress.started.contains(&task.run) {
                            on_event(SweepEvent::Started { run_id: task.run.clone() });
                        }
                        on_event(SweepEvent::Finished {
                            run_id: task.run.clone(),
                            outcome: result,
                        });
                        tasks.swap_remove(i);
                    }
                }
            }
            if !tasks.is_empty() {
                std::thread::sleep(self.poll);
            }
        }
        Ok(outcome)
    }
}

/// One array task being followed.
struct Task {
    /// Slurm's job id of its array.
    job: String,
    /// Its index in the array.
    index: usize,
    /// The run it trains.
    run: String,
    /// Its log file.
    log: PathBuf,
}

impl Task {
    /// Every task of `sub`, in array order.
    fn all_of(sub: &Submission, study_dir: &Path) -> Vec<Task> {
        sub.runs
            .iter()
            .enumerate()
            .map(|(i, run)| Task {
                job: sub.job_id.clone(),
                index: i,
                run: run.clone(),
                log: sub.log(study_dir, i),
            })
            .collect()
    }

    /// What became of a task that left the queue: done when its run has a record,
    /// busy when another process holds the run's lock, else failed; a failure is
    /// written into the run directory with the task's log, for `cnnvar status`.
    fn outcome(&self, dir: &RunDir) -> RunOutcome {
        if matches!(dir.read_record(), Ok(Some(_))) {
            return RunOutcome::Done;
        }
        if dir.is_locked() {
            return RunOutcome::Busy;
        }
        let why = dir
            .read_failure()
            .map(|f| f.error)
            .unwrap_or_else(|| "ended without a record (cancelled, timed out or killed)".into());
        let error =
            format!("Slurm task {}_{}: {why}; log: {}", self.job, self.index, self.log.display());
        let _ = dir.write_failure(&Failure {
            exit_code: None,
            error: error.clone(),
            log: Some(self.log.clone()),
        });
        RunOutcome::Failed(error)
    }
}

/// What has been reported of the queued tasks so far, so each event is sent once.
#[derive(Default)]
struct Reported {
    /// The epochs each run trains for.
    epochs: BTreeMap<String, usize>,
    /// The runs whose `Started` was sent.
    started: BTreeSet<String>,
    /// The last epoch sent of each run.
    seen_epochs: BTreeMap<String, usize>,
}

impl Reported {
    /// Sends `Started` when a queued task first shows as running, and `Epoch` when its
    /// `curve.csv` has grown by an epoch since the last poll.
    fn report(
        &mut self,
        task: &Task,
        state: &str,
        dir: &RunDir,
        on_event: &mut dyn FnMut(SweepEvent),
    ) {
        let run = &task.run;
        if state == "RUNNING" && self.started.insert(run.clone()) {
            on_event(SweepEvent::Started { run_id: run.clone() });
        }
        if let Some((epoch, acc)) = last_epoch(dir.path())
            && self.seen_epochs.insert(run.clone(), epoch) != Some(epoch)
        {
            let total = self.epochs.get(run).copied().unwrap_or(epoch);
            on_event(SweepEvent::Epoch {
                run_id: run.clone(),
                epoch,
                epochs: total,
                test_accuracy: acc,
            });
        }
    }
}

/// The last epoch in a run's `curve.csv` and its test accuracy.
fn last_epoch(run_dir: &Path) -> Option<(usize, f64)> {
    let text = std::fs::read_to_string(run_dir.join(cnnvar_store::CURVE_FILE)).ok()?;
    let last = text.lines().rev().find_map(EpochRecord::from_curve_row)?;
    Some((last.epoch, last.test_accuracy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeue_lines_expand_to_tasks() {
        let text = "17_3 RUNNING\n17_[5-7,9%2] PENDING\n18 PENDING\n";
        let parsed = parse_squeue(text);
        assert_eq!(parsed[0], ("17".into(), vec![3], "RUNNING".into()));
        assert_eq!(parsed[1], ("17".into(), vec![5, 6, 7, 9], "PENDING".into()));
        assert_eq!(parsed[2], ("18".into(), vec![], "PENDING".into()));
    }

    #[test]
    fn script_runs_the_worker_for_its_task() {
        let exec = SlurmExecutor {
            options: SlurmOptions {
                partition: Some("gpu".into()),
                time: Some("01:00:00".into()),
                cpus_per_task: 4,
                max_parallel: Some(8),
            },
            worker: WorkerCommand {
                program: "/opt/cnnvar".into(),
                threads: 1,
                data_dir: Some("/data/my set".into()),
                report_progress: false,
                watch_parent: false,
                passive_wait: false,
            },
            poll: Duration::from_secs(1),
        };
        let s = exec.script(
            "seed",
            Path::new("/runs/seed"),
            Path::new("/runs/seed/slurm/tasks-1.txt"),
            50,
        );
        for line in [
            "#SBATCH --array=0-49%8",
            "#SBATCH --cpus-per-task=4",
            "#SBATCH --partition=gpu",
            "#SBATCH --time=01:00:00",
            "#SBATCH --output=/runs/seed/slurm/logs/%A_%a.log",
            "export OMP_NUM_THREADS=4",
            "exec /opt/cnnvar worker \"$run_dir\" --threads 4 --data-dir '/data/my set'",
        ] {
            assert!(s.lines().any(|l| l == line), "{line} missing from:\n{s}");
        }
        assert!(s.contains("SLURM_ARRAY_TASK_ID + 1"));
        assert!(!s.contains("OMP_WAIT_POLICY"), "{s}");
        let shared = SlurmExecutor {
            worker: WorkerCommand { passive_wait: true, ..exec.worker.clone() },
            ..exec.clone()
        };
        let s = shared.script("seed", Path::new("/r"), Path::new("/r/t"), 1);
        assert!(s.lines().any(|l| l == "export OMP_WAIT_POLICY=PASSIVE"), "{s}");
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("/a/b-c.txt"), "/a/b-c.txt");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
