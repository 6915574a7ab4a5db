//! `plan.json`: a study and its expansion into runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cnnvar_core::study::{Experiment, PlannedRun, QuickScale, Study, expand, expand_with};
use cnnvar_core::{Backend, DatasetName, Result};
use serde::{Deserialize, Serialize};

use crate::{Damage, RunDir, RunState, StudyDir};

/// A study and its expansion, as stored in `plan.json`. An adaptive study's plan holds
/// the seeds of each experiment so far ([`Plan::set_seeds`]); the sweep recomputes them
/// from the records whenever it starts.
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
    pub backend_override: Option<Backend>,
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
    pub fn on_backend(mut self, backend: Backend) -> Plan {
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
        let of = |e: &Experiment| {
            seeds.get(&e.name).or(now.get(&e.name)).copied().unwrap_or(self.study.seeds)
        };
        self.runs = expand_with(&self.study, self.quick.then(QuickScale::default), of);
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

    /// This plan with `max` seeds of every experiment of an adaptive study (the runs
    /// its decisions may read, whatever the plan holds now); `None` for a fixed study.
    pub fn at_max_seeds(&self) -> Option<Plan> {
        let a = self.study.adaptive.as_ref()?;
        let mut full = self.clone();
        full.set_seeds(&self.study.experiments.iter().map(|e| (e.name.clone(), a.max)).collect());
        Some(full)
    }

    /// The image folder a study on one was planned on: the `data_dir` every level on a
    /// folder records (absolute), when they all record the same one. `None` for a study
    /// on named data sets, and for one whose levels name several folders (the study
    /// file names them then).
    pub fn folder_data_dir(&self) -> Option<&Path> {
        let mut dirs = self
            .study
            .experiments
            .iter()
            .flat_map(|e| &e.levels)
            .filter(|l| l.spec.dataset == DatasetName::Folder)
            .map(|l| l.spec.data_dir.as_deref());
        let first = dirs.next()??;
        dirs.all(|d| d == Some(first)).then_some(first)
    }

    /// The sweep that made this plan from its study file into `out` (the parent of its
    /// study directory): what reproduces it.
    pub fn sweep_line(&self, out: &Path) -> crate::SweepLine {
        crate::SweepLine {
            study_file: self.study.source.clone(),
            quick: self.quick,
            seeds: self.seeds_override,
            epochs: self.epochs_override,
            backend: self.backend_override,
            data_dir: self.folder_data_dir().map(Path::to_path_buf),
            out: out.to_path_buf(),
        }
    }

    /// Distinct runs, in plan order.
    pub fn unique_runs(&self) -> Vec<&PlannedRun> {
        let mut seen = std::collections::HashSet::new();
        self.runs.iter().filter(|r| seen.insert(r.run_id.clone())).collect()
    }

    /// Moves every damaged `spec.json` and `record.json` of the plan's runs aside
    /// ([`RunDir::move_aside`]: never deleted) and writes the spec afresh, so that the
    /// run trains again; returns what was moved. Runs another process holds the lock of
    /// are left alone. Call it after [`StudyDir::lay_out`].
    pub fn repair(&self, study: &StudyDir) -> Result<Vec<Repair>> {
        let mut repairs = Vec::new();
        for run in self.unique_runs() {
            let dir = study.run(&run.run_id);
            if dir.damage().is_empty() {
                continue;
            }
            let Some(_lock) = dir.try_lock()? else { continue };
            for damage in dir.damage() {
                let moved_to = dir.move_aside(&damage.file)?;
                repairs.push(Repair { run_id: run.run_id.clone(), damage, moved_to });
            }
            RunDir::create(study.path(), &run.spec)?;
        }
        Ok(repairs)
    }

    /// The plan's runs with damaged files, each with the files and why.
    pub fn damaged(&self, study: &StudyDir) -> Vec<(&PlannedRun, Vec<Damage>)> {
        self.unique_runs()
            .into_iter()
            .map(|r| (r, study.run(&r.run_id).damage()))
            .filter(|(_, d)| !d.is_empty())
            .collect()
    }

    /// Each distinct run with where it stands.
    pub fn states(&self, study: &StudyDir) -> Vec<(&PlannedRun, RunState)> {
        self.unique_runs().into_iter().map(|r| (r, study.run(&r.run_id).state())).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A truncated record and a garbage spec are moved aside (kept), the spec is
    /// written again, and the run is pending; a good run is untouched.
    #[test]
    fn repair_moves_damaged_files_aside_and_rewrites_the_spec() {
        let text = "seeds = 1\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01, 0.001] }\n";
        let plan =
            Plan::new(cnnvar_core::study::parse(text, Path::new("s.toml")).expect("parses"), false);
        let tmp = tempfile::tempdir().expect("temp dir");
        let study = StudyDir::open(tmp.path());
        study.lay_out(&plan).expect("lay out");
        let ids: Vec<&str> = plan.runs.iter().map(|r| r.run_id.as_str()).collect();
        let good = RunDir::open(tmp.path().join(ids[0]));
        good.write_record(&cnnvar_core::testing::record_of(&plan.runs[0].spec)).expect("write");
        let truncated = tmp.path().join(ids[1]).join(crate::RECORD_FILE);
        let full = cnnvar_core::testing::record_of(&plan.runs[1].spec).to_json();
        std::fs::write(&truncated, &full[..full.len() / 2]).expect("write");
        let garbage = tmp.path().join(ids[2]).join(crate::SPEC_FILE);
        std::fs::write(&garbage, "\u{0}\u{1}garbage").expect("write");
        let damaged: Vec<&str> =
            plan.damaged(&study).iter().map(|(r, _)| r.run_id.as_str()).collect();
        assert_eq!(damaged, &ids[1..]);
        let repairs = plan.repair(&study).expect("repairs");
        let moved: Vec<(&str, &Path)> =
            repairs.iter().map(|r| (r.run_id.as_str(), r.damage.file.as_path())).collect();
        assert_eq!(moved, [(ids[1], truncated.as_path()), (ids[2], garbage.as_path())]);
        assert_eq!(std::fs::read(&repairs[1].moved_to).expect("kept"), b"\0\x01garbage");
        let states: Vec<RunState> = plan.states(&study).into_iter().map(|(_, s)| s).collect();
        assert_eq!(states, [RunState::Done, RunState::Pending, RunState::Pending]);
        assert_eq!(
            RunDir::open(tmp.path().join(ids[2])).read_spec().expect("rewritten"),
            plan.runs[2].spec
        );
        assert!(plan.repair(&study).expect("nothing left").is_empty());
    }

    #[test]
    fn overrides_shorten_a_study_into_its_own_directory() {
        let text = "seeds = 5\n[base]\nepochs = 10\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n";
        let study = cnnvar_core::study::parse(text, Path::new("s.toml")).expect("parses");
        let full = Plan::new(study.clone(), false);
        let short = Plan::with_overrides(study, false, Some(3), Some(2));
        assert_eq!((full.runs.len(), short.runs.len()), (10, 6));
        assert!(short.runs.iter().all(|r| r.spec.epochs == 2));
        assert_eq!(short.dir(Path::new("runs")), Path::new("runs/s-s3-e2"));
        assert_eq!(full.dir(Path::new("runs")), Path::new("runs/s"));
        assert_eq!(short.sweep_line(Path::new("runs")).options(), " --seeds 3 --epochs 2");
        let flex = short.clone().on_backend(Backend::Ndarray);
        assert!(flex.runs.iter().all(|r| r.spec.backend == Backend::Ndarray));
        assert!(flex.runs.iter().all(|r| r.spec.epochs == 2));
        assert_eq!(flex.dir(Path::new("runs")), Path::new("runs/s-s3-e2"));
        assert_eq!(
            flex.sweep_line(Path::new("runs")).options(),
            " --seeds 3 --epochs 2 --backend ndarray"
        );
        // The first replicates keep their seeds, so a short study is a prefix of the full one.
        assert_eq!(short.runs[0].spec.init_seed, full.runs[0].spec.init_seed);
    }
}
