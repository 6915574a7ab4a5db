//! Helpers: find and run the binary, write small data sets, parse records.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `cnnvar` binary: `$CNNVAR_BIN`, else the one cargo built for this test run
/// (with the same features).
pub fn bin() -> PathBuf {
    match std::env::var("CNNVAR_BIN") {
        Ok(p) => PathBuf::from(p),
        Err(_) => PathBuf::from(env!("CARGO_BIN_EXE_cnnvar")),
    }
}

/// A `cnnvar` command with a clean data environment.
pub fn cnnvar() -> Command {
    let mut c = Command::new(bin());
    // No downloads on first use in tests: a missing data set must stay missing.
    c.env_remove("CNNVAR_DATA_DIR").env("CNNVAR_AUTO_FETCH", "0");
    c
}

/// Says that the running test skips, and why: one line on stderr, and in
/// `$CNNVAR_SKIP_LOG` when set (`cnnvar_core::testing::skip`, the one way a test skips).
pub use cnnvar_core::testing::skip;

/// Runs and returns the output, with stdout and stderr shown on failure of the caller.
pub fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("failed to start cnnvar")
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The real Fashion-MNIST directory, if installed; panics when CI requires it.
pub fn fashion_mnist() -> Option<PathBuf> {
    let dir = PathBuf::from("/usr/share/datasets/fashion-mnist");
    if dir.join("train-images-idx3-ubyte.gz").exists() {
        return Some(dir);
    }
    if std::env::var("CNNVAR_REQUIRE_DATA").is_ok_and(|v| v.contains("fashion-mnist")) {
        panic!("Fashion-MNIST is required (CNNVAR_REQUIRE_DATA) but not installed");
    }
    skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");
    None
}

/// Backends this build of the binary contains (`cnnvar backends`).
pub fn compiled_backends() -> Vec<String> {
    let o = output(cnnvar().arg("backends"));
    assert!(o.status.success(), "cnnvar backends failed: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).split_whitespace().map(String::from).collect()
}

/// Whether a test of `backend` should run: compiled in, or required (then a missing
/// backend fails the test rather than skipping it).
pub fn backend_available(backend: &str) -> bool {
    let required = std::env::var("CNNVAR_REQUIRE_BACKENDS")
        .map(|v| v.split(',').any(|b| b.trim() == backend))
        .unwrap_or(false);
    let compiled = compiled_backends().iter().any(|b| b == backend);
    if required {
        assert!(
            compiled,
            "backend {backend} is required (CNNVAR_REQUIRE_BACKENDS) but not compiled in"
        );
    } else if !compiled {
        skip(&format!("backend {backend} not compiled in (build with --features {backend})"));
    }
    compiled
}

/// Parses a record printed by `--json`.
pub fn record(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "cnnvar failed: {}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("stdout is a JSON record")
}

/// A record without the fields that legitimately differ between reruns (timings,
/// start time).
pub fn without_timings(mut v: serde_json::Value) -> serde_json::Value {
    let obj = v.as_object_mut().expect("record object");
    obj.remove("seconds");
    if let Some(p) = obj.get_mut("provenance").and_then(|p| p.as_object_mut()) {
        p.remove("started_unix");
    }
    if let Some(epochs) = obj.get_mut("epochs").and_then(|e| e.as_array_mut()) {
        for e in epochs {
            if let Some(e) = e.as_object_mut() {
                for k in ["seconds", "train_samples_per_sec", "eval_samples_per_sec"] {
                    e.remove(k);
                }
            }
        }
    }
    v
}

/// Writes a small learnable MNIST-format data set (class = which image region is
/// bright) into `dir`, gzip or raw. cnnvar accepts it as Fashion-MNIST or MNIST only
/// with `side` 28: other sides are refused as not of the data set's shape.
pub fn write_toy_idx(dir: &Path, train: usize, test: usize, side: usize, gzip: bool) {
    use cnnvar_data::idx::{write_images, write_labels};
    std::fs::create_dir_all(dir).expect("create dir");
    let ext = if gzip { ".gz" } else { "" };
    for (prefix, n) in [("train", train), ("t10k", test)] {
        let mut images = vec![0u8; n * side * side];
        let mut labels = vec![0u8; n];
        for i in 0..n {
            let class = (i * 7 + 3) % 10;
            labels[i] = class as u8;
            let img = &mut images[i * side * side..(i + 1) * side * side];
            for (p, px) in img.iter_mut().enumerate() {
                let (r, c) = (p / side, p % side);
                let region = (r * 5 / side) * 2 + (c * 2 / side);
                *px = if region == class { 200 } else { ((p * 31 + i * 17) % 40) as u8 };
            }
        }
        write_images(
            &dir.join(format!("{prefix}-images-idx3-ubyte{ext}")),
            &images,
            n,
            side,
            side,
            gzip,
        )
        .expect("write images");
        write_labels(&dir.join(format!("{prefix}-labels-idx1-ubyte{ext}")), &labels, gzip)
            .expect("write labels");
    }
}
