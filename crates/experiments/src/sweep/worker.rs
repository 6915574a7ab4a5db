//! The worker protocol: what one `cnnvar worker RUN_DIR` process does with its run, for
//! either executor. It claims the run's lock (held until the process exits, however it
//! exits), trains only if the run has no record, logs the attempt, and leaves the curve
//! and the record, or a failure note, in the run directory.
//!
//! Runs of a study that share one training ([`RunSpec::training_key`]: they differ
//! only in their evaluation set, as the test split and its twilight copy) are trained
//! once: the worker first waits for the group's training lock (in the directory of the
//! run with the smallest id, [`cnnvar_store::TRAINING_LOCK_FILE`]), then claims its own
//! run and every partner no other process holds and no record completes, trains once,
//! and writes each claimed run's outputs. A partner's worker that comes later finds its
//! run complete.
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
    /// The run trained; its record is written, and so are those of the partners it
    /// was trained with.
    Done {
        /// The record.
        record: Box<RunRecord>,
        /// The partners trained with it (their ids), whose records are written too.
        partners: Vec<String>,
        /// The locks of the runs (and of their training): the protocol is that they are
        /// held until the worker exits.
        locks: Vec<RunLock>,
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

/// A trainer: trains the specs given, which share one training (of the study in the
/// directory given, if any), reporting the first's progress through the callback, and
/// returns the record and predictions of each, in their order.
pub type Trainer<'a> = dyn FnMut(&[RunSpec], Option<&Path>, &mut dyn FnMut(WorkerEvent)) -> Result<Vec<RunOutput>>
    + 'a;

/// The runs of the study in `study_dir` that share `spec`'s training but are not
/// `spec`'s run: their ids, sorted, from the study's plan.
pub fn training_partners(study_dir: &Path, spec: &RunSpec) -> Result<Vec<String>> {
    let (key, own) = (spec.training_key(), spec.run_id());
    let plan = cnnvar_store::StudyDir::open(study_dir).plan()?;
    let mut ids: Vec<String> = plan
        .unique_runs()
        .into_iter()
        .filter(|r| r.run_id != own && r.spec.training_key() == key)
        .map(|r| r.run_id.clone())
        .collect();
    ids.sort();
    Ok(ids)
}

/// The training lock of `own` and its `partners` (sorted ids) in `study_dir`, waited
/// for; `None` for a run that trains alone.
fn lock_training(study_dir: &Path, own: &str, partners: &[String]) -> Result<Option<RunLock>> {
    let Some(first) = partners.first() else { return Ok(None) };
    let leader = if own < first.as_str() { own } else { first.as_str() };
    RunDir::open(study_dir.join(leader)).lock_training().map(Some)
}

/// The partners of a run that this worker may train with it: those whose lock it
/// gets and that have no record (a damaged one is left to its own worker), each with
/// its directory, spec and lock.
fn claim_partners(
    study_dir: &Path,
    partners: &[String],
) -> Result<Vec<(RunDir, RunSpec, RunLock)>> {
    let mut claimed = Vec::new();
    for id in partners {
        let dir = RunDir::open(study_dir.join(id));
        let Ok(spec) = dir.read_spec() else { continue };
        let Some(lock) = dir.try_lock()? else { continue };
        if matches!(dir.read_record(), Ok(None)) && dir.damage().is_empty() {
            claimed.push((dir, spec, lock));
        }
    }
    Ok(claimed)
}

/// The worker protocol for the run in `run_dir`, training with `train`: reads the spec,
/// waits for the training lock of the run and its partners if it has any
/// ([`training_partners`]), takes the run's lock (else [`WorkerOutcome::Busy`]), checks
/// for a record (else [`WorkerOutcome::AlreadyComplete`]), claims the partners it can,
/// clears old failure notes, logs the attempts, trains once, writing the run's
/// `curve.csv` as epochs end, then everything each run leaves ([`RunDir::write_outputs`]:
/// the curve, the predictions, the record last). A trainer error is written to each
/// run's `failed.json` (exit code 1) and returned.
pub fn run_worker_with(
    run_dir: &Path,
    on_event: &mut dyn FnMut(WorkerEvent),
    train: &mut Trainer<'_>,
) -> Result<WorkerOutcome> {
    let dir = RunDir::open(run_dir);
    let spec = dir.read_spec()?;
    let study_dir = study_dir_of(run_dir);
    let partners = match &study_dir {
        Some(study) => training_partners(study, &spec)?,
        None => Vec::new(),
    };
    let mut locks = Vec::new();
    if let Some(study) = &study_dir {
        locks.extend(lock_training(study, &spec.run_id(), &partners)?);
    }
    // The claim: held until this process exits, however it exits.
    let Some(lock) = dir.try_lock()? else {
        return Ok(WorkerOutcome::Busy { run_id: spec.run_id() });
    };
    if dir.read_record()?.is_some() {
        return Ok(WorkerOutcome::AlreadyComplete { run_id: spec.run_id() });
    }
    locks.push(lock);
    let claimed = match &study_dir {
        Some(study) => claim_partners(study, &partners)?,
        None => Vec::new(),
    };
    let mut dirs = vec![&dir];
    let mut specs = vec![spec];
    for (partner, partner_spec, _) in &claimed {
        dirs.push(partner);
        specs.push(partner_spec.clone());
    }
    for d in &dirs {
        d.clear_failure();
        // Best effort: a full disk shows up again, and fails the run, when the curve or
        // the record is written.
        let _ = d.log_attempt();
    }
    let mut curve = Vec::new();
    let result = train(&specs, study_dir.as_deref(), &mut |event| {
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
    let outputs = match result.and_then(|o| one_per_spec(o, &specs)) {
        Ok(outputs) => outputs,
        Err(e) => {
            let failure = Failure { exit_code: Some(1), error: e.to_string(), log: None };
            for d in &dirs {
                let _ = d.write_failure(&failure);
            }
            return Err(e);
        }
    };
    let mut records = Vec::with_capacity(outputs.len());
    for (d, RunOutput { record, predictions, labels }) in dirs.iter().zip(outputs) {
        d.write_outputs(&record, &predictions, &labels)?;
        records.push(record);
    }
    let record = Box::new(records.remove(0));
    let partners = records.into_iter().map(|r| r.run_id).collect();
    locks.extend(claimed.into_iter().map(|(_, _, lock)| lock));
    Ok(WorkerOutcome::Done { record, partners, locks })
}

/// `outputs` if it has one output per spec, each of its spec's run.
fn one_per_spec(outputs: Vec<RunOutput>, specs: &[RunSpec]) -> Result<Vec<RunOutput>> {
    let ids: Vec<String> = outputs.iter().map(|o| o.record.run_id.clone()).collect();
    let wanted: Vec<String> = specs.iter().map(RunSpec::run_id).collect();
    if ids != wanted {
        return Err(cnnvar_core::Error::program(
            "the trainer",
            format!("returned records of runs {ids:?} for runs {wanted:?}"),
        ));
    }
    Ok(outputs)
}

/// The worker protocol around [`crate::execute`] with `options` (its study directory is
/// the run's, whatever `options` says), or around the user's command
/// ([`crate::script::execute_script`]) for a run whose spec has a script.
pub fn run_worker(
    run_dir: &Path,
    options: &crate::RunOptions,
    on_event: &mut dyn FnMut(WorkerEvent),
) -> Result<WorkerOutcome> {
    run_worker_with(run_dir, on_event, &mut |specs, study_dir, emit| {
        if let [spec] = specs
            && spec.script.is_some()
        {
            let threads = spec.threads.or(options.threads).unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
            });
            return crate::script::execute_script(spec, run_dir, study_dir, threads, emit)
                .map(|output| vec![output]);
        }
        let options = crate::RunOptions { study_dir: study_dir.map(Into::into), ..options.clone() };
        let epochs = specs.first().map_or(0, |s| s.epochs);
        crate::execute_together(specs, &options, &mut |p| match p {
            crate::TrainProgress::Note(note) => emit(WorkerEvent::Note(note)),
            crate::TrainProgress::Epoch(epoch) => emit(WorkerEvent::Epoch { epoch, epochs }),
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
        specs: &[RunSpec],
        _: Option<&Path>,
        emit: &mut dyn FnMut(WorkerEvent),
    ) -> Result<Vec<RunOutput>> {
        emit(WorkerEvent::Note("downloading".into()));
        let mut records: Vec<RunRecord> = specs
            .iter()
            .map(|spec| RunRecord { test_accuracy: 0.0, ..cnnvar_core::testing::record_of(spec) })
            .collect();
        for n in 1..=2 {
            emit(WorkerEvent::Epoch { epoch: epoch(n), epochs: 2 });
            records.iter_mut().for_each(|r| r.epochs.push(epoch(n)));
        }
        Ok(records
            .into_iter()
            .map(|record| RunOutput { record, predictions: vec![7], labels: vec![3] })
            .collect())
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
            |specs: &[RunSpec], study: Option<&Path>, emit: &mut dyn FnMut(WorkerEvent)| {
                seen.push(study.map(Path::to_path_buf));
                fake(specs, study, emit)
            };
        run_worker_with(dir.path(), &mut |_| {}, &mut note_study).expect("trains");
        let text = "name = \"s\"\n[[experiment]]\nname = \"a\"\ntitle = \"A\"\nvary = { lr = [0.1, 0.01] }\n";
        let study = cnnvar_core::study::parse(text, Path::new("s.toml")).expect("parses");
        let plan = serde_json::to_string(&cnnvar_store::Plan::new(study, false)).expect("json");
        std::fs::write(
            cnnvar_store::StudyDir::open(tmp.path()).file(cnnvar_store::StudyFile::Plan),
            plan,
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
        let mut never = |_: &[RunSpec],
                         _: Option<&Path>,
                         _: &mut dyn FnMut(WorkerEvent)|
         -> Result<Vec<RunOutput>> { panic!("must not train") };
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
        let mut failing = |_: &[RunSpec],
                           _: Option<&Path>,
                           emit: &mut dyn FnMut(WorkerEvent)|
         -> Result<Vec<RunOutput>> {
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

#[cfg(test)]
mod one_training {
    use super::*;
    use cnnvar_core::EvalSet;
    use cnnvar_store::{Plan, StudyDir};

    const STUDY: &str = r#"
name = "shift"
seeds = 2
[base]
epochs = 2
[[experiment]]
name = "shift"
title = "Shift"
vary = { augment = ["none", "photometric"], evaluate_on = ["test", "twilight"] }
"#;

    /// The study laid out in `root`, and its plan.
    fn laid_out(root: &Path) -> (StudyDir, Plan) {
        let study = cnnvar_core::study::parse(STUDY, Path::new("shift.toml")).expect("parses");
        let plan = Plan::new(study, false);
        let dir = StudyDir::open(root);
        dir.lay_out(&plan).expect("laid out");
        (dir, plan)
    }

    /// A trainer that notes the runs it was given and answers as [`super::tests`]' fake.
    fn noting(seen: &mut Vec<Vec<String>>) -> Box<Trainer<'_>> {
        Box::new(move |specs, _, _| {
            seen.push(specs.iter().map(RunSpec::run_id).collect());
            Ok(specs
                .iter()
                .map(|spec| RunOutput {
                    record: cnnvar_core::testing::record_of(spec),
                    predictions: vec![1],
                    labels: vec![1],
                })
                .collect())
        })
    }

    /// The twilight run of replicate 0 without augmentation, and its test-split partner.
    fn pair(plan: &Plan) -> (String, String) {
        let find = |on: EvalSet| {
            plan.runs
                .iter()
                .find(|r| {
                    r.replicate == 0 && r.spec.evaluate_on == Some(on) && r.level.contains("none")
                })
                .map(|r| r.run_id.clone())
                .expect("planned")
        };
        (find(EvalSet::Twilight), find(EvalSet::Test))
    }

    #[test]
    fn runs_that_differ_only_in_their_evaluation_set_are_trained_once() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (study, plan) = laid_out(tmp.path());
        let (twilight, test) = pair(&plan);
        let twilight_spec = study.run(&twilight).read_spec().expect("spec");
        let partners = training_partners(tmp.path(), &twilight_spec).expect("plan");
        assert_eq!(partners, std::slice::from_ref(&test));
        let mut seen = Vec::new();
        let outcome =
            run_worker_with(study.run(&twilight).path(), &mut |_| {}, &mut *noting(&mut seen))
                .expect("trains");
        assert!(
            matches!(&outcome, WorkerOutcome::Done { partners, .. } if *partners == [test.clone()]),
            "{outcome:?}"
        );
        assert_eq!(seen, [vec![twilight.clone(), test.clone()]], "one training, its run first");
        for id in [&twilight, &test] {
            assert!(study.run(id).read_record().expect("reads").is_some(), "{id} recorded");
            assert_eq!(study.run(id).attempts(), 1);
        }
        drop(outcome);
        let again = run_worker_with(study.run(&test).path(), &mut |_| {}, &mut *noting(&mut seen))
            .expect("complete");
        assert!(matches!(again, WorkerOutcome::AlreadyComplete { .. }), "{again:?}");
        assert_eq!(seen.len(), 1, "the partner is not trained again");
    }

    /// A partner another process holds, or one with a record, is not trained again.
    #[test]
    fn a_partner_held_or_complete_is_left_out() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (study, plan) = laid_out(tmp.path());
        let (twilight, test) = pair(&plan);
        let held = study.run(&test).try_lock().expect("locks").expect("free");
        let mut seen = Vec::new();
        run_worker_with(study.run(&twilight).path(), &mut |_| {}, &mut *noting(&mut seen))
            .expect("trains");
        assert_eq!(seen, [vec![twilight.clone()]]);
        drop(held);
        assert!(study.run(&test).read_record().expect("reads").is_none(), "left to its holder");
        run_worker_with(study.run(&test).path(), &mut |_| {}, &mut *noting(&mut seen))
            .expect("trains");
        assert_eq!(seen[1], std::slice::from_ref(&test), "the twilight partner has its record");
    }
}
