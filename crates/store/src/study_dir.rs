//! A study directory: the one owner of its file names and of every read and write of
//! the files in it (the runs' own files are [`RunDir`]'s).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cnnvar_core::{Error, Predictions, Result, RunRecord, write_atomic};

use crate::{Plan, PlannedRun, Repair, RunDir, StudyData};

/// A file (or folder) of a study directory, besides the run directories.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StudyFile {
    /// `plan.json`: the study and every planned run.
    Plan,
    /// `study.toml`: a copy of the study file.
    StudyToml,
    /// `results.csv`: one row per planned run with a complete record.
    Results,
    /// `decisions.json`: an adaptive study's decisions so far.
    DecisionsJson,
    /// `decisions.csv`: the same, one row per comparison.
    DecisionsCsv,
    /// `summary.csv`: one row per level.
    Summary,
    /// `ranking.csv`: the factors ranked.
    Ranking,
    /// `claims.csv`: each claim part with its test and verdict.
    Claims,
    /// `comparisons.csv`: one row per compared pair of levels.
    Comparisons,
    /// `report.html`.
    ReportHtml,
    /// `report.md`.
    ReportMarkdown,
    /// `contested-images.json`: the test images the report draws, cached.
    ContestedImages,
    /// `figures/`: the report's figures.
    Figures,
    /// `slurm/`: the Slurm executor's scripts, task lists, logs and submissions.
    Slurm,
}

impl StudyFile {
    /// Its name in the study directory.
    pub fn name(self) -> &'static str {
        match self {
            StudyFile::Plan => "plan.json",
            StudyFile::StudyToml => "study.toml",
            StudyFile::Results => "results.csv",
            StudyFile::DecisionsJson => "decisions.json",
            StudyFile::DecisionsCsv => "decisions.csv",
            StudyFile::Summary => "summary.csv",
            StudyFile::Ranking => "ranking.csv",
            StudyFile::Claims => "claims.csv",
            StudyFile::Comparisons => "comparisons.csv",
            StudyFile::ReportHtml => "report.html",
            StudyFile::ReportMarkdown => "report.md",
            StudyFile::ContestedImages => "contested-images.json",
            StudyFile::Figures => "figures",
            StudyFile::Slurm => "slurm",
        }
    }
}

/// A study directory (`<out>/<study name>`, with `-quick`, `-sN`, `-eM` appended as
/// [`Plan::dir`] says).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudyDir {
    path: PathBuf,
}

impl StudyDir {
    /// The study directory at `path` (nothing is read or created).
    pub fn open(path: impl Into<PathBuf>) -> StudyDir {
        StudyDir { path: path.into() }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where `file` is.
    pub fn file(&self, file: StudyFile) -> PathBuf {
        self.path.join(file.name())
    }

    /// The file that records the data of `dataset`: `data-<dataset>.json`.
    pub fn data_file(&self, dataset: &str) -> PathBuf {
        self.path.join(format!("data-{dataset}.json"))
    }

    /// The directory of run `run_id`.
    pub fn run(&self, run_id: &str) -> RunDir {
        RunDir::open(self.path.join(run_id))
    }

    /// Reads `plan.json`.
    pub fn plan(&self) -> Result<Plan> {
        let p = self.file(StudyFile::Plan);
        let text = std::fs::read_to_string(&p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::data(
                    &p,
                    "not a cnnvar study directory (no plan.json); sweep a study file into it first",
                )
            } else {
                Error::io(&p, e)
            }
        })?;
        serde_json::from_str(&text).map_err(|e| {
            Error::data(
                &p,
                format!(
                    "unreadable plan (line {}): {e}; the next sweep of the study file moves it \
                     aside and plans the study again",
                    e.line()
                ),
            )
        })
    }

    /// Writes the skeleton of `plan`: `plan.json`, `study.toml` and every run's
    /// directory with its `spec.json`. Existing runs are untouched. Damaged files of the
    /// study directory itself are moved aside first, and rebuilt where they can be
    /// ([`StudyDir::repair`]); returns what was moved.
    pub fn lay_out(&self, plan: &Plan) -> Result<Vec<Repair>> {
        std::fs::create_dir_all(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let repairs = self.repair(plan)?;
        let json = serde_json::to_string_pretty(plan)
            .map_err(|e| Error::encode(StudyFile::Plan.name(), e))?;
        self.write_if_changed(StudyFile::Plan, json.as_bytes())?;
        if let Ok(text) = std::fs::read(&plan.study.source) {
            self.write_if_changed(StudyFile::StudyToml, &text)?;
        }
        for run in plan.unique_runs() {
            RunDir::create(&self.path, &run.spec)?;
        }
        Ok(repairs)
    }

    /// Every run of `runs` paired with its record, where the run is complete and sound
    /// ([`RunDir::complete_record`]): a damaged run is in no result, no statistic and no
    /// decision.
    pub fn results<'a>(&self, runs: &'a [PlannedRun]) -> Vec<(&'a PlannedRun, RunRecord)> {
        runs.iter().filter_map(|r| Some((r, self.run(&r.run_id).complete_record()?))).collect()
    }

    /// The stored predictions of each of `results` that has them, by run id. Runs
    /// without a `predictions.u8` (records made before runs stored them) are absent; so
    /// are runs whose file is damaged, which the report names as damaged.
    pub fn predictions(
        &self,
        results: &[(&PlannedRun, RunRecord)],
    ) -> HashMap<String, Predictions> {
        results
            .iter()
            .filter_map(|(run, rec)| {
                let p = self.run(&run.run_id).read_predictions(rec).ok().flatten()?;
                Some((run.run_id.clone(), p))
            })
            .collect()
    }

    /// Writes `results.csv` for `plan`, replacing any earlier one (so runs whose record
    /// is gone drop out); returns the rows written.
    pub fn write_results_csv(&self, plan: &Plan) -> Result<usize> {
        self.write_results_csv_to(plan, self)
    }

    /// Writes `results.csv` of `plan`'s runs in this study directory into `out` (this
    /// directory, or another for a study that cannot be written to); returns the rows
    /// written.
    pub fn write_results_csv_to(&self, plan: &Plan, out: &StudyDir) -> Result<usize> {
        let rows = self.results(&plan.runs);
        let bytes = crate::results::results_csv(&plan.study.name, &rows)?;
        out.write(StudyFile::Results, &bytes)?;
        Ok(rows.len())
    }

    /// The data recorded for `dataset`, `None` if none is yet.
    pub fn study_data(&self, dataset: &str) -> Result<Option<StudyData>> {
        crate::study_data::read(&self.data_file(dataset))
    }

    /// Records `data` as the study's data for its data set if none is recorded yet (the
    /// first of concurrent workers wins), else checks that it is the recorded data.
    pub fn check_study_data(&self, data: &StudyData) -> Result<()> {
        crate::study_data::check(&self.data_file(&data.dataset), data)
    }

    /// Reads `file` whole; `None` if it does not exist.
    pub fn read(&self, file: StudyFile) -> Result<Option<Vec<u8>>> {
        let p = self.file(file);
        match std::fs::read(&p) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&p, e)),
        }
    }

    /// Writes `file` atomically; returns its path.
    pub fn write(&self, file: StudyFile, bytes: &[u8]) -> Result<PathBuf> {
        let p = self.file(file);
        write_atomic(&p, bytes)?;
        Ok(p)
    }

    /// Writes `file` atomically unless it already holds exactly `bytes`, so that
    /// resuming a study writes nothing it need not (a resumed sweep on a full disk gets
    /// as far as its first new result); returns its path.
    pub fn write_if_changed(&self, file: StudyFile, bytes: &[u8]) -> Result<PathBuf> {
        let p = self.file(file);
        if std::fs::read(&p).is_ok_and(|old| old == bytes) {
            return Ok(p);
        }
        write_atomic(&p, bytes)?;
        Ok(p)
    }

    /// Creates `dir` (a folder of the study directory, such as [`StudyFile::Figures`])
    /// and returns its path.
    pub fn create_dir(&self, dir: StudyFile) -> Result<PathBuf> {
        let p = self.file(dir);
        std::fs::create_dir_all(&p).map_err(|e| Error::io(&p, e))?;
        Ok(p)
    }
}
