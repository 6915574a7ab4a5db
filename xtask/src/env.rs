//! Test prerequisites: Debian packages and a Python venv with PyTorch (whose libtorch
//! the tch backend links), and the environment cargo needs to use them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The PyTorch whose libtorch burn-tch 0.22.1 is built against.
pub const TORCH_VERSION: &str = "2.9.0";

/// The tensorflow-cpu (with the Keras 3 it pulls in) that `cargo xtask bench` compares
/// against.
pub const TENSORFLOW_VERSION: &str = "2.21.0";

/// Which prerequisites a task needs.
pub struct Needs {
    /// Debian packages.
    pub packages: Vec<&'static str>,
    /// The torch venv (for the tch backend).
    pub torch: bool,
    /// A single-node Slurm for the Slurm executor's test: Debian's slurmctld, slurmd,
    /// slurm-client and munge, installed by `scripts/slurm-local.sh install` (which
    /// keeps the packages from starting global services).
    pub slurm: bool,
}

impl Needs {
    /// Everything the tests need.
    pub fn all() -> Needs {
        Needs {
            packages: vec!["dataset-fashion-mnist", "chromium", "fonts-dejavu-core", "gzip"],
            torch: true,
            slurm: true,
        }
    }
}

/// cnnvar's cache directory for tools (outside the clone, shared across clones).
pub fn cache_dir() -> PathBuf {
    if let Ok(d) = std::env::var("CNNVAR_TOOLS_DIR") {
        return PathBuf::from(d);
    }
    let base = std::env::var("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/tmp".into())).join(".cache")
    });
    base.join("cnnvar")
}

/// The venv holding torch.
pub fn torch_venv() -> PathBuf {
    cache_dir().join(format!("venv-torch-{TORCH_VERSION}"))
}

/// The venv holding tensorflow-cpu for the Keras reference benchmark.
pub fn bench_venv() -> PathBuf {
    cache_dir().join("venv-bench")
}

/// Creates `venv` and pip-installs `requirement` into it, unless a marker file says
/// an earlier call finished that.
fn ensure_venv(venv: &Path, requirement: &str) -> Result<()> {
    let marker = venv.join(format!(".{}-ok", requirement.replace("==", "-")));
    if marker.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(cache_dir())
        .with_context(|| format!("creating {}", cache_dir().display()))?;
    sh(Command::new("python3").args(["-m", "venv"]).arg(venv))?;
    sh(Command::new(venv.join("bin/pip")).args([
        "install",
        "-q",
        "--disable-pip-version-check",
        requirement,
    ]))?;
    std::fs::write(&marker, b"").with_context(|| format!("writing {}", marker.display()))?;
    Ok(())
}

/// Makes sure the bench venv has tensorflow-cpu and returns its Python.
pub fn setup_tensorflow() -> Result<PathBuf> {
    let venv = bench_venv();
    ensure_venv(&venv, &format!("tensorflow-cpu=={TENSORFLOW_VERSION}"))
        .with_context(|| format!("installing tensorflow-cpu into {}", venv.display()))?;
    Ok(venv.join("bin/python"))
}

/// The scikit-learn whose copy of the 8×8 handwritten digits the image-folder tests
/// read (exported to PNG folders by `scripts/digits_to_png.py`).
pub const SCIKIT_LEARN_VERSION: &str = "1.9.1";

/// The digits exported as an image folder (`<digit>/<index>.png`), made on first use:
/// scikit-learn into its own venv, then `scripts/digits_to_png.py`. Returns the folder.
pub fn digits_folder() -> Result<PathBuf> {
    let out = cache_dir().join(format!("digits-png-sklearn-{SCIKIT_LEARN_VERSION}"));
    let done = out.join(".complete");
    if done.exists() {
        return Ok(out);
    }
    let venv = cache_dir().join("venv-sklearn");
    ensure_venv(&venv, &format!("scikit-learn=={SCIKIT_LEARN_VERSION}"))
        .with_context(|| format!("installing scikit-learn into {}", venv.display()))?;
    sh(Command::new(venv.join("bin/python"))
        .arg(root().join("scripts/digits_to_png.py"))
        .arg(&out)
        .arg("--force"))?;
    std::fs::write(&done, b"").with_context(|| format!("writing {}", done.display()))?;
    Ok(out)
}

/// The directory with libtorch's shared libraries inside the venv.
pub fn torch_lib_dir(venv: &Path) -> Result<PathBuf> {
    let lib = venv.join("lib");
    for entry in std::fs::read_dir(&lib).with_context(|| format!("reading {}", lib.display()))? {
        let p = entry?.path().join("site-packages/torch/lib");
        if p.is_dir() {
            return Ok(p);
        }
    }
    bail!("no torch/lib under {}", lib.display())
}

/// Runs a command, failing with its command line if it fails.
pub fn sh(cmd: &mut Command) -> Result<()> {
    let line = format!("{cmd:?}");
    eprintln!("$ {line}");
    let status = cmd.status().with_context(|| format!("starting {line}"))?;
    if !status.success() {
        bail!("command failed ({status}): {line}");
    }
    Ok(())
}

/// Runs a command and returns its exit code, without judging it: for the last step of a
/// task whose program reports its own outcome (a sweep says what it kept and exits 130
/// when interrupted), so that the task exits with that code and adds no message. A
/// command killed by signal N gives 128 + N, as a shell reports it.
pub fn exit_code_of(cmd: &mut Command) -> Result<i32> {
    let line = format!("{cmd:?}");
    eprintln!("$ {line}");
    let status = cmd.status().with_context(|| format!("starting {line}"))?;
    Ok(code_of(status))
}

/// [`exit_code_of`] for a program that handles Ctrl-C itself: Ctrl-C reaches it and
/// this process alike (one process group), so this process ignores it from now on and
/// waits for the program's own ending instead of dying before it.
pub fn exit_code_leaving_interrupts_to(cmd: &mut Command) -> Result<i32> {
    let _ = ctrlc::set_handler(|| {});
    exit_code_of(cmd)
}

#[cfg(unix)]
fn code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

#[cfg(not(unix))]
fn code_of(status: std::process::ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false)
}

fn missing_packages(packages: &[&'static str]) -> Vec<&'static str> {
    packages
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
                .unwrap_or(false)
        })
        .collect()
}

/// Installs what `needs` lists, skipping what is already there.
pub fn setup(needs: &Needs) -> Result<()> {
    let missing = missing_packages(&needs.packages);
    if !missing.is_empty() {
        let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
        let apt = |args: &[&str]| {
            let mut all: Vec<&str> = sudo.to_vec();
            all.push("apt-get");
            all.extend_from_slice(args);
            let mut c = Command::new(all[0]);
            c.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
            c
        };
        sh(&mut apt(&["update", "-q"]))?;
        let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
        install.extend(&missing);
        sh(&mut apt(&install))?;
    }
    if needs.slurm {
        let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
        let script = root().join("scripts/slurm-local.sh");
        let mut c = Command::new(sudo.first().copied().unwrap_or("bash"));
        if !sudo.is_empty() {
            c.arg("bash");
        }
        sh(c.arg(script).arg("install"))?;
    }
    if needs.torch {
        ensure_venv(&torch_venv(), &format!("torch=={TORCH_VERSION}"))?;
    }
    Ok(())
}

/// Adds the environment the tch backend needs to build and run against the venv's
/// PyTorch: its python first on PATH, `LIBTORCH_USE_PYTORCH=1`, and its libraries on
/// `LD_LIBRARY_PATH`.
pub fn with_torch(cmd: &mut Command) -> Result<&mut Command> {
    let venv = torch_venv();
    let lib = torch_lib_dir(&venv)?;
    let path =
        format!("{}:{}", venv.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let ld = match std::env::var("LD_LIBRARY_PATH") {
        Ok(old) if !old.is_empty() => format!("{}:{old}", lib.display()),
        _ => lib.display().to_string(),
    };
    Ok(cmd.env("PATH", path).env("LIBTORCH_USE_PYTORCH", "1").env("LD_LIBRARY_PATH", ld))
}

/// The workspace root (the parent of this crate's directory).
///
/// Read at run time first (`cargo xtask` sets `CARGO_MANIFEST_DIR` for the process), so
/// that an xtask binary that cargo reuses from a shared target directory works on the
/// checkout that runs it, not on the one that built it.
pub fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// Cargo's target directory for this workspace.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() { d } else { root().join(d) }
        }
        None => root().join("target"),
    }
}

/// A private runtime directory (Mesa's Vulkan loader wants `XDG_RUNTIME_DIR`).
pub fn runtime_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR") {
        return Ok(PathBuf::from(d));
    }
    let d = cache_dir().join("xdg-runtime");
    std::fs::create_dir_all(&d)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program's own exit code comes back as it is, also for one that says it was
    /// interrupted (130), with no error of our own around it; one killed by a signal
    /// comes back as 128 + the signal (SIGTERM here: SIGINT is ignored by a program
    /// started in the background by a shell without job control, as CI scripts may be).
    #[cfg(unix)]
    #[test]
    fn exit_codes_pass_through() {
        let code = |script: &str| exit_code_of(Command::new("sh").args(["-c", script])).unwrap();
        assert_eq!(code("exit 0"), 0);
        assert_eq!(code("echo 'stopped; rerun to resume' >&2; exit 130"), 130);
        assert_eq!(code("exit 3"), 3);
        assert_eq!(code("kill -TERM $$"), 143);
    }

    /// Ctrl-C (SIGINT to this process as well as the program) leaves this process
    /// waiting for the program's own exit code.
    #[cfg(unix)]
    #[test]
    fn interrupts_are_left_to_the_program() {
        let script = "kill -INT $PPID; sleep 0.2; echo 'interrupted; rerun' >&2; exit 130";
        let code = exit_code_leaving_interrupts_to(Command::new("sh").args(["-c", script]));
        assert_eq!(code.unwrap(), 130);
    }
}
