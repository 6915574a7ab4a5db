//! Running one benchmark process: its stdout, the tail of its stderr, its exit status,
//! its peak resident set size (through GNU time) and a wall-clock limit.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// GNU time, which reports a child's peak RSS (`%M`, in KiB).
const GNU_TIME: &str = "/usr/bin/time";

/// What one measured process did.
#[derive(Debug)]
pub struct Measured {
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Its exit status; `None` when it was killed at the time limit.
    pub status: Option<ExitStatus>,
    /// Peak resident set size in KiB, when GNU time could report it.
    pub peak_rss_kib: Option<u64>,
    /// Wall seconds from start to exit.
    pub seconds: f64,
    /// The file holding its stderr.
    pub log: PathBuf,
}

impl Measured {
    /// Whether it exited by itself with status 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// Why it failed, in one line: the exit status or the time limit, and the last
    /// line of its stderr.
    pub fn failure(&self) -> String {
        let how = match self.status {
            Some(s) => format!("exited with {s}"),
            None => "killed at the time limit".to_string(),
        };
        match last_line(&self.log) {
            Some(line) => format!("{how}: {line} (log: {})", self.log.display()),
            None => format!("{how} (log: {})", self.log.display()),
        }
    }
}

/// The last non-empty line of `path` that is not GNU time's own note, shortened.
fn last_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("Command exited with non-zero status"))?;
    let mut line = line.to_string();
    if line.chars().count() > 200 {
        line = line.chars().take(200).collect::<String>() + "…";
    }
    Some(line)
}

/// Runs `cmd` in its own process group, stderr into `log`, killing the group after
/// `limit`. Its peak RSS is measured by GNU time when `/usr/bin/time` exists.
pub fn run(cmd: &Command, log: &Path, limit: Duration) -> Result<Measured> {
    let rss_file = log.with_extension("rss");
    let _ = std::fs::remove_file(&rss_file);
    let with_time = Path::new(GNU_TIME).exists();
    let mut child_cmd = if with_time {
        let mut c = Command::new(GNU_TIME);
        c.args(["-f", "%M", "-o"]).arg(&rss_file).arg(cmd.get_program()).args(cmd.get_args());
        c
    } else {
        let mut c = Command::new(cmd.get_program());
        c.args(cmd.get_args());
        c
    };
    if let Some(dir) = cmd.get_current_dir() {
        child_cmd.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => child_cmd.env(k, v),
            None => child_cmd.env_remove(k),
        };
    }
    let out_file = log.with_extension("out");
    let stdout =
        File::create(&out_file).with_context(|| format!("creating {}", out_file.display()))?;
    let stderr = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    child_cmd.stdin(Stdio::null()).stdout(stdout).stderr(stderr).process_group(0);

    let started = Instant::now();
    let mut child =
        child_cmd.spawn().with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() > limit {
            // The whole group: GNU time and the process it started.
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let seconds = started.elapsed().as_secs_f64();
    let stdout = std::fs::read_to_string(&out_file).unwrap_or_default();
    let peak_rss_kib = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| t.lines().rev().find_map(|l| l.trim().parse().ok()));
    Ok(Measured { stdout, status, peak_rss_kib, seconds, log: log.to_path_buf() })
}
