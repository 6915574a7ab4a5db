//! The one place that writes a `cnnvar sweep …` command line: what reproduces a study
//! directory (the report prints it; the CLI's tests parse it back).

use std::fmt;
use std::path::{Path, PathBuf};

use cnnvar_core::Backend;

/// A `cnnvar sweep` invocation, as the options that shape a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SweepLine {
    /// The study file.
    pub study_file: PathBuf,
    /// `--quick`.
    pub quick: bool,
    /// `--seeds N`.
    pub seeds: Option<usize>,
    /// `--epochs N`.
    pub epochs: Option<usize>,
    /// `--backend NAME`.
    pub backend: Option<Backend>,
    /// `--data-dir DIR`: the image folder of a study on one.
    pub data_dir: Option<PathBuf>,
    /// `--out DIR`: the parent of the study directory.
    pub out: PathBuf,
}

impl SweepLine {
    /// The options that shape the plan, each with a leading space (`--quick`, `--seeds`,
    /// `--epochs`, `--backend`), in that order.
    pub fn options(&self) -> String {
        let mut s = String::new();
        if self.quick {
            s += " --quick";
        }
        if let Some(n) = self.seeds {
            s += &format!(" --seeds {n}");
        }
        if let Some(e) = self.epochs {
            s += &format!(" --epochs {e}");
        }
        if let Some(b) = self.backend {
            s += &format!(" --backend {b}");
        }
        s
    }

    /// This sweep, then the report of its study directory `study_dir`: the commands that
    /// reproduce a report (the sweep resumes, so it trains only what is missing).
    pub fn then_report(&self, study_dir: &Path) -> String {
        format!("{self} && cnnvar report {}", shell_path(study_dir))
    }
}

impl fmt::Display for SweepLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cnnvar sweep {}{}", shell_path(&self.study_file), self.options())?;
        if let Some(d) = &self.data_dir {
            write!(f, " --data-dir {}", shell_path(d))?;
        }
        write!(f, " --out {}", shell_path(&self.out))
    }
}

/// `path` as an operand of a command line: `./` put before a relative path that starts
/// with a dash, which a parser would otherwise take for an option (`-runs` is `./-runs`,
/// the same directory). Every path cnnvar writes into a command line of its own goes
/// through this.
pub fn operand(path: &Path) -> std::borrow::Cow<'_, Path> {
    if path.as_os_str().as_encoded_bytes().first() == Some(&b'-') {
        std::borrow::Cow::Owned(Path::new(".").join(path))
    } else {
        std::borrow::Cow::Borrowed(path)
    }
}

/// `path` as one word for a POSIX shell: its [`operand`], quoted by [`shell_word`].
fn shell_path(path: &Path) -> String {
    shell_word(&operand(path).display().to_string())
}

/// `word` as one word for a POSIX shell: as it is when it is made of characters the
/// shell leaves alone, else in single quotes.
pub fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=:@,%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}
