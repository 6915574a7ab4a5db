//! The run store and the data (issue 16, items 6–11): study names stay inside `--out`,
//! records and specs must belong to their directory, damaged files are moved aside and
//! their runs retrained, and a study never mixes data silently.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::*;

/// Three runs of one epoch on the toy data.
const STUDY: &str = r#"
name = "store"
seeds = 1
[base]
epochs = 1
train_size = 200
[[experiment]]
name = "lr"
vary = { lr = [0.003, 0.001, 0.0003] }
"#;

/// A toy data set, the study file, and the study swept once to completion: (temp
/// dir, data dir, study file, --out, study dir).
fn swept() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    write_toy_idx(&data, 300, 100, 28, false);
    let study = tmp.path().join("store.toml");
    std::fs::write(&study, STUDY).expect("write study");
    let out = tmp.path().join("runs");
    let o = sweep(&study, &out, &data);
    assert!(o.status.success(), "first sweep: {}", stderr(&o));
    let dir = out.join("store");
    (tmp, data, study, out, dir)
}

fn sweep(study: &Path, out: &Path, data: &Path) -> Output {
    output(
        cnnvar()
            .args(["sweep", "--quiet", "--jobs", "2", "--out"])
            .arg(out)
            .arg("--data-dir")
            .arg(data)
            .arg(study),
    )
}

/// The plan's run ids, in plan order.
fn run_ids(dir: &Path) -> Vec<String> {
    crate::sweep::plan_run_ids(dir)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json")
}

/// The files of `dir` whose names start with `prefix`.
fn moved_aside(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix)))
        .collect();
    v.sort();
    v
}

/// Item 6: a study named `..` or `.` (or with a slash) is refused with the file and
/// line, and nothing is written outside `--out` (nor inside it).
#[test]
fn a_study_name_that_is_not_one_path_component_is_refused() {
    for name in ["..", ".", "a/../..", ""] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let study = tmp.path().join("s.toml");
        std::fs::write(&study, STUDY.replace("name = \"store\"", &format!("name = \"{name}\"")))
            .expect("write");
        let out = tmp.path().join("dir").join("sub");
        for dry in [true, false] {
            let mut c = cnnvar();
            c.args(["sweep", "--quiet", "--out"]).arg(&out).arg(&study);
            if dry {
                c.arg("--dry-run");
            }
            let o = output(&mut c);
            let e = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{name:?}: {e}");
            assert!(e.contains("s.toml:2") && e.contains("`name`"), "{name:?}: {e}");
            assert!(!tmp.path().join("dir").exists(), "{name:?}: wrote into --out's parent");
            assert!(!tmp.path().join("plan.json").exists(), "{name:?}: wrote outside --out");
        }
    }
}

/// Item 7: a record copied from another run is not that run's completion: status and
/// report name the run as damaged, its numbers are not reported under its level, and
/// the next sweep moves the copy aside and retrains it.
#[test]
fn a_record_copied_from_another_run_is_damaged_and_retrained() {
    let (_tmp, data, study, out, dir) = swept();
    let ids = run_ids(&dir);
    let (a, b) = (&ids[0], &ids[1]);
    std::fs::copy(dir.join(a).join("record.json"), dir.join(b).join("record.json")).expect("copy");

    let o = output(cnnvar().arg("status").arg(&dir));
    let s = stdout(&o);
    assert!(s.contains("2 done") && s.contains("1 damaged"), "{s}");
    assert!(s.lines().any(|l| l.contains("damaged:") && l.contains(b.as_str())), "{s}");

    let o = output(cnnvar().arg("report").arg(&dir));
    assert!(o.status.success(), "report: {}", stderr(&o));
    let s = stdout(&o);
    assert!(s.contains("2 of 3 runs complete"), "{s}");
    assert!(s.lines().any(|l| l.contains("damaged") && l.contains(b.as_str())), "{s}");
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(md.contains(&format!("run {b}")) && md.contains("damaged"), "{md}");

    let o = sweep(&study, &out, &data);
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    let moved = moved_aside(&dir.join(b), "record.json.damaged-");
    assert_eq!(moved.len(), 1, "{e}");
    assert!(e.contains(&moved[0].display().to_string()), "says where: {e}");
    assert_eq!(json(&moved[0])["run_id"].as_str(), Some(a.as_str()), "the copy is kept");
    for id in &ids {
        assert_eq!(json(&dir.join(id).join("record.json"))["run_id"].as_str(), Some(id.as_str()));
    }
}

/// Item 8: a truncated record.json and a garbage spec.json without a record are moved
/// aside (kept, the path printed), and both runs are retrained; before that, status
/// and report name them by id instead of counting them as pending.
#[test]
fn damaged_run_files_are_moved_aside_and_retrained() {
    let (_tmp, data, study, out, dir) = swept();
    let ids = run_ids(&dir);
    let truncated = dir.join(&ids[0]).join("record.json");
    let full = std::fs::read(&truncated).expect("read");
    std::fs::write(&truncated, &full[..full.len() / 2]).expect("truncate");
    std::fs::remove_file(dir.join(&ids[1]).join("record.json")).expect("rm");
    let garbage = dir.join(&ids[1]).join("spec.json");
    std::fs::write(&garbage, b"\x00\xffnot json").expect("garbage");

    let o = output(cnnvar().arg("status").arg(&dir));
    let s = stdout(&o);
    assert!(s.contains("1 done") && s.contains("0 pending, 2 damaged"), "{s}");
    for id in &ids[..2] {
        assert!(s.lines().any(|l| l.contains("damaged:") && l.contains(id.as_str())), "{id}: {s}");
    }
    let o = output(cnnvar().arg("report").arg(&dir));
    let s = stdout(&o);
    for id in &ids[..2] {
        assert!(s.lines().any(|l| l.contains("damaged") && l.contains(id.as_str())), "{id}: {s}");
    }

    let o = sweep(&study, &out, &data);
    let e = stderr(&o);
    assert!(o.status.success(), "{e}");
    let kept_record = moved_aside(&dir.join(&ids[0]), "record.json.damaged-");
    let kept_spec = moved_aside(&dir.join(&ids[1]), "spec.json.damaged-");
    assert_eq!((kept_record.len(), kept_spec.len()), (1, 1), "{e}");
    assert_eq!(std::fs::read(&kept_record[0]).expect("kept"), &full[..full.len() / 2]);
    assert_eq!(std::fs::read(&kept_spec[0]).expect("kept"), b"\x00\xffnot json");
    for p in [&kept_record[0], &kept_spec[0]] {
        assert!(e.contains(&p.display().to_string()), "says where: {e}");
    }
    for id in &ids {
        assert_eq!(json(&dir.join(id).join("record.json"))["run_id"].as_str(), Some(id.as_str()));
        assert_eq!(
            json(&dir.join(id).join("spec.json"))["lr"],
            json(&dir.join(id).join("record.json"))["spec"]["lr"]
        );
    }
    let o = output(cnnvar().arg("status").arg(&dir));
    assert!(stdout(&o).contains("3 done, 0 running, 0 failed, 0 pending\n"), "{}", stdout(&o));
}

/// The data set's checksum as `cnnvar data info` reports it.
fn sha256_of(data: &Path) -> String {
    let o = output(cnnvar().args(["data", "info", "--json", "--data-dir"]).arg(data));
    let infos: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    infos
        .as_array()
        .and_then(|a| a.iter().find(|i| i["name"] == "fashion-mnist"))
        .and_then(|i| i["sha256"].as_str())
        .expect("sha256")
        .to_string()
}

/// Item 9: the study records its data's checksum; resumed with other data, the
/// worker refuses naming both checksums; a record whose checksum differs is flagged
/// in the report.
#[test]
fn a_study_refuses_other_data_and_flags_records_of_other_data() {
    let (tmp, data, study, out, dir) = swept();
    let sha = sha256_of(&data);
    let recorded = json(&dir.join("data-fashion-mnist.json"));
    assert_eq!(recorded["sha256"].as_str(), Some(sha.as_str()));

    let other = tmp.path().join("other");
    write_toy_idx(&other, 320, 100, 28, false);
    let other_sha = sha256_of(&other);
    assert_ne!(sha, other_sha);
    let ids = run_ids(&dir);
    std::fs::remove_file(dir.join(&ids[2]).join("record.json")).expect("rm");
    let o = sweep(&study, &out, &other);
    assert_eq!(o.status.code(), Some(1), "must fail: {}", stderr(&o));
    assert!(!dir.join(&ids[2]).join("record.json").exists(), "trained on other data");
    let o = output(cnnvar().arg("status").arg(&dir));
    let s = stdout(&o);
    let why = s.lines().find(|l| l.contains("failed:") && l.contains(ids[2].as_str()));
    let why = why.unwrap_or_else(|| panic!("no failure of {}: {s}", ids[2]));
    assert!(why.contains(&sha) && why.contains(&other_sha), "names both: {why}");

    // A record made from other data (an older study that recorded none) is flagged.
    let p = dir.join(&ids[1]).join("record.json");
    let mut rec = json(&p);
    rec["provenance"]["data_sha256"] = serde_json::Value::String(other_sha.clone());
    std::fs::write(&p, serde_json::to_vec_pretty(&rec).expect("json")).expect("write");
    let o = output(cnnvar().arg("report").arg(&dir));
    assert!(o.status.success(), "{}", stderr(&o));
    let s = stdout(&o);
    assert!(s.lines().any(|l| l.contains(ids[1].as_str()) && l.contains(&other_sha)), "{s}");
    assert!(!s.contains(ids[0].as_str()), "only the other data's run: {s}");
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(md.contains(&format!("run {}", ids[1])) && md.contains(&other_sha), "{md}");
}

/// Item 10: `CNNVAR_DATA_DIR` naming an empty or a missing directory is the same error
/// as `--data-dir` naming it, never a silent fall-back to the system's data set.
#[test]
fn an_empty_or_missing_data_dir_env_is_the_same_error_as_the_flag() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for dir in [tmp.path().to_path_buf(), tmp.path().join("missing")] {
        let args = ["train", "--quiet", "--epochs", "1", "--train-size", "100"];
        let by_flag = output(cnnvar().args(args).arg("--data-dir").arg(&dir));
        let by_env = output(cnnvar().args(args).env("CNNVAR_DATA_DIR", &dir));
        assert_eq!(by_env.status.code(), Some(1), "{}", stderr(&by_env));
        assert_eq!(stderr(&by_env), stderr(&by_flag));
        assert!(stderr(&by_env).contains(&dir.display().to_string()), "{}", stderr(&by_env));
        let info = output(cnnvar().args(["data", "info"]).env("CNNVAR_DATA_DIR", &dir));
        assert!(!stdout(&info).contains("/usr/share/datasets"), "{}", stdout(&info));
    }
}
