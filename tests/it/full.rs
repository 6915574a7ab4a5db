//! `studies/full.toml`: every factor the write-up names, run in quick mode on real
//! Fashion-MNIST, its report (ranking first) checked in headless Chromium; and its
//! dry run.

use std::path::{Path, PathBuf};

use crate::report::{chromium, headless};
use crate::support::*;
use crate::sweep::{plan_run_ids, records};

/// Every experiment of the full study, in file order.
const EXPERIMENTS: [&str; 18] = [
    "noise",
    "size",
    "lr-adam",
    "lr-sgd",
    "batch",
    "batch-scaled",
    "optimizer",
    "dropout",
    "weight-decay",
    "depth",
    "width",
    "kernel",
    "downsample",
    "augment",
    "imbalance",
    "shift",
    "label-noise",
    "protocol",
];

fn full_study() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../studies/full.toml")
}

/// Must-show 2 of the full-study issue: the dry run lists every factor with its runs
/// and an estimated wall time, and trains nothing.
#[test]
fn full_study_dry_run_lists_every_factor() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("runs");
    let o = output(cnnvar().args(["sweep", "--dry-run", "--out"]).arg(&out).arg(full_study()));
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for exp in EXPERIMENTS {
        assert!(text.lines().any(|l| l.starts_with(&format!("{exp} — "))), "{exp}: {text}");
    }
    let planned = text.lines().filter(|l| l.contains("[Pending]")).count();
    assert_eq!(planned, 86 * 5, "levels × seeds");
    assert!(text.contains("estimated") && text.contains("wall"), "{text}");
    assert!(!out.exists(), "a dry run writes nothing");
}

/// Must-show 1 of the full-study issue and of the ranking issue: the full study in
/// quick mode completes with one record per planned run, and its report opens with
/// the answer (the ranking figure of the factors), which renders in headless Chromium.
/// At 3 seeds instead of the study's 5 (every experiment and level, 40% fewer runs: this
/// is CI's longest test).
#[test]
fn full_study_quick_completes_with_ranking_first() {
    let Some(data) = fashion_mnist() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("runs");
    let o = output(
        cnnvar()
            .args(["sweep", "--quick", "--seeds", "3", "--quiet", "--out"])
            .arg(&out)
            .arg("--data-dir")
            .arg(&data)
            .arg(full_study()),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = out.join("full-quick-s3");
    let planned = plan_run_ids(&dir);
    let recs = records(&dir);
    assert_eq!(recs.len(), planned.len(), "one record per planned run");
    for id in &planned {
        let rec: serde_json::Value = serde_json::from_slice(&recs[id]).expect("record parses");
        assert!(rec["flops"].as_u64().is_some_and(|f| f > 0), "{id}: FLOPs recorded");
        assert!(rec["params"].as_u64().is_some_and(|p| p > 0), "{id}: parameters recorded");
    }
    let ranking = std::fs::read_to_string(dir.join("ranking.csv")).expect("ranking.csv");
    // Every factor is ranked; the seed-noise sources and the fold (protocol) experiment
    // are not factors.
    for exp in EXPERIMENTS {
        let ranked = ranking.lines().any(|l| l.contains(&format!(",{exp},")));
        assert_eq!(ranked, !matches!(exp, "noise" | "protocol"), "{exp}: {ranking}");
    }

    let Some(browser) = chromium() else { return };
    let url = format!("file://{}", dir.join("report.html").display());
    let o = headless(&browser, &tmp.path().join("profile"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&o.stdout).to_string();
    let log = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "chromium failed: {log}");
    for l in log.lines() {
        assert!(!(l.contains("CONSOLE") && l.contains("ERROR")), "console error: {l}");
    }
    let answer_at = dom.find("<section id=\"answer\"><h2>The answer</h2>").expect("the answer");
    let ranking_at = dom.find("<section id=\"ranking\"").expect("a ranking section");
    let first_experiment = dom.find("<section class=\"experiment\"").expect("experiments");
    assert!(answer_at < ranking_at && ranking_at < first_experiment, "the answer opens the report");
    let figure_at = dom.find("id=\"fig-ranking\"").expect("the ranking figure");
    assert!(answer_at < figure_at && figure_at < ranking_at, "the figure is in the answer");
    let sections = dom.matches("<section class=\"experiment\"").count();
    assert_eq!(sections, EXPERIMENTS.len(), "one section per experiment");
}

/// The README's word on `results/full`'s twilight runs, trained before one training
/// served both evaluation sets: each is the same model as its test-split partner (the
/// same seeds, and training losses and accuracies equal to the last digit).
#[test]
fn the_committed_twilight_runs_are_their_partners_models() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/full");
    let mut by_training: std::collections::BTreeMap<String, Vec<serde_json::Value>> =
        Default::default();
    for bytes in records(&dir).into_values() {
        let rec: serde_json::Value = serde_json::from_slice(&bytes).expect("record parses");
        let mut spec = rec["spec"].clone();
        if let Some(s) = spec.as_object_mut() {
            s.remove("evaluate_on");
        }
        by_training.entry(spec.to_string()).or_default().push(rec);
    }
    let pairs: Vec<&Vec<serde_json::Value>> = by_training
        .values()
        .filter(|runs| runs.iter().any(|r| r["spec"]["evaluate_on"] == "twilight"))
        .collect();
    assert_eq!(pairs.len(), 10, "2 augmentations × 5 replicates");
    for runs in pairs {
        assert_eq!(runs.len(), 2, "each twilight run has its test-split partner");
        for field in ["train_loss", "train_accuracy"] {
            assert_eq!(runs[0][field], runs[1][field], "{field}: {}", runs[0]["run_id"]);
        }
        assert!(runs.iter().all(|r| r["trained_with"].is_null()), "trained separately");
    }
}
