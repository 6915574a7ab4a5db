//! The worker protocol: what one `cnnvar worker RUN_DIR` process does with its run, for
//! either executor. It claims the run's lock (held until the process exits, however it
//! exits), trains only if the run has no record, logs the attempt, and leaves the curve
//! and the record, or a failure note, in the run directory.
//!
//! [`run_worker_with`] is the protocol around any trainer (no burn: the tests drive it
//! with made-up trainers); [`run_worker`] is it around [`crate::execute`].

use std::path::{Path, PathBuf};

use cnnvar_core::{EpochRecord, Result, RunRecord, RunSpec};

use cnnvar_store::{Failure, RunDir, RunLock, RunOutput};

/// What a worker reports while its run trains (the CLI writes it to the worker's log,
/// which the executors read).
#[derive(Clone, Debug, PartialEq)]
pub enum WorkerEvent {
    /// A note for the user, in one line (a data set is downloaded on first use).
    Note(String),
    /// An epoch finished and was evaluated (it is also appended to `curve.csv`).
    Epoch {
        /// The epoch.
        epoch: EpochRecord,
        /// Epochs of the run in all.
        epochs: usize,
    },
}

/// How a worker ended without an error.
#[derive(Debug)]
pub enum WorkerOutcome {
    /// The run trained; its record is written.
    Done {
        /// The record.
        record: Box<RunRecord>,
        /// The run's lock: the protocol is that it is held until the worker exits.
        lock: RunLock,
    },
    /// Another process holds the run's lock (the worker exits with
    /// [`super::EXIT_BUSY`]).
    Busy {
        /// The run.
        run_id: String,
    },
    /// The run already has its record (the worker exits with
    /// [`super::EXIT_ALREADY_COMPLETE`]).
    AlreadyComplete {
        /// The run.
        run_id: String,
    },
}

/// The study directory a run directory belongs to: its parent, if that holds a plan.
/// A run of a study trains only on the study's data.
pub fn study_dir_of(run_dir: &Path) -> Option<PathBuf> {
    run_dir
        .parent()
        .filter(|d| cnnvar_store::StudyDir::open(*d).file(cnnvar_store::StudyFile::Plan).is_file())
        .map(Into::into)
}

/// A trainer: trains `spec` (of the study in the directory given, if any), reporting
/// through the callback, and returns its record and predictions.
pub type Trainer<'a> =
    dyn FnMut(&RunSpec, Option<&Path>, &mut dyn FnMut(WorkerEvent)) -> Result<RunOutput> + 'a;

/// The worker protocol for the run in `run_dir`, training with `train`: reads the spec,
/// takes the run's lock (else [`WorkerOutcome::Busy`]), checks for a record (else
/// [`WorkerOutcome::AlreadyComplete`]), clears an old failure note, logs the attempt,
/// trains, writing `curve.csv` as epochs end, then everything the run leaves
/// ([`RunDir::write_outputs`]: the curve, the predictions, the record last). A trainer
/// error is written to `failed.json` (exit code 1) and returned.
pub fn run_worker_with(
    run_dir: &Path,
    on_event: &mut dyn FnMut(WorkerEvent),
    train: &mut Trainer<'_>,
) -> Result<WorkerOutcome> {
    let dir = RunDir::open(run_dir);
    let spec = dir.read_spec()?;
    // The claim: held until this process exits, however it exits.
    let Some(lock) = dir.try_lock()? else {
        return Ok(WorkerOutcome::Busy { run_id: spec.run_id() });
    };
    if dir.read_record()?.is_some() {
        return Ok(WorkerOutcome::AlreadyComplete { run_id: spec.run_id() });
    }
    dir.clear_failure();
    // Best effort: a full disk shows up again, and fails the run, when the curve or the
    // record is written.
    let _ = dir.log_attempt();
    let study_dir = study_dir_of(run_dir);
    let mut curve = Vec::new();
    let result = train(&spec, study_dir.as_deref(), &mut |event| {
        let epoch = match &event {
            WorkerEvent::Epoch { epoch, .. } => Some(epoch.clone()),
            WorkerEvent::Note(_) => None,
        };
        on_event(event);
        if let Some(epoch) = epoch {
            curve.push(epoch);
            // The curve is a convenience; the record is what counts.
            let _ = dir.write_curve(&curve);
        }
    });
    let RunOutput { record, predictions, labels } = match result {
        Ok(output) => output,
        Err(e) => {
            let _ =
                dir.write_failure(&Failure { exit_code: Some(1), error: e.to_string(), log: None });
            return Err(e);
        }
    };
    dir.write_outputs(&record, &predictions, &labels)?;
    Ok(WorkerOutcome::Done { record: Box::new(record), lock })
}

/// The worker protocol around [`crate::execute`] with `options` (its study directory is
/// the run's, whatever `options` says).
pub fn run_worker(
    run_dir: &Path,
    options: &crate::RunOptions,
    on_event: &mut dyn FnMut(WorkerEvent),
) -> Result<WorkerOutcome> {
    run_worker_with(run_dir, on_event, &mut |spec, study_dir, emit| {
        let options = crate::RunOptions { study_dir: study_dir.map(Into::into), ..options.clone() };
        crate::execute(spec, &options, &mut |p| match p {
            crate::TrainProgress::Note(note) => emit(WorkerEvent::Note(note)),
            crate::TrainProgress::Epoch(epoch) => {
                emit(WorkerEvent::Epoch { epoch, epochs: spec.epochs })
            }
            _ => {}
        })
    })
}

#[cfg(test)]
mod tests {
    use cnnvar_core::Error;

    use super::*;
    use cnnvar_store::RunState;

    fn epoch(n: usize) -> EpochRecord {
        EpochRecord {
            epoch: n,
            train_loss: 0.5,
            train_accuracy: 0.8,
            test_loss: 0.6,
            test_accuracy: 0.75,
            seconds: 1.0,
            train_samples_per_sec: 100.0,
            eval_samples_per_sec: 200.0,
        }
    }

    /// A trainer that reports a note and two epochs, then returns a record with them
    /// (and one prediction and its label: the record says it evaluated one example, and
    /// got it wrong, as the prediction is).
    fn fake(
        spec: &RunSpec,
        _: Option<&Path>,
        emit: &mut dyn FnMut(WorkerEvent),
    ) -> Result<RunOutput> {
        emit(WorkerEvent::Note("downloading".into()));
        let mut record = RunRecord { test_accuracy: 0.0, ..cnnvar_core::testing::record_of(spec) };
        for n in 1..=2 {
            emit(WorkerEvent::Epoch { epoch: epoch(n), epochs: 2 });
            record.epochs.push(epoch(n));
        }
        Ok(RunOutput { record, predictions: vec![7], labels: vec![3] })
    }

    fn run_dir(root: &Path) -> RunDir {
        RunDir::create(root, &RunSpec { epochs: 2, ..RunSpec::default() }).expect("run dir")
    }

    #[test]
    fn a_worker_trains_a_pending_run_and_writes_what_it_leaves() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = run_dir(tmp.path());
        dir.write_failure(&Failure { exit_code: Some(1), error: "old".into(), log: None })
            .expect("old failure");
        let mut events = Vec::new();
        let outcome =
            run_worker_with(dir.path(), &mut |e| events.push(e), &mut fake).expect("trains");
        assert!(matches!(outcome, WorkerOutcome::Done { .. }));
        assert_eq!(events.len(), 3);
        assert_eq!(events[0], WorkerEvent::Note("downloading".into()));
        assert_eq!(events[2], WorkerEvent::Epoch { epoch: epoch(2), epochs: 2 });
        assert!(dir.read_failure().is_none(), "the old failure note is cleared");
        assert_eq!(dir.read_record().expect("reads").map(|r| r.epochs.len()), Some(2));
        let curve = std::fs::read_to_string(dir.path().join(cnnvar_store::CURVE_FILE))
            .expect("curve written");
        assert_eq!(curve.lines().count(), 3, "header and two epochs: {curve}");
        let predictions = std::fs::read(dir.path().join(cnnvar_store::PREDICTIONS_FILE))
            .expect("predictions written");
        assert_eq!(predictions[32..], [7, 3], "the prediction, then its label");
        assert_eq!(dir.attempts(), 1);
        drop(outcome);
        assert_eq!(dir.state(), RunState::Done);
    }

    /// No study directory for a lone run; the parent for a run of a study.
    #[test]
    fn a_run_of_a_study_knows_its_study() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = run_dir(tmp.path());
        let mut seen = Vec::new();
        let mut note_study =
            |spec: &RunSpec, study: Option<&Path>, emit: &mut dyn FnMut(WorkerEvent)| {
                seen.push(study.map(Path::to_path_buf));
                fake(spec, study, emit)
            };
        run_worker_with(dir.path(), &mut |_| {}, &mut note_study).expect("trains");
        std::fs::write(
            cnnvar_store::StudyDir::open(tmp.path()).file(cnnvar_store::StudyFile::Plan),
            "{}",
        )
        .expect("plan");
        std::fs::remove_file(dir.path().join(cnnvar_store::RECORD_FILE)).expect("unrecord");
        run_worker_with(dir.path(), &mut |_| {}, &mut note_study).expect("trains");
        assert_eq!(seen, [None, Some(tmp.path().to_path_buf())]);
    }

    #[test]
    fn a_locked_or_complete_run_is_left_alone() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = run_dir(tmp.path());
        let mut never = |_: &RunSpec,
                         _: Option<&Path>,
                         _: &mut dyn FnMut(WorkerEvent)|
         -> Result<RunOutput> { panic!("must not train") };
        let held = dir.try_lock().expect("locks").expect("free");
        let busy = run_worker_with(dir.path(), &mut |_| {}, &mut never).expect("busy");
        assert!(matches!(&busy, WorkerOutcome::Busy { run_id } if *run_id == dir.run_id()));
        drop(held);
        dir.write_record(&cnnvar_core::testing::record_of(&dir.read_spec().expect("spec")))
            .expect("record");
        let done = run_worker_with(dir.path(), &mut |_| {}, &mut never).expect("complete");
        assert!(matches!(done, WorkerOutcome::AlreadyComplete { .. }));
        assert_eq!(dir.attempts(), 0, "no attempt is logged for a run left alone");
    }

    /// A trainer's error is the worker's error, and the run's failure note.
    #[test]
    fn a_failed_run_leaves_a_failure_note() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = run_dir(tmp.path());
        let mut failing = |_: &RunSpec,
                           _: Option<&Path>,
                           emit: &mut dyn FnMut(WorkerEvent)|
         -> Result<RunOutput> {
            emit(WorkerEvent::Epoch { epoch: epoch(1), epochs: 2 });
            Err(Error::Dataset("out of data".into()))
        };
        let e = run_worker_with(dir.path(), &mut |_| {}, &mut failing).expect_err("fails");
        assert_eq!(e.to_string(), "data set: out of data");
        let failure = dir.read_failure().expect("failure note");
        assert_eq!((failure.exit_code, failure.error.as_str()), (Some(1), "data set: out of data"));
        assert_eq!(dir.state(), RunState::Failed);
        assert!(dir.path().join(cnnvar_store::CURVE_FILE).is_file(), "the partial curve stays");
    }
}
