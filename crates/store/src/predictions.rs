//! `predictions.u8`: the predicted and the true class of each example of a run's final
//! evaluation (the format is in the crate docs).

use cnnvar_core::{Error, Result, RunRecord, write_atomic};

pub use cnnvar_core::Predictions;

use crate::RunDir;

/// The predicted and the true class of each example of the final evaluation (see the
/// module docs).
pub const PREDICTIONS_FILE: &str = "predictions.u8";
/// The first bytes of [`PREDICTIONS_FILE`].
pub const PREDICTIONS_MAGIC: &[u8; 8] = b"CNNVPRED";
/// The version of [`PREDICTIONS_FILE`]'s format this build writes and reads.
pub const PREDICTIONS_VERSION: u32 = 1;
/// The length of [`PREDICTIONS_FILE`]'s header: magic, version, count, run id.
pub const PREDICTIONS_HEADER: usize = 32;

impl RunDir {
    /// Writes `predictions.u8` (atomically) for this directory's run: the header, then
    /// one byte per example for the predicted classes, then one per example for the
    /// labels (as many as the predictions). Returns the file's SHA-256 (lower-case hex),
    /// which [`RunDir::write_outputs`] records in the run's record.
    pub fn write_predictions(&self, predictions: &[u8], labels: &[u8]) -> Result<String> {
        let p = self.path().join(PREDICTIONS_FILE);
        let count = u32::try_from(predictions.len()).map_err(|_| {
            Error::outputs(
                self.run_id(),
                format!("{} predictions are too many for one file", predictions.len()),
            )
        })?;
        if labels.len() != predictions.len() {
            return Err(Error::outputs(
                self.run_id(),
                format!(
                    "{} labels for {} predictions; expected one per prediction",
                    labels.len(),
                    predictions.len()
                ),
            ));
        }
        let id = self.run_id();
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::data(&p, format!("`{id}` is not a run id (16 hex digits)")));
        }
        let mut bytes = Vec::with_capacity(PREDICTIONS_HEADER + 2 * predictions.len());
        bytes.extend_from_slice(PREDICTIONS_MAGIC);
        bytes.extend_from_slice(&PREDICTIONS_VERSION.to_le_bytes());
        bytes.extend_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(id.as_bytes());
        bytes.extend_from_slice(predictions);
        bytes.extend_from_slice(labels);
        write_atomic(&p, &bytes)?;
        Ok(sha256_hex(&bytes))
    }

    /// The predictions and labels of `record`'s run (this directory's record), `None`
    /// if there are none and its record is of a run made before runs stored them (it has
    /// no `predictions_sha256`), an error if they are damaged: missing though the record
    /// has their checksum, not the header and twice `record.test_examples` bytes long,
    /// not of this format, of another run, holding a class or label the record does not
    /// have, not hashing to the record's checksum, or giving another test accuracy than
    /// the record's (the count of right predictions must be the record's accuracy times
    /// the examples, rounded: an exact count).
    pub fn read_predictions(&self, record: &RunRecord) -> Result<Option<Predictions>> {
        use std::io::Read;
        let p = self.path().join(PREDICTIONS_FILE);
        let checksum = record.provenance.predictions_sha256.as_deref();
        let file = match std::fs::File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return match checksum {
                    None => Ok(None),
                    Some(_) => Err(Error::data(&p, MISSING)),
                };
            }
            Err(e) => return Err(Error::io(&p, e)),
        };
        let expected = (PREDICTIONS_HEADER as u64)
            .saturating_add((record.test_examples as u64).saturating_mul(2));
        let length = file.metadata().map_err(|e| Error::io(&p, e))?.len();
        let wrong_length = |length: u64| {
            Error::data(
                &p,
                format!(
                    "{length} bytes; expected {expected}: the {PREDICTIONS_HEADER}-byte header, \
                     then a predicted class and a label for each of the record's {} test \
                     examples",
                    record.test_examples
                ),
            )
        };
        if length != expected {
            return Err(wrong_length(length));
        }
        // Never more than the record says, however the file changes meanwhile.
        let mut bytes = Vec::new();
        file.take(expected.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(&p, e))?;
        if bytes.len() as u64 != expected {
            return Err(wrong_length(bytes.len() as u64));
        }
        let (header, body) = bytes.split_at(PREDICTIONS_HEADER);
        let (predictions, labels) = body.split_at(record.test_examples);
        let word = |at: usize| {
            u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
        };
        if &header[..8] != PREDICTIONS_MAGIC {
            return Err(Error::data(&p, "not a cnnvar predictions file (no CNNVPRED header)"));
        }
        if word(8) != PREDICTIONS_VERSION {
            return Err(Error::data(
                &p,
                format!(
                    "predictions format version {}; this cnnvar reads version {PREDICTIONS_VERSION}",
                    word(8)
                ),
            ));
        }
        if word(12) as u64 != record.test_examples as u64 {
            return Err(Error::data(
                &p,
                format!(
                    "the header counts {} predictions, the record {} test examples",
                    word(12),
                    record.test_examples
                ),
            ));
        }
        let id = String::from_utf8_lossy(&header[16..32]);
        if id != record.run_id {
            return Err(Error::data(
                &p,
                format!(
                    "the predictions of run {id}, in the directory of run {}; expected run {}'s",
                    record.run_id, record.run_id
                ),
            ));
        }
        let classes = match record.per_class_accuracy.len() {
            0 => 256,
            n => n,
        };
        for (what, values) in [("prediction", predictions), ("label", labels)] {
            if let Some((i, &c)) =
                values.iter().enumerate().find(|&(_, &c)| usize::from(c) >= classes)
            {
                return Err(Error::data(
                    &p,
                    format!("{what} {i} is class {c}, but the record has {classes} classes"),
                ));
            }
        }
        if let Some(expected) = checksum {
            let actual = sha256_hex(&bytes);
            if actual != expected {
                return Err(Error::data(
                    &p,
                    format!(
                        "sha256 {actual}, but its record was written with sha256 {expected} \
                         (provenance.predictions_sha256): the file changed after its run \
                         wrote it"
                    ),
                ));
            }
        }
        let read = Predictions { predicted: predictions.to_vec(), labels: labels.to_vec() };
        check_accuracy(&read, record).map_err(|why| Error::data(&p, why))?;
        Ok(Some(read))
    }
}

/// Why [`RunDir::read_predictions`] calls predictions missing: a record that holds
/// their checksum was written by a run that wrote them first.
const MISSING: &str = "missing, though its record holds their checksum \
    (provenance.predictions_sha256): a run that records one always writes them";

/// That `read`, the predictions of `record`'s run, give the record's test accuracy: the
/// count of right predictions is the record's accuracy times the examples, rounded (the
/// record's accuracy is that count over the examples); else why not.
fn check_accuracy(read: &Predictions, record: &RunRecord) -> std::result::Result<(), String> {
    let n = read.predicted.len();
    if n == 0 {
        return Ok(());
    }
    let right = read.correct().iter().filter(|&&c| c).count();
    let recorded = record.test_accuracy * n as f64;
    if recorded.is_finite() && (recorded.round() - right as f64).abs() < 0.5 {
        return Ok(());
    }
    Err(format!(
        "{right} of its {n} predictions are right ({:.2}%), but the record's test accuracy \
         is {:.2}% ({} of {n}): they are not the predictions the record was written from",
        100.0 * right as f64 / n as f64,
        100.0 * record.test_accuracy,
        if recorded.is_finite() { format!("{:.0}", recorded.round()) } else { "?".into() }
    ))
}

/// The SHA-256 of `bytes`, lower-case hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
