//! Evaluation of a model on a whole data set, in inference mode.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};
use cnnvar_core::{Error, Result};
use cnnvar_data::Dataset;
use cnnvar_models::DynClassifier;

/// Examples per forward pass when evaluating. Large enough to keep the backend busy,
/// small enough to keep a worker's memory low (the complex model's first activation
/// is 173 kB per example).
pub const EVAL_BATCH: usize = 256;

/// Loss, accuracy, per-class accuracy, and the predicted and true classes of a model on a
/// set of examples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy (NaN if the model produced non-finite logits).
    pub loss: f64,
    /// Fraction of examples classified correctly.
    pub accuracy: f64,
    /// Accuracy of each class (NaN-free: 0 for a class with no examples).
    pub per_class: Vec<f64>,
    /// Examples evaluated.
    pub examples: usize,
    /// The predicted class (the argmax of the logits) of each example evaluated, in the
    /// order of the examples.
    pub predictions: Vec<u8>,
    /// The true class (the label) of each example evaluated, in the same order.
    pub labels: Vec<u8>,
}

/// Evaluates `model` (already in inference mode, on `device`) on the examples
/// `indices` of `data` (all of them when `None`), keeping the predicted and the true
/// class of each.
/// Fails if the backend's predictions cannot be read back, rather than reporting an
/// accuracy of 0.
pub fn evaluate(
    model: &dyn DynClassifier,
    data: &Dataset,
    indices: Option<&[usize]>,
    device: &Device,
) -> Result<Evaluation> {
    let shape = data.shape();
    let classes = data.classes();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let all: Vec<usize>;
    let indices = match indices {
        Some(i) => i,
        None => {
            all = (0..data.len()).collect();
            &all
        }
    };
    let mut images = Vec::new();
    let mut labels = Vec::new();
    let mut loss_sum = 0.0f64;
    let mut correct = vec![0usize; classes];
    let mut seen = vec![0usize; classes];
    let mut predictions = Vec::with_capacity(indices.len());
    let mut truth = Vec::with_capacity(indices.len());
    for chunk in indices.chunks(EVAL_BATCH) {
        cnnvar_data::fill_batch(data, chunk, &mut images, &mut labels);
        let b = chunk.len();
        let x = Tensor::<4>::from_data(
            TensorData::new(
                std::mem::take(&mut images),
                [b, shape.channels, shape.height, shape.width],
            ),
            device,
        );
        let y = Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [b]), device);
        let logits = model.forward(x);
        let loss: f32 = loss_fn.forward(logits.clone(), y).into_scalar();
        loss_sum += loss as f64 * b as f64;
        let predicted = predicted_classes(logits.argmax(1).into_data(), b, classes)?;
        for (&p, &t) in predicted.iter().zip(&labels) {
            let t = t as usize;
            seen[t] += 1;
            if usize::from(p) == t {
                correct[t] += 1;
            }
        }
        predictions.extend_from_slice(&predicted);
        truth.extend(chunk.iter().map(|&i| data.label(i)));
    }
    let n = indices.len().max(1);
    Ok(Evaluation {
        loss: loss_sum / n as f64,
        accuracy: correct.iter().sum::<usize>() as f64 / n as f64,
        per_class: correct
            .iter()
            .zip(&seen)
            .map(|(&c, &s)| if s == 0 { 0.0 } else { c as f64 / s as f64 })
            .collect(),
        examples: indices.len(),
        predictions,
        labels: truth,
    })
}

/// The predicted class of each of the `expected` examples of a batch, from the
/// backend's argmax; an error if they cannot be read as integers, are not one per
/// example (a silent empty vector would count every example as wrong) or are not
/// below `classes` (at most 256: labels are bytes).
fn predicted_classes(data: TensorData, expected: usize, classes: usize) -> Result<Vec<u8>> {
    let dtype = data.dtype();
    let predicted: Vec<i64> = data.try_into_vec_as::<i64>().map_err(|e| {
        Error::compute(
            "evaluation",
            format!("reading the predicted classes ({dtype:?}) failed: {e}"),
        )
    })?;
    if predicted.len() != expected {
        return Err(Error::compute(
            "evaluation",
            format!(
                "the backend returned {} predicted classes for a batch of {expected}",
                predicted.len()
            ),
        ));
    }
    predicted
        .into_iter()
        .map(|p| {
            u8::try_from(p).ok().filter(|&c| usize::from(c) < classes).ok_or_else(|| {
                Error::compute(
                    "evaluation",
                    format!("the backend predicted class {p}, not one of the {classes} classes"),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predictions_are_read_or_refused() {
        let data = TensorData::new(vec![3i64, 1, 4], [3]);
        assert_eq!(predicted_classes(data, 3, 10).unwrap(), vec![3, 1, 4]);
        let ints = TensorData::new(vec![2i32, 7], [2]);
        assert_eq!(predicted_classes(ints, 2, 10).unwrap(), vec![2, 7]);
        let short = TensorData::new(vec![3i64], [1]);
        let e = predicted_classes(short, 2, 10).unwrap_err().to_string();
        assert!(e.contains("1 predicted classes for a batch of 2"), "{e}");
        for bad in [10i64, -1, 300] {
            let e = predicted_classes(TensorData::new(vec![bad], [1]), 1, 10).unwrap_err();
            assert!(e.to_string().contains(&format!("class {bad}, not one of the 10")), "{e}");
        }
    }
}
