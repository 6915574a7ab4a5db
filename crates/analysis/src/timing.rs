//! How long a study took, from its records alone: its wall time (the first run's
//! start to the last run's finish) and its compute time (the runs' durations summed).
//!
//! A record has the run's duration (`seconds`: loading, training and evaluation) and
//! a Unix time, `provenance.started_unix`, that is taken when the run's provenance is
//! filled in, after training and evaluation: it is the run's finish (to the whole
//! second), not its start, whatever its name says. Each run's start is therefore
//! derived as that time less its duration. (Read as starts, the records of
//! results/full would have had 5 runs going at once on 2 workers; read as finishes,
//! never more than 2.)

use std::collections::BTreeMap;

use cnnvar_core::RunRecord;
use serde::Serialize;

/// A study's wall and compute time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StudyTime {
    /// Distinct runs counted (by run id; a run shared by two experiments counts once).
    pub runs: usize,
    /// Unix time of the first run's start (its finish less its duration).
    pub first_start_unix: f64,
    /// Unix time of the last run's finish.
    pub last_finish_unix: f64,
    /// `last_finish_unix − first_start_unix`, seconds.
    pub wall_seconds: f64,
    /// Seconds within the wall time when some run was going (the union of the runs'
    /// spans): less than the wall time when the study was swept in sittings with pauses
    /// between.
    pub busy_seconds: f64,
    /// The runs' durations summed, seconds.
    pub compute_seconds: f64,
}

impl StudyTime {
    /// Runs going at once on average while any was: `compute_seconds / busy_seconds`.
    pub fn concurrency(&self) -> f64 {
        if self.busy_seconds > 0.0 { self.compute_seconds / self.busy_seconds } else { 0.0 }
    }
}

/// The wall and compute time of the runs of `records` (each run once, by run id);
/// `None` without a record whose duration and time are known (a time of 0 is an
/// unknown time, and such records are left out).
pub fn study_time<'a>(records: impl IntoIterator<Item = &'a RunRecord>) -> Option<StudyTime> {
    let spans: BTreeMap<&str, (f64, f64)> = records
        .into_iter()
        .filter(|r| r.provenance.started_unix > 0 && r.seconds.is_finite() && r.seconds >= 0.0)
        .map(|r| {
            let finish = r.provenance.started_unix as f64;
            (r.run_id.as_str(), (finish - r.seconds, finish))
        })
        .collect();
    let mut spans: Vec<(f64, f64)> = spans.into_values().collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let first = spans.first()?.0;
    let last = spans.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    let (mut busy, mut open) = (0.0, None::<(f64, f64)>);
    for &(start, finish) in &spans {
        open = match open {
            Some((s, f)) if start <= f => Some((s, f.max(finish))),
            Some((s, f)) => {
                busy += f - s;
                Some((start, finish))
            }
            None => Some((start, finish)),
        };
    }
    if let Some((s, f)) = open {
        busy += f - s;
    }
    Some(StudyTime {
        runs: spans.len(),
        first_start_unix: first,
        last_finish_unix: last,
        wall_seconds: last - first,
        busy_seconds: busy,
        compute_seconds: spans.iter().map(|(s, f)| f - s).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cnnvar_core::RunSpec;

    fn record(id: &str, finish: u64, seconds: f64) -> RunRecord {
        let mut r = cnnvar_core::testing::record_of(&RunSpec::default());
        r.run_id = id.into();
        r.provenance.started_unix = finish;
        r.seconds = seconds;
        r
    }

    /// Two workers, then a pause, then one more run: the wall time spans the pause, the
    /// busy time does not, the compute time sums the durations, a shared run counts
    /// once and a record without a time is left out.
    #[test]
    fn wall_busy_and_compute_time() {
        let runs = [
            record("a", 1_000_100, 100.0),
            record("b", 1_000_150, 120.0),
            record("c", 1_000_250, 100.0),
            record("a", 1_000_100, 100.0),
            record("d", 1_004_000, 600.0),
            record("e", 0, 50.0),
        ];
        let t = study_time(&runs).expect("times");
        assert_eq!(t.runs, 4);
        assert_eq!((t.first_start_unix, t.last_finish_unix), (1_000_000.0, 1_004_000.0));
        assert_eq!((t.wall_seconds, t.busy_seconds, t.compute_seconds), (4000.0, 850.0, 920.0));
        assert!((t.concurrency() - 920.0 / 850.0).abs() < 1e-12);
        assert!(study_time(&runs[5..]).is_none());
        assert!(study_time(&[]).is_none());
    }
}
