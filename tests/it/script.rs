//! A user's own training script: the contract from the script's side, run through
//! `cnnvar sweep` and `cnnvar probe` with `examples/script/train.py` (Python's standard
//! library only), which breaks the contract on purpose when its `mode` parameter says
//! so. Each way of breaking it fails the run with an error naming the file and what is
//! wrong, and no record is written.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::*;

/// The example script, by absolute path.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/script/train.py")
}

/// A tiny study of the script in `dir` on toy IDX data there: one factor `mode` over
/// `modes`, one seed, a 20 s time-out (or `timeout_s`), plus `extra` lines in `[base]`.
fn study(dir: &Path, modes: &[&str], extra: &str) -> PathBuf {
    let data = dir.join("data");
    if !data.exists() {
        write_toy_idx(&data, 200, 40, 8, false);
    }
    let modes: Vec<String> = modes.iter().map(|m| format!("\"{m}\"")).collect();
    let text = format!(
        "name = \"contract\"\nseeds = 1\n[base]\ncommand = [\"python3\", \"{}\"]\n\
         data_dir = \"{}\"\ntrain_size = 60\ntest_size = 40\nepochs = 1\n{extra}\n\
         [[experiment]]\nname = \"m\"\nvary = {{ mode = [{}] }}\n",
        script().display(),
        data.display(),
        modes.join(", ")
    );
    let path = dir.join("contract.toml");
    std::fs::write(&path, text).expect("study written");
    path
}

/// `cnnvar sweep` of `study` into `dir/out`, one job; stdout and stderr together.
fn sweep(study: &Path, dir: &Path) -> (Output, String) {
    let o = output(
        cnnvar().arg("sweep").arg(study).arg("--out").arg(dir.join("out")).args(["--jobs", "1"]),
    );
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    (o, text)
}

/// The run ids of the sweep's study with a record.
fn recorded(dir: &Path) -> Vec<String> {
    let study = dir.join("out/contract");
    let Ok(entries) = std::fs::read_dir(&study) else { return Vec::new() };
    entries
        .flatten()
        .filter(|e| e.path().join("record.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// The run of `mode` fails with an error containing each of `expected`; it has no
/// record, and the sweep says it failed.
fn refused(mode: &str, extra: &str, expected: &[&str]) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (o, text) = sweep(&study(tmp.path(), &[mode], extra), tmp.path());
    assert!(!o.status.success(), "a failed run fails the sweep: {text}");
    assert!(text.contains("1 failed"), "{text}");
    for e in expected {
        assert!(text.contains(e), "mode {mode}: expected `{e}` in:\n{text}");
    }
    assert!(recorded(tmp.path()).is_empty(), "mode {mode}: nothing partial is recorded");
}

#[test]
fn a_script_run_is_recorded_with_its_predictions_and_code_checksum() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (o, text) = sweep(&study(tmp.path(), &["ok"], ""), tmp.path());
    assert!(o.status.success(), "{text}");
    let ids = recorded(tmp.path());
    assert_eq!(ids.len(), 1, "{text}");
    let run = tmp.path().join("out/contract").join(&ids[0]);
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("record.json")).expect("record"))
            .expect("json");
    assert_eq!(record["test_examples"], 40);
    assert_eq!(record["spec"]["script"]["params"]["mode"], "ok");
    let sha = record["spec"]["script"]["code_sha256"].as_str().expect("code checksum");
    assert_eq!(sha.len(), 64);
    let csv = std::fs::read_to_string(run.join("script/predictions.csv")).expect("csv kept");
    let right = csv.lines().skip(1).filter(|l| l.split(',').next() == l.split(',').nth(1)).count();
    let accuracy = record["test_accuracy"].as_f64().expect("accuracy");
    assert!((accuracy - right as f64 / 40.0).abs() < 1e-12, "recomputed from the predictions");
    let given: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("script/run.json")).expect("run.json"),
    )
    .expect("json");
    let seed = record["spec"]["init_seed"].as_u64().expect("seed");
    assert_eq!(given["init_seed"].as_u64(), Some(seed & 0xffff_ffff), "its low 32 bits");
    assert!(std::fs::read_to_string(run.join("script.log")).expect("log").contains("train.py"));
}

#[test]
fn a_crash_fails_the_run_naming_the_exit_status_and_the_log() {
    refused(
        "crash",
        "",
        &["the script failed (exit status: 1)", "crashing on purpose", "script.log"],
    );
}

#[test]
fn a_hang_past_the_time_out_is_stopped() {
    refused("hang", "timeout_s = 2", &["ran past its time-out of 2 s"]);
}

#[test]
fn a_missing_result_is_refused() {
    refused("no-result", "", &["result.json: missing", "result.json last"]);
}

#[test]
fn missing_predictions_are_refused() {
    refused("no-predictions", "", &["predictions.csv: missing"]);
}

#[test]
fn partial_predictions_are_refused_at_their_line() {
    refused("partial", "", &["predictions.csv: line 22 is `7,`"]);
}

#[test]
fn an_accuracy_the_predictions_do_not_give_is_refused() {
    refused("wrong-accuracy", "", &["result.json", "but predictions.csv gives"]);
}

#[test]
fn seeds_other_than_those_given_are_refused() {
    refused("wrong-seeds", "", &["result.json", "seeds (init, order, subset) are"]);
}

#[test]
fn a_missing_program_is_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = study(tmp.path(), &["ok"], "");
    let text = std::fs::read_to_string(&path).expect("study");
    let line = text.lines().find(|l| l.starts_with("command")).expect("command line");
    std::fs::write(&path, text.replace(line, "command = [\"no-such-program-cnnvar\"]"))
        .expect("written");
    let (o, text) = sweep(&path, tmp.path());
    assert!(!o.status.success(), "{text}");
    assert!(text.contains("cannot start no-such-program-cnnvar"), "{text}");
    assert!(recorded(tmp.path()).is_empty());
}

/// Predictions of another test set than the study's first run's: reordered, one
/// short, or with other labels. The first run (mode ok) records the test set.
#[test]
fn predictions_of_another_test_set_are_refused() {
    for bad in ["reordered", "short", "wrong-labels"] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (o, text) = sweep(&study(tmp.path(), &["ok", bad], ""), tmp.path());
        assert!(!o.status.success(), "{bad}: {text}");
        assert!(text.contains("are not this study's test set"), "{bad}: {text}");
        assert!(text.contains(&format!("m {bad} #1")), "{bad}: the {bad} run fails: {text}");
        assert_eq!(recorded(tmp.path()).len(), 1, "{bad}: only the ok run is recorded");
    }
}

/// A failed run is tried again by the next sweep, and a changed script makes new runs.
#[test]
fn a_changed_script_makes_new_runs() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let copy = tmp.path().join("train.py");
    std::fs::copy(script(), &copy).expect("copied");
    let path = study(tmp.path(), &["ok"], "");
    let text = std::fs::read_to_string(&path).expect("study");
    std::fs::write(&path, text.replace(&script().display().to_string(), "train.py"))
        .expect("relative command");
    let (o, log) = sweep(&path, tmp.path());
    assert!(o.status.success(), "a relative script runs from the study's directory: {log}");
    let before = recorded(tmp.path());
    std::fs::write(&copy, std::fs::read_to_string(&copy).expect("read") + "\n# changed\n")
        .expect("changed");
    let (o, log) = sweep(&path, tmp.path());
    assert!(o.status.success(), "{log}");
    let after = recorded(tmp.path());
    assert_eq!((before.len(), after.len()), (1, 2), "{log}");
}

/// The probe: the example honours all three seeds and is deterministic; with its
/// seeds ignored, the probe says so, seed by seed.
#[test]
fn the_probe_tells_honoured_seeds_from_ignored_ones() {
    for (mode, honours) in [("ok", true), ("ignore-seeds", false)] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let path = study(tmp.path(), &[mode], "");
        let o = output(cnnvar().arg("probe").arg(&path).arg("--out").arg(tmp.path().join("out")));
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(o.status.success(), "{text}{}", stderr(&o));
        assert!(text.contains("deterministic: the same seeds"), "{text}");
        let said = if honours {
            "honours the init, order, subset"
        } else {
            "IGNORES the init, order, subset"
        };
        assert!(text.contains(said), "{mode}: {text}");
        let probe = tmp.path().join("out/contract/probe/probe.json");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(probe).expect("probe.json"))
                .expect("json");
        assert_eq!(json["deterministic"], true);
        assert_eq!(json["ignored"].as_array().map(Vec::len), Some(if honours { 0 } else { 3 }));
    }
}

/// A variance-sources experiment of a script that ignores its seeds: the report calls
/// each seed ignored (identical predictions), not a source of zero spread.
#[test]
fn the_report_says_which_seeds_a_script_ignores() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = study(tmp.path(), &["ok"], "mode = \"ignore-seeds\"");
    let text = std::fs::read_to_string(&path).expect("study");
    let cut = text.find("[[experiment]]").expect("experiment");
    let text = format!(
        "{}[[experiment]]\nname = \"sources\"\nkind = \"variance-sources\"\n",
        &text[..cut].replace("seeds = 1", "seeds = 3")
    );
    std::fs::write(&path, text).expect("written");
    let (o, log) = sweep(&path, tmp.path());
    assert!(o.status.success(), "{log}");
    let report =
        std::fs::read_to_string(tmp.path().join("out/contract/report.md")).expect("report");
    for source in ["init", "order", "subset", "all"] {
        assert!(
            report.contains(&format!("{source}: ignored by the training (all 3 runs")),
            "{source}: {report}"
        );
    }
    assert!(report.contains("trained by python3"), "the provenance names the command: {report}");
    // With a probe, the report quotes it.
    let out = tmp.path().join("out");
    let o = output(cnnvar().arg("probe").arg(&path).arg("--out").arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = output(cnnvar().arg("report").arg(out.join("contract")));
    assert!(o.status.success(), "{}", stderr(&o));
    let report = std::fs::read_to_string(out.join("contract/report.md")).expect("report");
    assert!(report.contains("## Does the training honour its seeds?"), "{report}");
    assert!(report.contains("IGNORES the init, order, subset seed(s)"), "{report}");
}

/// `examples/<name>/train.py` through a real sweep (2 levels × 3 seeds on a small
/// subset of Fashion-MNIST) with `python`, its report built; and its probe:
/// deterministic, every seed honoured. `params` are TOML lines of its parameters.
fn example_sweeps_and_probes(name: &str, python: &str, params: &str) {
    let Some(data) = fashion_mnist() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/{name}/train.py"));
    let study = tmp.path().join("example.toml");
    std::fs::write(
        &study,
        format!(
            "name = \"example\"\nseeds = 3\n[base]\ncommand = [\"{python}\", \"{}\", \"${{args}}\"]\n\
             data_dir = \"{}\"\n{params}\n[[experiment]]\nname = \"lr\"\nvary = {{ lr = [0.01, 0.001] }}\n",
            example.display(),
            data.display()
        ),
    )
    .expect("study");
    let out = tmp.path().join("out");
    let o = output(cnnvar().arg("sweep").arg(&study).arg("--out").arg(&out).args(["--jobs", "2"]));
    assert!(o.status.success(), "{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    let dir = out.join("example");
    let csv = std::fs::read_to_string(dir.join("results.csv")).expect("results.csv");
    assert_eq!(csv.lines().count(), 7, "a header and six runs: {csv}");
    let report = std::fs::read_to_string(dir.join("report.md")).expect("report");
    assert!(report.contains("## lr"), "{report}");
    let o = output(cnnvar().arg("probe").arg(&study).arg("--out").arg(&out));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{text}{}", stderr(&o));
    assert!(text.contains("deterministic: the same seeds"), "{text}");
    assert!(text.contains("honours the init, order, subset"), "{text}");
}

/// The PyTorch example with the torch venv `cargo xtask ci` installs
/// (`$CNNVAR_TORCH_PYTHON`).
#[test]
fn the_pytorch_example_runs_through_a_sweep_and_its_probe() {
    let Ok(python) = std::env::var("CNNVAR_TORCH_PYTHON") else {
        skip("no PyTorch (set CNNVAR_TORCH_PYTHON to a Python with torch; cargo xtask ci does)");
        return;
    };
    example_sweeps_and_probes(
        "pytorch",
        &python,
        "model = \"simple\"\ntrain_size = 500\ntest_size = 500\nepochs = 2",
    );
}

/// The Keras example. TensorFlow is not among CI's prerequisites (a 600 MB wheel), so
/// this runs on request: `CNNVAR_KERAS_PYTHON=/path/to/python-with-tensorflow cargo
/// test -p cnnvar-cli --test it -- --ignored keras`.
#[test]
#[ignore = "needs TensorFlow: set CNNVAR_KERAS_PYTHON and run with --ignored"]
fn the_keras_example_runs_through_a_sweep_and_its_probe() {
    let python = std::env::var("CNNVAR_KERAS_PYTHON")
        .expect("CNNVAR_KERAS_PYTHON must name a Python with TensorFlow");
    example_sweeps_and_probes(
        "keras",
        &python,
        "model = \"simple\"\ntrain_size = 500\nsubset = \"stratified\"\nepochs = 1",
    );
}
