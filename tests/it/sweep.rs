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
    write_toy_idx(&data, 400, 100, 12, false);
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
