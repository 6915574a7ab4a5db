//! A 1-epoch run of `simple` on 2000 Fashion-MNIST examples on every CPU backend.

use crate::support::*;

fn tiny_run(backend: &str) {
    let Some(data) = fashion_mnist() else { return };
    if !backend_available(backend) {
        return;
    }
    let o = output(
        cnnvar()
            .args([
                "train",
                "--model",
                "simple",
                "--train-size",
                "2000",
                "--epochs",
                "1",
                "--seed",
                "1",
                "--json",
                "--quiet",
                "--threads",
                "2",
                "--backend",
                backend,
                "--data-dir",
            ])
            .arg(&data),
    );
    let rec = record(&o);
    let acc = rec["test_accuracy"].as_f64().expect("test_accuracy");
    assert!(acc >= 0.6, "{backend}: test accuracy {acc} < 0.6");
    assert_eq!(rec["provenance"]["backend"].as_str(), Some(backend));
    eprintln!(
        "{backend}: acc {acc:.4}, train {:.0} samples/s, eval {:.0} samples/s",
        rec["epochs"][0]["train_samples_per_sec"].as_f64().unwrap_or(0.0),
        rec["epochs"][0]["eval_samples_per_sec"].as_f64().unwrap_or(0.0)
    );
}

#[test]
fn flex() {
    tiny_run("flex");
}

#[test]
fn ndarray() {
    tiny_run("ndarray");
}

#[test]
fn tch() {
    tiny_run("tch");
}

/// wgpu on the machine's Vulkan driver (lavapipe, software Vulkan, on CPU-only machines),
/// kernels compiled to WGSL. Compiled only with the `wgpu` feature: CI's test build
/// leaves the GPU backends out (`cargo test --features cnnvar-cli/wgpu` runs it).
#[cfg(feature = "wgpu")]
#[test]
fn wgpu() {
    tiny_run("wgpu");
}

/// wgpu pinned to Vulkan with SPIR-V kernels. Not required in CI: cubecl-spirv 0.11.3
/// emits invalid SPIR-V for workgroup memory on devices without
/// VK_KHR_workgroup_memory_explicit_layout, which crashes lavapipe. Compiled only with
/// the wgpu feature, like the wgpu test (`--features cnnvar-cli/wgpu,cnnvar-cli/vulkan`
/// runs it; the GPU features' own `cfg`s stay in the crates CI checks with them).
#[cfg(feature = "wgpu")]
#[test]
fn vulkan() {
    tiny_run("vulkan");
}

/// Asking for a backend that is not compiled in names the feature to enable.
#[test]
fn missing_backend_names_its_feature() {
    let compiled = compiled_backends();
    let Some(missing) = ["metal", "cuda", "wgpu", "ndarray", "tch"]
        .into_iter()
        .find(|b| !compiled.iter().any(|c| c == b))
    else {
        skip("every backend is compiled in: none is missing to name");
        return;
    };
    let o = output(cnnvar().args(["train", "--epochs", "1", "--backend", missing]));
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains(&format!("--features {missing}")), "{e}");

    // A sweep is refused before it lays out a run (and so before every worker fails),
    // in a dry run too.
    let study = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../studies/seed.toml");
    let tmp = tempfile::tempdir().expect("tempdir");
    for dry in [true, false] {
        let mut cmd = cnnvar();
        cmd.args(["sweep", "--quiet", "--backend", missing, "--out"]).arg(tmp.path()).arg(&study);
        if dry {
            cmd.arg("--dry-run");
        }
        let o = output(&mut cmd);
        assert!(!o.status.success());
        let e = stderr(&o);
        assert!(e.contains(&format!("--features {missing}")), "{e}");
        assert!(e.contains("compiled in:"), "{e}");
        let left = std::fs::read_dir(tmp.path()).expect("read out dir").count();
        assert_eq!(left, 0, "the refused sweep wrote into --out");
    }
}
