//! Every file a report reads is checked: predictions are tied to their record (a
//! checksum, and the accuracy they give), a damaged run is out of every statistic and
//! retrained, the study directory's own files are checked and healed like a run's,
//! plan.json is checked against its study and study.toml, the report rewrites the
//! decisions and can be written elsewhere, and a difference without spread from two
//! seeds decides nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::*;
use crate::sweep::{plan_run_ids, sweep_cmd};

/// Two learning rates, two seeds each, one epoch on the toy data: 4 runs.
const STUDY: &str = r#"
name = "sound"
seeds = 2
[base]
epochs = 1
train_size = 200
[[experiment]]
name = "lr"
vary = { lr = [0.003, 0.001] }
"#;

/// Test examples of the toy data: each run's predictions.u8 is 32 + 2 × this long.
const TEST_EXAMPLES: usize = 100;

/// A toy data set, `study` written, swept once to completion: (temp dir, data dir,
/// study file, --out, study dir).
fn swept(study_text: &str, name: &str) -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    write_toy_idx(&data, 300, TEST_EXAMPLES, 28, false);
    let study = tmp.path().join(format!("{name}.toml"));
    std::fs::write(&study, study_text).expect("write study");
    let out = tmp.path().join("runs");
    let o = output(&mut sweep_cmd(&study, &out, &data));
    assert!(o.status.success(), "first sweep: {}", stderr(&o));
    let dir = out.join(name);
    (tmp, data, study, out, dir)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn status(dir: &Path) -> String {
    let o = output(cnnvar().arg("status").arg(dir));
    assert!(o.status.success(), "status: {}", stderr(&o));
    stdout(&o)
}

fn report(dir: &Path) -> String {
    let o = output(cnnvar().arg("report").arg(dir));
    assert!(o.status.success(), "report: {}", stderr(&o));
    stdout(&o)
}

/// The files of `dir` (not recursively) whose names start with `prefix`.
fn named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
        .collect();
    v.sort();
    v
}

/// Rows of results.csv (header left out).
fn result_rows(dir: &Path) -> usize {
    let text = std::fs::read_to_string(dir.join("results.csv")).expect("results.csv");
    text.lines().count() - 1
}

/// Items 1 and 2: predictions that are valid in form but are not the run's (every
/// predicted class changed, the header, length, run id and classes still valid; or
/// one label changed) make the run damaged for status, report, results and
/// sweep alike: 3 of 4 complete, out of the statistics, retrained by the next sweep.
#[test]
fn predictions_that_are_not_the_runs_are_damage_everywhere() {
    let (_tmp, data, study, out, dir) = swept(STUDY, "sound");
    let ids = plan_run_ids(&dir);
    assert_eq!(ids.len(), 4);
    assert!(status(&dir).contains("4 runs: 4 done"), "{}", status(&dir));
    let file = dir.join(&ids[1]).join("predictions.u8");
    let mut bytes = std::fs::read(&file).expect("predictions");
    assert_eq!(bytes.len(), 32 + 2 * TEST_EXAMPLES);
    // Every predicted class the one after its label: header, length, run id and classes
    // still valid (the toy runs are nearly all right, so the labels copied over the
    // predictions would change little).
    for i in 0..TEST_EXAMPLES {
        bytes[32 + i] = (bytes[32 + TEST_EXAMPLES + i] + 1) % 10;
    }
    std::fs::write(&file, &bytes).expect("other valid predictions");

    let s = status(&dir);
    assert!(s.contains("4 runs: 3 done") && s.contains("1 damaged"), "{s}");
    let line = s.lines().find(|l| l.contains("damaged:") && l.contains(ids[1].as_str()));
    let line = line.unwrap_or_else(|| panic!("no damaged line for {}: {s}", ids[1]));
    assert!(line.contains("sha256") && line.contains("changed after its run wrote it"), "{line}");

    let s = report(&dir);
    assert!(s.contains("3 of 4 runs complete"), "{s}");
    assert!(
        s.lines().any(|l| l.contains("warning")
            && l.contains(ids[1].as_str())
            && l.contains("not counted")),
        "{s}"
    );
    assert_eq!(result_rows(&dir), 3, "a damaged run is no result");
    // Out of the level means: the damaged run's level has 1 of its 2 runs complete.
    let summary = std::fs::read_to_string(dir.join("summary.csv")).expect("summary.csv");
    let complete: Vec<&str> = summary
        .lines()
        .filter(|l| l.contains(",test_accuracy,"))
        .map(|l| if l.contains(",test_accuracy,2,1,") { "1 of 2" } else { "other" })
        .collect();
    assert!(complete.contains(&"1 of 2"), "{summary}");

    // One changed label of another run is damage too.
    let other = dir.join(&ids[2]).join("predictions.u8");
    let mut bytes = std::fs::read(&other).expect("predictions");
    let at = 32 + TEST_EXAMPLES + 5;
    bytes[at] = (bytes[at] + 1) % 10;
    std::fs::write(&other, &bytes).expect("one label changed");
    let s = status(&dir);
    assert!(s.contains("4 runs: 2 done") && s.contains("2 damaged"), "{s}");

    let o = output(&mut sweep_cmd(&study, &out, &data));
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    for id in [&ids[1], &ids[2]] {
        let kept = named(&dir.join(id), "predictions.u8.damaged-");
        let record = named(&dir.join(id), "record.json.damaged-");
        assert_eq!((kept.len(), record.len()), (1, 1), "{id}: {e}");
        assert!(e.contains(&kept[0].display().to_string()), "says where: {e}");
    }
    assert!(status(&dir).contains("4 runs: 4 done, 0 running, 0 failed, 0 pending\n"));
    assert_eq!(result_rows(&dir), 4);
}

/// Item 3: a deleted predictions.u8 next to a record that holds its checksum is damage
/// (not an old record without predictions): named by status and report, retrained.
#[test]
fn deleted_predictions_of_a_record_with_their_checksum_are_damage() {
    let (_tmp, data, study, out, dir) = swept(STUDY, "sound");
    let ids = plan_run_ids(&dir);
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(&ids[0]).join("record.json")).expect("record"),
    )
    .expect("json");
    let sha = record["provenance"]["predictions_sha256"].as_str().expect("the checksum");
    assert_eq!(sha.len(), 64);
    std::fs::remove_file(dir.join(&ids[0]).join("predictions.u8")).expect("delete");

    let s = status(&dir);
    assert!(s.contains("4 runs: 3 done") && s.contains("1 damaged"), "{s}");
    assert!(
        s.lines().any(|l| l.contains(ids[0].as_str())
            && l.contains("predictions.u8")
            && l.contains("missing")),
        "{s}"
    );
    let s = report(&dir);
    assert!(s.contains("3 of 4 runs complete"), "{s}");
    let o = output(&mut sweep_cmd(&study, &out, &data));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(named(&dir.join(&ids[0]), "record.json.damaged-").len(), 1);
    assert!(dir.join(&ids[0]).join("predictions.u8").is_file(), "retrained");
    assert!(status(&dir).contains("4 runs: 4 done"));
}

/// Item 4: plan.json with its study's seed edited (its runs as they were) is named by
/// status and the report: its runs are not its study's, and its study is not
/// study.toml's, with the field and both values.
#[test]
fn an_edited_plan_is_named_by_status_and_report() {
    let (_tmp, _data, _study, _out, dir) = swept(STUDY, "sound");
    assert!(!report(&dir).contains("warning"), "a sound study has no warning");
    let p = dir.join("plan.json");
    let mut plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&p).expect("plan")).expect("json");
    let seed = plan["study"]["seed"].as_u64().expect("seed");
    plan["study"]["seed"] = (seed + 1).into();
    std::fs::write(&p, serde_json::to_vec_pretty(&plan).expect("json")).expect("edit");

    let s = report(&dir);
    let field = format!("`seed` is {} in plan.json, {seed} in study.toml", seed + 1);
    assert!(s.lines().any(|l| l.contains("warning") && l.contains(&field)), "{s}");
    assert!(
        s.lines().any(|l| l.contains("warning") && l.contains("plan.json is not consistent")),
        "{s}"
    );
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(md.contains(&field), "{md}");
    let s = status(&dir);
    assert!(s.contains(&field) && s.contains("plan.json is not consistent"), "{s}");
}

/// An adaptive study decided in two rounds: two levels whose final accuracies are equal
/// (they differ only in the curve points before the last epoch, of which there are
/// none): 2 identical differences decide nothing, the look at 4 seeds decides them
/// equivalent. 8 runs.
const ADAPTIVE: &str = r#"
name = "twice"
seeds = { min = 2, max = 4, step = 2 }
resolve = { delta = 0.5 }
seed = 7
[base]
epochs = 1
train_size = 200
[[experiment]]
name = "same"
vary = { eval_subset = [50, 60] }
"#;

/// Item 5: the report rewrites an edited decisions.json and decisions.csv from the
/// records, as it rewrites results.csv.
#[test]
fn report_rewrites_edited_decisions() {
    let (_tmp, _data, _study, _out, dir) = swept(ADAPTIVE, "twice");
    let decisions = std::fs::read(dir.join("decisions.json")).expect("decisions.json");
    let csv = std::fs::read(dir.join("decisions.csv")).expect("decisions.csv");
    let d: serde_json::Value = serde_json::from_slice(&decisions).expect("json");
    assert_eq!((&d["finished"], &d["runs"]), (&true.into(), &8.into()), "{d}");
    std::fs::write(dir.join("decisions.json"), b"{\"edited\": true}\n").expect("edit");
    std::fs::write(dir.join("decisions.csv"), b"edited\n").expect("edit");
    report(&dir);
    assert_eq!(std::fs::read(dir.join("decisions.json")).expect("json"), decisions);
    assert_eq!(std::fs::read(dir.join("decisions.csv")).expect("csv"), csv);
}

/// Item 11 (status): status counts the runs an adaptive study's decisions need now,
/// whatever round plan.json was written in (a failed or killed sweep leaves it behind
/// the records), pending included.
#[test]
fn status_counts_the_runs_the_decisions_need() {
    let (_tmp, _data, _study, _out, dir) = swept(ADAPTIVE, "twice");
    // plan.json of the first round only, as a sweep that failed in the second leaves it.
    let p = dir.join("plan.json");
    let mut plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&p).expect("plan")).expect("json");
    let runs = plan["runs"].as_array_mut().expect("runs");
    runs.retain(|r| r["replicate"].as_u64() < Some(2));
    assert_eq!(runs.len(), 4);
    std::fs::write(&p, serde_json::to_vec_pretty(&plan).expect("json")).expect("edit");
    let s = status(&dir);
    assert!(s.contains("twice: 8 runs: 8 done, 0 running, 0 failed, 0 pending"), "{s}");
    assert!(s.contains("8 runs needed now"), "{s}");
    // A run of the second round lost (a sweep killed in it): pending, and counted.
    let last = plan_run_ids(&dir).len();
    assert_eq!(last, 4);
    let full = crate::sweep::records(&dir);
    assert_eq!(full.len(), 8);
    let (id, _) = full
        .iter()
        .find(|(id, _)| !plan_run_ids(&dir).contains(id))
        .expect("a run of the second round");
    std::fs::remove_file(dir.join(id).join("record.json")).expect("rm");
    let s = status(&dir);
    assert!(s.contains("twice: 8 runs: 7 done, 0 running, 0 failed, 1 pending"), "{s}");
}

/// Item 6: a garbage data-<dataset>.json is named by status and the report; the next
/// sweep moves it aside (the path printed), rebuilds it from the records' checksum and
/// trains the missing run, instead of failing every new run.
#[test]
fn a_damaged_data_record_is_named_moved_aside_and_rebuilt() {
    let (_tmp, data, study, out, dir) = swept(STUDY, "sound");
    let file = dir.join("data-fashion-mnist.json");
    let good: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("data record")).expect("json");
    std::fs::write(&file, b"\x00garbage{").expect("garbage");
    let ids = plan_run_ids(&dir);
    std::fs::remove_file(dir.join(&ids[3]).join("record.json")).expect("a run to train");

    let s = status(&dir);
    let line = s.lines().find(|l| l.contains("damaged:") && l.contains("data-fashion-mnist.json"));
    let line = line.unwrap_or_else(|| panic!("data record not named: {s}"));
    assert!(line.contains("rebuilt from the checksum its 3 complete record(s)"), "{line}");
    let s = report(&dir);
    assert!(
        s.lines().any(|l| l.contains("warning") && l.contains("data-fashion-mnist.json")),
        "{s}"
    );

    let o = output(&mut sweep_cmd(&study, &out, &data));
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    let kept = named(&dir, "data-fashion-mnist.json.damaged-");
    assert_eq!(kept.len(), 1, "{e}");
    assert!(e.contains(&kept[0].display().to_string()), "says where: {e}");
    assert_eq!(std::fs::read(&kept[0]).expect("kept"), b"\x00garbage{");
    let rebuilt: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("rebuilt")).expect("json");
    assert_eq!(rebuilt["sha256"], good["sha256"]);
    assert!(status(&dir).contains("4 runs: 4 done, 0 running, 0 failed, 0 pending\n"));
}

/// Every file under `dir` with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime)> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let (p, meta) = (e.path(), e.metadata().expect("metadata"));
            if meta.is_dir() {
                todo.push(p.clone());
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                files.insert(p, (bytes, meta.modified().expect("mtime")));
            }
        }
        let meta = std::fs::metadata(&d).expect("dir metadata");
        files.insert(d.join("."), (Vec::new(), meta.modified().expect("mtime")));
    }
    files
}

/// Sets `dir` and everything in it read-only (`read_only`), or writable again.
fn set_read_only(dir: &Path, read_only: bool) {
    let mode = if read_only { "a-w" } else { "u+w" };
    let o =
        std::process::Command::new("chmod").args(["-R", mode]).arg(dir).output().expect("chmod");
    assert!(o.status.success(), "chmod: {}", String::from_utf8_lossy(&o.stderr));
}

/// Item 7: `report --out DIR` analyses a study it cannot write (read-only) and leaves
/// it untouched: no file of it changes, in bytes or modification time (so the test
/// means something as root too, whom permissions do not stop); the report, results and
/// figures are in DIR. Without --out, a user the permissions stop is told of --out.
#[test]
fn report_out_leaves_a_read_only_study_untouched() {
    let (tmp, _data, _study, _out, dir) = swept(STUDY, "sound");
    let before = snapshot(&dir);
    set_read_only(&dir, true);
    let elsewhere = tmp.path().join("elsewhere").join("report");
    let o = output(cnnvar().arg("report").arg(&dir).arg("--out").arg(&elsewhere));
    let after = snapshot(&dir);
    // Root writes into a read-only directory: only a user it stops sees the error.
    let stopped = std::fs::write(dir.join(".probe"), b"").is_err();
    let _ = std::fs::remove_file(dir.join(".probe"));
    let without = stopped.then(|| output(cnnvar().arg("report").arg(&dir)));
    set_read_only(&dir, false);
    assert!(o.status.success(), "report --out: {}", stderr(&o));
    assert_eq!(after, before, "report --out changed the study directory");
    assert!(stdout(&o).contains("4 of 4 runs complete"), "{}", stdout(&o));
    for name in ["report.html", "report.md", "results.csv", "summary.csv", "comparisons.csv"] {
        assert!(elsewhere.join(name).is_file(), "{name} not in --out");
    }
    assert!(elsewhere.join("figures").is_dir());
    assert!(stdout(&o).contains(&elsewhere.join("report.html").display().to_string()));
    if let Some(without) = without {
        assert_eq!(without.status.code(), Some(1), "{}", stderr(&without));
        assert!(stderr(&without).contains("--out DIR"), "{}", stderr(&without));
    }
}

/// Item 10: two seeds whose differences are all the same are no certainty: two levels
/// that both diverged (0 points every time) and two levels 8 points apart on both
/// seeds are "not resolved (n = 2, no spread …)", not "within seed noise" or "beats
/// … p < 0.001", and no interval, p, detectable difference or seeds needed is given.
#[test]
fn a_difference_without_spread_from_two_seeds_decides_nothing() {
    use cnnvar_store::{Plan, RunDir, StudyDir};
    let text = "name = \"flat\"\nseeds = 2\n\
                [[experiment]]\nname = \"sure\"\nvary = { lr = [0.1, 0.01] }\n\
                [[experiment]]\nname = \"dead\"\nvary = { lr = [5.0, 9.0] }\n";
    let tmp = tempfile::tempdir().expect("tempdir");
    let source = tmp.path().join("flat.toml");
    std::fs::write(&source, text).expect("write");
    let study = cnnvar_core::study::parse(text, &source).expect("parses");
    let plan = Plan::new(study, false);
    let dir = tmp.path().join("flat");
    let store = StudyDir::open(&dir);
    store.lay_out(&plan).expect("laid out");
    for run in plan.unique_runs() {
        let mut record = cnnvar_core::testing::record_of(&run.spec);
        if run.experiment == "sure" {
            let base = if run.level_index == 0 { 0.90 } else { 0.82 };
            record.test_accuracy = base + 0.02 * run.replicate as f64;
        } else {
            record.test_accuracy = 0.1;
            record.diverged = true;
            record.error = Some("the loss became NaN".into());
        }
        RunDir::open(dir.join(&run.run_id)).write_record(&record).expect("record");
    }
    let s = report(&dir);
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    for text in [&s, &md] {
        assert!(!text.contains("beats lr"), "{text}");
        assert!(!text.contains("within seed noise (0.0 points"), "{text}");
    }
    assert!(
        md.contains("lr 0.1 vs lr 0.01: not resolved (n = 2, no spread")
            || md.contains("lr 0.01 vs lr 0.1: not resolved (n = 2, no spread"),
        "{md}"
    );
    // The columns before the last (the verdict, quoted) hold no commas.
    let csv = std::fs::read_to_string(dir.join("comparisons.csv")).expect("comparisons.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let mut rows = 0;
    for line in lines.filter(|l| l.starts_with("flat,sure,")) {
        let row: Vec<&str> = line.splitn(header.len(), ',').collect();
        for name in ["ci_low", "ci_high", "adjusted_p", "detectable_diff", "seeds_needed"] {
            assert_eq!(row[col(name)], "", "{name} of a pair without spread: {line}");
        }
        rows += 1;
    }
    assert_eq!(rows, 1, "{csv}");
}
