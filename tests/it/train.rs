//! `cnnvar train` on real data: accuracy and bit-identical reruns.

use crate::support::*;

fn train_json(backend: &str, size: &str, data: &std::path::Path) -> serde_json::Value {
    let o = output(
        cnnvar()
            .args([
                "train",
                "--model",
                "simple",
                "--train-size",
                size,
                "--epochs",
                "1",
                "--seed",
                "0",
                "--json",
                "--quiet",
                "--backend",
                backend,
                "--data-dir",
            ])
            .arg(data),
    );
    record(&o)
}

/// Must-show 1 and 2: one epoch on all 60000 examples reaches 0.86, and the same
/// command twice gives the same record apart from timings (shown on a tenth of the
/// examples: the same code path, a sixth of the time).
#[test]
fn full_epoch_is_accurate_and_reproducible_on_flex() {
    let Some(data) = fashion_mnist() else { return };
    if !backend_available("flex") {
        return;
    }
    let a = train_json("flex", "60000", &data);
    let acc = a["test_accuracy"].as_f64().expect("test_accuracy");
    assert!(acc >= 0.86, "test accuracy {acc} < 0.86");
    assert_eq!(a["epochs"].as_array().map(Vec::len), Some(1));
    assert_eq!(a["per_class_accuracy"].as_array().map(Vec::len), Some(10));
    assert_eq!(a["provenance"]["data_sha256"].as_str().map(str::len), Some(64));
    let (b, c) = (train_json("flex", "6000", &data), train_json("flex", "6000", &data));
    assert_eq!(without_timings(b), without_timings(c), "reruns differ");
}

#[test]
fn full_epoch_is_reproducible_on_tch() {
    let Some(data) = fashion_mnist() else { return };
    if !backend_available("tch") {
        return;
    }
    let a = train_json("tch", "60000", &data);
    let acc = a["test_accuracy"].as_f64().expect("test_accuracy");
    assert!(acc >= 0.86, "test accuracy {acc} < 0.86");
    let (b, c) = (train_json("tch", "6000", &data), train_json("tch", "6000", &data));
    assert_eq!(without_timings(b), without_timings(c), "reruns differ");
}

/// `--out` stores the run directory with spec, curve and record.
#[test]
fn out_writes_the_run_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("toy");
    write_toy_idx(&data, 200, 100, 28, true);
    let out = tmp.path().join("runs");
    let o = output(
        cnnvar()
            .args(["train", "--train-size", "100", "--epochs", "2", "--quiet", "--out"])
            .arg(&out)
            .arg("--data-dir")
            .arg(&data),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let dirs: Vec<_> = std::fs::read_dir(&out).expect("out dir").collect();
    assert_eq!(dirs.len(), 1);
    let run = dirs[0].as_ref().expect("entry").path();
    let curve = std::fs::read_to_string(run.join("curve.csv")).expect("curve.csv");
    assert_eq!(curve.lines().count(), 3, "header + 2 epochs: {curve}");
    let rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("record.json")).expect("record"))
            .expect("json");
    assert_eq!(rec["run_id"].as_str(), run.file_name().and_then(|n| n.to_str()));
    assert!(run.join("spec.json").exists());
    let predictions = std::fs::read(run.join("predictions.u8")).expect("predictions.u8");
    assert_eq!(predictions.len(), 32 + 2 * 100, "header + a prediction and a label per example");
}

/// A toy set the model can learn proves the loop learns, fast.
#[test]
fn learns_a_toy_problem() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_toy_idx(tmp.path(), 600, 200, 28, false);
    let o = output(
        cnnvar()
            .args(["train", "--epochs", "3", "--json", "--quiet", "--data-dir"])
            .arg(tmp.path()),
    );
    let rec = record(&o);
    let acc = rec["test_accuracy"].as_f64().expect("acc");
    assert!(acc > 0.9, "toy accuracy {acc}");
}

/// A learning rate far too high diverges; the run is recorded, not a crash.
#[test]
fn divergence_is_recorded() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_toy_idx(tmp.path(), 200, 50, 28, false);
    let o = output(
        cnnvar()
            .args([
                "train",
                "--epochs",
                "2",
                "--lr",
                "1e12",
                "--optimizer",
                "sgd",
                "--json",
                "--quiet",
                "--data-dir",
            ])
            .arg(tmp.path()),
    );
    let rec = record(&o);
    assert_eq!(rec["diverged"], serde_json::Value::Bool(true), "{rec}");
    assert!(rec["error"].as_str().is_some_and(|e| e.contains("loss became")), "{rec}");
}

/// Adam at lr 10 on Fashion-MNIST wrecks training without a NaN (the toy set is too
/// easy to wreck): whatever the record's `diverged` flag says, the divergence rule the
/// report applies calls the run diverged.
#[test]
fn a_wrecked_run_is_diverged_by_the_rule() {
    let Some(data) = fashion_mnist() else { return };
    let o = output(
        cnnvar()
            .args(["train", "--epochs", "2", "--lr", "10", "--optimizer", "adam"])
            .args(["--train-size", "2000", "--test-size", "1000"])
            .args(["--json", "--quiet", "--data-dir"])
            .arg(&data),
    );
    let json = record(&o);
    let rec: cnnvar_core::RunRecord = serde_json::from_value(json.clone()).expect("a record");
    let reason = rec.divergence().unwrap_or_else(|| panic!("not diverged by the rule: {json}"));
    assert!(
        reason.contains("non-finite") || reason.contains("at chance") || reason.contains("rose"),
        "{reason}"
    );
}

/// A missing data set is a clear error that says how to get it.
#[test]
fn missing_data_says_how_to_get_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = output(cnnvar().args(["train", "--epochs", "1", "--data-dir"]).arg(tmp.path()));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains(&tmp.path().display().to_string()) && e.contains("--data-dir"), "{e}");
    assert_eq!(e.trim().lines().count(), 1, "one line: {e}");
}

/// `cnnvar data info` reports the installed set with its checksum.
#[test]
fn data_info_lists_fashion_mnist() {
    let Some(_) = fashion_mnist() else { return };
    let o = output(cnnvar().args(["data", "info", "--json"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let text = v.to_string();
    assert!(text.contains("fashion-mnist") && text.contains("60000"), "{text}");
}

/// A generated CIFAR-10-format data set (six binary batches) trains for one epoch
/// through `--dataset cifar10 --data-dir DIR`, on 32×32×3 input, for each model.
#[test]
fn cifar10_format_trains_one_epoch() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("cifar-10-batches-bin");
    std::fs::create_dir_all(&dir).expect("dir");
    let per_file = 40;
    for (i, name) in cnnvar_data::CIFAR10_FILES.iter().enumerate() {
        let mut images = vec![0u8; per_file * 3072];
        let mut labels = vec![0u8; per_file];
        for k in 0..per_file {
            let class = (k * 3 + i) % 10;
            labels[k] = class as u8;
            // Class c brightens colour plane c % 3 and the c-th band of rows.
            for (p, px) in images[k * 3072..(k + 1) * 3072].iter_mut().enumerate() {
                let (plane, row) = (p / 1024, (p % 1024) / 32);
                *px = if plane == class % 3 && row / 4 == class % 8 {
                    220
                } else {
                    ((p + k) % 50) as u8
                };
            }
        }
        cnnvar_data::cifar::write_batch(&dir.join(name), &images, &labels).expect("write batch");
    }
    for model in ["simple", "two-conv", "complex"] {
        let o = output(
            cnnvar()
                .args([
                    "train",
                    "--dataset",
                    "cifar10",
                    "--model",
                    model,
                    "--epochs",
                    "1",
                    "--json",
                    "--quiet",
                    "--data-dir",
                ])
                .arg(tmp.path()),
        );
        let rec = record(&o);
        assert_eq!(rec["train_examples"].as_u64(), Some(5 * per_file as u64), "{model}");
        assert_eq!(rec["test_examples"].as_u64(), Some(per_file as u64), "{model}");
        assert!(rec["test_accuracy"].as_f64().is_some_and(|a| (0.0..=1.0).contains(&a)), "{model}");
        assert_eq!(rec["spec"]["dataset"].as_str(), Some("cifar10"));
    }
}

/// Issue 16, item 18: the flags the README promises reach the spec, `--test-size`
/// among them.
#[test]
fn option_fields_have_flags() {
    if !backend_available("flex") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    write_toy_idx(tmp.path(), 200, 100, 28, false);
    let o = output(
        cnnvar()
            .args(["train", "--train-size", "100", "--test-size", "40", "--epochs", "1"])
            .args(["--dropout", "0.25", "--label-noise", "0.1", "--augment", "geometric"])
            .args(["--imbalance", "0.5", "--minority", "1,3", "--rebalance", "oversample"])
            .args(["--json", "--quiet", "--backend", "flex", "--data-dir"])
            .arg(tmp.path()),
    );
    let r = record(&o);
    let spec = &r["spec"];
    assert_eq!(spec["test_size"], 40, "{spec}");
    assert_eq!(spec["dropout"], 0.25, "{spec}");
    assert_eq!(spec["label_noise"], 0.1, "{spec}");
    assert_eq!(spec["augment"], "geometric", "{spec}");
    assert_eq!(spec["minority"], serde_json::json!([1, 3]), "{spec}");
    assert_eq!(spec["rebalance"], "oversample", "{spec}");
}

/// Issue 16, item 19: a GPU backend that cannot start (LibTorch's CUDA without an
/// NVIDIA driver; burn panics inside) fails with one line naming the backend and why.
#[test]
fn a_backend_that_cannot_start_says_which_and_why() {
    if !compiled_backends().iter().any(|b| b == "tch-cuda") {
        skip("backend tch-cuda not compiled in (build with --features tch)");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    write_toy_idx(tmp.path(), 100, 50, 28, false);
    let o = output(
        cnnvar()
            .args(["train", "--backend", "tch-cuda", "--train-size", "50", "--epochs", "1"])
            .args(["--quiet", "--data-dir"])
            .arg(tmp.path())
            .env("RUST_BACKTRACE", "1")
            // No GPU for LibTorch, even where there is one.
            .env("CUDA_VISIBLE_DEVICES", ""),
    );
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(e.contains("backend `tch-cuda` could not start:"), "{e}");
    assert!(!e.contains("panicked") && !e.contains("frame #"), "{e}");
    assert_eq!(e.trim().lines().count(), 1, "{e}");
}

/// Issue 19: `--eval-subset` changes the curve's points before the last and nothing
/// else: the final accuracy, loss, per-class accuracies, the last curve point and the
/// stored predictions are those of `--eval-subset full`, bit for bit (on flex).
#[test]
fn an_eval_subset_changes_only_the_earlier_curve_points() {
    if !backend_available("flex") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("toy");
    write_toy_idx(&data, 300, 400, 28, false);
    let run = |subset: &str| {
        let out = tmp.path().join(format!("runs-{subset}"));
        let o = output(
            cnnvar()
                .args(["train", "--train-size", "200", "--epochs", "3", "--backend", "flex"])
                .args(["--eval-subset", subset, "--json", "--quiet", "--out"])
                .arg(&out)
                .arg("--data-dir")
                .arg(&data),
        );
        let rec = record(&o);
        let dir = out.join(rec["run_id"].as_str().expect("run id"));
        let predictions = std::fs::read(dir.join("predictions.u8")).expect("predictions");
        (rec, predictions)
    };
    let (full, full_predictions) = run("full");
    let (sub, sub_predictions) = run("50");
    assert_eq!(sub["spec"]["eval_subset"], 50);
    assert!(full["spec"].get("eval_subset").is_none(), "full is the field unset");
    assert_eq!(full_predictions.len(), 32 + 2 * 400);
    assert_eq!(full_predictions[32..], sub_predictions[32..]);
    for key in ["test_accuracy", "test_loss", "per_class_accuracy", "train_accuracy"] {
        assert_eq!(full[key], sub[key], "{key}");
    }
    let last = |r: &serde_json::Value| r["epochs"][2]["test_accuracy"].clone();
    assert_eq!(last(&sub), sub["test_accuracy"], "the last point is the full set's");
    assert_eq!(last(&full), last(&sub));
    for e in 0..3 {
        assert_eq!(full["epochs"][e]["train_loss"], sub["epochs"][e]["train_loss"], "epoch {e}");
    }
}

/// A model this program does not register (`my-resnet` is the custom-model example's) is
/// refused before any data is read, by `cnnvar train` and by `cnnvar sweep`, naming the
/// models it knows; a name no model could have is refused by the spec.
#[test]
fn an_unregistered_model_is_refused_naming_the_known_ones() {
    let o = output(cnnvar().args(["train", "--model", "my-resnet", "--epochs", "1", "--quiet"]));
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("--model") && err.contains("`my-resnet`"), "{err}");
    assert!(err.contains("cnn, complex, simple, two-conv"), "{err}");
    assert!(!err.contains("not found"), "no data was looked for: {err}");

    let tmp = tempfile::tempdir().expect("tempdir");
    let study = tmp.path().join("mine.toml");
    std::fs::write(
        &study,
        "seeds = 1\n[[experiment]]\nname = \"m\"\nvary = { model = [\"simple\", \"my-resnet\"] }\n",
    )
    .expect("write study");
    let o = output(cnnvar().args(["sweep", "--quiet", "--out"]).arg(tmp.path()).arg(&study));
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("mine.toml") && err.contains("level `my-resnet`"), "{err}");
    assert!(!tmp.path().join("mine").join("plan.json").exists(), "nothing planned");

    let o = output(cnnvar().args(["train", "--model", "My ResNet"]));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--model"), "{}", stderr(&o));
}
