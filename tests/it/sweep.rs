//! `cnnvar sweep`: quick real study, crash safety under SIGKILL, malformed studies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::*;

/// A small study on the toy data set: 2 + 4 levels × 2 seeds, 2 epochs each.
pub(crate) const TOY_STUDY: &str = r#"
name = "toy"
seeds = 2
seed = 7
[base]
epochs = 2
train_size = 300
[[experiment]]
name = "lr"
vary = { lr = [0.003, 0.0003] }
[[experiment]]
name = "noise"
kind = "variance-sources"
base = { train_size = 200, subset = "stratified" }
"#;

pub(crate) fn toy_setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    write_toy_idx(&data, 400, 100, 28, false);
    let study = tmp.path().join("toy.toml");
    std::fs::write(&study, TOY_STUDY).expect("write study");
    (tmp, data, study)
}

/// Every `record.json` under a study directory, by run id, with its bytes.
pub(crate) fn records(study_dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(study_dir) else { return out };
    for e in entries.flatten() {
        let p = e.path().join("record.json");
        if let Ok(bytes) = std::fs::read(&p) {
            out.insert(e.file_name().to_string_lossy().into_owned(), bytes);
        }
    }
    out
}

pub(crate) fn plan_run_ids(study_dir: &Path) -> Vec<String> {
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(study_dir.join("plan.json")).expect("plan.json"))
            .expect("json");
    plan["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["run_id"].as_str().expect("id").to_string())
        .collect()
}

pub(crate) fn sweep_cmd(study: &Path, out: &Path, data: &Path) -> std::process::Command {
    let mut c = cnnvar();
    c.args(["sweep", "--quiet", "--jobs", "2", "--out"])
        .arg(out)
        .arg("--data-dir")
        .arg(data)
        .arg(study);
    c
}

/// How long one sweep of the toy study takes, from nothing to its report, on this
/// machine under its present load: kill tests draw their kill moments relative to it,
/// so that a slow or busy machine is still killed mid-study, not before its first run,
/// and a fast one (a binary without LibTorch starts in milliseconds) not after its end.
pub(crate) fn time_one_sweep(study: &Path, data: &Path, scratch: &Path) -> Duration {
    let started = Instant::now();
    let o = output(&mut sweep_cmd(study, scratch, data));
    assert!(o.status.success(), "the timing sweep failed: {}", stderr(&o));
    let took = started.elapsed();
    let _ = std::fs::remove_dir_all(scratch);
    took
}

/// Must-show 2: SIGKILL the sweep at 10 random moments, rerunning after each. In the
/// end every run has exactly one complete, parseable record, and no record that was
/// complete is ever rewritten (no completed run is trained again).
#[test]
fn survives_sigkill_at_random_moments() {
    let (tmp, data, study) = toy_setup();
    // Longer runs than the toy's, so that a sweep lasts long enough to be killed more
    // than once before it has trained everything, even where workers start in
    // milliseconds.
    std::fs::write(&study, TOY_STUDY.replace("epochs = 2", "epochs = 10")).expect("study");
    let out = tmp.path().join("runs");
    let dir = out.join("toy");
    let mut seen: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    // A fixed schedule of kill delays, from a seeded LCG: 5–35% of a whole sweep, so
    // that several sweeps are killed before the runs are all done.
    let sweep_time = time_one_sweep(&study, &data, &tmp.path().join("timing"));
    let mut state: u64 = 0x5eed;
    let mut kills = 0;
    for _ in 0..10 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = sweep_time.mul_f64(0.05 + 0.3 * ((state >> 33) % 1000) as f64 / 1000.0);
        let mut child = sweep_cmd(&study, &out, &data).spawn().expect("start sweep");
        let started = Instant::now();
        while started.elapsed() < delay {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if child.try_wait().expect("wait").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        let _ = child.wait();
        // Orphaned workers notice their parent is gone within half a second.
        std::thread::sleep(Duration::from_millis(800));
        for (id, bytes) in records(&dir) {
            match seen.get(&id) {
                Some(old) => assert_eq!(old, &bytes, "run {id}: a complete record was rewritten"),
                None => {
                    seen.insert(id, bytes);
                }
            }
        }
    }
    assert!(kills >= 3, "only {kills} sweeps were still running when killed");
    let o = output(&mut sweep_cmd(&study, &out, &data));
    assert!(o.status.success(), "final sweep failed: {}", stderr(&o));
    let final_records = records(&dir);
    for (id, bytes) in &seen {
        assert_eq!(final_records.get(id), Some(bytes), "run {id}: a complete record was rewritten");
    }
    let planned = plan_run_ids(&dir);
    assert_eq!(planned.len(), 2 * 2 + 4 * 2);
    for id in &planned {
        let bytes = final_records.get(id).unwrap_or_else(|| panic!("run {id} has no record"));
        let rec: serde_json::Value = serde_json::from_slice(bytes).expect("record parses");
        assert_eq!(rec["run_id"].as_str(), Some(id.as_str()));
    }
    assert_eq!(final_records.len(), planned.len(), "one record per run");
    // results.csv: a header and one row per run.
    let csv = std::fs::read_to_string(dir.join("results.csv")).expect("results.csv");
    assert_eq!(csv.lines().count(), 1 + planned.len());
    // Status agrees.
    let o = output(cnnvar().arg("status").arg(&dir));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains(&format!("{} done, 0 running, 0 failed, 0 pending", planned.len()))
    );
}

/// Must-show 3: every malformed study is rejected with file, line and field, and
/// nothing runs (no study directory appears).
#[test]
fn malformed_studies_are_rejected_before_anything_runs() {
    let cases: &[(&str, &str, &str)] = &[
        ("[[experiment]]\nname = \"a\"\nvary = { learning_rate = [0.1] }\n", ":3", "learning_rate"),
        ("[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, \"fast\"] }\n", ":3", "`lr`"),
        ("[[experiment]]\nname = \"a\"\nvary = { lr = [-0.1] }\n", ":3", "`lr`"),
        ("[[experiment]]\nname = \"a\"\nvary = { lr = [0.0] }\n", ":3", "`lr`"),
        ("[[experiment]]\nname = \"a\"\nvary = { lr = [] }\n", ":3", "empty level list"),
        (
            "[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.2] }\n",
            ":5",
            "duplicate",
        ),
        ("[[experiment]]\nname = \"a\"\nvary = { batch_size = [32, 0] }\n", ":3", "batch_size"),
        ("seeds = 0\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n", ":1", "seeds"),
        (
            "[base]\nepochs = \"ten\"\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n",
            ":2",
            "epochs",
        ),
    ];
    for (i, (text, line, field)) in cases.iter().enumerate() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let study = tmp.path().join(format!("bad{i}.toml"));
        std::fs::write(&study, text).expect("write");
        let out = tmp.path().join("runs");
        let o = output(cnnvar().args(["sweep", "--out"]).arg(&out).arg(&study));
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "case {i}: {e}");
        assert!(e.contains(&format!("bad{i}.toml{line}")), "case {i}: no file:line in {e}");
        assert!(e.contains(field), "case {i}: no field {field} in {e}");
        assert_eq!(e.trim().lines().count(), 1, "case {i}: {e}");
        assert!(!out.exists(), "case {i}: something ran");
    }
}

/// `--dry-run` lists every run with an estimate and writes nothing.
#[test]
fn dry_run_lists_runs_and_estimates() {
    let (tmp, data, study) = toy_setup();
    let out = tmp.path().join("runs");
    let o = output(
        cnnvar()
            .args(["sweep", "--dry-run", "--out"])
            .arg(&out)
            .arg("--data-dir")
            .arg(&data)
            .arg(&study),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.lines().filter(|l| l.contains("[Pending]")).count(), 12, "{text}");
    assert!(text.contains("estimated") && text.contains("wall"), "{text}");
    assert!(!out.exists());
}

/// The toy study's data with a shift experiment: one model per replicate scored on the
/// test split and on its twilight copy.
const SHIFT_STUDY: &str = r#"
name = "shift"
seeds = 2
seed = 7
[base]
epochs = 2
train_size = 300
[[experiment]]
name = "shift"
vary = { evaluate_on = ["test", "twilight"] }
"#;

/// One column of a record's per-epoch curve.
fn curve(record: &serde_json::Value, column: &str) -> Vec<serde_json::Value> {
    record["epochs"].as_array().expect("epochs").iter().map(|e| e[column].clone()).collect()
}

/// Issue 29 (train once): runs that differ only in their evaluation set are one
/// training, by one worker even with two jobs, each evaluated after every epoch; and
/// each gives what it gives trained alone.
#[test]
fn one_model_scored_on_two_sets_is_trained_once() {
    let (tmp, data, _) = toy_setup();
    let study = tmp.path().join("shift.toml");
    std::fs::write(&study, SHIFT_STUDY).expect("study");
    let out = tmp.path().join("runs");
    let o = output(&mut sweep_cmd(&study, &out, &data));
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = out.join("shift");
    let recs: BTreeMap<String, serde_json::Value> = records(&dir)
        .into_iter()
        .map(|(id, bytes)| (id, serde_json::from_slice(&bytes).expect("record parses")))
        .collect();
    assert_eq!(recs.len(), 4, "2 levels × 2 seeds");
    let attempts: usize = recs
        .keys()
        .map(|id| {
            std::fs::read_to_string(dir.join(id).join("attempts.log"))
                .map_or(0, |t| t.lines().count())
        })
        .sum();
    assert_eq!(attempts, 4, "each run's attempt is logged once");
    let shared: Vec<(&String, &serde_json::Value)> =
        recs.iter().filter(|(_, r)| r["trained_with"].is_string()).collect();
    assert_eq!(shared.len(), 2, "one run of each replicate is its partner's training");
    for (id, rec) in shared {
        let with = &recs[rec["trained_with"].as_str().expect("an id")];
        assert_eq!(rec["spec"]["init_seed"], with["spec"]["init_seed"]);
        assert_ne!(rec["spec"]["evaluate_on"], with["spec"]["evaluate_on"]);
        for field in ["train_accuracy", "train_loss", "params"] {
            assert_eq!(rec[field], with[field], "{id}: {field}");
        }
        assert_eq!(curve(rec, "train_loss"), curve(with, "train_loss"), "{id}: one training");

        // The same run trained alone, outside the study, on one thread as the sweep's
        // workers were (a backend's reductions may add in another order on two).
        let alone = tmp.path().join("alone").join(id);
        std::fs::create_dir_all(&alone).expect("dir");
        std::fs::copy(dir.join(id).join("spec.json"), alone.join("spec.json")).expect("spec");
        let o = output(
            cnnvar().arg("worker").arg(&alone).args(["--threads", "1", "--data-dir"]).arg(&data),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let own: serde_json::Value =
            serde_json::from_slice(&std::fs::read(alone.join("record.json")).expect("record"))
                .expect("parses");
        assert!(own["trained_with"].is_null());
        for field in ["test_accuracy", "test_loss", "per_class_accuracy", "train_loss"] {
            assert_eq!(own[field], rec[field], "{id}: {field} alone and trained once");
        }
        assert_eq!(
            curve(&own, "test_accuracy"),
            curve(rec, "test_accuracy"),
            "{id}: the curve alone and trained once"
        );
        assert_eq!(
            std::fs::read(alone.join("predictions.u8")).expect("predictions"),
            std::fs::read(dir.join(id).join("predictions.u8")).expect("predictions"),
        );
    }
}

/// Must-show 1 of the studies issue: the seed study in quick mode completes with one
/// complete record per planned run, and writes its report.
#[test]
fn seed_study_quick_completes() {
    let Some(data) = fashion_mnist() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("runs");
    let study = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../studies/seed.toml");
    let o = output(
        cnnvar()
            .args(["sweep", "--quick", "--quiet", "--out"])
            .arg(&out)
            .arg("--data-dir")
            .arg(&data)
            .arg(&study),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = out.join("seed-quick");
    let planned = plan_run_ids(&dir);
    assert_eq!(planned.len(), 4 * 5 + 3 * 2 * 5, "experiments × levels × seeds");
    let recs = records(&dir);
    assert_eq!(recs.len(), planned.len());
    for id in &planned {
        let rec: serde_json::Value = serde_json::from_slice(&recs[id]).expect("record parses");
        assert_eq!(rec["epochs"].as_array().map(Vec::len), Some(1));
    }
    for f in ["results.csv", "summary.csv", "report.html", "report.md"] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
}

/// Issue 16, items 12 and 13: what every worker would refuse, and counts of 0, are
/// refused when the study is planned (also by `--dry-run`), naming the flag or the
/// file, line and field, and nothing is written.
#[test]
fn limits_are_refused_when_the_study_is_planned() {
    let (tmp, data, study) = toy_setup();
    let out = tmp.path().join("runs");
    let sweep = |study: &Path, flags: &[&str]| {
        let mut c = cnnvar();
        c.args(["sweep", "--dry-run", "--out"]).arg(&out).arg("--data-dir").arg(&data);
        output(c.args(flags).arg(study))
    };
    let refused = |o: std::process::Output, wants: &[&str]| {
        let e = stderr(&o);
        assert!(!o.status.success(), "{wants:?} passed: {}", String::from_utf8_lossy(&o.stdout));
        for w in wants {
            assert!(e.contains(w), "no {w} in: {e}");
        }
        assert!(!out.exists(), "{wants:?}: something was written");
    };
    refused(sweep(&study, &["--seeds", "1000000"]), &["`--seeds`", "100000"]);
    refused(sweep(&study, &["--epochs", "1000000"]), &["`--epochs`", "100000"]);
    refused(sweep(&study, &["--jobs", "0"]), &["--jobs", "at least 1"]);
    refused(sweep(&study, &["--threads-per-job", "0"]), &["--threads-per-job", "at least 1"]);
    let mut files =
        vec![("train_size = 10_000_000", "`train_size`"), ("test_size = 20000", "`test_size`")];
    let compiled = compiled_backends();
    let missing = ["cuda", "metal", "vulkan", "wgpu", "tch", "ndarray"]
        .into_iter()
        .find(|b| !compiled.iter().any(|c| c == b))
        .map(|b| format!("backend = \"{b}\""));
    if let Some(line) = &missing {
        files.push((line.as_str(), "`backend`"));
    }
    for (line, field) in files {
        let bad = tmp.path().join("bad.toml");
        let text = format!(
            "seeds = 1\n[base]\n{line}\n[[experiment]]\nname = \"a\"\nvary = {{ lr = [0.1] }}\n"
        );
        std::fs::write(&bad, text).expect("write");
        refused(sweep(&bad, &[]), &["bad.toml:3", field]);
    }
}

/// Issue 16, item 14: every failed run is named with its id, the first line of its
/// reason and its log.
#[test]
fn failed_runs_are_listed_with_reason_and_log() {
    let (tmp, data, _) = toy_setup();
    // The toy data set has 100 test examples: every worker refuses 200.
    let study = tmp.path().join("fails.toml");
    std::fs::write(
        &study,
        "seeds = 1\n[base]\nepochs = 1\ntrain_size = 50\ntest_size = 200\n\
         [[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n",
    )
    .expect("write");
    let out = tmp.path().join("runs");
    let o = output(&mut sweep_cmd(&study, &out, &data));
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    let ids = plan_run_ids(&out.join("fails"));
    assert_eq!(ids.len(), 2);
    for id in &ids {
        let line = e
            .lines()
            .find(|l| l.starts_with("failed: ") && l.contains(&format!("({id})")))
            .unwrap_or_else(|| panic!("run {id} not listed: {e}"));
        assert!(line.contains("test_size") && line.contains("exceeds"), "{line}");
        let log = line.rsplit_once("; log: ").map(|(_, l)| PathBuf::from(l)).expect("log path");
        assert!(log.is_file() && log.starts_with(&out), "{line}");
    }
    assert!(e.contains("2 failed"), "{e}");
}

/// Issue 16, item 17: two sweeps of one study at once each count the runs they trained
/// themselves, and together every run once.
#[test]
fn concurrent_sweeps_count_what_each_did() {
    let (tmp, data, study) = toy_setup();
    let out = tmp.path().join("runs");
    let start = || {
        let mut c = sweep_cmd(&study, &out, &data);
        c.stderr(std::process::Stdio::piped()).spawn().expect("start sweep")
    };
    let (a, b) = (start(), start());
    let distinct = {
        let (a, b) = (a.wait_with_output().expect("a"), b.wait_with_output().expect("b"));
        // `toy: C of N runs complete (T trained by this sweep…`: (C, T).
        let counts = |o: &std::process::Output| -> (usize, usize) {
            let e = stderr(o);
            assert!(o.status.success(), "{e}");
            let line = e.lines().last().unwrap_or_default().to_string();
            let complete = line
                .split_once(": ")
                .and_then(|(_, r)| r.split_once(" of "))
                .and_then(|(n, _)| n.parse().ok());
            let trained = line
                .split_once(" (")
                .and_then(|(_, r)| r.split_once(" trained by this sweep"))
                .and_then(|(n, _)| n.parse().ok());
            match (complete, trained) {
                (Some(c), Some(t)) => (c, t),
                _ => panic!("no counts in: {line}"),
            }
        };
        let ((complete_a, trained_a), (complete_b, trained_b)) = (counts(&a), counts(&b));
        let ids: std::collections::BTreeSet<String> =
            plan_run_ids(&out.join("toy")).into_iter().collect();
        assert_eq!(trained_a + trained_b, ids.len(), "runs counted as trained by the two sweeps");
        // The sweep that ends last finds every run complete, whoever trained it.
        assert_eq!(complete_a.max(complete_b), ids.len(), "complete runs as counted at the end");
        ids.len()
    };
    assert_eq!(records(&out.join("toy")).len(), distinct);
}
