//! The training loop, written once for any burn `Device`.

use std::time::Instant;

use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Int, Tensor, TensorData};
use cnnvar_core::{EpochRecord, Error, Nudge, Result, RunSpec};
use cnnvar_data::{Augmentation, Dataset};
use cnnvar_models::{DynClassifier, ModelInput, Models};

use crate::evaluate::{Evaluation, evaluate};

/// What the loop reports while it runs.
#[derive(Clone, Debug)]
pub enum TrainProgress {
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
    /// The last test evaluation, on the whole evaluation set (`test_indices`), with the
    /// predicted class of each example.
    pub test: Evaluation,
    /// Evaluation on (up to [`TRAIN_EVAL_MAX`] examples of) the training subset after
    /// training.
    pub train: Evaluation,
    /// Whether a non-finite loss stopped training.
    pub diverged: bool,
    /// Why, when it diverged.
    pub error: Option<String>,
    /// The model's trainable parameters ([`cnnvar_models::Classifier::params`]).
    pub params: usize,
    /// The model's forward FLOPs per example, 0 if unknown
    /// ([`cnnvar_models::Classifier::flops`]).
    pub flops: u64,
    /// The weight the spec's `nudge_seed` moved (before training, or after its
    /// `nudge_epoch`), if it has one; `None` also when training diverged before then.
    pub nudge: Option<Nudge>,
    /// The same model's evaluations on each of [`TrainingData::also`], in its order.
    pub also: Vec<AlsoEvaluated>,
}

/// One more evaluation set of a training ([`TrainingData::also`]): its curve, whose
/// training columns are the run's, and its final evaluation.
#[derive(Clone, Debug)]
pub struct AlsoEvaluated {
    /// Per-epoch curve: the training pass's numbers, and this set's test columns.
    pub epochs: Vec<EpochRecord>,
    /// The last evaluation, on all of the set's final examples.
    pub test: Evaluation,
    /// Seconds spent evaluating on this set.
    pub seconds: f64,
}

/// An evaluation set and which of its examples are scored: after the last epoch
/// (`indices`; `None`: all) and after each earlier one (`epoch_indices`; `None`: those
/// of `indices`).
#[derive(Clone, Copy, Debug)]
pub struct EvalTarget<'a> {
    /// The examples' set.
    pub set: &'a Dataset,
    /// The examples of the final evaluation.
    pub indices: Option<&'a [usize]>,
    /// The examples of each earlier epoch's curve point.
    pub epoch_indices: Option<&'a [usize]>,
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
    /// The examples of `test` to evaluate on after the last epoch (the record's test
    /// accuracy and predictions); `None`: all.
    pub test_indices: Option<&'a [usize]>,
    /// The examples of `test` to evaluate on after each earlier epoch (the curve points;
    /// the spec's `eval_subset`); `None`: those of `test_indices`.
    pub epoch_test_indices: Option<&'a [usize]>,
    /// Per-class weights of the loss; `None`: unweighted.
    pub class_weights: Option<&'a [f32]>,
    /// Augmentation applied to every training batch.
    pub augment: &'a Augmentation,
    /// More evaluation sets, each scored exactly as `test` is, after every epoch, by
    /// the same model: one training for runs that differ only in where they are
    /// evaluated ([`cnnvar_core::RunSpec::training_key`]). Evaluation draws nothing, so
    /// they do not change the training.
    pub also: &'a [EvalTarget<'a>],
}

impl<'a> TrainingData<'a> {
    /// The run's own evaluation set as a target.
    fn own_target(&self) -> EvalTarget<'a> {
        EvalTarget {
            set: self.test,
            indices: self.test_indices,
            epoch_indices: self.epoch_test_indices,
        }
    }
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

/// Trains the model `spec.model` of `models`, built for `input` (the data's image
/// shape and classes), on the examples `train_indices` of `train`, evaluating on
/// `test` after every epoch: on `epoch_test_indices` (the curve points) after each epoch
/// but the last, and on `test_indices` (or all) after the last epoch, and after the
/// epoch whose loss diverged, which ends training. The outcome's `test` evaluation is
/// that final one, on the whole evaluation set whatever the curve points used. `device`
/// is the plain (non-autodiff) device.
///
/// A spec with a `nudge_seed` and a `nudge_epoch` *E* ≥ 1 has its weight moved after
/// epoch *E* has been trained and evaluated, so its curve up to *E* is the un-nudged
/// run's.
///
/// Randomness comes from the spec's seeds and nothing else: `init_seed` draws the
/// weights (on `weights_backend` when it is set), `order_seed` the visiting order of
/// each epoch, [`RunSpec::dropout_stream_seed`] the dropout masks and
/// [`RunSpec::augment_stream_seed`] the augmentation; the subset seed was used by the
/// caller to choose `train_indices`. Evaluation draws nothing, so where and
/// on how many examples the curve points are evaluated never changes the training.
pub fn train(
    spec: &RunSpec,
    models: &Models,
    input: &ModelInput,
    data: &TrainingData<'_>,
    device: &Device,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Outcome> {
    if data.train_indices.is_empty() {
        return Err(Error::field(
            "spec",
            "train_size",
            "the training subset is empty; expected at least one example",
        ));
    }
    let ad = device.clone().autodiff();
    let (mut model, mut nudge) = initial_model(spec, models, input, device, &ad)?;
    let (params, flops) = (model.params(), model.flops());
    let mut learner = Learner::new(spec, *data, ad);
    let mut epochs = Vec::with_capacity(spec.epochs);
    let mut diverged = None;
    let mut test_eval = None;
    let mut also: Vec<AlsoEvaluated> = data
        .also
        .iter()
        .map(|_| AlsoEvaluated { epochs: Vec::new(), test: Evaluation::default(), seconds: 0.0 })
        .collect();
    let mut also_last: Vec<Option<Evaluation>> = vec![None; data.also.len()];
    for epoch in 1..=spec.epochs {
        let started = Instant::now();
        let (trained, pass) = learner.epoch(model, epoch, progress);
        model = trained;
        let train_seconds = started.elapsed().as_secs_f64();
        let last = epoch == spec.epochs || pass.diverged.is_some();
        let valid = model.valid();
        let point = |target: &EvalTarget<'_>| {
            evaluate_epoch(valid.as_ref(), target, device, epoch, &pass, train_seconds, last)
        };
        let (record, evaluation) = point(&data.own_target())?;
        progress(TrainProgress::Epoch(record.clone()));
        epochs.push(record);
        if last {
            test_eval = Some(evaluation);
        }
        for ((target, out), last_eval) in data.also.iter().zip(&mut also).zip(&mut also_last) {
            let (record, evaluation) = point(target)?;
            out.seconds += record.seconds - train_seconds;
            out.epochs.push(record);
            if last {
                *last_eval = Some(evaluation);
            }
        }
        if pass.diverged.is_some() {
            diverged = pass.diverged;
            break;
        }
        if let Some(seed) = spec.nudge_seed.filter(|_| spec.nudge_epoch as usize == epoch) {
            let (nudged, moved) = model.nudge(seed)?;
            (model, nudge) = (nudged, Some(moved));
        }
    }
    let valid = model.valid();
    let (train_eval, test) =
        final_evaluations(valid.as_ref(), data, &data.own_target(), device, test_eval)?;
    for ((target, out), last_eval) in data.also.iter().zip(&mut also).zip(also_last) {
        let started = Instant::now();
        out.test = final_evaluation(valid.as_ref(), target, device, last_eval)?;
        out.seconds += started.elapsed().as_secs_f64();
    }
    Ok(Outcome {
        epochs,
        test,
        train: train_eval,
        diverged: diverged.is_some(),
        error: diverged,
        params,
        flops,
        nudge,
        also,
    })
}

/// The model of `spec` as training starts, on the autodiff device `ad` (`device` is
/// its plain device): every weight drawn from `init_seed` ([`Models::build`] draws
/// lazy parameters too, right away) on `ad`, or, for a spec whose `weights_backend` is
/// another backend, on that backend's autodiff device and then copied onto `ad` value
/// for value (the `backend` variance source); then, when the spec has a `nudge_seed` and no
/// `nudge_epoch` ([`train`] nudges after that epoch), the one weight it chooses moved
/// by one unit in the last place ([`cnnvar_models::nudge()`],
/// which draws nothing from the devices), returned with which weight that was;
/// afterwards both devices are seeded for the dropout stream of `order_seed`. The
/// spec's `rerun` is not read: a rerun trains exactly as the run it repeats.
pub fn initial_model(
    spec: &RunSpec,
    models: &Models,
    input: &ModelInput,
    device: &Device,
    ad: &Device,
) -> Result<(Box<dyn DynClassifier>, Option<Nudge>)> {
    let mut model = match spec.weights_backend.filter(|w| *w != spec.backend) {
        None => drawn_on(spec, models, input, device, ad)?,
        Some(weights) => {
            let plain = weights.device()?;
            let drawn = drawn_on(spec, models, input, &plain, &plain.clone().autodiff())?;
            drawn.valid().fork_to(ad)
        }
    };
    let mut nudge = None;
    if let Some(seed) = spec.nudge_seed.filter(|_| spec.nudge_epoch == 0) {
        let (nudged, moved) = model.nudge(seed)?;
        (model, nudge) = (nudged, Some(moved));
    }
    // The dropout masks' stream: the spec's `dropout_seed`, or a scramble of its order seed.
    device.seed(spec.dropout_stream_seed());
    ad.seed(spec.dropout_stream_seed());
    Ok((model, nudge))
}

/// The model of `spec` with every weight drawn from `init_seed` on the autodiff device
/// `ad` (`device` is its plain device; both are seeded, as the backend may draw from
/// either).
fn drawn_on(
    spec: &RunSpec,
    models: &Models,
    input: &ModelInput,
    device: &Device,
    ad: &Device,
) -> Result<Box<dyn DynClassifier>> {
    device.seed(spec.init_seed);
    ad.seed(spec.init_seed);
    models.build(input, spec, ad)
}

/// What one pass over the training subset measured.
#[derive(Clone, Debug, Default)]
struct EpochPass {
    /// Sum over the batches of the mean loss × the batch size.
    loss_sum: f64,
    /// Training examples classified correctly (before each batch's step).
    correct: i64,
    /// Training examples visited.
    seen: usize,
    /// Why the pass stopped early: the loss became NaN or infinite.
    diverged: Option<String>,
}

/// Everything a training step needs besides the model: the autodiff device, the
/// optimizer, the loss and the batch buffers, reused from batch to batch.
struct Learner<'a> {
    spec: &'a RunSpec,
    data: TrainingData<'a>,
    ad: Device,
    optim: ModuleOptimizer,
    loss_fn: CrossEntropyLoss,
    /// Batches per epoch.
    batches: usize,
    images: Vec<f32>,
    labels: Vec<i64>,
    batch_indices: Vec<usize>,
}

impl<'a> Learner<'a> {
    /// The optimizer of `spec` and the loss, weighted by the data's class weights.
    fn new(spec: &'a RunSpec, data: TrainingData<'a>, ad: Device) -> Learner<'a> {
        let optim = crate::optimizer::build(spec);
        let loss_fn = CrossEntropyLossConfig::new()
            .with_weights(data.class_weights.map(<[f32]>::to_vec))
            .init(&ad);
        let pixels = data.train.shape().pixels();
        Learner {
            spec,
            data,
            ad,
            optim,
            loss_fn,
            batches: data.train_indices.len().div_ceil(spec.batch_size),
            images: Vec::with_capacity(spec.batch_size * pixels),
            labels: Vec::with_capacity(spec.batch_size),
            batch_indices: Vec::with_capacity(spec.batch_size),
        }
    }

    /// One pass over the training subset in the order of `epoch`, a step per batch,
    /// stopping at the first batch whose loss is not finite (its loss is counted, its
    /// step not taken).
    fn epoch(
        &mut self,
        mut model: Box<dyn DynClassifier>,
        epoch: usize,
        progress: &mut dyn FnMut(TrainProgress),
    ) -> (Box<dyn DynClassifier>, EpochPass) {
        let (spec, n) = (self.spec, self.data.train_indices.len());
        let order = cnnvar_data::epoch_order(n, spec.order_seed, epoch);
        let mut pass = EpochPass::default();
        for (b, chunk) in order.chunks(spec.batch_size).enumerate() {
            self.fill_batch(chunk, epoch, b);
            let size = chunk.len();
            let (next, loss_value, hits) = self.step(model, size);
            model = next;
            pass.loss_sum += loss_value * size as f64;
            pass.seen += size;
            let Some(hits) = hits else {
                pass.diverged = Some(format!(
                    "loss became {loss_value} at epoch {epoch}, batch {} of {}",
                    b + 1,
                    self.batches
                ));
                break;
            };
            pass.correct += hits;
            progress(TrainProgress::Batch {
                epoch,
                epochs: spec.epochs,
                done: b + 1,
                total: self.batches,
            });
        }
        (model, pass)
    }

    /// Fills the batch buffers with the training examples at positions `chunk` of the
    /// subset, augmented (seeded by the augmentation's seed, `augment_seed` or else the
    /// order seed, the epoch and the batch `b`) if the run augments.
    fn fill_batch(&mut self, chunk: &[usize], epoch: usize, b: usize) {
        let TrainingData { train, train_indices, augment, .. } = self.data;
        self.batch_indices.clear();
        self.batch_indices.extend(chunk.iter().map(|&i| train_indices[i]));
        if augment.is_none() {
            cnnvar_data::fill_batch(train, &self.batch_indices, &mut self.images, &mut self.labels);
        } else {
            cnnvar_data::fill_batch_augmented(
                train,
                &self.batch_indices,
                augment,
                self.spec.augment_stream_seed(),
                epoch,
                b,
                &mut self.images,
                &mut self.labels,
            );
        }
    }

    /// One optimizer step on the `size` examples in the batch buffers: the model after
    /// the step, the batch's mean loss and how many examples the model classified
    /// correctly before it. Where the loss is not finite, no step is taken: the model is
    /// returned as it was, with no count of hits.
    fn step(
        &mut self,
        model: Box<dyn DynClassifier>,
        size: usize,
    ) -> (Box<dyn DynClassifier>, f64, Option<i64>) {
        let shape = self.data.train.shape();
        let x = Tensor::<4>::from_data(
            TensorData::new(
                std::mem::take(&mut self.images),
                [size, shape.channels, shape.height, shape.width],
            ),
            &self.ad,
        );
        let y = Tensor::<1, Int>::from_data(TensorData::new(self.labels.clone(), [size]), &self.ad);
        let logits = model.forward(x);
        let loss = self.loss_fn.forward(logits.clone(), y.clone());
        let hits: i64 = logits.argmax(1).squeeze_dim::<1>(1).equal(y).int().sum().into_scalar();
        let grads = model.gradients(&loss);
        let loss_value = loss.into_scalar::<f32>() as f64;
        if !loss_value.is_finite() {
            return (model, loss_value, None);
        }
        (model.step(&mut self.optim, self.spec.lr, grads), loss_value, Some(hits))
    }
}

/// Evaluates `model` (in inference mode) after epoch `epoch` on `target`: on all its
/// final examples if it is the `last` evaluation, else on the curve's examples; and
/// makes the epoch's curve point from that and the training `pass`.
fn evaluate_epoch(
    model: &dyn DynClassifier,
    target: &EvalTarget<'_>,
    device: &Device,
    epoch: usize,
    pass: &EpochPass,
    train_seconds: f64,
    last: bool,
) -> Result<(EpochRecord, Evaluation)> {
    let indices = if last { target.indices } else { target.epoch_indices.or(target.indices) };
    let eval_started = Instant::now();
    let evaluation = evaluate(model, target.set, indices, device)?;
    let eval_seconds = eval_started.elapsed().as_secs_f64();
    let seen = pass.seen.max(1) as f64;
    let record = EpochRecord {
        epoch,
        train_loss: pass.loss_sum / seen,
        train_accuracy: pass.correct as f64 / seen,
        test_loss: evaluation.loss,
        test_accuracy: evaluation.accuracy,
        seconds: train_seconds + eval_seconds,
        train_samples_per_sec: pass.seen as f64 / train_seconds.max(1e-9),
        eval_samples_per_sec: evaluation.examples as f64 / eval_seconds.max(1e-9),
    };
    Ok((record, evaluation))
}

/// After training: the evaluation on (up to [`TRAIN_EVAL_MAX`] examples of) the training
/// subset, and the final evaluation on `target` ([`final_evaluation`]).
fn final_evaluations(
    model: &dyn DynClassifier,
    data: &TrainingData<'_>,
    target: &EvalTarget<'_>,
    device: &Device,
    last_epoch: Option<Evaluation>,
) -> Result<(Evaluation, Evaluation)> {
    let train_eval =
        evaluate(model, data.train, Some(train_eval_indices(data.train_indices)), device)?;
    Ok((train_eval, final_evaluation(model, target, device, last_epoch)?))
}

/// The final evaluation on `target`: the last epoch's, or a fresh one on all its final
/// examples if there was none.
fn final_evaluation(
    model: &dyn DynClassifier,
    target: &EvalTarget<'_>,
    device: &Device,
    last_epoch: Option<Evaluation>,
) -> Result<Evaluation> {
    match last_epoch {
        Some(t) => Ok(t),
        None => evaluate(model, target.set, target.indices, device),
    }
}
