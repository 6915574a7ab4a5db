//! Your own images: an image folder (scikit-learn's 8×8 digits, exported by
//! `scripts/digits_to_png.py`) through `cnnvar train` and `cnnvar sweep`, and the errors
//! a broken folder gives.

use std::path::{Path, PathBuf};

use crate::support::*;

/// The digits export, from `$CNNVAR_DIGITS_DIR`; panics when `CNNVAR_REQUIRE_DIGITS=1`
/// and it is not set.
fn digits() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CNNVAR_DIGITS_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        assert!(dir.join("0").is_dir(), "CNNVAR_DIGITS_DIR={} holds no folder 0/", dir.display());
        return Some(dir);
    }
    if std::env::var("CNNVAR_REQUIRE_DIGITS").is_ok_and(|v| v == "1") {
        panic!(
            "the digits are required (CNNVAR_REQUIRE_DIGITS=1) but CNNVAR_DIGITS_DIR is not set"
        );
    }
    skip(
        "CNNVAR_DIGITS_DIR is not set (python3 scripts/digits_to_png.py DIR, then \
         CNNVAR_DIGITS_DIR=DIR)",
    );
    None
}

/// Copies the image folder `from` to `to`, class folder `c` renamed to `rename(c)`.
fn copy_folder(from: &Path, to: &Path, rename: impl Fn(&str) -> String) {
    for class in std::fs::read_dir(from).expect("read folder").flatten() {
        let name = class.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !class.path().is_dir() {
            continue;
        }
        let dest = to.join(rename(&name));
        std::fs::create_dir_all(&dest).expect("mkdir");
        for file in std::fs::read_dir(class.path()).expect("read class").flatten() {
            std::fs::copy(file.path(), dest.join(file.file_name())).expect("copy");
        }
    }
}

/// `cnnvar train` on the digits folder, `--json`.
fn train_digits(dir: &Path, epochs: &str) -> serde_json::Value {
    let o = output(
        cnnvar()
            .args(["train", "--dataset", "folder", "--model", "cnn", "--epochs", epochs])
            .args(["--seed", "0", "--backend", "flex", "--threads", "1", "--json", "--quiet"])
            .arg("--data-dir")
            .arg(dir),
    );
    record(&o)
}

/// The digits train to at least 95% test accuracy with the `cnn` family's defaults
/// (two 3×3 same-padded conv blocks of 32 and 64 filters with max pooling: 8×8 → 4×4
/// → 2×2) in 15 epochs; the record names the classes and the folder's checksum; and a
/// copy of the folder elsewhere is the same run (the content, not the path, is in the id).
#[test]
fn digits_train_to_95_percent_and_runs_are_named_by_their_content() {
    let Some(digits) = digits() else { return };
    if !backend_available("flex") {
        return;
    }
    let r = train_digits(&digits, "15");
    let acc = r["test_accuracy"].as_f64().expect("test_accuracy");
    assert!(acc >= 0.95, "digits test accuracy {acc} < 0.95");
    eprintln!("digits: test accuracy {acc:.4} after 15 epochs");
    // 1797 images, a fifth of each class held out.
    assert_eq!(r["test_examples"], 359);
    assert_eq!(r["train_examples"], 1438);
    let names: Vec<&str> = r["provenance"]["class_names"]
        .as_array()
        .expect("class names")
        .iter()
        .map(|n| n.as_str().expect("name"))
        .collect();
    assert_eq!(names, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    let sha = r["spec"]["data_sha256"].as_str().expect("data_sha256 in the spec");
    assert_eq!(sha, r["provenance"]["data_sha256"].as_str().expect("provenance sha"));
    assert_eq!(r["spec"]["data_dir"].as_str().map(PathBuf::from), Some(digits.clone()));

    let tmp = tempfile::tempdir().expect("tempdir");
    let copy = tmp.path().join("digits-copy");
    copy_folder(&digits, &copy, str::to_string);
    let (a, b) = (train_digits(&digits, "1"), train_digits(&copy, "1"));
    assert_eq!(a["run_id"], b["run_id"], "the same images elsewhere are the same run");
    assert_eq!(a["test_accuracy"], b["test_accuracy"]);
    assert_ne!(a["run_id"], r["run_id"]);
}

/// `studies/digits.toml` (2 learning rates × 2 seeds) runs on a copy of the digits whose
/// class folders are named `zero` … `nine`, and the report names the classes by them.
#[test]
fn the_digits_study_reports_the_class_names() {
    let Some(digits) = digits() else { return };
    if !backend_available("flex") {
        return;
    }
    const WORDS: [&str; 10] =
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
    let tmp = tempfile::tempdir().expect("tempdir");
    let named = tmp.path().join("named-digits");
    copy_folder(&digits, &named, |c| WORDS[c.parse::<usize>().expect("digit")].to_string());
    let study = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../studies/digits.toml");
    let out = tmp.path().join("runs");
    let o = output(
        cnnvar()
            .args(["sweep", "--quiet", "--jobs", "2", "--backend", "flex", "--out"])
            .arg(&out)
            .arg("--data-dir")
            .arg(&named)
            .arg(&study),
    );
    assert!(o.status.success(), "sweep failed: {}", stderr(&o));
    let dir = out.join("digits");
    let results = std::fs::read_to_string(dir.join("results.csv")).expect("results.csv");
    assert_eq!(results.lines().count(), 1 + 4, "{results}");
    let report = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(report.contains("Learning rate on the digits"), "{report}");
    let heatmap = std::fs::read_to_string(dir.join("figures/lr-per-class.svg"))
        .expect("the per-class figure");
    for word in WORDS {
        assert!(heatmap.contains(word), "class `{word}` not in the per-class figure");
    }
    // Every run's record names the classes and is held to the folder's checksum.
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("plan.json")).expect("plan")).expect("json");
    for run in plan["runs"].as_array().expect("runs") {
        let id = run["run_id"].as_str().expect("id");
        let rec: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.join(id).join("record.json")).expect("record"),
        )
        .expect("json");
        // Classes are the folders' names, sorted: label 0 is `eight`.
        let mut sorted = WORDS;
        sorted.sort_unstable();
        assert_eq!(rec["provenance"]["class_names"], serde_json::json!(sorted));
        assert_eq!(rec["spec"]["data_sha256"], run["spec"]["data_sha256"]);
        assert_eq!(rec["spec"]["data_dir"].as_str().map(PathBuf::from), Some(named.clone()));
    }
}

/// A folder with a file that is not an image: `cnnvar train` and `cnnvar sweep` fail with
/// one line naming the file, before training anything.
#[test]
fn a_broken_image_folder_is_refused_naming_the_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = tmp.path().join("images");
    for (class, value) in [("cat", 30u8), ("dog", 220)] {
        std::fs::create_dir_all(folder.join(class)).expect("mkdir");
        for i in 0..4u8 {
            image::GrayImage::from_pixel(6, 6, image::Luma([value + i]))
                .save(folder.join(class).join(format!("{i}.png")))
                .expect("save png");
        }
    }
    let bad = folder.join("dog").join("broken.png");
    std::fs::write(&bad, b"this is not a PNG").expect("write");
    let o = output(
        cnnvar()
            .args(["train", "--dataset", "folder", "--model", "cnn", "--epochs", "1", "--quiet"])
            .arg("--data-dir")
            .arg(&folder),
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains(&bad.display().to_string()), "{err}");
    assert!(err.contains("not an image"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");

    let study = tmp.path().join("mine.toml");
    std::fs::write(
        &study,
        format!(
            "seeds = 1\n[base]\ndataset = \"folder\"\ndata_dir = \"{}\"\nmodel = \"cnn\"\n\
             epochs = 1\n[[experiment]]\nname = \"a\"\nvary = {{ lr = [0.01, 0.001] }}\n",
            folder.display()
        ),
    )
    .expect("write study");
    let o = output(
        cnnvar().args(["sweep", "--quiet", "--out"]).arg(tmp.path().join("runs")).arg(&study),
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains(&bad.display().to_string()) && err.contains("mine.toml"), "{err}");
    assert!(!tmp.path().join("runs/mine").join("plan.json").exists(), "nothing planned");

    // Without the folder flag the error says how to name one.
    let o = output(cnnvar().args(["train", "--dataset", "folder", "--quiet"]));
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("data_dir") && err.contains("--data-dir"), "{err}");
}
