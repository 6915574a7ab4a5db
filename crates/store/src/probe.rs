//! The determinism probe's answer (`cnnvar probe`, run by cnnvar-experiments'
//! `probe`), in a study directory's `probe/probe.json`: read by the report.

use std::path::Path;

use cnnvar_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// The probe's directory inside a study directory.
pub const PROBE_DIR: &str = "probe";
/// The probe's answer, in [`PROBE_DIR`].
pub const PROBE_FILE: &str = "probe.json";

/// One probe run, compared with the base run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeRun {
    /// `base`, `rerun`, `init`, `order` or `subset`.
    pub name: String,
    /// The run id.
    pub run_id: String,
    /// Its test accuracy.
    pub test_accuracy: f64,
    /// Test examples it predicted otherwise than the base run.
    pub differing: usize,
    /// Test examples.
    pub examples: usize,
}

/// What the probe found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// The study's name.
    pub study: String,
    /// Where the probed run comes from: experiment and level.
    pub experiment: String,
    /// The level.
    pub level: String,
    /// The five runs, base first.
    pub runs: Vec<ProbeRun>,
    /// The rerun predicted exactly as the base run.
    pub deterministic: bool,
    /// The seeds whose change changed a prediction, of `init`, `order`, `subset`.
    pub honoured: Vec<String>,
    /// The seeds whose change changed no prediction.
    pub ignored: Vec<String>,
}

impl ProbeReport {
    /// Reads `<study_dir>/probe/probe.json`, `None` if there is none.
    pub fn read(study_dir: &Path) -> Result<Option<ProbeReport>> {
        let p = study_dir.join(PROBE_DIR).join(PROBE_FILE);
        match std::fs::read_to_string(&p) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                Error::data(&p, format!("not a cnnvar probe (line {}): {e}", e.line()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&p, e)),
        }
    }

    /// The findings in a few lines for a person.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "probe of {} (experiment {}, level {}):",
            self.study, self.experiment, self.level
        )];
        for r in &self.runs {
            let differs = if r.name == "base" {
                String::new()
            } else {
                format!(", {} of {} predictions differ from base", r.differing, r.examples)
            };
            out.push(format!(
                "  {:<7} {}  accuracy {:.4}{differs}",
                r.name, r.run_id, r.test_accuracy
            ));
        }
        out.push(if self.deterministic {
            "deterministic: the same seeds gave the same predictions".into()
        } else {
            "NOT deterministic: the same seeds gave other predictions, so even `rerun` has a \
             spread (numerics or unseeded randomness)"
                .into()
        });
        if !self.honoured.is_empty() {
            out.push(format!("honours the {} seed(s)", self.honoured.join(", ")));
        }
        if !self.ignored.is_empty() {
            out.push(format!(
                "IGNORES the {} seed(s): changing it changed no prediction, so a variance \
                 source of it measures nothing",
                self.ignored.join(", ")
            ));
        }
        out
    }
}
