//! Evaluation of a model on a whole data set, in inference mode.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};
use cnnvar_data::Dataset;
use cnnvar_models::Cnn;

/// Examples per forward pass when evaluating. Large enough to keep the backend busy,
/// small enough to keep a worker's memory low (the complex model's first activation
/// is 173 kB per example).
pub const EVAL_BATCH: usize = 256;

/// Loss, accuracy and per-class accuracy of a model on a set of examples.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy (NaN if the model produced non-finite logits).
    pub loss: f64,
    /// Fraction of examples classified correctly.
    pub accuracy: f64,
    /// Accuracy of each class (NaN-free: 0 for a class with no examples).
    pub per_class: Vec<f64>,
    /// Examples evaluated.
    pub examples: usize,
}

/// Evaluates `model` (already in inference mode, on `device`) on the examples
/// `indices` of `data` (all of them when `None`).
pub fn evaluate(
    model: &Cnn,
    data: &Dataset,
    indices: Option<&[usize]>,
    device: &Device,
) -> Evaluation {
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
        let predicted = logits.argmax(1).into_data();
        let predicted: Vec<i64> = predicted.convert::<i64>().try_into_vec().unwrap_or_default();
        for (&p, &t) in predicted.iter().zip(&labels) {
            let t = t as usize;
            seen[t] += 1;
            if p as usize == t {
                correct[t] += 1;
            }
        }
    }
    let n = indices.len().max(1);
    Evaluation {
        loss: loss_sum / n as f64,
        accuracy: correct.iter().sum::<usize>() as f64 / n as f64,
        per_class: correct
            .iter()
            .zip(&seen)
            .map(|(&c, &s)| if s == 0 { 0.0 } else { c as f64 / s as f64 })
            .collect(),
        examples: indices.len(),
    }
}
