//! A sweep's policy, for any front end: the plan with its overrides, the study
//! directory, how many workers and how they wait, which executor, which runs are still
//! to do and in what order, the rounds of an adaptive study ([`SweepSetup::run_rounds`]),
//! and what the sweep says at its end. Nothing here prints: a front end shows the values
//! it returns.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cnnvar_core::{Error, Result};

use super::adaptive;
use super::{ExecOutcome, LocalExecutor, SlurmExecutor, SlurmOptions, SweepEvent, WorkerCommand};
use cnnvar_analysis::decisions::StudyDecisions;
use cnnvar_core::study::{PlannedRun, Study, StudyOverrides};
use cnnvar_store::{Plan, Repair, RunDir, RunState, StudyDir, StudyFile};

/// What a sweep is asked to do (`cnnvar sweep`'s arguments).
#[derive(Clone, Debug)]
pub struct SweepRequest {
    /// The study file.
    pub study: PathBuf,
    /// Where study directories go.
    pub out: PathBuf,
    /// Shrink every run (`--quick`).
    pub quick: bool,
    /// Replicates per level, over the study file's.
    pub seeds: Option<usize>,
    /// Epochs of every run, over the study file's.
    pub epochs: Option<usize>,
    /// Local workers at a time; `None`: as many as the cores hold at
    /// `threads_per_job` each ([`default_jobs`]).
    pub jobs: Option<usize>,
    /// Compute threads per local worker.
    pub threads_per_job: usize,
    /// The data directory the workers are told (made absolute); for a study on an
    /// image folder, the folder, over the study file's `data_dir`
    /// ([`crate::folders::resolve_folders`]).
    pub data_dir: Option<PathBuf>,
    /// `Some`: run as a Slurm job array with these options; `None`: local workers.
    pub slurm: Option<SlurmOptions>,
    /// The executable the workers run (`PROGRAM worker RUN_DIR …`).
    pub program: PathBuf,
    /// The backend of every run (`--backend`), over the study file's.
    pub backend: Option<cnnvar_core::Backend>,
}

/// Which executor runs the pending runs.
#[derive(Clone, Debug)]
pub enum SweepExecutor {
    /// Worker processes on this machine.
    Local(LocalExecutor),
    /// A Slurm job array.
    Slurm(SlurmExecutor),
}

/// A sweep made ready from its [`SweepRequest`].
#[derive(Clone, Debug)]
pub struct SweepSetup {
    /// The study and its runs.
    pub plan: Plan,
    /// The study directory (absolute for Slurm, whose tasks start in other directories).
    pub dir: PathBuf,
    /// Where study directories go (the store the estimates calibrate on).
    pub out: PathBuf,
    /// Local workers at a time.
    pub jobs: usize,
    /// Compute threads per local worker, as asked.
    pub threads_per_job: usize,
    /// The executor.
    pub executor: SweepExecutor,
}

/// The runs of a sweep still to do.
#[derive(Clone, Debug)]
pub struct Todo<'a> {
    /// Distinct runs in the plan.
    pub total: usize,
    /// Those not complete, in plan order.
    pub runs: Vec<&'a PlannedRun>,
}

impl Todo<'_> {
    /// Runs complete before this sweep.
    pub fn already(&self) -> usize {
        self.total - self.runs.len()
    }
}

/// One round of a sweep: the runs it does and, for an adaptive study, the decisions
/// that asked for them. A fixed study's sweep is one round.
#[derive(Debug)]
pub struct Round<'a> {
    /// 1-based.
    pub number: usize,
    /// The runs of the plan as it stands this round, and those not complete.
    pub todo: Todo<'a>,
    /// The decisions from the records at the round's start (adaptive studies only).
    pub decisions: Option<StudyDecisions>,
    /// The damaged files moved aside before the round (their runs train again).
    pub repairs: Vec<Repair>,
}

/// Adds what one round's executor did to the sweep's total.
fn add(total: &mut ExecOutcome, round: &ExecOutcome) {
    total.done += round.done;
    total.failed += round.failed;
    total.busy += round.busy;
    total.done_elsewhere += round.done_elsewhere;
    total.interrupted += round.interrupted;
}

/// The cores this process may use.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Local workers when none are asked for: as many as `cores` hold at `threads_per_job`
/// threads each, at least one.
pub fn default_jobs(cores: usize, threads_per_job: usize) -> usize {
    (cores / threads_per_job.max(1)).max(1)
}

/// Whether `jobs` workers of `threads` threads share `cores` cores, so that OpenMP's
/// threads must wait passively ([`WorkerCommand::passive_wait`]).
pub fn passive_wait(jobs: usize, threads: usize, cores: usize) -> bool {
    jobs * threads > cores
}

/// The runs of `states` that are not complete (damaged, failed, running elsewhere or
/// pending), in their order.
pub fn pending<'a>(states: &[(&'a PlannedRun, RunState)]) -> Vec<&'a PlannedRun> {
    states.iter().filter(|(_, s)| *s != RunState::Done).map(|(r, _)| *r).collect()
}

/// A run as a person names it: `experiment level #replicate` (1-based).
pub fn label(run: &PlannedRun) -> String {
    format!("{} {} #{}", run.experiment, run.level, run.replicate + 1)
}

/// Every run id of `plan` with its [`label`].
pub fn labels(plan: &Plan) -> HashMap<String, String> {
    plan.runs.iter().map(|r| (r.run_id.clone(), label(r))).collect()
}

/// The line about a run that failed in a sweep: its label and id, the first line of
/// `why`, and where its log is (the failure note's, else the worker's log).
pub fn failure_line(study_dir: &Path, run_id: &str, label: &str, why: &str) -> String {
    let log = RunDir::open(study_dir.join(run_id))
        .read_failure()
        .and_then(|f| f.log)
        .unwrap_or_else(|| study_dir.join(run_id).join("worker.log"));
    let first = why.lines().next().unwrap_or("");
    format!("failed: {label} ({run_id}): {first}; log: {}", log.display())
}

impl SweepSetup {
    /// Loads and expands the study, and chooses the directory, the workers and the
    /// executor. Writes nothing.
    pub fn new(request: SweepRequest) -> Result<SweepSetup> {
        SweepSetup::with_cores(request, available_cores())
    }

    /// [`SweepSetup::new`] on a machine of `cores` cores.
    pub fn with_cores(r: SweepRequest, cores: usize) -> Result<SweepSetup> {
        let study = Study::load(&r.study)?;
        SweepSetup::for_study(study, r, cores)
    }

    /// [`SweepSetup::with_cores`] with the study already read (`r.study` is not read).
    /// A study on an image folder reads the folder here, for its checksum
    /// ([`crate::folders::resolve_folders`]).
    pub fn for_study(mut study: Study, r: SweepRequest, cores: usize) -> Result<SweepSetup> {
        // Checked before an image folder is read, so that a refused override reads nothing.
        study.check_overrides(r.seeds, r.epochs)?;
        crate::folders::resolve_folders(&mut study, r.data_dir.as_deref())?;
        crate::script::resolve_scripts(&mut study)?;
        let overrides = StudyOverrides { seeds: r.seeds, epochs: r.epochs, backend: r.backend };
        let plan = Plan::with_overrides(study, r.quick, &overrides)?;
        let dir = plan.dir(&r.out);
        let jobs = r.jobs.unwrap_or_else(|| default_jobs(cores, r.threads_per_job)).max(1);
        let data_dir = r.data_dir.map(|d| std::path::absolute(&d).unwrap_or(d));
        let (dir, executor) = match r.slurm {
            Some(options) => {
                let cpus = options.cpus_per_task.max(1);
                let slurm = SlurmExecutor {
                    options: SlurmOptions { cpus_per_task: cpus, ..options },
                    worker: WorkerCommand {
                        program: r.program,
                        threads: cpus,
                        data_dir,
                        // A task has no parent process following it.
                        report_progress: false,
                        watch_parent: false,
                        // Slurm gives each task its CPUs.
                        passive_wait: false,
                    },
                    poll: Duration::from_secs(2),
                };
                // Slurm tasks start in other directories: give them absolute paths.
                let dir = std::path::absolute(&dir).map_err(|e| Error::io(&dir, e))?;
                (dir, SweepExecutor::Slurm(slurm))
            }
            None => {
                let threads = r.threads_per_job.max(1);
                let local = LocalExecutor {
                    jobs,
                    worker: WorkerCommand {
                        program: r.program,
                        threads,
                        data_dir,
                        report_progress: true,
                        watch_parent: true,
                        passive_wait: passive_wait(jobs, threads, cores),
                    },
                };
                (dir, SweepExecutor::Local(local))
            }
        };
        Ok(SweepSetup { plan, dir, out: r.out, jobs, threads_per_job: r.threads_per_job, executor })
    }

    /// The study's name.
    pub fn name(&self) -> &str {
        &self.plan.study.name
    }

    /// The study directory.
    pub fn study_dir(&self) -> StudyDir {
        StudyDir::open(&self.dir)
    }

    /// The runs not complete now.
    pub fn todo(&self) -> Todo<'_> {
        let states = self.plan.states(&self.study_dir());
        Todo { total: states.len(), runs: pending(&states) }
    }

    /// With Slurm, `--dry-run`'s work: lays out the study directory and writes the
    /// job-array script of the runs to do without submitting it; returns how many runs
    /// it lists and the script. `None` with local workers (their dry run writes nothing).
    pub fn write_slurm_script(&self) -> Result<Option<(usize, PathBuf)>> {
        let SweepExecutor::Slurm(slurm) = &self.executor else { return Ok(None) };
        self.study_dir().lay_out(&self.plan)?;
        let todo = self.todo();
        let script = slurm.write_script(self.name(), &self.dir, &todo.runs)?;
        Ok(Some((todo.runs.len(), script)))
    }

    /// For an adaptive study: the decisions the records in the study directory make
    /// now ([`adaptive::decisions`]), with the plan expanded to the seeds they ask for
    /// (writes nothing). `None`, and the plan unchanged, for a fixed study.
    pub fn plan_round(&mut self) -> Option<StudyDecisions> {
        let decisions = adaptive::decisions(&self.plan, &self.study_dir())?;
        let now = self.plan.seeds();
        let mut seeds = now.clone();
        seeds.update(&decisions.seeds());
        if seeds != now {
            self.plan.set_seeds(&seeds);
        }
        Some(decisions)
    }

    /// Runs the sweep round by round, `round` executing each round's runs (the front
    /// end shows it; [`SweepSetup::execute`] runs it). Each round first plans from the
    /// records ([`SweepSetup::plan_round`]), lays the study directory out, repairs it
    /// and writes the decisions; a fixed study has one round. An adaptive study takes
    /// another round once every run of this one is complete, until its plan has nothing
    /// left to do, and stops after a round with failed or interrupted runs, runs left to
    /// another process, or `stop` set: its next sweep resumes from the records, to the
    /// same decisions. Returns what the executors did, summed.
    pub fn run_rounds(
        &mut self,
        stop: &AtomicBool,
        mut round: impl FnMut(&SweepSetup, Round<'_>) -> Result<ExecOutcome>,
    ) -> Result<ExecOutcome> {
        let mut total = ExecOutcome::default();
        for number in 1.. {
            let decisions = self.plan_round();
            let repairs = self.prepare()?;
            if let Some(d) = &decisions {
                adaptive::write_decisions(&self.study_dir(), d)?;
            }
            let todo = self.todo();
            if number > 1 && todo.runs.is_empty() {
                break;
            }
            let outcome = round(self, Round { number, todo, decisions, repairs })?;
            add(&mut total, &outcome);
            let clean = outcome.failed == 0 && outcome.interrupted == 0 && outcome.busy == 0;
            let adaptive = self.plan.study.adaptive.is_some();
            if !adaptive || !clean || stop.load(Ordering::SeqCst) || !self.todo().runs.is_empty() {
                if let Some(d) = adaptive::decisions(&self.plan, &self.study_dir()) {
                    adaptive::write_decisions(&self.study_dir(), &d)?;
                }
                break;
            }
        }
        Ok(total)
    }

    /// Lays out the study directory and moves damaged files aside, the study
    /// directory's own (rebuilt where they can be) and the runs' (so that the runs train
    /// again); returns what was moved.
    pub fn prepare(&self) -> Result<Vec<Repair>> {
        let mut repairs = self.study_dir().lay_out(&self.plan)?;
        repairs.extend(self.plan.repair(&self.study_dir())?);
        Ok(repairs)
    }

    /// The sweep's opening line: its runs, where, and how they are executed.
    pub fn header(&self, todo: &Todo<'_>) -> String {
        let how = match &self.executor {
            SweepExecutor::Slurm(s) => format!(
                "as a Slurm job array, {} CPUs per task{}",
                s.options.cpus_per_task,
                s.options
                    .max_parallel
                    .map(|k| format!(", at most {k} at once"))
                    .unwrap_or_default()
            ),
            SweepExecutor::Local(_) => {
                format!("{} jobs × {} threads", self.jobs, self.threads_per_job)
            }
        };
        format!(
            "study {}: {} runs ({} done already, {} to do) in {}, {how}",
            self.name(),
            todo.total,
            todo.already(),
            todo.runs.len(),
            self.dir.display(),
        )
    }

    /// Executes `runs` until all ended or `stop` is set: Slurm in plan order, local
    /// workers longest first (so that the last runs to finish are short ones).
    pub fn execute(
        &self,
        runs: Vec<&PlannedRun>,
        stop: &AtomicBool,
        on_event: &mut dyn FnMut(SweepEvent),
    ) -> Result<ExecOutcome> {
        match &self.executor {
            SweepExecutor::Slurm(s) => s.run(self.name(), &self.dir, &runs, stop, on_event),
            SweepExecutor::Local(local) => {
                let mut runs = runs;
                super::longest_first(&mut runs);
                local.run(&self.dir, &runs, stop, on_event)
            }
        }
    }

    /// Rewrites `results.csv` from the records; returns its rows.
    pub fn write_results(&self) -> Result<usize> {
        self.study_dir().write_results_csv(&self.plan)
    }

    /// The sweep's summary, with `outcome` of its executor. The runs are counted now,
    /// not from the start: a concurrent sweep may have completed runs, or finished
    /// those it was running when this one looked.
    pub fn summary(&self, mut outcome: ExecOutcome, interrupted: bool) -> SweepSummary {
        let now = self.plan.states(&self.study_dir());
        outcome.busy = now.iter().filter(|(_, s)| *s == RunState::Running).count();
        SweepSummary {
            study: self.name().to_string(),
            complete: now.iter().filter(|(_, s)| *s == RunState::Done).count(),
            total: now.len(),
            outcome,
            interrupted,
            results: self.study_dir().file(StudyFile::Results),
        }
    }
}

/// How a sweep ended; its [`Display`](fmt::Display) is the sweep's last line.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSummary {
    /// The study's name.
    pub study: String,
    /// Runs complete now, by whichever process.
    pub complete: usize,
    /// Distinct runs in the plan.
    pub total: usize,
    /// What this sweep's executor did (`busy`: runs another process is running now).
    pub outcome: ExecOutcome,
    /// Whether the sweep was interrupted.
    pub interrupted: bool,
    /// The study's `results.csv`.
    pub results: PathBuf,
}

impl fmt::Display for SweepSummary {
    /// What is complete now, and what this sweep itself did.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.outcome;
        write!(
            f,
            "{}: {} of {} runs complete ({} trained by this sweep",
            self.study, self.complete, self.total, o.done
        )?;
        if o.done_elsewhere > 0 {
            write!(f, ", {} by another process", o.done_elsewhere)?;
        }
        write!(f, "), {} failed", o.failed)?;
        if o.busy > 0 {
            write!(f, ", {} being run by another process", o.busy)?;
        }
        if self.interrupted {
            write!(f, ", interrupted (rerun the same command to resume)")?;
        }
        write!(f, "; results: {}", self.results.display())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use cnnvar_core::RunSpec;

    use super::*;
    use cnnvar_core::study::{Experiment, ExperimentKind, Level};

    /// Two levels of `lr`, two seeds, three epochs. Built, not parsed: parsing checks
    /// that the study's backend is compiled in, and without `train` none is.
    fn study() -> Study {
        let level = |lr: f64| Level {
            label: lr.to_string(),
            values: [("lr".to_string(), lr.into())].into_iter().collect(),
            spec: RunSpec { lr, epochs: 3, ..RunSpec::default() },
        };
        Study {
            name: "s".into(),
            description: String::new(),
            seeds: 2,
            adaptive: None,
            seed: 0,
            paired_seeds: true,
            margin: cnnvar_core::study::DEFAULT_MARGIN,
            experiments: vec![Experiment {
                name: "a".into(),
                title: "lr".into(),
                claim: None,
                checks: vec![],
                expect_best: None,
                kind: ExperimentKind::Factor,
                factors: vec!["lr".into()],
                levels: vec![level(0.1), level(0.01)],
            }],
            source: "s.toml".into(),
        }
    }

    fn request(tmp: &Path, slurm: Option<SlurmOptions>) -> SweepRequest {
        SweepRequest {
            study: tmp.join("s.toml"),
            out: tmp.join("runs"),
            quick: false,
            seeds: None,
            epochs: Some(1),
            jobs: None,
            threads_per_job: 2,
            data_dir: Some("data".into()),
            slurm,
            program: "cnnvar".into(),
            backend: None,
        }
    }

    fn setup(r: SweepRequest, cores: usize) -> SweepSetup {
        SweepSetup::for_study(study(), r, cores).expect("setup")
    }

    #[test]
    fn jobs_default_to_the_cores_and_share_them_passively() {
        assert_eq!(default_jobs(8, 2), 4);
        assert_eq!(default_jobs(3, 2), 1);
        assert_eq!(default_jobs(1, 4), 1, "always one job");
        assert_eq!(default_jobs(4, 0), 4, "0 threads count as 1");
        assert!(!passive_wait(4, 2, 8), "cores of their own: spin, then sleep");
        assert!(passive_wait(4, 3, 8), "shared cores: sleep at once");
        assert!(!passive_wait(1, 1, 1));
    }

    #[test]
    fn only_complete_runs_are_left_out() {
        let plan = Plan::new(study(), false);
        let states: Vec<(&PlannedRun, RunState)> = plan
            .runs
            .iter()
            .zip([RunState::Done, RunState::Damaged, RunState::Running, RunState::Done])
            .collect();
        let todo = pending(&states);
        let ids: Vec<&str> = todo.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids, [plan.runs[1].run_id.as_str(), plan.runs[2].run_id.as_str()]);
        let todo = Todo { total: states.len(), runs: todo };
        assert_eq!(todo.already(), 2);
        assert_eq!(label(&plan.runs[3]), format!("a {} #2", plan.runs[3].level));
    }

    #[test]
    fn local_setup_uses_the_cores_and_absolute_data() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let setup1 = setup(request(tmp.path(), None), 6);
        assert_eq!(setup1.dir, tmp.path().join("runs").join("s-e1"));
        assert!(setup1.plan.runs.iter().all(|r| r.spec.epochs == 1));
        assert_eq!(setup1.jobs, 3);
        let SweepExecutor::Local(local) = &setup1.executor else { panic!("local") };
        assert_eq!((local.jobs, local.worker.threads, local.worker.passive_wait), (3, 2, false));
        assert!(local.worker.data_dir.as_deref().is_some_and(Path::is_absolute));
        assert!(local.worker.report_progress && local.worker.watch_parent);
        let shared = setup(SweepRequest { jobs: Some(4), ..request(tmp.path(), None) }, 6);
        let SweepExecutor::Local(local) = &shared.executor else { panic!("local") };
        assert!(local.worker.passive_wait, "4 × 2 threads on 6 cores");
        let todo = shared.todo();
        assert_eq!((todo.total, todo.runs.len()), (4, 4));
        assert_eq!(
            shared.header(&todo),
            format!(
                "study s: 4 runs (0 done already, 4 to do) in {}, 4 jobs × 2 threads",
                shared.dir.display()
            )
        );
        assert!(!shared.dir.exists(), "setting up writes nothing");
        assert!(shared.write_slurm_script().expect("no script").is_none());
    }

    #[test]
    fn slurm_setup_is_absolute_and_gives_each_task_its_cpus() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let options =
            SlurmOptions { cpus_per_task: 0, max_parallel: Some(3), ..Default::default() };
        let r = SweepRequest { out: "runs".into(), ..request(tmp.path(), Some(options)) };
        let setup = setup(r, 6);
        assert!(setup.dir.is_absolute());
        let SweepExecutor::Slurm(slurm) = &setup.executor else { panic!("slurm") };
        assert_eq!((slurm.options.cpus_per_task, slurm.worker.threads), (1, 1));
        assert!(!slurm.worker.passive_wait);
        assert!(!slurm.worker.report_progress && !slurm.worker.watch_parent);
        let header = setup.header(&setup.todo());
        assert!(
            header.ends_with(", as a Slurm job array, 1 CPUs per task, at most 3 at once"),
            "{header}"
        );
    }

    #[test]
    fn a_setup_refuses_overrides_the_study_forbids() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let r = SweepRequest { seeds: Some(100_000_000), ..request(tmp.path(), None) };
        assert!(SweepSetup::for_study(study(), r, 2).is_err());
        let r = SweepRequest { epochs: Some(0), ..request(tmp.path(), None) };
        assert!(SweepSetup::for_study(study(), r, 2).is_err());
    }

    /// A fake executor for adaptive rounds: records every run of the round with a test
    /// accuracy by experiment, level and replicate ("clear": 90% against 70%; "close":
    /// 80% with a small wobble), unless `upto` says to stop after so many runs (as if
    /// killed: the rest stay pending and the round reports them interrupted).
    fn fake_round(
        s: &SweepSetup,
        round: Round<'_>,
        upto: Option<usize>,
        seen: &mut Vec<BTreeMap<String, usize>>,
    ) -> Result<ExecOutcome> {
        seen.push(s.plan.seeds().as_map().clone());
        let mut outcome = ExecOutcome::default();
        for (i, run) in round.todo.runs.iter().enumerate() {
            if upto.is_some_and(|n| i >= n) {
                outcome.interrupted += 1;
                continue;
            }
            let wobble = [0.3, -0.9, 0.6, -0.2, 0.8, -0.7, 0.1, -0.4, 0.5][run.replicate % 9];
            let mut rec = cnnvar_core::testing::record_of(&run.spec);
            rec.test_accuracy = match run.experiment.as_str() {
                "clear" => 0.9 - 0.2 * run.level_index as f64,
                _ => 0.8 + 0.005 * wobble * run.level_index as f64,
            };
            RunDir::open(s.dir.join(&run.run_id)).write_record(&rec)?;
            outcome.done += 1;
        }
        Ok(outcome)
    }

    fn adaptive_setup(tmp: &Path) -> SweepSetup {
        let mut study = cnnvar_core::testing::adaptive_study(&[("clear", 2), ("close", 2)]);
        let a = study.adaptive.as_mut().expect("adaptive");
        a.resolve.get_mut("close").expect("close").delta = 0.0;
        SweepSetup::for_study(study, request(tmp, None), 2).expect("setup")
    }

    /// Round by round, only the open experiment gets more seeds (2 a time), up to
    /// `max`; the decided one keeps its 3; a rerun finds nothing to do.
    #[test]
    fn adaptive_rounds_add_seeds_to_open_experiments_only() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut setup = adaptive_setup(tmp.path());
        let mut seen = Vec::new();
        let stop = AtomicBool::new(false);
        let total =
            setup.run_rounds(&stop, |s, r| fake_round(s, r, None, &mut seen)).expect("runs");
        let seeds = |clear: usize, close: usize| {
            BTreeMap::from([("clear".to_string(), clear), ("close".to_string(), close)])
        };
        assert_eq!(seen, [seeds(3, 3), seeds(3, 5), seeds(3, 7), seeds(3, 9)]);
        assert_eq!(total.done, 2 * 3 + 2 * 9);
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(setup.study_dir().file(StudyFile::DecisionsJson))
                .expect("decisions.json"),
        )
        .expect("parses");
        assert_eq!(json["finished"], true);
        assert_eq!(json["experiments"][0]["comparisons"][0]["verdict"], "larger");
        assert_eq!(json["experiments"][0]["runs_saved"], 2 * 9 - 2 * 3);
        assert_eq!(json["experiments"][1]["comparisons"][0]["verdict"], "undecided");
        assert!(setup.study_dir().file(StudyFile::DecisionsCsv).exists());
        assert_eq!(setup.study_dir().plan().expect("plan").seeds().as_map(), &seeds(3, 9));
        let mut again = adaptive_setup(tmp.path());
        let mut rerun = Vec::new();
        let total = again.run_rounds(&stop, |s, r| fake_round(s, r, None, &mut rerun)).expect("ok");
        assert_eq!((rerun, total.done), (vec![seeds(3, 9)], 0), "one round, nothing to do");
    }

    /// A sweep stopped part-way through a round takes no further round; the next one
    /// starts from the records with the same seeds and ends with the same decisions as
    /// an uninterrupted sweep.
    #[test]
    fn an_interrupted_adaptive_sweep_resumes_to_the_same_decisions() {
        let (whole, cut) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
        let stop = AtomicBool::new(false);
        let mut setup = adaptive_setup(whole.path());
        setup.run_rounds(&stop, |s, r| fake_round(s, r, None, &mut Vec::new())).expect("runs");
        let mut seen = Vec::new();
        let mut first = adaptive_setup(cut.path());
        let mut rounds = 0;
        first
            .run_rounds(&stop, |s, r| {
                rounds += 1;
                // The second round stops after one run of its two.
                fake_round(s, r, (rounds == 2).then_some(1), &mut seen)
            })
            .expect("runs");
        assert_eq!(seen.len(), 2, "no round after an interrupted one");
        let mut resumed = adaptive_setup(cut.path());
        resumed.run_rounds(&stop, |s, r| fake_round(s, r, None, &mut seen)).expect("runs");
        assert_eq!(seen[2], seen[1], "the resumed sweep starts where the first stopped");
        let read = |d: &Path| {
            std::fs::read(StudyDir::open(d).file(StudyFile::DecisionsJson)).expect("decisions")
        };
        assert_eq!(read(&setup.dir), read(&resumed.dir));
    }

    #[test]
    fn the_summary_says_what_is_complete_and_what_this_sweep_did() {
        let mut s = SweepSummary {
            study: "seed".into(),
            complete: 3,
            total: 4,
            outcome: ExecOutcome { done: 2, failed: 1, ..ExecOutcome::default() },
            interrupted: false,
            results: "runs/seed/results.csv".into(),
        };
        assert_eq!(
            s.to_string(),
            "seed: 3 of 4 runs complete (2 trained by this sweep), 1 failed; \
             results: runs/seed/results.csv"
        );
        s.outcome.done_elsewhere = 1;
        s.outcome.busy = 2;
        s.interrupted = true;
        assert_eq!(
            s.to_string(),
            "seed: 3 of 4 runs complete (2 trained by this sweep, 1 by another process), \
             1 failed, 2 being run by another process, interrupted (rerun the same command \
             to resume); results: runs/seed/results.csv"
        );
    }

    /// One run complete, one held by another process: the summary counts them as they
    /// are when it is made, whatever the executor said.
    #[test]
    fn a_summary_counts_the_runs_as_they_are_now() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let setup = setup(request(tmp.path(), None), 2);
        assert!(setup.prepare().expect("lays out").is_empty());
        let first = &setup.plan.runs[0];
        RunDir::open(setup.dir.join(&first.run_id))
            .write_record(&cnnvar_core::testing::record_of(&first.spec))
            .expect("record");
        let held = RunDir::open(setup.dir.join(&setup.plan.runs[1].run_id));
        let _lock = held.try_lock().expect("locks").expect("free");
        assert_eq!(setup.todo().runs.len(), 3);
        let s = setup.summary(ExecOutcome { done: 1, busy: 9, ..ExecOutcome::default() }, false);
        assert_eq!((s.complete, s.total, s.outcome.busy), (1, 4, 1));
        assert_eq!(s.results, setup.dir.join("results.csv"));
        assert_eq!(setup.write_results().expect("results"), 1);
        let line = failure_line(&setup.dir, "r1", "a x #1", "boom\nmore");
        let log = setup.dir.join("r1").join("worker.log");
        assert_eq!(line, format!("failed: a x #1 (r1): boom; log: {}", log.display()));
    }
}
