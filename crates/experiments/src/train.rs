//! The training loop, written once for any burn `Device`.

use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use cnnvar_core::{Backend, EpochRecord, Error, Result, RunSpec};
use cnnvar_data::{Augmentation, Dataset};
use cnnvar_models::{Architecture, Cnn};

use crate::evaluate::{Evaluation, evaluate};

/// What the loop reports while it runs.
#[derive(Clone, Debug)]
pub enum Progress {
    /// A mini-batch finished: `done` of `total` in epoch `epoch` of `epochs`.
    Batch {
        /// 1-based epoch.
        epoch: usize,
        /// Epochs in all.
        epochs: usize,
        /// Batches done in this epoch.
        done: usize,
        /// Batches per epoch.
        total: usize,
    },
    /// An epoch finished and was evaluated.
    Epoch(EpochRecord),
    /// Something the user should hear about, in one line (a data set is downloaded on
    /// first use).
    Note(String),
}

/// What the loop produced, before provenance is attached.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Per-epoch curve.
    pub epochs: Vec<EpochRecord>,
    /// The last test evaluation.
    pub test: Evaluation,
    /// Evaluation on (up to [`TRAIN_EVAL_MAX`] examples of) the training subset after
    /// training.
    pub train: Evaluation,
    /// Whether a non-finite loss stopped training.
    pub diverged: bool,
    /// Why, when it diverged.
    pub error: Option<String>,
}

/// The examples a run trains and evaluates on, and how it treats them.
#[derive(Clone, Copy, Debug)]
pub struct TrainingData<'a> {
    /// The training set.
    pub train: &'a Dataset,
    /// The examples of `train` to train on (an index may repeat: oversampling).
    pub train_indices: &'a [usize],
    /// The evaluation set (the test split, its shifted copy, or the training set
    /// for a held-out fold).
    pub test: &'a Dataset,
    /// The examples of `test` to evaluate on; `None`: all.
    pub test_indices: Option<&'a [usize]>,
    /// Per-class weights of the loss; `None`: unweighted.
    pub class_weights: Option<&'a [f32]>,
    /// Augmentation applied to every training batch.
    pub augment: &'a Augmentation,
}

/// At most this many training examples are evaluated after training for the train
/// accuracy and the generalisation gap (standard error ≤ 0.5 points); a full pass over
/// 60 000 examples would cost a quarter of a 1-epoch run.
pub const TRAIN_EVAL_MAX: usize = 10_000;

/// The training examples evaluated after training: all of them up to
/// [`TRAIN_EVAL_MAX`], else the first that many.
fn train_eval_indices(train_indices: &[usize]) -> &[usize] {
    // `train_indices` of a stratified subset are sorted by position, of `first N`
    // contiguous; Fashion-MNIST and CIFAR-10 files are not ordered by class, so a
    // prefix is an unbiased sample.
    &train_indices[..train_indices.len().min(TRAIN_EVAL_MAX)]
}

/// Whether evaluation on `backend` is faster with max pooling as a reshape and two
/// reductions than with burn's pooling kernel (see `Cnn::with_reshape_pool`).
fn reshape_pool_is_faster(backend: Backend) -> bool {
    matches!(backend, Backend::Flex)
}

/// A seed for the dropout stream, distinct from the order seed's use for shuffling.
fn dropout_seed(order_seed: u64) -> u64 {
    order_seed ^ 0x9e37_79b9_7f4a_7c15
}

/// Trains the model of `spec` on the examples `train_indices` of `train`, evaluating on
/// `test` (the examples `test_indices`, or all) after every epoch. `device` is the plain (non-autodiff) device.
///
/// Randomness comes from three seeds and nothing else: `init_seed` draws the weights,
/// `order_seed` the visiting order of each epoch and dropout masks; the subset seed was
/// used by the caller to choose `train_indices`.
pub fn train(
    spec: &RunSpec,
    arch: &Architecture,
    data: &TrainingData<'_>,
    device: &Device,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome> {
    let TrainingData { train, train_indices, test, test_indices, class_weights, augment } = *data;
    let ad = device.clone().autodiff();
    device.seed(spec.init_seed);
    ad.seed(spec.init_seed);
    let mut model =
        Cnn::new(arch, spec.preset, &ad)?.with_reshape_pool(reshape_pool_is_faster(spec.backend));
    device.seed(dropout_seed(spec.order_seed));
    ad.seed(dropout_seed(spec.order_seed));

    let mut optim = crate::optimizer::build(spec);
    let loss_fn =
        CrossEntropyLossConfig::new().with_weights(class_weights.map(<[f32]>::to_vec)).init(&ad);
    let shape = train.shape();
    let n = train_indices.len();
    if n == 0 {
        return Err(Error::Other("the training subset is empty".into()));
    }
    let batches = n.div_ceil(spec.batch_size);
    let mut epochs = Vec::with_capacity(spec.epochs);
    let mut images = Vec::with_capacity(spec.batch_size * shape.pixels());
    let mut labels = Vec::with_capacity(spec.batch_size);
    let mut batch_indices = Vec::with_capacity(spec.batch_size);
    let mut diverged = None;
    let mut test_eval = None;

    for epoch in 1..=spec.epochs {
        let started = Instant::now();
        let order = cnnvar_data::epoch_order(n, spec.order_seed, epoch);
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0i64, 0usize);
        for (b, chunk) in order.chunks(spec.batch_size).enumerate() {
            batch_indices.clear();
            batch_indices.extend(chunk.iter().map(|&i| train_indices[i]));
            if augment.is_none() {
                cnnvar_data::fill_batch(train, &batch_indices, &mut images, &mut labels);
            } else {
                cnnvar_data::fill_batch_augmented(
                    train,
                    &batch_indices,
                    augment,
                    spec.order_seed,
                    epoch,
                    b,
                    &mut images,
                    &mut labels,
                );
            }
            let size = chunk.len();
            let x = Tensor::<4>::from_data(
                TensorData::new(
                    std::mem::take(&mut images),
                    [size, shape.channels, shape.height, shape.width],
                ),
                &ad,
            );
            let y = Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [size]), &ad);
            let logits = model.forward(x);
            let loss = loss_fn.forward(logits.clone(), y.clone());
            let hits: i64 = logits.argmax(1).squeeze_dim::<1>(1).equal(y).int().sum().into_scalar();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let loss_value = loss.into_scalar::<f32>() as f64;
            if !loss_value.is_finite() {
                diverged = Some(format!(
                    "loss became {loss_value} at epoch {epoch}, batch {} of {batches}",
                    b + 1
                ));
                loss_sum += loss_value * size as f64;
                seen += size;
                break;
            }
            model = optim.step(spec.lr, model, grads);
            loss_sum += loss_value * size as f64;
            correct += hits;
            seen += size;
            progress(Progress::Batch { epoch, epochs: spec.epochs, done: b + 1, total: batches });
        }
        let train_seconds = started.elapsed().as_secs_f64();
        let eval_started = Instant::now();
        let evaluation = evaluate(&model.valid(), test, test_indices, device)?;
        let eval_seconds = eval_started.elapsed().as_secs_f64();
        let record = EpochRecord {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            test_loss: evaluation.loss,
            test_accuracy: evaluation.accuracy,
            seconds: train_seconds + eval_seconds,
            train_samples_per_sec: seen as f64 / train_seconds.max(1e-9),
            eval_samples_per_sec: evaluation.examples as f64 / eval_seconds.max(1e-9),
        };
        progress(Progress::Epoch(record.clone()));
        epochs.push(record);
        test_eval = Some(evaluation);
        if diverged.is_some() {
            break;
        }
    }
    let valid = model.valid();
    let train_eval = evaluate(&valid, train, Some(train_eval_indices(train_indices)), device)?;
    let test = match test_eval {
        Some(t) => t,
        None => evaluate(&valid, test, test_indices, device)?,
    };
    Ok(Outcome { epochs, test, train: train_eval, diverged: diverged.is_some(), error: diverged })
}
