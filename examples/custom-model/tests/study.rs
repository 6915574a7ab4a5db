//! The worked example end to end: `my-cnnvar` trains its own model reproducibly, and
//! sweeps `study.toml` (2 learning rates × 3 seeds of `my-resnet`, 500 Fashion-MNIST
//! images) with itself as the workers, into a report.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The example's binary, with a clean data environment.
fn my_cnnvar() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_my-cnnvar"));
    c.env_remove("CNNVAR_DATA_DIR").env("CNNVAR_AUTO_FETCH", "0");
    c
}

fn run(cmd: &mut Command) -> Output {
    let o = cmd.output().expect("failed to start my-cnnvar");
    assert!(o.status.success(), "my-cnnvar failed: {}", String::from_utf8_lossy(&o.stderr));
    o
}

/// The real Fashion-MNIST directory, if installed; panics when required.
fn fashion_mnist() -> Option<PathBuf> {
    let dir = PathBuf::from("/usr/share/datasets/fashion-mnist");
    if dir.join("train-images-idx3-ubyte.gz").exists() {
        return Some(dir);
    }
    if std::env::var("CNNVAR_REQUIRE_DATA").is_ok_and(|v| v.contains("fashion-mnist")) {
        panic!("Fashion-MNIST is required (CNNVAR_REQUIRE_DATA) but not installed");
    }
    cnnvar_core::testing::skip(
        "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
    );
    None
}

/// A record without what differs between reruns (timings, start time, command line).
fn without_timings(mut v: serde_json::Value) -> serde_json::Value {
    let obj = v.as_object_mut().expect("record object");
    obj.remove("seconds");
    if let Some(p) = obj.get_mut("provenance").and_then(|p| p.as_object_mut()) {
        p.remove("started_unix");
    }
    for e in obj.get_mut("epochs").and_then(|e| e.as_array_mut()).into_iter().flatten() {
        if let Some(e) = e.as_object_mut() {
            for k in ["seconds", "train_samples_per_sec", "eval_samples_per_sec"] {
                e.remove(k);
            }
        }
    }
    v
}

/// `my-resnet` (batch norm and all) trains through the harness: the same command twice
/// gives the same record, and another init seed other weights.
#[test]
fn my_resnet_trains_reproducibly() {
    let Some(data) = fashion_mnist() else { return };
    let train = |seed: &str| {
        let o = run(my_cnnvar()
            .args(["train", "--model", "my-resnet", "--width", "8", "--train-size", "300"])
            .args(["--test-size", "300", "--epochs", "1", "--backend", "flex", "--threads", "1"])
            .args(["--init-seed", seed, "--json", "--quiet", "--data-dir"])
            .arg(&data));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("a JSON record")
    };
    let (a, b, c) = (train("1"), train("1"), train("2"));
    assert_eq!(a["spec"]["model"], "my-resnet");
    assert!(a["params"].as_u64().is_some_and(|p| p > 1000), "{}", a["params"]);
    assert_eq!(without_timings(a.clone()), without_timings(b), "reruns differ");
    assert_ne!(a["test_loss"], c["test_loss"], "another init seed, the same model?");
}

/// The study runs through `my-cnnvar` (its workers are `my-cnnvar worker`) into a report;
/// the plain `cnnvar` is not needed and the model is named in every run.
#[test]
fn the_example_study_runs_through_its_own_binary() {
    let Some(data) = fashion_mnist() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let study = Path::new(env!("CARGO_MANIFEST_DIR")).join("study.toml");
    run(my_cnnvar()
        .args(["sweep", "--quiet", "--jobs", "2", "--backend", "flex", "--out"])
        .arg(tmp.path())
        .arg("--data-dir")
        .arg(&data)
        .arg(&study));
    let dir = tmp.path().join("my-resnet");
    let results = std::fs::read_to_string(dir.join("results.csv")).expect("results.csv");
    assert_eq!(results.lines().count(), 1 + 6, "2 levels × 3 seeds: {results}");
    assert!(results.lines().skip(1).all(|l| l.contains(",my-resnet,")), "{results}");
    let report = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(report.contains("my-resnet's learning rate"), "{report}");
    assert!(dir.join("report.html").is_file());
}
