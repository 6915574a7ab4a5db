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
    /// (as Keras reports it). Null in the file where a script did not report it.
    #[serde(with = "nullable_f64")]
    pub train_accuracy: f64,
    /// Loss on the evaluation set after the epoch: on the spec's `eval_subset` of it
    /// for every epoch but the last, on the whole set for the last epoch (whose values
    /// are the record's final ones).
    #[serde(with = "nullable_f64")]
    pub test_loss: f64,
    /// Accuracy on the evaluation set after the epoch, on the examples `test_loss` is.
    #[serde(with = "nullable_f64")]
    pub test_accuracy: f64,
    /// Wall seconds of the epoch: training plus evaluation.
    #[serde(with = "nullable_f64")]
    pub seconds: f64,
    /// Training throughput of the epoch, examples per second.
    #[serde(with = "nullable_f64")]
    pub train_samples_per_sec: f64,
    /// Evaluation throughput of the epoch, examples per second.
    #[serde(with = "nullable_f64")]
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
    /// SHA-256 over the data set's files, in a fixed order (for an image folder, over
    /// its decoded content: `cnnvar_data::folder`).
    pub data_sha256: String,
    /// The name of each class, indexed by label, where the data say them rather than
    /// the data set's name ([`crate::DatasetName::class_names`]): an image folder's
    /// class folders. Empty (and left out of the file) for a named data set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_names: Vec<String>,
    /// The command line that produced the run.
    pub command: Vec<String>,
    /// Unix time the run's record was made, once training and the final evaluation
    /// were done (the name is historical): the run's finish; its start is this minus
    /// the record's `seconds`.
    pub started_unix: u64,
    /// The device a GPU backend ran on, as the backend names it, and whether it is
    /// software on the CPU rather than a card ([`Adapter`]). Absent (and left out of the
    /// file) for CPU backends, for a backend that does not say, and in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<Adapter>,
    /// The SHA-256 (lower-case hex) of the run's `predictions.u8` as the run wrote it,
    /// set by the run store when it writes the record after the predictions: the file
    /// must still hash to it, so that predictions changed or swapped after the run are
    /// damage. Absent (and left out of the file) in records made before runs recorded
    /// it; a record that has it always has its predictions, so their absence is damage
    /// too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictions_sha256: Option<String>,
}

/// The device a GPU backend ran on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adapter {
    /// Its name, as the backend reports it (`NVIDIA H100 80GB HBM3`, `llvmpipe (LLVM
    /// 15.0.7, 256 bits)`).
    pub name: String,
    /// Whether it is software on the CPU (a CPU adapter such as lavapipe or llvmpipe)
    /// rather than a card: its timings are a CPU's.
    pub software: bool,
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
            class_names: Vec::new(),
            command: std::env::args().collect(),
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            adapter: None,
            predictions_sha256: None,
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

/// The one weight of the initialised model a run's
/// [`nudge_seed`](RunSpec::nudge_seed) moved by one unit in the last place, before
/// training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Nudge {
    /// The parameter, by its path in the model's fields (`dense1.weight`).
    pub parameter: String,
    /// The element's index in the parameter, in row-major order.
    pub index: usize,
    /// Its initial value.
    pub before: f32,
    /// Its value after the nudge: the adjacent `f32` of larger or smaller magnitude
    /// (the bit patterns differ by one).
    pub after: f32,
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
    /// after training in inference mode, for the generalisation gap (null in the file
    /// where a script did not report it).
    #[serde(with = "nullable_f64")]
    pub train_accuracy: f64,
    /// Loss on the training subset, evaluated after training.
    #[serde(with = "nullable_f64")]
    pub train_loss: f64,
    /// Test accuracy of each class, indexed by label.
    pub per_class_accuracy: Vec<f64>,
    /// Per-epoch curve.
    pub epochs: Vec<EpochRecord>,
    /// Whether the training loss became NaN or infinite; training stopped there. The
    /// analysis judges divergence more broadly, by [`RunRecord::divergence`].
    pub diverged: bool,
    /// What went wrong, if anything did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Examples actually trained on (after subsetting).
    pub train_examples: usize,
    /// Test examples evaluated at the end (the whole evaluation set; one prediction each
    /// in the run's `predictions.u8`).
    pub test_examples: usize,
    /// Trainable parameters of the model.
    pub params: usize,
    /// Forward multiply-adds ×2 per example.
    pub flops: u64,
    /// Wall seconds of the whole run, loading included.
    pub seconds: f64,
    /// The weight the spec's `nudge_seed` moved, before training or after the spec's
    /// `nudge_epoch` (its value then is the trained one); absent (and left out of the
    /// file) for a run without a nudge, and in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nudge: Option<Nudge>,
    /// The run whose training this run's model shares, when one worker trained it
    /// once for both ([`RunSpec::training_key`]): this run was only evaluated, and its
    /// `seconds` are its own evaluations'. Absent (and left out of the file) for a run
    /// that trained its own model, and in older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained_with: Option<String>,
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

    /// Chance accuracy: one over the number of classes (from the per-class
    /// accuracies; 10, the class count of every supported data set, when absent).
    pub fn chance_accuracy(&self) -> f64 {
        let classes = self.per_class_accuracy.len();
        1.0 / if classes == 0 { 10.0 } else { classes as f64 }
    }

    /// Why the run counts as diverged (it blew up), or `None` if it did not. The rule (a
    /// pure function of the record, so old records are judged alike) tells a run that
    /// blew up from one that has not learned yet; a run diverged when any of:
    ///
    /// - a loss became NaN or infinite (the `diverged` flag, or a non-finite loss in
    ///   any epoch or in the final evaluation);
    /// - its training loss exploded: the last epoch's is more than
    ///   [`EXPLODED_LOSS_FACTOR`] times the first epoch's;
    /// - its final test accuracy is at chance (not above it by [`CHANCE_MARGIN`]) and it
    ///   is not still learning: its training loss stopped falling (it did not fall in
    ///   each of the last [`STILL_FALLING`] epochs), or it had learned
    ///   and collapsed (an earlier epoch was above chance by [`LEARNED_MARGIN`]), or its
    ///   training loss blew up on the way (an epoch's was more than
    ///   [`EXPLODED_LOSS_FACTOR`] times a uniform guess's, ln of the class count). A run
    ///   of one epoch at chance whose loss did not blow up cannot show whether it is
    ///   still learning, so it is not called diverged.
    ///
    /// A run at chance whose training loss is still falling (or that ran one epoch without
    /// blowing up) has not learned *yet* (too
    /// small a learning rate, too few epochs): it is not diverged, and its accuracy
    /// counts as it is ([`RunRecord::not_learned_yet`]). Every reason that applies is
    /// given, separated by `; `.
    pub fn divergence(&self) -> Option<String> {
        let mut reasons = Vec::new();
        if let Some(reason) = self.non_finite_loss() {
            reasons.push(reason);
        }
        if let (Some(first), Some(last)) = (self.epochs.first(), self.epochs.last())
            && last.train_loss > EXPLODED_LOSS_FACTOR * first.train_loss
        {
            reasons.push(format!(
                "training loss exploded from {:.3} (epoch {}) to {:.3} (epoch {})",
                first.train_loss, first.epoch, last.train_loss, last.epoch
            ));
        }
        if self.at_chance()
            && let Some(why) = self.blown_up().or_else(|| self.stopped_learning().map(String::from))
        {
            reasons.push(format!(
                "test accuracy {:.1}% is at chance ({:.1}% + {:.0} points) {why}",
                100.0 * self.test_accuracy,
                100.0 * self.chance_accuracy(),
                100.0 * CHANCE_MARGIN
            ));
        }
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    /// Whether the run is at chance but has not diverged ([`RunRecord::divergence`]): its
    /// final test accuracy is not above chance by [`CHANCE_MARGIN`], and its training
    /// loss is still falling (or it ran one epoch) and never blew up.
    pub fn not_learned_yet(&self) -> bool {
        self.at_chance() && self.divergence().is_none()
    }

    /// The final test accuracy is not above chance by [`CHANCE_MARGIN`].
    fn at_chance(&self) -> bool {
        self.test_accuracy <= self.chance_accuracy() + CHANCE_MARGIN
    }

    /// Why a run now at chance is not still learning: it learned and collapsed, or its
    /// training loss did not fall in each of the last [`STILL_FALLING`] epochs (each of
    /// them, in a shorter run). `None` with fewer than two epochs: one epoch cannot show
    /// whether the loss is still falling.
    fn stopped_learning(&self) -> Option<&'static str> {
        let losses: Vec<f64> = self.epochs.iter().map(|e| e.train_loss).collect();
        if losses.len() < 2 {
            return None;
        }
        if self.collapsed() {
            return Some("after it had learned");
        }
        let mut steps = losses.windows(2).rev().take(STILL_FALLING);
        (!steps.all(|w| w[1] < w[0])).then_some("and its training loss stopped falling")
    }

    /// The first epoch whose training loss was more than [`EXPLODED_LOSS_FACTOR`] times a
    /// uniform guess's (ln of the class count), in words.
    fn blown_up(&self) -> Option<String> {
        let uniform = -self.chance_accuracy().ln();
        let e = self.epochs.iter().find(|e| e.train_loss > EXPLODED_LOSS_FACTOR * uniform)?;
        Some(format!(
            "and its training loss blew up ({:.3} at epoch {}, a uniform guess's is {:.3})",
            e.train_loss, e.epoch, uniform
        ))
    }

    /// An epoch before the last had test accuracy above chance by [`LEARNED_MARGIN`].
    fn collapsed(&self) -> bool {
        let Some((_, earlier)) = self.epochs.split_last() else { return false };
        let learned = self.chance_accuracy() + LEARNED_MARGIN;
        earlier.iter().any(|e| e.test_accuracy > learned)
    }

    /// The first NaN or infinite loss, in words.
    fn non_finite_loss(&self) -> Option<String> {
        if self.diverged {
            let detail = self.error.as_deref().unwrap_or("the loss became NaN or infinite");
            return Some(format!("non-finite training loss ({detail})"));
        }
        // A script's losses but the curve's training loss are optional: one it did not
        // report is missing (NaN in memory), not diverged.
        let script = self.spec.script.is_some();
        let epoch = self
            .epochs
            .iter()
            .find(|e| !(e.train_loss.is_finite() && (script || e.test_loss.is_finite())));
        if let Some(e) = epoch {
            return Some(format!("non-finite loss at epoch {}", e.epoch));
        }
        let finite = self.train_loss.is_finite() && self.test_loss.is_finite();
        (!script && !finite).then(|| "non-finite loss in the final evaluation".to_string())
    }
}

/// How far above chance (1 / classes) a run's final test accuracy must be for the run
/// to count as having learned: 2 points. A model that predicts one class scores exactly
/// chance on a balanced test set, and a guesser's accuracy has a standard deviation of
/// 0.3 points on 10 000 test examples (1 point on 1000), so 2 points above chance is
/// several standard deviations out, while any run that learned scores far higher.
pub const CHANCE_MARGIN: f64 = 0.02;

/// A training loss this many times its first epoch's has exploded ([`RunRecord::divergence`]).
pub const EXPLODED_LOSS_FACTOR: f64 = 2.0;

/// How many of the last epochs must each have lowered the training loss for a run at
/// chance to count as still learning (all of them in a shorter run).
pub const STILL_FALLING: usize = 3;

/// How far above chance an earlier epoch must have been for a run now at chance to count
/// as having learned and collapsed (10 points).
pub const LEARNED_MARGIN: f64 = 0.10;

#[cfg(test)]
mod tests {
    use super::*;

    /// A committed record written before the divergence rule: it still reads, and the
    /// rule calls it trained.
    #[test]
    fn an_old_record_reads_and_trained() {
        let path = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fuzz/seeds/record/record.json"
        ));
        let text = std::fs::read_to_string(path).unwrap();
        let rec = RunRecord::from_json(&text, path).unwrap();
        assert_eq!(rec.divergence(), None);
        assert!((rec.chance_accuracy() - 0.1).abs() < 1e-12);
    }

    fn epoch(n: usize, train_loss: f64, acc: f64) -> EpochRecord {
        EpochRecord {
            epoch: n,
            train_loss,
            train_accuracy: acc,
            test_loss: 0.5,
            test_accuracy: acc,
            seconds: 1.0,
            train_samples_per_sec: 1.0,
            eval_samples_per_sec: 1.0,
        }
    }

    fn record(acc: f64, losses: &[f64]) -> RunRecord {
        let spec = RunSpec::default();
        RunRecord {
            test_accuracy: acc,
            train_accuracy: acc,
            train_loss: 0.5,
            per_class_accuracy: vec![acc; 10],
            epochs: losses.iter().enumerate().map(|(i, l)| epoch(i + 1, *l, acc)).collect(),
            ..crate::testing::record_of(&spec)
        }
    }

    #[test]
    fn a_run_that_learned_has_not_diverged() {
        assert_eq!(record(0.85, &[0.9, 0.5, 0.4]).divergence(), None);
        assert_eq!(record(0.125, &[2.0]).divergence(), None, "just above chance + 2 points");
    }

    #[test]
    fn a_non_finite_loss_is_divergence() {
        let mut flagged = record(0.7, &[0.9]);
        flagged.diverged = true;
        flagged.error = Some("loss became NaN at epoch 1, batch 3 of 7".into());
        let why = flagged.divergence().unwrap();
        assert!(why.starts_with("non-finite training loss (loss became NaN"), "{why}");
        let why = record(0.7, &[0.9, f64::INFINITY]).divergence().unwrap();
        assert!(why.contains("non-finite loss at epoch 2"), "{why}");
        let mut last = record(0.7, &[0.9]);
        last.test_loss = f64::NAN;
        assert!(last.divergence().unwrap().contains("final evaluation"));
    }

    /// A model that predicts one class with a finite loss that no longer falls.
    #[test]
    fn chance_accuracy_with_a_loss_not_falling_is_divergence() {
        let why = record(0.1, &[2.35, 2.4]).divergence().unwrap();
        assert!(
            why.contains(
                "test accuracy 10.0% is at chance (10.0% + 2 points) and its training loss \
                 stopped falling"
            ),
            "{why}"
        );
        // A loss that rose a little on a run that learned is not divergence; one that
        // exploded is.
        assert_eq!(record(0.6, &[0.8, 0.9]).divergence(), None);
        let why = record(0.6, &[0.8, 1.7]).divergence().unwrap();
        assert!(why.starts_with("training loss exploded from 0.800 (epoch 1) to 1.700"), "{why}");
        // Chance follows the class count; one epoch at chance cannot show whether it is
        // still learning unless its loss blew up past twice a uniform guess's (ln 2).
        let mut two = record(0.51, &[0.7]);
        two.per_class_accuracy = vec![0.51; 2];
        assert_eq!(two.divergence(), None);
        assert!(two.not_learned_yet());
        two.epochs[0].train_loss = 1.5;
        let why = two.divergence().unwrap();
        assert!(why.contains("50.0%") && why.contains("blew up (1.500 at epoch 1"), "{why}");
    }

    /// SGD at lr 1e-5 (results/full, lr-sgd, seed 3): at chance after 10 epochs but its
    /// loss falls every epoch: it has not learned yet, it did not blow up.
    #[test]
    fn a_run_at_chance_still_learning_has_not_diverged() {
        let losses = [2.308, 2.307, 2.305, 2.304, 2.302, 2.301, 2.3, 2.298, 2.297, 2.295];
        let slow = record(0.0717, &losses);
        assert_eq!(slow.divergence(), None);
        assert!(slow.not_learned_yet());
        assert!(!record(0.85, &[0.9, 0.5]).not_learned_yet());
        // Adam at lr 0.1 (results/full, lr-adam, seed 1): flat at ln 10 from epoch 2.
        let dead = record(0.1, &[2.562, 2.317, 2.316, 2.314, 2.315, 2.316, 2.315, 2.314]);
        assert!(dead.divergence().unwrap().contains("stopped falling"));
        assert!(!dead.not_learned_yet());
    }

    /// A run that learned and then fell to chance collapsed, even with its loss falling.
    #[test]
    fn a_run_that_collapsed_after_learning_diverged() {
        let mut run = record(0.1, &[2.0, 1.5, 1.2]);
        run.epochs[0].test_accuracy = 0.7;
        let why = run.divergence().unwrap();
        assert!(why.contains("at chance (10.0% + 2 points) after it had learned"), "{why}");
    }

    /// Adam at lr 10 on burn-tch (CI, 2 epochs): the loss blew up to 5712 in epoch 1 and
    /// fell back to 2.85 in epoch 2 at chance: falling, but from a blow-up.
    #[test]
    fn a_run_at_chance_that_blew_up_diverged_though_its_loss_fell() {
        let run = record(0.105, &[5712.138, 2.851]);
        let why = run.divergence().unwrap();
        assert!(why.contains("blew up (5712.138 at epoch 1, a uniform guess's is 2.303)"), "{why}");
        assert!(!run.not_learned_yet());
        // A spike in a run that went on to learn is not divergence.
        assert_eq!(record(0.8, &[5712.138, 0.6, 0.5]).divergence(), None);
    }
}
