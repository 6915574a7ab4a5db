//! [`RunRecord`]: what a run produced, and [`Provenance`]: where it came from.

use serde::{Deserialize, Serialize};

use crate::{Backend, Error, Result, RunSpec};

/// Serde for floats that may be NaN or infinite (losses of diverged runs): written as
/// JSON `null`, read back as NaN, so records stay valid JSON.
pub mod nullable_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes a non-finite value as `null`.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() { s.serialize_f64(*v) } else { s.serialize_none() }
    }

    /// Reads `null` as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// Metrics of one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's mini-batches (as Keras reports it).
    #[serde(with = "nullable_f64")]
    pub train_loss: f64,
    /// Training accuracy over the epoch's mini-batches, weights changing as it goes
    /// (as Keras reports it).
    pub train_accuracy: f64,
    /// Loss on the whole test set after the epoch.
    #[serde(with = "nullable_f64")]
    pub test_loss: f64,
    /// Accuracy on the whole test set after the epoch.
    pub test_accuracy: f64,
    /// Wall seconds of the epoch: training plus evaluation.
    pub seconds: f64,
    /// Training throughput of the epoch, examples per second.
    pub train_samples_per_sec: f64,
    /// Evaluation throughput of the epoch, examples per second.
    pub eval_samples_per_sec: f64,
}

/// Where a run came from: enough to reproduce any number it produced.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// cnnvar version.
    pub cnnvar_version: String,
    /// burn version.
    pub burn_version: String,
    /// Backend name.
    pub backend: String,
    /// burn's description of the device.
    pub device: String,
    /// Compute threads of the process.
    pub threads: usize,
    /// CPU model, from /proc/cpuinfo where available.
    pub cpu_model: String,
    /// Host name.
    pub hostname: String,
    /// Operating system and architecture.
    pub os: String,
    /// Where the data set was read from.
    pub data_source: String,
    /// SHA-256 over the data set's files, in a fixed order.
    pub data_sha256: String,
    /// The command line that produced the run.
    pub command: Vec<String>,
    /// Unix time the run started.
    pub started_unix: u64,
}

impl Provenance {
    /// Fills in everything that describes this process and machine; the data fields
    /// are left for the caller.
    pub fn of_this_process(backend: Backend, device: &str, threads: usize) -> Provenance {
        Provenance {
            cnnvar_version: crate::CNNVAR_VERSION.into(),
            burn_version: crate::BURN_VERSION.into(),
            backend: backend.as_str().into(),
            device: device.into(),
            threads,
            cpu_model: cpu_model(),
            hostname: hostname(),
            os: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
            data_source: String::new(),
            data_sha256: String::new(),
            command: std::env::args().collect(),
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

/// Everything one run produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run id (hash of the spec).
    pub run_id: String,
    /// Final test accuracy (after the last epoch); NaN-free: 0 when the run diverged
    /// before any evaluation.
    pub test_accuracy: f64,
    /// Final test loss.
    #[serde(with = "nullable_f64")]
    pub test_loss: f64,
    /// Accuracy on the training subset (its first 10 000 examples at most), evaluated
    /// after training in inference mode, for the generalisation gap.
    pub train_accuracy: f64,
    /// Loss on the training subset, evaluated after training.
    #[serde(with = "nullable_f64")]
    pub train_loss: f64,
    /// Test accuracy of each class, indexed by label.
    pub per_class_accuracy: Vec<f64>,
    /// Per-epoch curve.
    pub epochs: Vec<EpochRecord>,
    /// Whether the loss became NaN or infinite; training stopped there.
    pub diverged: bool,
    /// What went wrong, if anything did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Examples actually trained on (after subsetting).
    pub train_examples: usize,
    /// Test examples evaluated.
    pub test_examples: usize,
    /// Trainable parameters of the model.
    pub params: usize,
    /// Forward multiply-adds ×2 per example.
    pub flops: u64,
    /// Wall seconds of the whole run, loading included.
    pub seconds: f64,
    /// The fully resolved spec.
    pub spec: RunSpec,
    /// Where the numbers came from.
    pub provenance: Provenance,
}

impl RunRecord {
    /// Reads and checks a record written by [`RunRecord::to_json`]; the error names
    /// the file.
    pub fn from_json(text: &str, location: &std::path::Path) -> Result<RunRecord> {
        let record: RunRecord = serde_json::from_str(text).map_err(|e| {
            Error::data(location, format!("not a cnnvar run record (line {}): {e}", e.line()))
        })?;
        if record.run_id != record.spec.run_id() {
            return Err(Error::data(
                location,
                format!(
                    "run_id {} does not match its spec (hash {})",
                    record.run_id,
                    record.spec.run_id()
                ),
            ));
        }
        Ok(record)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
