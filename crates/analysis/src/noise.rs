//! How much of seed noise is only the test set: from the per-example predictions of
//! the k runs of one level, the part of the run-to-run spread of test accuracy that
//! independent per-example errors explain, the excess that is a real difference in
//! accuracy between runs, how often the runs disagree, and what a majority vote of
//! the runs scores.
//!
//! # The floor
//!
//! Let `X_ri` be 1 when run `r` classifies test example `i` correctly, `p_i` the share
//! of the k runs that do, and `acc_r = Σ_i X_ri / n`. The sample variance of accuracy
//! across runs splits exactly into
//!
//! `sd² = (1/n²) Σ_i v_i + (1/n²) Σ_{i≠j} c_ij`,
//!
//! where `v_i = p_i(1 − p_i)·k/(k − 1)` is the sample variance of `X_i` across runs and
//! `c_ij` the sample covariance of `X_i` and `X_j`. The first term is the *floor*,
//! `√(Σ_i p_i(1 − p_i)·k/(k − 1)) / n`: the spread runs would show if each example
//! flipped between right and wrong independently of the others, with its own
//! difficulty — the test set's own sampling noise, given which examples are hard. The
//! second term is zero in expectation under independent errors; a run that is truly
//! better is right on many examples at once, which makes the covariances positive. So
//! the *excess* `√max(0, sd² − floor²)` estimates the sd of the runs' true
//! accuracies, and an observed sd at or below the floor says the seeds cannot be told
//! apart on this test set.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::splitmix::SplitMix;

/// Bootstrap resamples (of runs) for the interval of the floor.
pub const BOOTSTRAP: usize = 2000;

/// Seed of the bootstrap generator, fixed so that reports are reproducible.
const BOOTSTRAP_SEED: u64 = 0x5eed_0018;

/// Why the test-set noise of a level could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseError {
    /// Fewer than 2 runs: no spread to explain.
    TooFewRuns {
        /// Runs given.
        runs: usize,
    },
    /// An empty test set.
    NoExamples,
    /// A run's predictions do not match the labels in length.
    LengthMismatch {
        /// 0-based index of the run.
        run: usize,
        /// Its predictions.
        predictions: usize,
        /// Labels (test examples).
        labels: usize,
    },
}

impl fmt::Display for NoiseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFewRuns { runs } => {
                write!(f, "{runs} run(s): test-set noise needs at least 2")
            }
            Self::NoExamples => write!(f, "no test examples"),
            Self::LengthMismatch { run, predictions, labels } => {
                write!(f, "run {run} has {predictions} predictions for {labels} test examples")
            }
        }
    }
}

impl std::error::Error for NoiseError {}

/// What the runs of a level did with one test example.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExampleVotes {
    /// The example's label.
    pub label: u8,
    /// Runs that classified it correctly.
    pub correct: usize,
    /// Runs that predicted each class, indexed by class.
    pub votes: Vec<usize>,
}

impl ExampleVotes {
    /// The class most runs predicted (ties: the lowest class).
    pub fn majority(&self) -> u8 {
        let mut best = 0;
        for (class, &v) in self.votes.iter().enumerate() {
            if v > self.votes[best] {
                best = class;
            }
        }
        best as u8
    }

    /// Runs that predicted the majority class.
    pub fn top_votes(&self) -> usize {
        self.votes.iter().copied().max().unwrap_or(0)
    }

    /// Whether two classes or more share the most votes (the vote then goes to the
    /// lowest of them, [`ExampleVotes::majority`]).
    pub fn tied(&self) -> bool {
        let top = self.top_votes();
        top > 0 && self.votes.iter().filter(|&&v| v == top).count() > 1
    }
}

/// The fraction of test examples on which two runs predict different classes,
/// over all pairs of runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Disagreement {
    /// Mean over pairs.
    pub mean: f64,
    /// Least-disagreeing pair.
    pub min: f64,
    /// Most-disagreeing pair.
    pub max: f64,
}

/// Test-set noise of one level's runs: the numbers a level keeps ([`NoiseSummary`]),
/// with what they were computed from, per run and per example.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestSetNoise {
    /// The numbers and the finding. Its `most_contested` is empty here:
    /// [`TestSetNoise::summary`] picks as many as a level keeps.
    #[serde(flatten)]
    pub summary: NoiseSummary,
    /// Classes seen in labels or predictions (largest class + 1).
    pub classes: usize,
    /// Test accuracy of each run, in the order given (`summary.mean_accuracy` is their
    /// mean, `summary.observed_sd` their sample sd, k − 1).
    pub accuracies: Vec<f64>,
    /// Per test example, in test-set order.
    pub per_example: Vec<ExampleVotes>,
}

impl TestSetNoise {
    /// The `m` examples the runs disagree on most: fewest runs on the majority class
    /// first, ties by index.
    pub fn most_contested(&self, m: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.per_example.len()).collect();
        order.sort_by_key(|&i| (self.per_example[i].top_votes(), i));
        order.truncate(m);
        order
    }
}

/// One test example the runs of a level disagree on, for drawing it: its position in
/// the evaluation order (the index into the test set with `test_size` or the whole test
/// set; the position among the held-out fold's examples with `evaluate_on =
/// "validation"`), its label and how the runs voted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContestedExample {
    /// Position in the evaluation order (0-based).
    pub index: usize,
    /// The example's label.
    pub label: u8,
    /// Runs that classified it correctly.
    pub correct: usize,
    /// The class most runs predicted (ties: the lowest class).
    pub majority: u8,
    /// Runs that predicted it.
    pub majority_votes: usize,
    /// Runs that predicted each class, indexed by class.
    pub votes: Vec<usize>,
}

/// The test-set noise of a level's runs as the analysis keeps and serialises it: the
/// numbers of [`TestSetNoise`] without the per-run and per-example data, with the
/// examples the runs fight over most.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NoiseSummary {
    /// Runs (k).
    pub runs: usize,
    /// Test examples (n).
    pub examples: usize,
    /// Mean test accuracy of the runs, from their predictions.
    pub mean_accuracy: f64,
    /// Sample sd (k − 1) of the runs' accuracies.
    pub observed_sd: f64,
    /// The independent-errors floor, `√(Σ_i p_i(1 − p_i)·k/(k − 1)) / n`: what the test
    /// set alone produces.
    pub floor_sd: f64,
    /// 95% percentile-bootstrap interval of the floor, resampling runs (see
    /// [`floor_interval`]); `None` with no resamples.
    pub floor_ci: Option<(f64, f64)>,
    /// `√max(0, observed² − floor²)`: the sd of the runs' true accuracies, from training.
    pub excess_sd: f64,
    /// Whether the observed sd is at or below the floor.
    pub within_floor: bool,
    /// How often runs predict differently.
    pub disagreement: Disagreement,
    /// Accuracy of the majority vote of the runs (ties: the lowest class).
    pub ensemble_accuracy: f64,
    /// `ensemble_accuracy − mean_accuracy`.
    pub ensemble_gain: f64,
    /// Examples whose vote was tied: two classes or more with the most runs, the vote
    /// going to the lowest of them.
    pub ensemble_ties: usize,
    /// The examples the runs disagree on most ([`TestSetNoise::contested`]).
    pub most_contested: Vec<ContestedExample>,
}

impl TestSetNoise {
    /// The `m` examples the runs disagree on most ([`TestSetNoise::most_contested`]),
    /// leaving out examples every run predicts alike.
    pub fn contested(&self, m: usize) -> Vec<ContestedExample> {
        self.most_contested(m)
            .into_iter()
            .map(|i| (i, &self.per_example[i]))
            .filter(|(_, e)| e.top_votes() < self.summary.runs)
            .map(|(index, e)| ContestedExample {
                index,
                label: e.label,
                correct: e.correct,
                majority: e.majority(),
                majority_votes: e.top_votes(),
                votes: e.votes.clone(),
            })
            .collect()
    }

    /// The summary of this noise, with the `contested` examples the runs disagree on most.
    pub fn summary(&self, contested: usize) -> NoiseSummary {
        NoiseSummary { most_contested: self.contested(contested), ..self.summary.clone() }
    }
}

/// Test-set noise of a level from each run's predicted classes (in test-set order)
/// and the labels, with a [`BOOTSTRAP`]-resample interval of the floor.
pub fn test_set_noise<P: AsRef<[u8]>>(
    runs: &[P],
    labels: &[u8],
) -> Result<TestSetNoise, NoiseError> {
    test_set_noise_with(runs, labels, BOOTSTRAP)
}

/// [`test_set_noise`] with `resamples` bootstrap resamples (0: no interval).
pub fn test_set_noise_with<P: AsRef<[u8]>>(
    runs: &[P],
    labels: &[u8],
    resamples: usize,
) -> Result<TestSetNoise, NoiseError> {
    let preds = validate(runs, labels)?;
    let (k, n) = (preds.len(), labels.len());
    let hits: Vec<Vec<bool>> =
        preds.iter().map(|p| p.iter().zip(labels).map(|(a, b)| a == b).collect()).collect();
    let accuracies: Vec<f64> =
        hits.iter().map(|h| h.iter().filter(|&&x| x).count() as f64 / n as f64).collect();
    let mean_accuracy = accuracies.iter().sum::<f64>() / k as f64;
    let observed_sd = sample_sd(&accuracies);
    let per_example = votes(&preds, labels);
    let counts: Vec<usize> = per_example.iter().map(|e| e.correct).collect();
    // Validated: at least 2 runs, some examples, counts at most k.
    let floor_sd = floor(&counts, k).unwrap_or(0.0);
    let floor_ci = floor_interval(&hits, resamples);
    let excess_sd = (observed_sd * observed_sd - floor_sd * floor_sd).max(0.0).sqrt();
    let ensemble_accuracy =
        per_example.iter().filter(|e| e.majority() == e.label).count() as f64 / n as f64;
    let summary = NoiseSummary {
        runs: k,
        examples: n,
        mean_accuracy,
        observed_sd,
        floor_sd,
        floor_ci,
        excess_sd,
        within_floor: observed_sd <= floor_sd,
        disagreement: disagreement(&preds),
        ensemble_accuracy,
        ensemble_gain: ensemble_accuracy - mean_accuracy,
        ensemble_ties: per_example.iter().filter(|e| e.tied()).count(),
        most_contested: Vec::new(),
    };
    Ok(TestSetNoise {
        summary,
        classes: per_example.first().map_or(0, |e| e.votes.len()),
        accuracies,
        per_example,
    })
}

/// The runs' predictions, once they are at least 2 and match the labels in length.
fn validate<'a, P: AsRef<[u8]>>(runs: &'a [P], labels: &[u8]) -> Result<Vec<&'a [u8]>, NoiseError> {
    if runs.len() < 2 {
        return Err(NoiseError::TooFewRuns { runs: runs.len() });
    }
    if labels.is_empty() {
        return Err(NoiseError::NoExamples);
    }
    let preds: Vec<&[u8]> = runs.iter().map(AsRef::as_ref).collect();
    match preds.iter().position(|p| p.len() != labels.len()) {
        Some(run) => Err(NoiseError::LengthMismatch {
            run,
            predictions: preds[run].len(),
            labels: labels.len(),
        }),
        None => Ok(preds),
    }
}

fn sample_sd(xs: &[f64]) -> f64 {
    let m = xs.iter().sum::<f64>() / xs.len() as f64;
    (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() as f64 - 1.0)).sqrt()
}

/// Each example's votes and correct count.
fn votes(preds: &[&[u8]], labels: &[u8]) -> Vec<ExampleVotes> {
    let top = preds.iter().flat_map(|p| p.iter()).chain(labels).copied().max().unwrap_or(0);
    let classes = usize::from(top) + 1;
    labels
        .iter()
        .enumerate()
        .map(|(i, &label)| {
            let mut votes = vec![0; classes];
            for p in preds {
                votes[usize::from(p[i])] += 1;
            }
            ExampleVotes { label, correct: votes[usize::from(label)], votes }
        })
        .collect()
}

/// `p(1 − p)·k/(k − 1)` for an example that `c` of `k` runs get right.
fn example_variance(c: usize, k: usize) -> f64 {
    (c * (k - c)) as f64 / (k * (k - 1)) as f64
}

/// The independent-errors floor from each example's count of correct runs out of `k`:
/// `√(Σ_i p_i(1 − p_i)·k/(k − 1)) / n`; `None` for fewer than 2 runs, no examples, or
/// a count above `k`.
pub fn floor(correct: &[usize], k: usize) -> Option<f64> {
    if k < 2 || correct.is_empty() || correct.iter().any(|&c| c > k) {
        return None;
    }
    let sum: f64 = correct.iter().map(|&c| example_variance(c, k)).sum();
    Some(sum.sqrt() / correct.len() as f64)
}

/// 95% percentile-bootstrap interval of the floor, resampling the k runs with
/// replacement `resamples` times from a fixed seed (`hits[r][i]`: run r right on
/// example i). `None` for fewer than 2 runs, no examples, runs of unequal length, or
/// no resamples.
///
/// A resample that repeats a run makes its copies agree, and the floor is a sum of
/// per-example sample variances, whose bootstrap mean is exactly `(k − 1)/k` times
/// their value; each resampled floor is therefore scaled by `√(k/(k − 1))`, which
/// centres the bootstrap distribution of floor² on the estimate. With few runs the
/// interval is crude (with 2 runs it is the floor's value or 0, times √2).
pub fn floor_interval(hits: &[Vec<bool>], resamples: usize) -> Option<(f64, f64)> {
    let k = hits.len();
    let n = hits.first().map_or(0, Vec::len);
    if k < 2 || n == 0 || resamples == 0 || hits.iter().any(|h| h.len() != n) {
        return None;
    }
    // Examples with the same right/wrong pattern over runs contribute alike.
    let mut patterns: BTreeMap<Vec<bool>, usize> = BTreeMap::new();
    for i in 0..n {
        *patterns.entry(hits.iter().map(|h| h[i]).collect()).or_default() += 1;
    }
    let mut rng = SplitMix(BOOTSTRAP_SEED);
    let mut weights = vec![0usize; k];
    let scale = (k as f64 / (k as f64 - 1.0)).sqrt();
    let mut floors: Vec<f64> = (0..resamples)
        .map(|_| {
            weights.fill(0);
            (0..k).for_each(|_| weights[rng.below(k)] += 1);
            let sum: f64 = patterns
                .iter()
                .map(|(pattern, &count)| {
                    let c = pattern.iter().zip(&weights).filter(|(h, _)| **h).map(|(_, w)| w);
                    count as f64 * example_variance(c.sum(), k)
                })
                .sum();
            scale * sum.sqrt() / n as f64
        })
        .collect();
    floors.sort_by(f64::total_cmp);
    let at = |q: f64| floors[((floors.len() - 1) as f64 * q).round() as usize];
    Some((at(0.025), at(0.975)))
}

/// Mean, min and max over pairs of runs of the share of examples predicted differently.
fn disagreement(preds: &[&[u8]]) -> Disagreement {
    let mut shares = Vec::new();
    for (i, a) in preds.iter().enumerate() {
        for b in &preds[i + 1..] {
            shares.push(Disagreement::share(a, b));
        }
    }
    Disagreement::of(&shares)
}

impl Disagreement {
    /// The share of examples `a` and `b` (two runs' predictions, same examples) predict
    /// differently.
    pub(crate) fn share(a: &[u8], b: &[u8]) -> f64 {
        a.iter().zip(b).filter(|(x, y)| x != y).count() as f64 / a.len() as f64
    }

    /// The mean, least and most of `shares` (not empty).
    pub(crate) fn of(shares: &[f64]) -> Disagreement {
        Disagreement {
            mean: shares.iter().sum::<f64>() / shares.len() as f64,
            min: shares.iter().copied().fold(f64::INFINITY, f64::min),
            max: shares.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Three runs, four examples: every statistic worked out by hand.
    #[test]
    fn a_hand_made_case() {
        let labels = [0, 1, 2, 3];
        let runs = [[0, 1, 2, 3], [0, 1, 0, 0], [0, 2, 0, 0]];
        let s = test_set_noise(&runs, &labels).expect("valid");
        assert_eq!((s.summary.runs, s.summary.examples, s.classes), (3, 4, 4));
        assert_eq!(s.accuracies, [1.0, 0.5, 0.25]);
        let correct: Vec<usize> = s.per_example.iter().map(|e| e.correct).collect();
        assert_eq!(correct, [3, 2, 1, 1]);
        assert_eq!(s.per_example[1].votes, [0, 2, 1, 0]);
        // p(1 - p)·3/2 = 0, 1/3, 1/3, 1/3: the floor is √1 / 4.
        assert!(close(s.summary.floor_sd, 0.25, 1e-15), "{}", s.summary.floor_sd);
        // sd of (1, 0.5, 0.25) = √(0.2916̅/2); excess² = 0.1458̅ − 0.0625 = 1/12.
        assert!(close(s.summary.observed_sd, (0.875f64 / 6.0).sqrt(), 1e-15));
        assert!(close(s.summary.excess_sd, (1.0f64 / 12.0).sqrt(), 1e-12));
        assert!(!s.summary.within_floor);
        // Pairs differ on 2, 3 and 1 of 4 examples.
        let d = &s.summary.disagreement;
        assert!(close(d.mean, 0.5, 1e-15) && d.min == 0.25 && d.max == 0.75, "{d:?}");
        // Majority votes 0, 1, 0, 0: right on examples 0 and 1 only.
        assert_eq!(
            s.per_example.iter().map(ExampleVotes::majority).collect::<Vec<_>>(),
            [0, 1, 0, 0]
        );
        assert!(close(s.summary.ensemble_accuracy, 0.5, 1e-15));
        assert!(close(s.summary.ensemble_gain, 0.5 - 1.75 / 3.0, 1e-15));
        assert_eq!(s.most_contested(3), [1, 2, 3]);
        assert_eq!(s.most_contested(10), [1, 2, 3, 0]);
        // The summary keeps the contested examples, not the unanimous one (example 0).
        let summary = s.summary(10);
        let contested: Vec<usize> = summary.most_contested.iter().map(|e| e.index).collect();
        assert_eq!(contested, [1, 2, 3]);
        let e1 = &summary.most_contested[0];
        assert_eq!((e1.label, e1.correct, e1.majority, e1.majority_votes), (1, 2, 1, 2));
        assert_eq!(e1.votes, [0, 2, 1, 0]);
        assert_eq!(
            (summary.floor_sd, summary.observed_sd),
            (s.summary.floor_sd, s.summary.observed_sd)
        );
        assert_eq!(s.summary(2).most_contested.len(), 2);
    }

    /// Ties go to the lowest class; a vote can beat every run.
    #[test]
    fn majority_vote_ties_and_gains() {
        let tie = test_set_noise(&[[1u8, 1], [2, 2]], &[2, 1]).expect("valid");
        // Example 0 ties 1 against 2 and the vote says 1 (wrong); example 1 says 1 (right).
        assert!(close(tie.summary.ensemble_accuracy, 0.5, 1e-15));
        assert_eq!(tie.summary.ensemble_ties, 2, "both examples tie 1 against 2");
        assert!(tie.per_example.iter().all(ExampleVotes::tied));
        let three = test_set_noise(&[[1u8, 0], [1, 0], [2, 1]], &[1, 0]).expect("valid");
        assert_eq!(three.summary.ensemble_ties, 0, "2 votes to 1 is no tie");
        assert!(close(tie.summary.disagreement.mean, 1.0, 1e-15));
        // Each run errs on a different example: the vote is right everywhere.
        let runs = [[9u8, 1, 2], [0, 9, 2], [0, 1, 9]];
        let s = test_set_noise(&runs, &[0, 1, 2]).expect("valid");
        assert_eq!(s.classes, 10);
        assert!(close(s.summary.ensemble_accuracy, 1.0, 1e-15));
        assert!(close(s.summary.ensemble_gain, 1.0 / 3.0, 1e-15));
        // The runs are equally good: no spread, all of it within the floor.
        assert!(
            s.summary.observed_sd == 0.0 && s.summary.within_floor && s.summary.excess_sd == 0.0
        );
        // Identical runs do not disagree and have no floor.
        let same = test_set_noise(&[[0u8, 1, 1], [0, 1, 1]], &[0, 1, 0]).expect("valid");
        assert_eq!(
            (same.summary.disagreement.max, same.summary.floor_sd, same.summary.floor_ci),
            (0.0, 0.0, Some((0.0, 0.0)))
        );
    }

    #[test]
    fn bad_input_is_refused() {
        let one: &[&[u8]] = &[&[0, 1]];
        assert_eq!(test_set_noise(one, &[0, 1]), Err(NoiseError::TooFewRuns { runs: 1 }));
        let none: &[&[u8]] = &[];
        assert_eq!(test_set_noise(none, &[0]), Err(NoiseError::TooFewRuns { runs: 0 }));
        let empty: &[&[u8]] = &[&[], &[]];
        assert_eq!(test_set_noise(empty, &[]), Err(NoiseError::NoExamples));
        let short: &[&[u8]] = &[&[0, 1], &[0]];
        let err = test_set_noise(short, &[0, 1]).expect_err("mismatch");
        assert_eq!(err, NoiseError::LengthMismatch { run: 1, predictions: 1, labels: 2 });
        assert_eq!(err.to_string(), "run 1 has 1 predictions for 2 test examples");
        // The building blocks refuse what they cannot use.
        assert_eq!(floor(&[3, 2, 1, 1], 3), Some(0.25));
        assert_eq!((floor(&[1], 1), floor(&[3], 2), floor(&[], 3)), (None, None, None));
        let hits = vec![vec![true, false], vec![true, true]];
        assert!(floor_interval(&hits, 10).is_some());
        assert_eq!(floor_interval(&hits, 0), None);
        assert_eq!(floor_interval(&hits[..1], 10), None);
        assert_eq!(floor_interval(&[vec![true], vec![]], 10), None);
    }

    /// Against an independent numpy implementation on a 6-run, 200-example matrix
    /// (reference.json, written by scripts/reference/stats_reference.py).
    #[test]
    fn matches_the_numpy_reference() {
        let r: Value = serde_json::from_str(include_str!("reference.json")).expect("JSON");
        let c = &r["noise"];
        let bytes = |v: &Value| -> Vec<u8> {
            v.as_array().expect("array").iter().map(|x| x.as_u64().expect("u8") as u8).collect()
        };
        let f = |key: &str| c[key].as_f64().expect("a number");
        let labels = bytes(&c["labels"]);
        let runs: Vec<Vec<u8>> =
            c["predictions"].as_array().expect("runs").iter().map(bytes).collect();
        let s = test_set_noise(&runs, &labels).expect("valid");
        let accs: Vec<f64> = c["accuracies"]
            .as_array()
            .expect("accs")
            .iter()
            .map(|x| x.as_f64().expect("f64"))
            .collect();
        assert_eq!(s.accuracies, accs);
        for (got, key) in [
            (s.summary.observed_sd, "observed_sd"),
            (s.summary.floor_sd, "floor_sd"),
            (s.summary.excess_sd, "excess_sd"),
            (s.summary.disagreement.mean, "disagreement_mean"),
            (s.summary.disagreement.min, "disagreement_min"),
            (s.summary.disagreement.max, "disagreement_max"),
            (s.summary.ensemble_accuracy, "ensemble_accuracy"),
            (s.summary.ensemble_gain, "ensemble_gain"),
        ] {
            assert!(close(got, f(key), 1e-12), "{key}: {got} vs {}", f(key));
        }
        let counts: Vec<u64> = s.per_example.iter().map(|e| e.correct as u64).collect();
        let want: Vec<u64> = c["correct_counts"]
            .as_array()
            .expect("counts")
            .iter()
            .map(|x| x.as_u64().expect("count"))
            .collect();
        assert_eq!(counts, want);
        let top: Vec<u64> = s.most_contested(10).into_iter().map(|i| i as u64).collect();
        let want: Vec<u64> = c["most_contested_10"]
            .as_array()
            .expect("top")
            .iter()
            .map(|x| x.as_u64().expect("index"))
            .collect();
        assert_eq!(top, want);
        // This matrix has independent errors: the observed sd is within the floor,
        // whose interval contains it, and the computation is deterministic.
        assert!(s.summary.within_floor);
        let (lo, hi) = s.summary.floor_ci.expect("resampled");
        assert!(
            lo < s.summary.floor_sd && s.summary.floor_sd < hi,
            "{lo} {} {hi}",
            s.summary.floor_sd
        );
        assert_eq!(test_set_noise(&runs, &labels).expect("valid"), s);
    }

    /// Difficulty of example i: 60% easy, 25% medium, 15% hard.
    fn difficulty(i: usize) -> f64 {
        match i % 20 {
            0..12 => 0.95,
            12..17 => 0.75,
            _ => 0.35,
        }
    }

    /// One simulated level: run r is right on example i with probability
    /// `difficulty(i) + shift[r]`, independently; wrong predictions are another class.
    fn simulate(rng: &mut SplitMix, shifts: &[f64], n: usize) -> (Vec<Vec<u8>>, Vec<u8>) {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let runs = shifts
            .iter()
            .map(|shift| {
                labels
                    .iter()
                    .enumerate()
                    .map(|(i, &y)| {
                        if rng.uniform() < difficulty(i) + shift {
                            y
                        } else {
                            (y + 1 + rng.below(9) as u8) % 10
                        }
                    })
                    .collect()
            })
            .collect();
        (runs, labels)
    }

    /// (a) Runs of equal true accuracy with independent errors (heterogeneous
    /// difficulty). Then E[observed²] = E[floor²] = Σ π_i(1 − π_i) / n² exactly, so over
    /// S = 500 studies of k = 10 runs the root-mean-square observed sd and floor agree.
    /// Tolerance: a sample variance of k runs has relative sd √(2/(k − 1)) = 0.47, so
    /// the mean of S of them has √(2/(S(k − 1))) = 2.1%, and its root 1.05%; 5% is
    /// more than 4.5 sd. The floor² itself is nearly constant (its mean is within 1%).
    #[test]
    fn independent_errors_are_all_floor() {
        let (studies, k, n) = (500, 10, 1000);
        let mut rng = SplitMix(0xa11_f100);
        let (mut obs2, mut floor2, mut within) = (0.0, 0.0, 0);
        for _ in 0..studies {
            let (runs, labels) = simulate(&mut rng, &vec![0.0; k], n);
            let s = test_set_noise_with(&runs, &labels, 0).expect("valid");
            obs2 += s.summary.observed_sd.powi(2) / studies as f64;
            floor2 += s.summary.floor_sd.powi(2) / studies as f64;
            within += usize::from(s.summary.within_floor);
        }
        let truth =
            (0..n).map(|i| difficulty(i) * (1.0 - difficulty(i))).sum::<f64>().sqrt() / n as f64;
        let (obs, floor) = (obs2.sqrt(), floor2.sqrt());
        assert!((obs / floor - 1.0).abs() < 0.05, "observed {obs} vs floor {floor}");
        assert!((floor / truth - 1.0).abs() < 0.01, "floor {floor} vs truth {truth}");
        // And the floor is well below the binomial sd that ignores difficulty.
        let q = (0..n).map(difficulty).sum::<f64>() / n as f64;
        assert!(floor < 0.9 * (q * (1.0 - q) / n as f64).sqrt());
        // Under the null the observed sd is within the floor about half the time.
        assert!((150..350).contains(&within), "{within} of {studies} within the floor");
    }

    /// (b) Runs whose true accuracies differ: run r's probabilities are all shifted by
    /// `s·z_r`, z standard normal, so the true accuracies have sd s = 1 point. Each
    /// example is still marginally right with probability π_i, so E[floor²] =
    /// Σ π_i(1 − π_i) / n² as in (a), while E[observed²] gains s²(1 − 1/n): the
    /// root-mean-square excess over S = 1000 studies of k = 30 runs (n = 1000) is s to
    /// within 0.05%. Tolerance: observed² (about 2.1e-4) has relative sd √(2/29) per
    /// study, so the mean of excess² over S has sd 1.7e-6, 1.7% of s², 0.9% of s;
    /// clamping at zero (in about 2% of studies) biases it up by a few tenths of a
    /// percent. 4% is over 4 sd. The floor stays at the independent-errors value
    /// (within 1%): the run effect does not leak into it.
    #[test]
    fn excess_is_the_sd_of_true_accuracies() {
        let (studies, k, n, sd) = (1000, 30, 1000, 0.01);
        let mut rng = SplitMix(0x00e8_ce55);
        let (mut excess2, mut floor2) = (0.0, 0.0);
        for _ in 0..studies {
            let shifts: Vec<f64> = (0..k).map(|_| sd * rng.normal()).collect();
            let (runs, labels) = simulate(&mut rng, &shifts, n);
            let s = test_set_noise_with(&runs, &labels, 0).expect("valid");
            excess2 += s.summary.excess_sd.powi(2) / studies as f64;
            floor2 += s.summary.floor_sd.powi(2) / studies as f64;
        }
        let excess = excess2.sqrt();
        assert!((excess / sd - 1.0).abs() < 0.04, "excess {excess} vs true sd {sd}");
        let floor_truth =
            (0..n).map(|i| difficulty(i) * (1.0 - difficulty(i))).sum::<f64>().sqrt() / n as f64;
        let floor = floor2.sqrt();
        assert!((floor / floor_truth - 1.0).abs() < 0.01, "{floor} vs {floor_truth}");
    }

    /// The bootstrap interval is reproducible, ordered, and scaled so that its middle
    /// sits near the floor; with 2 runs it spans 0 to √2 times the floor.
    #[test]
    fn floor_interval_is_deterministic_and_centred() {
        let mut rng = SplitMix(7);
        let (runs, labels) = simulate(&mut rng, &[0.0; 8], 500);
        let s = test_set_noise(&runs, &labels).expect("valid");
        let (lo, hi) = s.summary.floor_ci.expect("resampled");
        assert!(
            lo < s.summary.floor_sd && s.summary.floor_sd < hi,
            "{lo} {} {hi}",
            s.summary.floor_sd
        );
        assert_eq!(
            test_set_noise(&runs, &labels).expect("valid").summary.floor_ci,
            s.summary.floor_ci
        );
        let two = test_set_noise(&runs[..2], &labels).expect("valid");
        let (lo, hi) = two.summary.floor_ci.expect("resampled");
        assert!(lo == 0.0 && close(hi, 2f64.sqrt() * two.summary.floor_sd, 1e-12), "{lo} {hi}");
    }
}
