//! Running a study: expand it, lay out the run store, execute the pending runs in worker
//! processes, and summarise the results.
//!
//! The study directory (`<out>/<study name>`, `-quick` appended for `--quick`) holds:
//! - `study.toml`: a copy of the study file;
//! - `plan.json`: the study and every planned run (experiment, level, replicate, run id);
//! - one directory per run (see [`crate::store`]);
//! - `results.csv`: one row per planned run with a complete record;
//! - with adaptive seeding, `decisions.json` and `decisions.csv`: each experiment's
//!   decisions so far ([`adaptive`]);
//! - `slurm/`: with the Slurm executor, the batch scripts, task lists, logs and
//!   `submissions.json`.

// The cost model counts the models' FLOPs (cnnvar-models, which is burn's side).
pub mod adaptive;
#[cfg(feature = "train")]
mod estimate;
mod executor;
pub mod orchestrate;
mod results;
pub mod slurm;
pub mod worker;

#[cfg(feature = "train")]
pub use estimate::{Estimate, estimate, longest_first};
pub use executor::{
    EXIT_ALREADY_COMPLETE, EXIT_BUSY, Event, ExecOutcome, LocalExecutor, RunOutcome, WorkerCommand,
    epoch_line, parse_epoch_line,
};
pub use orchestrate::{SweepExecutor, SweepRequest, SweepSetup, SweepSummary, Todo};
pub use results::{load_results, write_results_csv};
pub use slurm::{SlurmExecutor, SlurmOptions};
#[cfg(feature = "train")]
pub use worker::run_worker;
pub use worker::{WorkerEvent, WorkerOutcome, run_worker_with};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cnnvar_core::{Error, Result, write_atomic};
use serde::{Deserialize, Serialize};

use crate::store::{Damage, RunDir, RunState};
use crate::study::{PlannedRun, QuickScale, Study, expand, expand_with};

/// The file that lists a study's planned runs.
pub const PLAN_FILE: &str = "plan.json";

/// A study and its expansion, as stored in `plan.json`. An adaptive study's plan holds
/// the seeds of each experiment so far ([`Plan::set_seeds`]); the sweep recomputes them
/// from the records ([`adaptive::decisions`]) whenever it starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    /// The study.
    pub study: Study,
    /// Whether the runs were shrunk by `--quick`.
    pub quick: bool,
    /// Replicates per level set by `--seeds`, over the study file's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds_override: Option<usize>,
    /// Epochs of every run set by `--epochs`, over the study file's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs_override: Option<usize>,
    /// The backend of every run set by `--backend`, over the study file's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_override: Option<cnnvar_core::Backend>,
    /// Every planned run (a run id may appear under several experiments).
    pub runs: Vec<PlannedRun>,
}

impl Plan {
    /// Expands `study`.
    pub fn new(study: Study, quick: bool) -> Plan {
        Plan::with_overrides(study, quick, None, None)
    }

    /// Expands `study` with its seed count and every run's epochs replaced where given
    /// (a shorter version of a study; its directory name says so). `seeds` on an
    /// adaptive study makes it a fixed study of that many seeds (the same runs as the
    /// adaptive design's first replicates, without its decisions).
    pub fn with_overrides(
        mut study: Study,
        quick: bool,
        seeds: Option<usize>,
        epochs: Option<usize>,
    ) -> Plan {
        if let Some(n) = seeds {
            study.seeds = n.max(1);
            study.adaptive = None;
        }
        if let Some(e) = epochs {
            for level in study.experiments.iter_mut().flat_map(|x| x.levels.iter_mut()) {
                level.spec.epochs = e.max(1);
            }
        }
        let runs = expand(&study, quick.then(QuickScale::default));
        Plan {
            study,
            quick,
            seeds_override: seeds,
            epochs_override: epochs,
            backend_override: None,
            runs,
        }
    }

    /// This plan with every run on `backend` (`--backend`): the runs are new runs, with
    /// their own ids, in the same study directory.
    pub fn on_backend(mut self, backend: cnnvar_core::Backend) -> Plan {
        for level in self.study.experiments.iter_mut().flat_map(|x| x.levels.iter_mut()) {
            level.spec.backend = backend;
        }
        let seeds = self.seeds();
        let mut plan =
            Plan::with_overrides(self.study, self.quick, self.seeds_override, self.epochs_override);
        plan.backend_override = Some(backend);
        plan.set_seeds(&seeds);
        plan
    }

    /// Replicates of each experiment's levels in the plan, by experiment name.
    pub fn seeds(&self) -> BTreeMap<String, usize> {
        let mut seeds: BTreeMap<String, usize> =
            self.study.experiments.iter().map(|e| (e.name.clone(), 0)).collect();
        for r in &self.runs {
            let n = seeds.entry(r.experiment.clone()).or_default();
            *n = (*n).max(r.replicate + 1);
        }
        seeds
    }

    /// Expands the study again with `seeds[experiment]` replicates of each experiment
    /// named (the others keep theirs): replicate r's runs are the same runs at any count.
    pub fn set_seeds(&mut self, seeds: &BTreeMap<String, usize>) {
        let now = self.seeds();
        let of = |e: &crate::study::Experiment| {
            seeds.get(&e.name).or(now.get(&e.name)).copied().unwrap_or(self.study.seeds)
        };
        self.runs = expand_with(&self.study, self.quick.then(QuickScale::default), of);
    }

    /// The command-line options that made this plan from its study file.
    pub fn options(&self) -> String {
        let mut s = String::new();
        if self.quick {
            s += " --quick";
        }
        if let Some(n) = self.seeds_override {
            s += &format!(" --seeds {n}");
        }
        if let Some(e) = self.epochs_override {
            s += &format!(" --epochs {e}");
        }
        if let Some(b) = self.backend_override {
            s += &format!(" --backend {b}");
        }
        s
    }

    /// The study directory under `out`: the study's name, with `-quick`, `-sN`
    /// (`--seeds N`) and `-eM` (`--epochs M`) appended as they apply.
    pub fn dir(&self, out: &Path) -> PathBuf {
        let mut name = self.study.name.clone();
        if self.quick {
            name += "-quick";
        }
        if let Some(n) = self.seeds_override {
            name += &format!("-s{n}");
        }
        if let Some(e) = self.epochs_override {
            name += &format!("-e{e}");
        }
        out.join(name)
    }

    /// Distinct runs, in plan order.
    pub fn unique_runs(&self) -> Vec<&PlannedRun> {
        let mut seen = std::collections::HashSet::new();
        self.runs.iter().filter(|r| seen.insert(r.run_id.clone())).collect()
    }

    /// Reads `plan.json` from a study directory.
    pub fn load(study_dir: &Path) -> Result<Plan> {
        let p = study_dir.join(PLAN_FILE);
        let text = std::fs::read_to_string(&p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::data(&p, "not a cnnvar study directory (no plan.json); run `cnnvar sweep STUDY.toml` first")
            } else {
                Error::io(&p, e)
            }
        })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::data(&p, format!("unreadable plan (line {}): {e}", e.line())))
    }

    /// Writes the study directory's skeleton: `plan.json`, `study.toml` and every run's
    /// directory with its `spec.json`. Existing runs are untouched.
    pub fn lay_out(&self, study_dir: &Path) -> Result<()> {
        std::fs::create_dir_all(study_dir).map_err(|e| Error::io(study_dir, e))?;
        let json = serde_json::to_string_pretty(self).map_err(|e| Error::encode(PLAN_FILE, e))?;
        write_if_changed(&study_dir.join(PLAN_FILE), json.as_bytes())?;
        if let Ok(text) = std::fs::read(&self.study.source) {
            write_if_changed(&study_dir.join("study.toml"), &text)?;
        }
        for run in self.unique_runs() {
            RunDir::create(study_dir, &run.spec)?;
        }
        Ok(())
    }

    /// Moves every damaged `spec.json` and `record.json` of the plan's runs aside
    /// ([`RunDir::move_aside`]: never deleted) and writes the spec afresh, so that the
    /// run trains again; returns what was moved. Runs another process holds the lock of
    /// are left alone. Call it after [`Plan::lay_out`].
    pub fn repair(&self, study_dir: &Path) -> Result<Vec<Repair>> {
        let mut repairs = Vec::new();
        for run in self.unique_runs() {
            let dir = RunDir::open(study_dir.join(&run.run_id));
            if dir.damage().is_empty() {
                continue;
            }
            let Some(_lock) = dir.try_lock()? else { continue };
            for damage in dir.damage() {
                let moved_to = dir.move_aside(&damage.file)?;
                repairs.push(Repair { run_id: run.run_id.clone(), damage, moved_to });
            }
            RunDir::create(study_dir, &run.spec)?;
        }
        Ok(repairs)
    }

    /// The plan's runs with damaged files, each with the files and why.
    pub fn damaged(&self, study_dir: &Path) -> Vec<(&PlannedRun, Vec<Damage>)> {
        self.unique_runs()
            .into_iter()
            .map(|r| (r, RunDir::open(study_dir.join(&r.run_id)).damage()))
            .filter(|(_, d)| !d.is_empty())
            .collect()
    }

    /// Each distinct run with where it stands.
    pub fn states(&self, study_dir: &Path) -> Vec<(&PlannedRun, RunState)> {
        self.unique_runs()
            .into_iter()
            .map(|r| (r, RunDir::open(study_dir.join(&r.run_id)).state()))
            .collect()
    }
}

/// A damaged file of a run that [`Plan::repair`] moved aside.
#[derive(Clone, Debug, PartialEq)]
pub struct Repair {
    /// The run, which trains again.
    pub run_id: String,
    /// The file and what was wrong with it.
    pub damage: Damage,
    /// Where the file is now.
    pub moved_to: PathBuf,
}

/// Writes `bytes` to `path` atomically unless the file already holds exactly them, so
/// that resuming a study writes nothing it need not (a resumed sweep on a full disk gets
/// as far as its first new result).
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    write_atomic(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A truncated record and a garbage spec are moved aside (kept), the spec is
    /// written again, and the run is pending; a good run is untouched.
    #[test]
    fn repair_moves_damaged_files_aside_and_rewrites_the_spec() {
        let text = "seeds = 1\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01, 0.001] }\n";
        let plan =
            Plan::new(crate::study::parse(text, Path::new("s.toml")).expect("parses"), false);
        let tmp = tempfile::tempdir().expect("temp dir");
        plan.lay_out(tmp.path()).expect("lay out");
        let ids: Vec<&str> = plan.runs.iter().map(|r| r.run_id.as_str()).collect();
        let good = RunDir::open(tmp.path().join(ids[0]));
        good.write_record(&crate::store::tests::record_of(&plan.runs[0].spec)).expect("write");
        let truncated = tmp.path().join(ids[1]).join(crate::store::RECORD_FILE);
        let full = crate::store::tests::record_of(&plan.runs[1].spec).to_json();
        std::fs::write(&truncated, &full[..full.len() / 2]).expect("write");
        let garbage = tmp.path().join(ids[2]).join(crate::store::SPEC_FILE);
        std::fs::write(&garbage, "\u{0}\u{1}garbage").expect("write");
        let damaged: Vec<&str> =
            plan.damaged(tmp.path()).iter().map(|(r, _)| r.run_id.as_str()).collect();
        assert_eq!(damaged, &ids[1..]);
        let repairs = plan.repair(tmp.path()).expect("repairs");
        let moved: Vec<(&str, &Path)> =
            repairs.iter().map(|r| (r.run_id.as_str(), r.damage.file.as_path())).collect();
        assert_eq!(moved, [(ids[1], truncated.as_path()), (ids[2], garbage.as_path())]);
        assert_eq!(std::fs::read(&repairs[1].moved_to).expect("kept"), b"\0\x01garbage");
        let states: Vec<RunState> = plan.states(tmp.path()).into_iter().map(|(_, s)| s).collect();
        assert_eq!(states, [RunState::Done, RunState::Pending, RunState::Pending]);
        assert_eq!(
            RunDir::open(tmp.path().join(ids[2])).read_spec().expect("rewritten"),
            plan.runs[2].spec
        );
        assert!(plan.repair(tmp.path()).expect("nothing left").is_empty());
    }

    #[test]
    fn overrides_shorten_a_study_into_its_own_directory() {
        let text = "seeds = 5\n[base]\nepochs = 10\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n";
        let study = crate::study::parse(text, Path::new("s.toml")).expect("parses");
        let full = Plan::new(study.clone(), false);
        let short = Plan::with_overrides(study, false, Some(3), Some(2));
        assert_eq!((full.runs.len(), short.runs.len()), (10, 6));
        assert!(short.runs.iter().all(|r| r.spec.epochs == 2));
        assert_eq!(short.dir(Path::new("runs")), Path::new("runs/s-s3-e2"));
        assert_eq!(full.dir(Path::new("runs")), Path::new("runs/s"));
        assert_eq!(short.options(), " --seeds 3 --epochs 2");
        let flex = short.clone().on_backend(cnnvar_core::Backend::Ndarray);
        assert!(flex.runs.iter().all(|r| r.spec.backend == cnnvar_core::Backend::Ndarray));
        assert!(flex.runs.iter().all(|r| r.spec.epochs == 2));
        assert_eq!(flex.dir(Path::new("runs")), Path::new("runs/s-s3-e2"));
        assert_eq!(flex.options(), " --seeds 3 --epochs 2 --backend ndarray");
        // The first replicates keep their seeds, so a short study is a prefix of the full one.
        assert_eq!(short.runs[0].spec.init_seed, full.runs[0].spec.init_seed);
    }
}
