//! `cnnvar sweep --executor slurm` on a single-node Slurm that the test starts on
//! localhost (`scripts/slurm-local.sh`) and stops by its daemons' pids, also when the
//! test fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use crate::sweep::{plan_run_ids, records};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/slurm-local.sh")
}

/// A running local Slurm; dropping it stops the daemons (by their pids).
struct Cluster {
    dir: PathBuf,
    conf: String,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).arg("stop").arg(&self.dir).status();
    }
}

impl Cluster {
    /// Starts Slurm in `dir`; `None` (skip) when Slurm is not installed, unless CI
    /// requires it (`CNNVAR_REQUIRE_SLURM`).
    fn start(dir: &Path) -> Option<Cluster> {
        let installed = ["sbatch", "slurmctld", "slurmd", "munged"]
            .iter()
            .all(|b| ["/usr/bin", "/usr/sbin"].iter().any(|d| Path::new(d).join(b).exists()));
        if !installed {
            if std::env::var("CNNVAR_REQUIRE_SLURM").is_ok() {
                panic!("Slurm is required (CNNVAR_REQUIRE_SLURM) but not installed");
            }
            skip("Slurm not installed (bash scripts/slurm-local.sh install)");
            return None;
        }
        let started = Instant::now();
        let o = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir)
            .stderr(Stdio::inherit())
            .output()
            .expect("run slurm-local.sh");
        // Whatever happened, the guard stops what was started.
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        let conf = text
            .lines()
            .find_map(|l| l.strip_prefix("SLURM_CONF="))
            .unwrap_or_default()
            .trim()
            .to_string();
        let cluster = Cluster { dir: dir.to_path_buf(), conf };
        assert!(o.status.success() && !cluster.conf.is_empty(), "Slurm did not start: {text}");
        eprintln!("local Slurm up in {:.1} s", started.elapsed().as_secs_f64());
        Some(cluster)
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", &self.conf);
        c
    }
}

const STUDY: &str = r#"
name = "NAME"
seeds = 2
seed = 7
[base]
epochs = EPOCHS
train_size = 400
[[experiment]]
name = "size"
vary = { train_size = LEVELS }
"#;

fn write_study(dir: &Path, name: &str, epochs: usize, levels: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let text = STUDY
        .replace("NAME", name)
        .replace("EPOCHS", &epochs.to_string())
        .replace("LEVELS", levels);
    std::fs::write(&path, text).expect("write study");
    path
}

fn slurm_sweep(cluster: &Cluster, out: &Path, data: &Path, study: &Path) -> Command {
    let mut c = cnnvar();
    c.env("SLURM_CONF", &cluster.conf)
        .args(["sweep", "--executor", "slurm", "--max-parallel", "2", "--quiet", "--out"])
        .arg(out)
        .arg("--data-dir")
        .arg(data)
        .arg(study);
    c
}

/// Must-show 1 and 2 of the Slurm issue.
#[test]
fn slurm_job_array_completes_and_resumes_after_a_cancelled_task() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(cluster) = Cluster::start(&tmp.path().join("slurm")) else { return };
    let data = tmp.path().join("data");
    write_toy_idx(&data, 400, 100, 28, true);
    let out = tmp.path().join("runs");

    // A tiny study: every record complete.
    let tiny = write_study(tmp.path(), "tiny", 1, "[100, 400]");
    let started = Instant::now();
    let o = output(&mut slurm_sweep(&cluster, &out, &data, &tiny));
    assert!(o.status.success(), "{}", stderr(&o));
    eprintln!("tiny study (4 runs) on Slurm: {:.1} s", started.elapsed().as_secs_f64());
    let dir = out.join("tiny");
    let planned = plan_run_ids(&dir);
    assert_eq!(planned.len(), 4);
    assert_eq!(records(&dir).len(), 4, "every record complete");
    assert!(dir.join("slurm/submissions.json").exists());
    assert!(dir.join("slurm/job-1.sh").exists());

    // A second study: cancel one running task, then re-run the sweep.
    let second = write_study(tmp.path(), "second", 40, "[200, 300, 400]");
    let child = slurm_sweep(&cluster, &out, &data, &second)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sweep");
    let deadline = Instant::now() + Duration::from_secs(120);
    let cancelled = loop {
        assert!(Instant::now() < deadline, "no task started running");
        let q = cluster.cmd("squeue").args(["-h", "-r", "-o", "%i %T"]).output().expect("squeue");
        let text = String::from_utf8_lossy(&q.stdout).to_string();
        if let Some(task) =
            text.lines().find(|l| l.ends_with(" RUNNING")).and_then(|l| l.split_whitespace().next())
        {
            let status = cluster.cmd("scancel").arg(task).status().expect("scancel");
            assert!(status.success());
            break task.to_string();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let o = child.wait_with_output().expect("sweep ends");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "a cancelled task is a failed run: {err}");
    assert!(err.contains("1 failed"), "{err}");
    let dir = out.join("second");
    let before: BTreeMap<String, Vec<u8>> = records(&dir);
    assert_eq!(before.len(), 5, "all but the cancelled task {cancelled} complete: {err}");

    let o = output(&mut slurm_sweep(&cluster, &out, &data, &second));
    assert!(o.status.success(), "{}", stderr(&o));
    let after = records(&dir);
    assert_eq!(after.len(), 6, "the study is complete");
    for (id, bytes) in &before {
        assert_eq!(after.get(id), Some(bytes), "run {id} was trained again after completing");
    }
    let subs: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("slurm/submissions.json")).expect("submissions"),
    )
    .expect("json");
    let second_runs = subs[1]["runs"].as_array().map(Vec::len);
    assert_eq!(second_runs, Some(1), "only the unfinished run is resubmitted");
}
