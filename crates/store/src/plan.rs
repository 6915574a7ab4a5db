//! `plan.json`: a study and its expansion into runs.

use std::path::{Path, PathBuf};

use cnnvar_core::study::{PlannedRun, QuickScale, SeedCounts, Study, StudyOverrides, expand_to};
use cnnvar_core::{Backend, DatasetName, Result};
use serde::{Deserialize, Serialize};

use crate::{Damage, RunDir, RunState, StudyDir};

/// A study and its expansion, as stored in `plan.json`: the study with a front end's
/// overrides already set over it ([`Plan::with_overrides`]), the overrides themselves
/// (for the directory's name and the sweep line), and every run at the seeds each
/// experiment runs now. An adaptive study's plan holds the seeds of each experiment so
/// far ([`Plan::set_seeds`]); the sweep recomputes them from the records whenever it
/// starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    /// The study, overrides set.
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
    /// `study` as its file states it, expanded at its initial seeds
    /// ([`SeedCounts::initial`]).
    pub fn new(study: Study, quick: bool) -> Plan {
        let runs = expand_to(&study, quick.then(QuickScale::default), &SeedCounts::initial(&study));
        Plan {
            study,
            quick,
            seeds_override: None,
            epochs_override: None,
            backend_override: None,
            runs,
        }
    }

    /// `study` with `overrides` set over it ([`Study::apply_overrides`], which checks
    /// them against the limits a study file is held to), then expanded once at its
    /// initial seeds: a shorter or otherwise changed version of the study, whose
    /// directory name says so ([`Plan::dir`]). `seeds` on an adaptive study makes it a
    /// fixed study of that many seeds (the same runs as the adaptive design's first
    /// replicates, without its decisions); a `backend` gives every run a new id, in the
    /// same study directory.
    pub fn with_overrides(
        mut study: Study,
        quick: bool,
        overrides: &StudyOverrides,
    ) -> Result<Plan> {
        study.apply_overrides(overrides)?;
        Ok(Plan {
            seeds_override: overrides.seeds,
            epochs_override: overrides.epochs,
            backend_override: overrides.backend,
            ..Plan::new(study, quick)
        })
    }

    /// The overrides this plan's study was made with.
    pub fn overrides(&self) -> StudyOverrides {
        StudyOverrides {
            seeds: self.seeds_override,
            epochs: self.epochs_override,
            backend: self.backend_override,
        }
    }

    /// How many seeds each experiment runs in the plan now (read from its runs).
    pub fn seeds(&self) -> SeedCounts {
        SeedCounts::of_runs(&self.study, &self.runs)
    }

    /// Expands the study again at `seeds`: replicate r's runs are the same runs at any
    /// count, so a larger count only adds runs.
    pub fn set_seeds(&mut self, seeds: &SeedCounts) {
        self.runs = expand_to(&self.study, self.quick.then(QuickScale::default), seeds);
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
        full.set_seeds(&SeedCounts::with(&self.study, |_| a.max));
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
                let (run_id, then) = (Some(run.run_id.clone()), "the run trains again".into());
                repairs.push(Repair { run_id, damage, moved_to, then });
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

/// A damaged file that [`Plan::repair`] (a run's) or [`StudyDir::repair`] (the study
/// directory's own) moved aside; its [`Display`](std::fmt::Display) is the line that
/// says so.
#[derive(Clone, Debug, PartialEq)]
pub struct Repair {
    /// The run, which trains again; `None` for a file of the study directory itself.
    pub run_id: Option<String>,
    /// The file and what was wrong with it.
    pub damage: Damage,
    /// Where the file is now.
    pub moved_to: PathBuf,
    /// What becomes of it, in words: the run trains again, or how the study file is
    /// rebuilt ([`StudyDir::remedy`]), or that it cannot be.
    pub then: String,
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
        let moved: Vec<(&str, &Path)> = repairs
            .iter()
            .map(|r| (r.run_id.as_deref().unwrap_or(""), r.damage.file.as_path()))
            .collect();
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
        let o = StudyOverrides { seeds: Some(3), epochs: Some(2), backend: None };
        let short = Plan::with_overrides(study.clone(), false, &o).expect("overrides");
        assert_eq!((full.runs.len(), short.runs.len()), (10, 6));
        assert!(short.runs.iter().all(|r| r.spec.epochs == 2));
        assert_eq!(short.dir(Path::new("runs")), Path::new("runs/s-s3-e2"));
        assert_eq!(full.dir(Path::new("runs")), Path::new("runs/s"));
        assert_eq!(short.sweep_line(Path::new("runs")).options(), " --seeds 3 --epochs 2");
        assert_eq!(short.overrides(), o);
        let o = StudyOverrides { backend: Some(Backend::Ndarray), ..o };
        let flex = Plan::with_overrides(study.clone(), false, &o).expect("overrides");
        assert!(flex.runs.iter().all(|r| r.spec.backend == Backend::Ndarray));
        assert!(flex.runs.iter().all(|r| r.spec.epochs == 2));
        assert_eq!(flex.dir(Path::new("runs")), Path::new("runs/s-s3-e2"));
        assert_eq!(
            flex.sweep_line(Path::new("runs")).options(),
            " --seeds 3 --epochs 2 --backend ndarray"
        );
        // The first replicates keep their seeds, so a short study is a prefix of the full one.
        assert_eq!(short.runs[0].spec.init_seed, full.runs[0].spec.init_seed);
        let zero = StudyOverrides { seeds: Some(0), ..StudyOverrides::default() };
        assert!(Plan::with_overrides(study, false, &zero).is_err(), "checked as a file is");
    }

    /// Seeds read back from the runs; setting them expands once more, to the runs of
    /// a plan made at those counts, and an experiment set to 0 has none.
    #[test]
    fn set_seeds_expands_to_the_counts() {
        let text = "seeds = 2\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n\
                    [[experiment]]\nname = \"b\"\nvary = { lr = [0.1] }\n";
        let study = cnnvar_core::study::parse(text, Path::new("s.toml")).expect("parses");
        let mut plan = Plan::new(study.clone(), true);
        assert_eq!(plan.seeds(), SeedCounts::initial(&study));
        let counts = SeedCounts::with(&study, |e| if e.name == "a" { 4 } else { 0 });
        plan.set_seeds(&counts);
        assert_eq!(plan.seeds(), counts);
        assert_eq!(plan.runs.len(), 4 * 2);
        let four = Plan::new(
            cnnvar_core::study::parse(&text.replace("seeds = 2", "seeds = 4"), Path::new("s.toml"))
                .expect("parses"),
            true,
        );
        let of_a: Vec<&PlannedRun> = four.runs.iter().filter(|r| r.experiment == "a").collect();
        assert_eq!(plan.runs.iter().collect::<Vec<_>>(), of_a);
        assert!(plan.runs.iter().all(|r| r.spec.epochs == 1), "still quick");
    }

    /// Whether `written` says everything `committed` says, as `committed` says it:
    /// every key of every object with the same value, arrays element for element
    /// (fields a later version adds, with their defaults, may be there besides).
    fn says_all_of(committed: &serde_json::Value, written: &serde_json::Value) -> bool {
        use serde_json::Value;
        match (committed, written) {
            (Value::Object(c), Value::Object(w)) => {
                c.iter().all(|(k, v)| w.get(k).is_some_and(|w| says_all_of(v, w)))
            }
            (Value::Array(c), Value::Array(w)) => {
                c.len() == w.len() && c.iter().zip(w).all(|(c, w)| says_all_of(c, w))
            }
            (c, w) => c == w,
        }
    }

    /// Every committed `plan.json` reads back and is written out as it was (every field
    /// it has, with the same value), and the committed studies, planned again from
    /// their `study.toml` with the overrides their plans record and at the seeds their
    /// plans hold, are exactly the committed plans: planning keeps every committed run
    /// id. (The digits study is left out of the second check: its folder's checksum is
    /// filled in from the images when it is planned.)
    #[test]
    fn committed_plans_are_planned_again_to_the_same_runs() {
        let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
        for name in ["seed", "seed-adaptive", "full", "digits"] {
            let dir = StudyDir::open(results.join(name));
            let stored = dir.plan().expect("plan.json reads");
            let text = std::fs::read_to_string(dir.file(crate::StudyFile::Plan)).expect("plan");
            let committed: serde_json::Value = serde_json::from_str(&text).expect("json");
            let written = serde_json::to_value(&stored).expect("serialises");
            assert!(says_all_of(&committed, &written), "{name}: plan.json changes when rewritten");
            if name == "digits" {
                continue;
            }
            let study = Study::load(&dir.path().join("study.toml")).expect("study.toml");
            let mut plan =
                Plan::with_overrides(study, stored.quick, &stored.overrides()).expect("overrides");
            plan.set_seeds(&stored.seeds());
            plan.study.source = stored.study.source.clone();
            assert_eq!(plan.runs, stored.runs, "{name}");
            assert_eq!(serde_json::to_value(&plan).expect("serialises"), written, "{name}");
        }
    }
}
