//! How an [`EpochRecord`] is written outside `record.json`, in one place: a row of a
//! run's `curve.csv` ([`EpochRecord::curve_csv`], read back by
//! [`EpochRecord::from_curve_row`]), the line a worker prints for the sweep that
//! follows it ([`EpochRecord::progress_line`], read back by
//! [`EpochRecord::parse_progress_line`]), and the line a person reads (its
//! [`Display`](fmt::Display)).

use std::fmt;

use crate::EpochRecord;

impl EpochRecord {
    /// The header line of `curve.csv` (without its newline): the columns of
    /// [`EpochRecord::curve_row`].
    pub const CURVE_HEADER: &'static str = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,\
         seconds,train_samples_per_sec,eval_samples_per_sec";

    /// This epoch as a row of `curve.csv` (without its newline): every field, losses and
    /// accuracies in full (a diverged loss as `NaN` or `inf`), the seconds to the
    /// millisecond and the throughputs to a tenth.
    pub fn curve_row(&self) -> String {
        format!(
            "{},{},{},{},{},{:.3},{:.1},{:.1}",
            self.epoch,
            self.train_loss,
            self.train_accuracy,
            self.test_loss,
            self.test_accuracy,
            self.seconds,
            self.train_samples_per_sec,
            self.eval_samples_per_sec
        )
    }

    /// The whole of a run's `curve.csv` for `epochs`: the header, then a row per epoch,
    /// each line ending in a newline.
    pub fn curve_csv(epochs: &[EpochRecord]) -> String {
        let mut csv = format!("{}\n", EpochRecord::CURVE_HEADER);
        for e in epochs {
            csv += &e.curve_row();
            csv.push('\n');
        }
        csv
    }

    /// Reads a row of `curve.csv` back (the seconds and throughputs as rounded there);
    /// `None` for the header or a line that is not a row.
    pub fn from_curve_row(line: &str) -> Option<EpochRecord> {
        let fields: Vec<&str> = line.trim_end().split(',').collect();
        let [epoch, train_loss, train_accuracy, test_loss, test_accuracy, seconds, train, eval] =
            fields.as_slice()
        else {
            return None;
        };
        let num = |f: &str| f.parse::<f64>().ok();
        Some(EpochRecord {
            epoch: epoch.parse().ok()?,
            train_loss: num(train_loss)?,
            train_accuracy: num(train_accuracy)?,
            test_loss: num(test_loss)?,
            test_accuracy: num(test_accuracy)?,
            seconds: num(seconds)?,
            train_samples_per_sec: num(train)?,
            eval_samples_per_sec: num(eval)?,
        })
    }

    /// The line a worker prints after this epoch of `epochs` for the sweep that follows
    /// it: `epoch E/N ACC`, the test accuracy to six decimals.
    pub fn progress_line(&self, epochs: usize) -> String {
        format!("epoch {}/{epochs} {:.6}", self.epoch, self.test_accuracy)
    }

    /// Reads a worker's [`EpochRecord::progress_line`] back: (epoch, epochs, test
    /// accuracy); `None` for any other line.
    pub fn parse_progress_line(line: &str) -> Option<(usize, usize, f64)> {
        let rest = line.strip_prefix("epoch ")?;
        let (frac, acc) = rest.split_once(' ')?;
        let (e, n) = frac.split_once('/')?;
        Some((e.parse().ok()?, n.parse().ok()?, acc.trim().parse().ok()?))
    }
}

/// The epoch as a person reads it, on one line: losses and accuracies to four
/// decimals, the seconds and the throughputs.
impl fmt::Display for EpochRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "epoch {}: train loss {:.4} acc {:.4} | test loss {:.4} acc {:.4} | {:.1} s, {:.0} \
             train samples/s, {:.0} eval samples/s",
            self.epoch,
            self.train_loss,
            self.train_accuracy,
            self.test_loss,
            self.test_accuracy,
            self.seconds,
            self.train_samples_per_sec,
            self.eval_samples_per_sec
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(n: usize) -> EpochRecord {
        EpochRecord {
            epoch: n,
            train_loss: 0.5,
            train_accuracy: 0.8125,
            test_loss: f64::NAN,
            test_accuracy: 0.875,
            seconds: 1.23456,
            train_samples_per_sec: 1234.56,
            eval_samples_per_sec: 5000.0,
        }
    }

    /// `curve.csv` is the header and a row per epoch, each row read back to its epoch
    /// (seconds and throughputs as rounded); the header and junk read as no row.
    #[test]
    fn curve_rows_round_trip() {
        let csv = EpochRecord::curve_csv(&[epoch(1), epoch(2)]);
        assert_eq!(
            csv,
            "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds,\
             train_samples_per_sec,eval_samples_per_sec\n\
             1,0.5,0.8125,NaN,0.875,1.235,1234.6,5000.0\n\
             2,0.5,0.8125,NaN,0.875,1.235,1234.6,5000.0\n"
        );
        let back = EpochRecord::from_curve_row(csv.lines().nth(2).expect("row")).expect("parses");
        assert_eq!((back.epoch, back.train_loss, back.test_accuracy), (2, 0.5, 0.875));
        assert!(back.test_loss.is_nan());
        assert_eq!((back.seconds, back.train_samples_per_sec), (1.235, 1234.6));
        assert_eq!(EpochRecord::from_curve_row(EpochRecord::CURVE_HEADER), None);
        assert_eq!(EpochRecord::from_curve_row("1,2,3"), None);
        assert_eq!(EpochRecord::from_curve_row("1,2,3,4,5,6,7,8,9"), None);
    }

    #[test]
    fn progress_lines_round_trip() {
        let line = epoch(3).progress_line(10);
        assert_eq!(line, "epoch 3/10 0.875000");
        assert_eq!(EpochRecord::parse_progress_line(&line), Some((3, 10, 0.875)));
        assert_eq!(EpochRecord::parse_progress_line("epoch 1: train loss"), None);
        assert_eq!(EpochRecord::parse_progress_line(&epoch(1).to_string()), None);
    }

    #[test]
    fn an_epoch_reads_as_one_line() {
        assert_eq!(
            epoch(2).to_string(),
            "epoch 2: train loss 0.5000 acc 0.8125 | test loss NaN acc 0.8750 | 1.2 s, 1235 \
             train samples/s, 5000 eval samples/s"
        );
    }
}
