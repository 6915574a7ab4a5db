//! Adaptive seeding end to end: `seeds = { min, max, step }` sweeps in rounds, and a
//! sweep killed part-way through a round resumes to the same decisions as one that was
//! never interrupted.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;
use crate::sweep::{plan_run_ids, records, sweep_cmd};

/// Two experiments on the toy data, 2 to 6 seeds by 2: `lr`'s levels differ by tens of
/// points (the smaller rate barely learns in an epoch, by how much depends on the
/// seed, or not at all), but with 2 seeds no difference is decided (a t-test with 1
/// degree of freedom at the first look's tiny level, and 2 seeds that agree exactly are
/// no evidence), so it takes another round; `same`'s levels differ only in the curve
/// points of epochs before the last, of which there are none, so their final accuracies
/// are equal: 2 identical differences decide nothing, the second look (4) decides them
/// equivalent.
const STUDY: &str = r#"
name = "adapt"
seeds = { min = 2, max = 6, step = 2 }
resolve = { delta = 0.5 }
seed = 7
[base]
epochs = 1
train_size = 200
[[experiment]]
name = "lr"
resolve = { delta = 0 }
vary = { lr = [0.003, 0.00003] }
[[experiment]]
name = "same"
vary = { eval_subset = [50, 60] }
"#;

/// Runs of the first round: 2 seeds of 4 levels.
const FIRST_ROUND: usize = 8;

fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    write_toy_idx(&data, 300, 100, 28, false);
    let study = tmp.path().join("adapt.toml");
    std::fs::write(&study, STUDY).expect("write study");
    (tmp, data, study)
}

fn decisions(study_dir: &Path) -> Vec<u8> {
    std::fs::read(study_dir.join("decisions.json")).expect("decisions.json")
}

/// The sweep's decisions once complete; a kill in its second round, and a resumed
/// sweep that ends with the same `decisions.json`, plan and records.
#[test]
fn a_killed_adaptive_sweep_resumes_to_the_same_decisions() {
    let (tmp, data, study) = setup();
    let whole = tmp.path().join("whole");
    let o = output(&mut sweep_cmd(&study, &whole, &data));
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = whole.join("adapt");
    let expected = decisions(&dir);
    let d: serde_json::Value = serde_json::from_slice(&expected).expect("decisions parse");
    assert_eq!(d["finished"], true, "{d}");
    let (lr, same) = (&d["experiments"][0], &d["experiments"][1]);
    assert_eq!(same["comparisons"][0]["verdict"], "equivalent", "{same}");
    assert_eq!((&same["comparisons"][0]["look"], &same["seeds"]), (&2.into(), &4.into()));
    assert!(lr["seeds"].as_u64() > Some(2), "{lr}");
    assert_eq!(d["runs"], 2 * lr["seeds"].as_u64().expect("seeds") + 2 * 4);
    assert_eq!(plan_run_ids(&dir).len(), d["runs"].as_u64().expect("runs") as usize);
    let csv = std::fs::read_to_string(dir.join("decisions.csv")).expect("decisions.csv");
    assert_eq!(csv.lines().count(), 3, "{csv}");
    // The report states the decisions after the verdicts, and `cnnvar status` each
    // experiment's.
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    let section = md.find("## Adaptive seeding").expect("the decisions section");
    assert!(md.find("## Verdicts") < Some(section), "{md}");
    assert!(md.contains("equivalent within ±0.5 points"), "{md}");
    assert!(md.contains("**Adaptive seeding:** same: finished at 4 seeds"), "{md}");
    assert!(md.contains("runs saved ("), "{md}");
    let o = output(cnnvar().arg("status").arg(&dir));
    assert!(o.status.success(), "{}", stderr(&o));
    let status = String::from_utf8_lossy(&o.stdout);
    assert!(status.contains("    same: finished at 4 seeds (look 2 of 3)"), "{status}");
    assert!(status.contains("adaptive seeding: finished;"), "{status}");

    // Killed (the sweep and its workers) once a run of the second round is complete.
    let cut = tmp.path().join("cut");
    let cut_dir = cut.join("adapt");
    let log = std::fs::File::create(tmp.path().join("cut.log")).expect("log");
    let mut child =
        sweep_cmd(&study, &cut, &data).process_group(0).stderr(log).spawn().expect("start");
    let started = Instant::now();
    while records(&cut_dir).len() <= FIRST_ROUND {
        assert!(child.try_wait().expect("wait").is_none(), "the sweep ended before its kill");
        assert!(started.elapsed() < Duration::from_secs(120), "no second round in 2 minutes");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
    let _ = child.wait();
    let killed_at = records(&cut_dir).len();
    eprintln!("killed with {killed_at} of {} runs complete", plan_run_ids(&dir).len());
    assert!(killed_at < plan_run_ids(&dir).len(), "killed after the last run");

    let o = output(&mut sweep_cmd(&study, &cut, &data));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&decisions(&cut_dir)),
        String::from_utf8_lossy(&expected),
        "killed at {killed_at} records"
    );
    assert_eq!(plan_run_ids(&cut_dir), plan_run_ids(&dir));
    assert_eq!(records(&cut_dir).len(), records(&dir).len());
}

/// `--dry-run` of an adaptive study shows its first round, the fewest and the most
/// runs and their estimates; `--seeds N` makes it a fixed study of N seeds.
#[test]
fn dry_run_shows_the_range_and_seeds_fixes_it() {
    let (tmp, data, study) = setup();
    let out = tmp.path().join("runs");
    let dry = |extra: &[&str]| {
        let o = output(
            cnnvar()
                .args(["sweep", "--dry-run", "--out"])
                .arg(&out)
                .arg("--data-dir")
                .arg(&data)
                .args(extra)
                .arg(&study),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let text = dry(&[]);
    assert_eq!(text.lines().filter(|l| l.contains("[Pending]")).count(), FIRST_ROUND, "{text}");
    assert!(text.contains("adaptive seeds: 2 to 6 of every level"), "{text}");
    assert!(text.contains("adaptive seeding: 8 to 24 distinct runs"), "{text}");
    assert!(text.contains(" to ") && text.contains("wall"), "{text}");
    let fixed = dry(&["--seeds", "3"]);
    assert!(fixed.contains("3 seeds each") && !fixed.contains("adaptive"), "{fixed}");
    assert_eq!(fixed.lines().filter(|l| l.contains("[Pending]")).count(), 12, "{fixed}");
    assert!(!out.exists(), "a dry run writes nothing");
}
