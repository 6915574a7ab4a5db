//! The predicted and the true class of each example of a run's final evaluation.

/// A run's predictions: the predicted and the true class of each example of its final
/// evaluation, in evaluation order (stored by the run store as `predictions.u8`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Predictions {
    /// The predicted class of each example.
    pub predicted: Vec<u8>,
    /// The true class of each example (as long as `predicted`).
    pub labels: Vec<u8>,
}

impl Predictions {
    /// Whether each example was classified correctly.
    pub fn correct(&self) -> Vec<bool> {
        self.predicted.iter().zip(&self.labels).map(|(p, l)| p == l).collect()
    }

    /// The share of examples classified correctly (0 for none).
    pub fn accuracy(&self) -> f64 {
        let n = self.predicted.len().min(self.labels.len());
        if n == 0 {
            return 0.0;
        }
        self.correct().iter().filter(|&&c| c).count() as f64 / n as f64
    }
}
