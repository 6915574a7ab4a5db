//! # cnnvar-store
//!
//! The run store: where a study's runs and results live on disk, and the one owner of
//! every file name in it. A study directory ([`StudyDir`], `<out>/<study name>`)
//! holds:
//! - `study.toml`: a copy of the study file; `plan.json`: the study and every planned
//!   run ([`Plan`]);
//! - one directory per run, named by its run id ([`RunDir`]);
//! - `results.csv`: one row per planned run with a complete record;
//! - `data-<dataset>.json`: the checksum of the data its runs were trained on
//!   ([`StudyData`]);
//! - with adaptive seeding, `decisions.json` and `decisions.csv`;
//! - the report's files (`report.html`, `report.md`, `summary.csv`, `ranking.csv`,
//!   `comparisons.csv`, `figures/`, `contested-images.json`);
//! - `slurm/`: with the Slurm executor, its scripts, task lists, logs and submissions.
//!
//! Every file is written atomically (temp file, fsync, rename). No burn: this crate
//! reads and writes records, it never trains.
//!
//! # Run directories
//!
//! One directory per run, named by its id, holding `spec.json`, the
//! per-epoch `curve.csv`, the predictions of the final evaluation `predictions.u8` and,
//! written last and atomically, `record.json`. A run is complete exactly when
//! `record.json` exists, parses and belongs to the directory (its run id and the hash of
//! its spec are the directory's name), and its predictions are sound: the one rule,
//! [`RunDir::complete_record`], that status, the report, the results and the sweep all
//! follow. A `spec.json`, `record.json` or `predictions.u8` that fails those checks is
//! damaged ([`RunDir::damage`]): out of every statistic, and moved aside by the next
//! sweep ([`RunDir::move_aside`], never deleted), which trains the run again.
//!
//! The study directory's own files are checked alike ([`StudyDir::damage`]): a
//! `plan.json`, `study.toml` or `data-<dataset>.json` that cannot be read back is moved
//! aside by the next sweep the same way and rebuilt where it can be
//! ([`StudyDir::repair`], [`StudyDir::remedy`]); [`StudyDir::plan_disagreements`] says
//! where `plan.json` disagrees with its own study or with `study.toml`.
//!
//! # `predictions.u8`
//!
//! For each example of the run's final evaluation, in evaluation order, the class the
//! trained model predicts (the argmax of its logits) and the example's true class (its
//! label), so that correctness, agreement between runs and ensembles can be computed
//! from the run store alone, without the data set. Evaluation order is the test set's
//! order (its first `test_size` examples with `test_size`, the held-out fold's examples
//! in the training file's order with `evaluate_on = "validation"`). The file is a
//! 32-byte header, then *n* predicted classes, then the *n* labels of the same examples
//! (32 + 2*n* bytes):
//!
//! | bytes        | content                                                       |
//! |--------------|---------------------------------------------------------------|
//! | 0..8         | the magic `CNNVPRED` (ASCII)                                  |
//! | 8..12        | the format version, little-endian `u32`: 1                    |
//! | 12..16       | the number of examples *n*, little-endian `u32`               |
//! | 16..32       | the run id, 16 lowercase hex digits (ASCII)                   |
//! | 32..32+n     | the predicted class of each example (below the classes)       |
//! | 32+n..32+2n  | the true class of each example, in the same order (below the classes) |
//!
//! It is written atomically before `record.json` ([`RunDir::write_outputs`]), whose
//! provenance holds the file's SHA-256 (`predictions_sha256`), so a complete run of this
//! version always has it, tied to its record; *n* equals the record's `test_examples`.
//! Reading it ([`RunDir::read_predictions`]) checks it against the record: its length
//! first (before reading, so a damaged header never sizes an allocation), then the
//! magic, version, count, run id and every class and label, then the record's checksum,
//! then that its right predictions are the record's test accuracy times *n* (an exact
//! count, which holds records without the checksum to their predictions too). The rule
//! for a missing file is the record's: one with `predictions_sha256` was written after
//! its predictions, so their absence is damage; one without it was made before runs
//! stored predictions (or by a version that did not record their checksum), and its
//! predictions are absent, not damaged. In Python:
//! `b = numpy.fromfile(path, dtype=numpy.uint8); n = (len(b) - 32) // 2;
//! predicted, labels = b[32:32 + n], b[32 + n:]`.
//!
//! ```
//! use cnnvar_core::study::parse;
//! use cnnvar_store::{Plan, StudyDir, StudyFile};
//! let study = parse("seeds = 2\n[[experiment]]\nname = \"lr\"\nvary = { lr = [0.1, 0.01] }\n",
//!                   std::path::Path::new("s.toml")).unwrap();
//! let plan = Plan::new(study, false);
//! let tmp = tempfile::tempdir().unwrap();
//! let dir = StudyDir::open(tmp.path().join("s"));
//! dir.lay_out(&plan).unwrap();
//! assert_eq!(dir.plan().unwrap().runs.len(), 4);
//! assert!(dir.file(StudyFile::Plan).is_file());
//! assert!(dir.results(&plan.runs).is_empty()); // nothing trained yet
//! ```

mod lock;
mod plan;
mod predictions;
mod probe;
mod results;
mod run_dir;
mod study_data;
mod study_dir;
mod study_files;
mod sweep_line;
#[cfg(test)]
mod tests;

pub use cnnvar_core::study::PlannedRun;
pub use cnnvar_core::write_atomic;
pub use lock::{
    ATTEMPTS_FILE, FAILED_FILE, Failure, LOCK_FILE, RunLock, RunState, TRAINING_LOCK_FILE,
};
pub use plan::{Plan, Repair};
pub use predictions::{
    PREDICTIONS_FILE, PREDICTIONS_HEADER, PREDICTIONS_MAGIC, PREDICTIONS_VERSION, Predictions,
};
pub use probe::{PROBE_DIR, PROBE_FILE, ProbeReport, ProbeRun};
pub use results::{results_csv, results_header, spec_cells};
pub use run_dir::{CURVE_FILE, Damage, RECORD_FILE, RunDir, RunOutput, SPEC_FILE};
pub use study_data::StudyData;
pub use study_dir::{StudyDir, StudyFile};
pub use sweep_line::{SweepLine, operand, shell_word};
