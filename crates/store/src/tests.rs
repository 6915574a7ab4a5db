//! The run store's unit tests.

use super::*;
use cnnvar_core::testing::record_of;
use cnnvar_core::{RunRecord, RunSpec};
use std::path::{Path, PathBuf};

fn spec(seed: u64) -> RunSpec {
    RunSpec { init_seed: seed, ..RunSpec::default() }
}

/// A record copied from another run's directory is damage, not completion.
#[test]
fn a_record_of_another_run_is_damaged() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (a, b) = (
        RunDir::create(tmp.path(), &spec(1)).expect("a"),
        RunDir::create(tmp.path(), &spec(2)).expect("b"),
    );
    let record = record_of(&spec(1));
    a.write_record(&record).expect("write");
    std::fs::copy(a.path().join(RECORD_FILE), b.path().join(RECORD_FILE)).expect("copy");
    assert_eq!(a.state(), RunState::Done);
    assert_eq!(b.state(), RunState::Damaged);
    let e = b.read_record().expect_err("another run's").to_string();
    assert!(e.contains(&spec(1).run_id()) && e.contains(&spec(2).run_id()), "{e}");
    let damage = b.damage();
    assert_eq!(damage.len(), 1);
    assert_eq!(damage[0].file, b.path().join(RECORD_FILE));
    // A spec of another run is damage too.
    std::fs::copy(a.path().join(SPEC_FILE), b.path().join(SPEC_FILE)).expect("copy");
    assert_eq!(b.damage().len(), 2);
}

/// Moving aside keeps the bytes and never overwrites an earlier damaged copy.
#[test]
fn moving_aside_keeps_every_damaged_file() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = RunDir::create(tmp.path(), &spec(1)).expect("dir");
    let record = dir.path().join(RECORD_FILE);
    let mut moved = Vec::new();
    for text in ["{\"run_id\": \"tr", "garbage"] {
        std::fs::write(&record, text).expect("write");
        assert_eq!(dir.state(), RunState::Damaged);
        let to = dir.move_aside(&record).expect("moved");
        assert!(
            to.file_name().is_some_and(|n| n.to_string_lossy().starts_with("record.json.damaged-"))
        );
        assert_eq!(std::fs::read_to_string(&to).expect("kept"), text);
        moved.push(to);
    }
    assert_ne!(moved[0], moved[1]);
    assert_eq!(dir.state(), RunState::Pending);
}

/// A record with `n` test examples, its predictions and their labels (7i and 3i mod
/// 10: right for every fifth example, which the record's accuracy says).
fn outputs(spec: &RunSpec, n: usize) -> (RunRecord, Vec<u8>, Vec<u8>) {
    let predictions: Vec<u8> = (0..n).map(|i| (i * 7 % 10) as u8).collect();
    let labels: Vec<u8> = (0..n).map(|i| (i * 3 % 10) as u8).collect();
    let right = predictions.iter().zip(&labels).filter(|(p, l)| p == l).count();
    let test_accuracy = right as f64 / n as f64;
    let record = RunRecord { test_examples: n, test_accuracy, ..record_of(spec) };
    (record, predictions, labels)
}

/// Issue 18: the outputs come back as written, the predictions and then their labels
/// in their documented format, with the curve, predictions and record all there.
#[test]
fn outputs_round_trip() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = RunDir::create(tmp.path(), &spec(1)).expect("dir");
    let (record, predictions, labels) = outputs(&spec(1), 25);
    let written = dir.write_outputs(&record, &predictions, &labels).expect("writes");
    let sha = written.provenance.predictions_sha256.clone().expect("the record has the checksum");
    assert_eq!(RunRecord { provenance: record.provenance.clone(), ..written.clone() }, record);
    assert_eq!(dir.read_record().expect("reads"), Some(written.clone()));
    assert_eq!(dir.complete_record(), Some(written.clone()));
    let record = written;
    let read = dir.read_predictions(&record).expect("reads").expect("there");
    assert_eq!(read, Predictions { predicted: predictions.clone(), labels: labels.clone() });
    // 7i = 3i (mod 10) for i = 0, 5, 10, 15, 20.
    assert_eq!(read.correct().iter().filter(|&&c| c).count(), 5);
    assert!(dir.path().join(CURVE_FILE).is_file());
    let bytes = std::fs::read(dir.path().join(PREDICTIONS_FILE)).expect("file");
    assert_eq!(bytes.len(), 32 + 2 * 25);
    assert_eq!(&bytes[..8], b"CNNVPRED");
    assert_eq!(bytes[8..12], 1u32.to_le_bytes());
    assert_eq!(bytes[12..16], 25u32.to_le_bytes());
    assert_eq!(&bytes[16..32], spec(1).run_id().as_bytes());
    assert_eq!(&bytes[32..57], &predictions[..]);
    assert_eq!(&bytes[57..], &labels[..]);
    assert_eq!(sha, crate::predictions::sha256_hex(&bytes));
    assert_eq!(dir.state(), RunState::Done);
    assert!(dir.damage().is_empty());
}

/// The predictions are written before the record: when they cannot be written, no
/// record is, and the run is not complete. Predictions or labels that are not one
/// per test example are refused before anything is written.
#[test]
fn no_record_without_its_predictions() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = RunDir::create(tmp.path(), &spec(1)).expect("dir");
    let (record, predictions, labels) = outputs(&spec(1), 10);
    let e =
        dir.write_outputs(&record, &predictions[..9], &labels).expect_err("9 of 10").to_string();
    assert!(e.contains("9 predictions for 10 test examples"), "{e}");
    let e =
        dir.write_outputs(&record, &predictions, &labels[..8]).expect_err("8 of 10").to_string();
    assert!(e.contains("8 labels for 10 test examples"), "{e}");
    assert!(!dir.path().join(CURVE_FILE).exists() && !dir.path().join(RECORD_FILE).exists());
    assert!(!dir.path().join(PREDICTIONS_FILE).exists());
    // A directory where the file should be makes its write fail.
    std::fs::create_dir_all(dir.path().join(PREDICTIONS_FILE).join("blocker")).expect("dir");
    dir.write_outputs(&record, &predictions, &labels).expect_err("predictions cannot be written");
    assert!(!dir.path().join(RECORD_FILE).exists(), "a record without its predictions");
    assert_eq!(dir.state(), RunState::Pending);
}

/// A predictions file of the wrong length, format, run or classes is damage, and
/// so is its record, which the sweep moves aside with it to train the run again.
#[test]
fn damaged_predictions_are_found() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (a, b) = (
        RunDir::create(tmp.path(), &spec(1)).expect("a"),
        RunDir::create(tmp.path(), &spec(2)).expect("b"),
    );
    let (record, predictions, labels) = outputs(&spec(1), 10);
    a.write_outputs(&record, &predictions, &labels).expect("a");
    let (record_b, _, _) = outputs(&spec(2), 10);
    b.write_outputs(&record_b, &predictions, &labels).expect("b");
    let file = a.path().join(PREDICTIONS_FILE);
    let good = std::fs::read(&file).expect("written");
    let mut other_class = good.clone();
    other_class[32 + 4] = 10;
    let mut other_label = good.clone();
    other_label[32 + 10 + 6] = 200;
    let mut magic = good.clone();
    magic[0] = b'X';
    let mut version = good.clone();
    version[8] = 2;
    let mut count = good.clone();
    count[12] = 11;
    let copied = std::fs::read(b.path().join(PREDICTIONS_FILE)).expect("b's");
    let cases: [(&[u8], &str); 9] = [
        (&good[..good.len() - 1], "51 bytes; expected 52"),
        (&[good.as_slice(), &[0]].concat(), "53 bytes; expected 52"),
        (&good[..42], "42 bytes; expected 52"),
        (&other_class, "prediction 4 is class 10"),
        (&other_label, "label 6 is class 200"),
        (&magic, "not a cnnvar predictions file"),
        (&version, "version 2"),
        (&count, "counts 11 predictions"),
        (&copied, "the predictions of run"),
    ];
    for (bytes, why) in cases {
        std::fs::write(&file, bytes).expect("damage");
        let e = a.read_predictions(&record).expect_err(why).to_string();
        assert!(e.contains(why), "{why}: {e}");
        assert_eq!(a.state(), RunState::Damaged, "{why}");
        let damage = a.damage();
        let files: Vec<&Path> = damage.iter().map(|d| d.file.as_path()).collect();
        assert_eq!(files, [file.as_path(), a.path().join(RECORD_FILE).as_path()], "{why}");
        assert!(damage[0].why.contains(why) && damage[1].why.contains(why), "{damage:?}");
    }
    for d in a.damage() {
        a.move_aside(&d.file).expect("moved");
    }
    assert_eq!(a.state(), RunState::Pending, "trains again");
}

/// A record made before runs stored predictions (the committed one, in its own
/// directory) is complete, undamaged and without predictions.
#[test]
fn an_old_record_has_no_predictions_and_is_complete() {
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/seeds/record/record.json");
    let text = std::fs::read_to_string(seed).expect("committed record");
    let old = RunRecord::from_json(&text, Path::new(seed)).expect("reads");
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = RunDir::create(tmp.path(), &old.spec).expect("dir");
    std::fs::write(dir.path().join(RECORD_FILE), &text).expect("record");
    let record = dir.read_record().expect("reads").expect("complete");
    assert_eq!(record.run_id, old.spec.run_id(), "the same run id");
    assert_eq!((&record.provenance.predictions_sha256, &record.provenance.adapter), (&None, &None));
    assert_eq!(dir.read_predictions(&record).expect("no damage"), None);
    assert_eq!(dir.state(), RunState::Done);
    assert!(dir.damage().is_empty());
}

/// The first data recorded is the study's; other data is refused naming both.
#[test]
fn study_data_is_recorded_once_and_checked() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = |sha: &str, src: &str| StudyData {
        dataset: "mnist".into(),
        sha256: sha.into(),
        source: src.into(),
    };
    let study = StudyDir::open(tmp.path());
    study.check_study_data(&data("aaa", "/a")).expect("first is recorded");
    study.check_study_data(&data("aaa", "/elsewhere")).expect("same data");
    let e = study.check_study_data(&data("bbb", "/b")).expect_err("differs").to_string();
    assert!(e.contains("aaa") && e.contains("bbb") && e.contains("/a") && e.contains("/b"), "{e}");
    assert!(e.contains("data-mnist.json"), "{e}");
    let recorded = study.study_data("mnist").expect("reads").expect("recorded");
    assert_eq!(recorded, data("aaa", "/a"));
}

/// Predictions that are valid in form but not the ones the record was written with
/// (the labels copied over the predicted classes; one label changed) are damage: the
/// file no longer hashes to the record's checksum. The run is not complete, is in no
/// result, and a sweep moves both files aside.
#[test]
fn predictions_changed_after_the_run_are_damaged() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let study = StudyDir::open(tmp.path());
    let dir = RunDir::create(tmp.path(), &spec(1)).expect("dir");
    let (record, predictions, labels) = outputs(&spec(1), 20);
    let written = dir.write_outputs(&record, &predictions, &labels).expect("writes");
    let file = dir.path().join(PREDICTIONS_FILE);
    let good = std::fs::read(&file).expect("written");
    let mut all_right = good.clone();
    all_right.copy_within(32 + 20..32 + 40, 32);
    let mut one_label = good.clone();
    one_label[32 + 20 + 3] = (one_label[32 + 20 + 3] + 1) % 10;
    let run = cnnvar_core::study::PlannedRun {
        experiment: "e".into(),
        level: "l".into(),
        level_index: 0,
        replicate: 0,
        run_id: spec(1).run_id(),
        spec: spec(1),
    };
    for bytes in [&all_right, &one_label] {
        std::fs::write(&file, bytes).expect("damage");
        let e = dir.read_predictions(&written).expect_err("changed").to_string();
        assert!(e.contains("sha256") && e.contains("changed after its run wrote it"), "{e}");
        assert_eq!(dir.state(), RunState::Damaged);
        assert_eq!(dir.complete_record(), None);
        assert!(study.results(std::slice::from_ref(&run)).is_empty(), "damaged, not a result");
        let files: Vec<PathBuf> = dir.damage().into_iter().map(|d| d.file).collect();
        assert_eq!(files, [file.clone(), dir.path().join(RECORD_FILE)]);
    }
    std::fs::write(&file, &good).expect("restore");
    assert_eq!(dir.state(), RunState::Done);
    assert_eq!(study.results(std::slice::from_ref(&run)).len(), 1);
}

/// A record of a run made before records held the predictions' checksum is held to
/// its accuracy: predictions that give another accuracy (the labels copied over the
/// predicted classes: 100%, not the record's 20%) are damage, with both numbers said.
#[test]
fn predictions_that_give_another_accuracy_than_the_record_are_damaged() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = RunDir::create(tmp.path(), &spec(1)).expect("dir");
    let (record, predictions, labels) = outputs(&spec(1), 20);
    dir.write_predictions(&predictions, &labels).expect("predictions");
    dir.write_record(&record).expect("an old record, without the checksum");
    assert_eq!(dir.state(), RunState::Done);
    let file = dir.path().join(PREDICTIONS_FILE);
    let mut bytes = std::fs::read(&file).expect("written");
    bytes.copy_within(32 + 20..32 + 40, 32);
    std::fs::write(&file, &bytes).expect("damage");
    let e = dir.read_predictions(&record).expect_err("100%, not 20%").to_string();
    assert!(
        e.contains("20 of its 20 predictions are right (100.00%), but the record's test accuracy is 20.00% (4 of 20)"),
        "{e}"
    );
    assert_eq!(dir.state(), RunState::Damaged);
    assert_eq!(dir.damage().len(), 2);
}

/// Predictions deleted next to a record that holds their checksum are damage (the
/// record alone is listed, as the file to move aside), and the run trains again; a
/// record without the checksum and without predictions is an old complete run.
#[test]
fn missing_predictions_of_a_record_with_their_checksum_are_damage() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = RunDir::create(tmp.path(), &spec(1)).expect("dir");
    let (record, predictions, labels) = outputs(&spec(1), 10);
    let written = dir.write_outputs(&record, &predictions, &labels).expect("writes");
    std::fs::remove_file(dir.path().join(PREDICTIONS_FILE)).expect("delete");
    let e = dir.read_predictions(&written).expect_err("missing").to_string();
    assert!(e.contains("predictions.u8") && e.contains("missing"), "{e}");
    assert_eq!(dir.state(), RunState::Damaged);
    let damage = dir.damage();
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert_eq!(damage[0].file, dir.path().join(RECORD_FILE));
    assert!(
        damage[0].why.starts_with("its predictions (predictions.u8) are missing"),
        "{damage:?}"
    );
    dir.move_aside(&damage[0].file).expect("moved");
    assert_eq!(dir.state(), RunState::Pending, "trains again");
    // Without the checksum: a record made before runs stored predictions.
    dir.write_record(&record).expect("old record");
    assert_eq!(dir.state(), RunState::Done);
    assert!(dir.damage().is_empty());
}

/// A study of two learning rates, 2 seeds, laid out in `dir` from its file there.
fn laid_out(dir: &Path) -> Plan {
    let text = "seeds = 2\n[[experiment]]\nname = \"lr\"\nvary = { lr = [0.1, 0.01] }\n";
    let source = dir.join("s.toml");
    std::fs::write(&source, text).expect("study file");
    let plan = Plan::new(cnnvar_core::study::parse(text, &source).expect("parses"), false);
    let study = StudyDir::open(dir.join("s"));
    assert!(study.lay_out(&plan).expect("laid out").is_empty());
    plan
}

/// A damaged data record is study damage; repair moves it aside and rebuilds it from
/// the checksum the complete records share, or, without such records, leaves it to the
/// next worker. A damaged plan.json is damage too, and written again by lay_out.
#[test]
fn damaged_study_files_are_moved_aside_and_rebuilt() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let plan = laid_out(tmp.path());
    let study = StudyDir::open(tmp.path().join("s"));
    assert!(study.damage().is_empty());
    let data = study.data_file("fashion-mnist");
    std::fs::write(&data, "{ garbage").expect("garbage");
    let damage = study.damage();
    assert_eq!(damage.len(), 1);
    assert!(damage[0].why.contains("not a cnnvar data record"), "{damage:?}");
    assert!(study.remedy(&data, Some(&plan)).contains("the next run's worker"));
    // Complete records, all of one checksum: the record is rebuilt from them.
    let sha = "ab".repeat(32);
    for run in &plan.runs {
        let mut record = record_of(&run.spec);
        record.provenance.data_sha256 = sha.clone();
        record.provenance.data_source = "/data".into();
        study.run(&run.run_id).write_record(&record).expect("record");
    }
    assert!(study.remedy(&data, Some(&plan)).contains("its 4 complete record(s)"));
    let repairs = study.lay_out(&plan).expect("repaired");
    assert_eq!(repairs.len(), 1);
    assert_eq!(repairs[0].run_id, None);
    assert_eq!(std::fs::read(&repairs[0].moved_to).expect("kept"), b"{ garbage");
    assert!(repairs[0].to_string().contains("moved aside to"), "{}", repairs[0]);
    let rebuilt = study.study_data("fashion-mnist").expect("reads").expect("rebuilt");
    assert_eq!((rebuilt.sha256.as_str(), rebuilt.source.as_str()), (sha.as_str(), "/data"));
    // A plan.json that does not parse: damage, moved aside, written again.
    std::fs::write(study.file(StudyFile::Plan), "not json").expect("garbage");
    assert_eq!(study.damage().len(), 1);
    let repairs = study.lay_out(&plan).expect("repaired");
    assert_eq!(repairs.len(), 1);
    assert_eq!(study.plan().expect("written again").runs.len(), 4);
    assert!(study.damage().is_empty());
}

/// plan.json whose study was edited (its seed) is not consistent with its own runs and
/// is not study.toml's: both are said, with the field and the two values.
#[test]
fn an_edited_plan_disagrees_with_its_runs_and_study_toml() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut plan = laid_out(tmp.path());
    let study = StudyDir::open(tmp.path().join("s"));
    assert!(study.plan_disagreements(&plan).is_empty());
    plan.study.seed += 1;
    let found = study.plan_disagreements(&plan);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("is not consistent"), "{found:?}");
    assert!(found[1].contains("`seed` is 1 in plan.json, 0 in study.toml"), "{found:?}");
}
