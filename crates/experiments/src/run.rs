//! One run from spec to record: load data, choose the subset, train, attach provenance.
//! `cnnvar train` and every study worker go through [`execute`].
//!
//! # The per-epoch evaluation subset
//!
//! A spec's `eval_subset` of *n* examples makes each epoch's curve point, except the
//! last epoch's, an evaluation on *n* examples of the run's evaluation set instead of all
//! of it ([`eval_subset_indices`]): drawn stratified by class (each class its proportional
//! share, by largest remainder, as the stratified training subset), with a fixed seed
//! ([`EVAL_SUBSET_SEED`]) and nothing of the run's, so every run that evaluates on the
//! same examples (every seed, level and experiment of a study on the test split, or its
//! twilight copy) gets the same subset at every epoch. With `test_size` the subset is
//! drawn from those first examples; with `evaluate_on = "validation"` from the held-out
//! fold. The last epoch is evaluated on the whole evaluation set, so the curve's last
//! point, the record's test accuracy, loss and per-class accuracies and the predictions
//! are what they are without a subset; so is the epoch whose loss diverged, which ends
//! the run.

use std::path::PathBuf;
use std::time::Instant;

use cnnvar_core::{
    AugmentName, DatasetName, Error, EvalSet, Provenance, Rebalance, Result, RunRecord, RunSpec,
    SubsetMethod,
};
use cnnvar_data::{Augmentation, DataSplit, Dataset};
use cnnvar_models::{Architecture, ModelInput, Models};

use crate::train::{EvalTarget, TrainProgress, TrainingData, train};
pub use cnnvar_store::RunOutput;

/// How to run, beyond what the spec fixes (none of it changes the numbers).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Where the data set is; `None` searches the usual places.
    pub data_dir: Option<PathBuf>,
    /// Compute threads; `None` uses every core.
    pub threads: Option<usize>,
    /// The study directory of the run, if it belongs to one: the run's data must be the
    /// data the study's runs were trained on ([`cnnvar_store::check_study_data`]; the
    /// first run records it).
    pub study_dir: Option<PathBuf>,
    /// The models a spec's `model` may name (default: the standard ones,
    /// [`Models::standard`]).
    pub models: Models,
}

/// Runs `spec` to completion: its record, and the predicted and the true class of each
/// example of its final evaluation. Errors are returned for anything that stops the run before
/// training (bad spec, missing data, a backend that is not compiled in); a run whose
/// loss diverges is a successful call whose record says `diverged`.
///
/// It is [`load_run_data`] then [`execute_on`]; a spec on an image folder without a
/// `data_sha256` gets the folder's, and the record's spec and run id are that spec's.
pub fn execute(
    spec: &RunSpec,
    options: &RunOptions,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<RunOutput> {
    let started = Instant::now();
    let (spec, data) = load_run_data(spec, options, progress)?;
    execute_on(&spec, &data, options, started, progress)
}

/// A run's data as loaded: the training and test sets, and the name of each class.
#[derive(Clone, Debug)]
pub struct RunData {
    /// The training and test sets, where they came from and their checksum.
    pub split: DataSplit,
    /// The name of each class, indexed by label (the data set's, or an image folder's
    /// class folders').
    pub class_names: Vec<String>,
}

/// Validates `spec` and loads its data ([`cnnvar_data::load_spec`]; `options.data_dir`
/// is where a named data set's files are, or the image folder, over the spec's
/// `data_dir`). Returns the spec as it runs: for an image folder, with the folder's
/// checksum as `data_sha256` (which a spec that already has one must match).
pub fn load_run_data(
    spec: &RunSpec,
    options: &RunOptions,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<(RunSpec, RunData)> {
    spec.validate()?;
    let (split, class_names) =
        cnnvar_data::load_spec(spec, options.data_dir.as_deref(), &mut |n| {
            progress(TrainProgress::Note(n.to_string()))
        })?;
    let mut spec = spec.clone();
    if spec.dataset == DatasetName::Folder {
        spec.data_sha256 = Some(split.sha256.clone());
    }
    Ok((spec, RunData { split, class_names }))
}

/// Runs `spec` on `data`, loaded for it by [`load_run_data`] (whose spec this must be);
/// `started` is when the run began, for the record's seconds.
pub fn execute_on(
    spec: &RunSpec,
    run_data: &RunData,
    options: &RunOptions,
    started: Instant,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<RunOutput> {
    let mut outputs =
        execute_together_on(std::slice::from_ref(spec), run_data, options, started, progress)?;
    Ok(outputs.remove(0))
}

/// Runs `specs`, which share one training ([`RunSpec::training_key`]), with one
/// training: [`load_run_data`] of the first, then [`execute_together_on`]. One output
/// per spec, in their order.
pub fn execute_together(
    specs: &[RunSpec],
    options: &RunOptions,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Vec<RunOutput>> {
    let started = Instant::now();
    let Some(first) = specs.first() else { return Ok(Vec::new()) };
    let (first, data) = load_run_data(first, options, progress)?;
    let mut specs = specs.to_vec();
    for spec in &mut specs {
        spec.data_sha256.clone_from(&first.data_sha256);
    }
    execute_together_on(&specs, &data, options, started, progress)
}

/// Runs `specs` on `data` with one training: the first spec's model is trained as
/// [`execute_on`] trains it and evaluated after every epoch on each spec's evaluation
/// set. All must share the first's [`RunSpec::training_key`]. The first's record is
/// its run's as if it ran alone, but for its seconds, which leave out the others'
/// evaluations; each other's record says which run it was `trained_with`, and its
/// seconds are its evaluations'. Progress reports the first's curve.
pub fn execute_together_on(
    specs: &[RunSpec],
    run_data: &RunData,
    options: &RunOptions,
    started: Instant,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Vec<RunOutput>> {
    let Some((spec, others)) = specs.split_first() else { return Ok(Vec::new()) };
    spec.validate()?;
    check_one_training(spec, others)?;
    let data = &run_data.split;
    if spec.dataset == DatasetName::Folder && spec.data_sha256.as_deref() != Some(&data.sha256) {
        return Err(Error::field(
            "execute_on",
            "data_sha256",
            format!(
                "the data loaded (sha256 {}) are not the spec's ({:?}); load them with load_run_data",
                data.sha256, spec.data_sha256
            ),
        ));
    }
    // A spec's own thread count (a `threads` source) over the worker's.
    let threads = spec
        .threads
        .or(options.threads)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let threads = cnnvar_core::configure_threads(threads).threads;
    cnnvar_core::tune_allocator();
    let device = spec.backend.device()?;
    // An image folder's content is in its runs' ids (`data_sha256`): a study may hold
    // runs on several folders or conversions of one, each checked by its spec.
    if let Some(study_dir) = &options.study_dir
        && spec.dataset != DatasetName::Folder
    {
        cnnvar_store::StudyDir::open(study_dir).check_study_data(&study_data(data))?;
    }
    options.models.check(&spec.model, "spec")?;
    let input = ModelInput::new(data.train.shape(), data.train.classes());
    if spec.model.is_standard() {
        // A standard model's shape arithmetic, to name the images that do not fit it.
        let mut arch = Architecture::for_spec(spec, input.shape());
        if let Ok(a) = &mut arch {
            a.classes = input.classes;
        }
        arch.and_then(|a| a.check()).map_err(|e| {
            Error::data(
                train_images_file(data),
                format!("{} images do not fit model `{}`: {e}", data.train.shape(), spec.model),
            )
        })?;
    }
    let prepared = prepare(spec, data)?;
    let twilight = specs
        .iter()
        .any(|s| s.resolved().evaluate_on == EvalSet::Twilight)
        .then(|| cnnvar_data::twilight(&data.test));
    let eval_set = |s: &RunSpec| match s.resolved().evaluate_on {
        EvalSet::Test => &data.test,
        EvalSet::Twilight => twilight.as_ref().unwrap_or(&data.test),
        EvalSet::Validation => &data.train,
    };
    let resolved = spec.resolved();
    let eval_indices = prepared.eval_indices.as_deref();
    let test = eval_set(spec);
    let epoch_test = eval_subset_indices(test, eval_indices, resolved.eval_subset)?;
    let others_epoch: Vec<Option<Vec<usize>>> = others
        .iter()
        .map(|s| eval_subset_indices(eval_set(s), eval_indices, resolved.eval_subset))
        .collect::<Result<_>>()?;
    let also: Vec<EvalTarget<'_>> = others
        .iter()
        .zip(&others_epoch)
        .map(|(s, epoch)| EvalTarget {
            set: eval_set(s),
            indices: eval_indices,
            epoch_indices: epoch.as_deref(),
        })
        .collect();
    let training = TrainingData {
        train: prepared.train.as_ref().unwrap_or(&data.train),
        train_indices: &prepared.train_indices,
        test,
        test_indices: eval_indices,
        epoch_test_indices: epoch_test.as_deref(),
        class_weights: prepared.class_weights.as_deref(),
        augment: &augmentation(spec),
        also: &also,
    };
    let mut outcome = train(spec, &options.models, &input, &training, &device, progress)?;

    let mut provenance = Provenance::of_this_process(spec.backend, &format!("{device:?}"), threads);
    provenance.data_source = data.source.display().to_string();
    provenance.data_sha256 = data.sha256.clone();
    provenance.adapter = spec.backend.adapter(&device);
    if spec.dataset == DatasetName::Folder {
        provenance.class_names = run_data.class_names.clone();
    }
    let also = std::mem::take(&mut outcome.also);
    let others_seconds: f64 = also.iter().map(|a| a.seconds).sum();
    let record = RunRecord {
        run_id: spec.run_id(),
        test_accuracy: outcome.test.accuracy,
        test_loss: outcome.test.loss,
        train_accuracy: outcome.train.accuracy,
        train_loss: outcome.train.loss,
        per_class_accuracy: outcome.test.per_class,
        epochs: outcome.epochs,
        diverged: outcome.diverged,
        error: outcome.error,
        train_examples: prepared.train_indices.len(),
        test_examples: outcome.test.examples,
        params: outcome.params,
        flops: outcome.flops,
        seconds: (started.elapsed().as_secs_f64() - others_seconds).max(0.0),
        nudge: outcome.nudge,
        trained_with: None,
        spec: spec.clone(),
        provenance,
    };
    let mut outputs = Vec::with_capacity(specs.len());
    for (other, evaluated) in others.iter().zip(also) {
        let record = RunRecord {
            run_id: other.run_id(),
            test_accuracy: evaluated.test.accuracy,
            test_loss: evaluated.test.loss,
            per_class_accuracy: evaluated.test.per_class,
            epochs: evaluated.epochs,
            test_examples: evaluated.test.examples,
            seconds: evaluated.seconds,
            trained_with: Some(record.run_id.clone()),
            spec: other.clone(),
            ..record.clone()
        };
        let (predictions, labels) = (evaluated.test.predictions, evaluated.test.labels);
        outputs.push(RunOutput { record, predictions, labels });
    }
    let (predictions, labels) = (outcome.test.predictions, outcome.test.labels);
    outputs.insert(0, RunOutput { record, predictions, labels });
    Ok(outputs)
}

/// Fails unless every one of `others` shares `spec`'s training.
fn check_one_training(spec: &RunSpec, others: &[RunSpec]) -> Result<()> {
    let key = spec.training_key();
    for other in others {
        other.validate()?;
        if other.training_key() != key {
            return Err(Error::field(
                "execute_together_on",
                "specs",
                format!(
                    "run {} does not share run {}'s training (only the evaluation set may differ)",
                    other.run_id(),
                    spec.run_id()
                ),
            ));
        }
    }
    Ok(())
}

/// The seed of every per-epoch evaluation subset ([`eval_subset_indices`]): fixed, and
/// no run's, so that all runs evaluating on the same examples share the subset.
pub const EVAL_SUBSET_SEED: u64 = 0x6576_616c; // "eval"

/// The examples of `eval` that each epoch's curve point but the last is evaluated on,
/// for a spec's `eval_subset` of `n`: `n` of the final evaluation's examples
/// (`candidates`, or all of `eval`), drawn stratified by class by the sampler of the
/// stratified training subset ([`cnnvar_data::select`]) with [`EVAL_SUBSET_SEED`], in
/// evaluation order. `None`, the whole evaluation set, when `n` is `None` or not below
/// its size. A function of the candidates' labels and `n` alone.
pub fn eval_subset_indices(
    eval: &Dataset,
    candidates: Option<&[usize]>,
    n: Option<usize>,
) -> Result<Option<Vec<usize>>> {
    let size = candidates.map_or(eval.len(), <[usize]>::len);
    let Some(n) = n.filter(|&n| n < size) else { return Ok(None) };
    let stratified = SubsetMethod::Stratified;
    Ok(Some(match candidates {
        None => cnnvar_data::select(eval, Some(n), stratified, EVAL_SUBSET_SEED)?,
        Some(c) => cnnvar_data::select(&eval.subset(c), Some(n), stratified, EVAL_SUBSET_SEED)?
            .into_iter()
            .map(|at| c[at])
            .collect(),
    }))
}

/// What a study records of the data its runs are trained on.
fn study_data(data: &DataSplit) -> cnnvar_store::StudyData {
    cnnvar_store::StudyData {
        dataset: data.name.to_string(),
        sha256: data.sha256.clone(),
        source: data.source.display().to_string(),
    }
}

/// The file the training images came from, for error messages.
fn train_images_file(data: &cnnvar_data::DataSplit) -> PathBuf {
    if data.name == DatasetName::Folder {
        return data.source.clone();
    }
    if data.name == DatasetName::Cifar10 {
        let nested = data.source.join(cnnvar_data::cifar::CIFAR10_DIR);
        let dir = if nested.is_dir() { nested } else { data.source.clone() };
        return dir.join(cnnvar_data::CIFAR10_FILES[0]);
    }
    let name = cnnvar_data::IDX_FILES[0];
    let gz = data.source.join(format!("{name}.gz"));
    if gz.exists() { gz } else { data.source.join(name) }
}

/// The data of a run after the spec's transforms.
struct Prepared {
    /// A relabelled copy of the training set (label noise), if any.
    train: Option<Dataset>,
    /// The training examples, in order (oversampling repeats some).
    train_indices: Vec<usize>,
    /// The examples to evaluate: a test prefix (`test_size`) or the held-out fold, or a
    /// bootstrap resample of the test set or its prefix (`split_seed`).
    eval_indices: Option<Vec<usize>>,
    /// Class weights of the loss.
    class_weights: Option<Vec<f32>>,
}

/// Applies the spec's data transforms, all seeded by the subset seed, in a fixed
/// order: the subset, the imbalance, the cross-validation split, label noise (training
/// examples only), then the rebalancing; and the evaluation set's resample, seeded by
/// the split seed.
fn prepare(spec: &RunSpec, data: &DataSplit) -> Result<Prepared> {
    let seed = spec.subset_seed;
    let resolved = spec.resolved();
    let mut indices = cnnvar_data::select(&data.train, spec.train_size, spec.subset, seed)?;
    if resolved.imbalance < 1.0 {
        let (classes, keep) = (&resolved.minority, resolved.imbalance);
        indices = cnnvar_data::downsample_classes(&data.train, &indices, classes, keep, seed)?;
    }
    let mut eval_indices = None;
    if resolved.evaluate_on == EvalSet::Validation {
        let (k, fold) = (spec.folds.unwrap_or(0), spec.fold.unwrap_or(0));
        let (train, held_out) = cnnvar_data::kfold(&data.train, &indices, k, fold, seed)?;
        indices = train;
        eval_indices = Some(held_out);
    } else if let Some(n) = spec.test_size {
        if n > data.test.len() {
            return Err(Error::field(
                "spec",
                "test_size",
                format!("test_size {n} exceeds the {} test examples", data.test.len()),
            ));
        }
        eval_indices = Some((0..n).collect());
    }
    if let Some(split) = spec.split_seed {
        // A fresh draw of the evaluation set: a bootstrap resample of it (validation
        // refuses a split seed).
        let pool = eval_indices.take().unwrap_or_else(|| (0..data.test.len()).collect());
        eval_indices = Some(cnnvar_data::bootstrap(&pool, split));
    }
    let noise = resolved.label_noise;
    let train = if noise > 0.0 {
        Some(cnnvar_data::label_noise(&data.train, &indices, noise, seed)?)
    } else {
        None
    };
    let train_set = train.as_ref().unwrap_or(&data.train);
    let mut class_weights = None;
    match resolved.rebalance {
        Rebalance::None => {}
        Rebalance::Oversample => indices = cnnvar_data::oversample(train_set, &indices, seed),
        Rebalance::ClassWeights => {
            class_weights = Some(cnnvar_data::class_weights(train_set, &indices));
        }
    }
    Ok(Prepared { train, train_indices: indices, eval_indices, class_weights })
}

/// The augmentation a spec names.
fn augmentation(spec: &RunSpec) -> Augmentation {
    match spec.resolved().augment {
        AugmentName::None => Augmentation::NONE,
        AugmentName::Geometric => Augmentation::geometric(),
        AugmentName::Photometric => Augmentation::photometric(),
        AugmentName::Both => {
            let p = Augmentation::photometric();
            Augmentation {
                brightness: p.brightness,
                contrast: p.contrast,
                ..Augmentation::geometric()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cnnvar_core::{Backend, ImageShape};

    /// A data set of `labels.len()` 1-pixel images.
    fn labelled(labels: Vec<u8>) -> Dataset {
        Dataset::new(
            vec![0; labels.len()],
            labels,
            ImageShape { channels: 1, height: 1, width: 1 },
            10,
        )
        .unwrap()
    }

    /// The subset keeps each class's share, is the same every time, lies inside the
    /// candidates in their order, and is the whole set when not smaller than it.
    #[test]
    fn the_eval_subset_is_fixed_and_stratified() {
        // Classes 0..5 three times as common as 5..10.
        let labels: Vec<u8> =
            (0..1000).map(|i| if i % 8 < 6 { (i % 5) as u8 } else { 5 + (i % 5) as u8 }).collect();
        let data = labelled(labels.clone());
        let a = eval_subset_indices(&data, None, Some(200)).unwrap().unwrap();
        assert_eq!(a, eval_subset_indices(&data, None, Some(200)).unwrap().unwrap());
        assert_eq!(a.len(), 200);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "in evaluation order");
        let mut counts = [0usize; 10];
        for &i in &a {
            counts[usize::from(labels[i])] += 1;
        }
        let whole = data.class_counts();
        for c in 0..10 {
            let share = whole[c] as f64 * 200.0 / 1000.0;
            assert!((counts[c] as f64 - share).abs() < 1.0, "class {c}: {counts:?} vs {whole:?}");
        }
        // From candidates: inside them, in their order.
        let fold: Vec<usize> = (0..1000).rev().step_by(3).collect();
        let b = eval_subset_indices(&data, Some(&fold), Some(50)).unwrap().unwrap();
        assert_eq!(b.len(), 50);
        let at: Vec<usize> = b.iter().map(|i| fold.iter().position(|f| f == i).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
        // A prefix candidate list is the set's own subset.
        let all: Vec<usize> = (0..1000).collect();
        assert_eq!(eval_subset_indices(&data, Some(&all), Some(200)).unwrap().unwrap(), a);
        for n in [None, Some(1000), Some(5000)] {
            assert_eq!(eval_subset_indices(&data, None, n).unwrap(), None, "{n:?}");
        }
        assert_eq!(eval_subset_indices(&data, Some(&fold), Some(fold.len())).unwrap(), None);
    }

    /// A `split_seed` evaluates on a bootstrap resample of the test set (or of its
    /// `test_size` prefix), fixed by the seed; without one the evaluation set is as it was.
    #[test]
    fn a_split_seed_resamples_the_evaluation_set() {
        let data = DataSplit {
            train: toy(300, 0),
            test: toy(400, 1000),
            source: "toy".into(),
            sha256: String::new(),
            name: DatasetName::FashionMnist,
        };
        let spec = RunSpec { train_size: Some(200), ..RunSpec::default() };
        let eval = |s: &RunSpec| prepare(s, &data).unwrap().eval_indices;
        assert_eq!(eval(&spec), None);
        let split = RunSpec { split_seed: Some(3), ..spec.clone() };
        let all: Vec<usize> = (0..400).collect();
        assert_eq!(eval(&split), Some(cnnvar_data::bootstrap(&all, 3)));
        assert_ne!(eval(&split), eval(&RunSpec { split_seed: Some(4), ..spec.clone() }));
        let prefix = RunSpec { test_size: Some(100), ..split.clone() };
        let resample = eval(&prefix).unwrap();
        assert_eq!(resample, cnnvar_data::bootstrap(&all[..100], 3));
        assert!(resample.iter().all(|&i| i < 100));
        // The training examples are the subset seed's, whatever the split seed.
        assert_eq!(
            prepare(&split, &data).unwrap().train_indices,
            prepare(&spec, &data).unwrap().train_indices
        );
    }

    /// A learnable 28×28 set of `n` examples (the class is which region is bright).
    fn toy(n: usize, salt: usize) -> Dataset {
        let labels: Vec<u8> = (0..n).map(|i| ((i * 7 + 3) % 10) as u8).collect();
        let mut images = vec![0u8; n * 784];
        for (i, img) in images.chunks_mut(784).enumerate() {
            for (p, px) in img.iter_mut().enumerate() {
                let region = (p / 28 * 5 / 28) * 2 + (p % 28 * 2 / 28);
                let noise = ((p * 31 + (i + salt) * 17) % 97) as u8;
                *px = if region == usize::from(labels[i]) { 120 + noise } else { noise };
            }
        }
        let shape = ImageShape { channels: 1, height: 28, width: 28 };
        Dataset::new(images, labels, shape, 10).unwrap()
    }

    /// Issue 19: evaluating the curve points on a subset changes nothing else: the
    /// training, the final accuracy, loss and per-class accuracies, the curve's last
    /// point and the predictions are bit for bit those of full evaluations every epoch.
    /// (Through `train`: `execute` configures the process's threads, once per process;
    /// `tests/it` checks the same through `cnnvar train`.)
    #[test]
    fn an_eval_subset_leaves_the_final_evaluation_and_predictions_unchanged() {
        if !Backend::Flex.is_compiled() {
            return;
        }
        let (train_set, test_set) = (toy(300, 0), toy(400, 1000));
        let spec = RunSpec {
            train_size: Some(200),
            epochs: 3,
            backend: Backend::Flex,
            ..RunSpec::default()
        };
        let (models, input) = (Models::standard(), ModelInput::new(train_set.shape(), 10));
        let device = spec.backend.device().unwrap();
        let train_indices: Vec<usize> = (0..200).collect();
        let subset = eval_subset_indices(&test_set, None, Some(50)).unwrap();
        let run = |epoch_test_indices: Option<&[usize]>| {
            let data = TrainingData {
                train: &train_set,
                train_indices: &train_indices,
                test: &test_set,
                test_indices: None,
                epoch_test_indices,
                class_weights: None,
                augment: &Augmentation::NONE,
                also: &[],
            };
            let outcome = train(&spec, &models, &input, &data, &device, &mut |_| {}).unwrap();
            let record = RunRecord {
                test_accuracy: outcome.test.accuracy,
                test_loss: outcome.test.loss,
                train_accuracy: outcome.train.accuracy,
                per_class_accuracy: outcome.test.per_class.clone(),
                epochs: outcome.epochs.clone(),
                test_examples: outcome.test.examples,
                ..cnnvar_core::testing::record_of(&spec)
            };
            RunOutput { record, predictions: outcome.test.predictions, labels: outcome.test.labels }
        };
        let full = run(None);
        let sub = run(subset.as_deref());
        let (a, b) = (&full.record, &sub.record);
        assert_eq!(full.predictions.len(), 400);
        assert_eq!(full.predictions, sub.predictions);
        assert_eq!(full.labels, test_set.labels(), "the labels of the evaluation, in order");
        assert_eq!(full.labels, sub.labels);
        assert_eq!(a.test_accuracy.to_bits(), b.test_accuracy.to_bits());
        assert_eq!(a.test_loss.to_bits(), b.test_loss.to_bits());
        assert_eq!(a.per_class_accuracy, b.per_class_accuracy);
        assert_eq!((a.test_examples, b.test_examples), (400, 400));
        assert_eq!(a.train_accuracy.to_bits(), b.train_accuracy.to_bits());
        for (x, y) in a.epochs.iter().zip(&b.epochs) {
            assert_eq!(x.train_loss.to_bits(), y.train_loss.to_bits(), "epoch {}", x.epoch);
            assert_eq!(x.train_accuracy.to_bits(), y.train_accuracy.to_bits());
        }
        let (last_a, last_b) = (&a.epochs[2], &b.epochs[2]);
        assert_eq!(
            last_b.test_accuracy.to_bits(),
            b.test_accuracy.to_bits(),
            "last point: full set"
        );
        assert_eq!(last_a.test_accuracy.to_bits(), last_b.test_accuracy.to_bits());
        // The earlier points are fractions of 50 examples.
        for e in &b.epochs[..2] {
            let hits = e.test_accuracy * 50.0;
            assert!((hits - hits.round()).abs() < 1e-9, "epoch {}: {}", e.epoch, e.test_accuracy);
        }
        let correct = |o: &RunOutput| {
            o.predictions.iter().zip(test_set.labels()).filter(|(p, l)| p == l).count()
        };
        assert_eq!(correct(&full) as f64 / 400.0, a.test_accuracy, "predictions match accuracy");
    }

    /// Issue 31: a nudge after epoch 1 leaves epoch 1 bit for bit the un-nudged run's;
    /// the record says which weight moved, from its trained value (not its initial one).
    #[test]
    fn a_later_nudge_leaves_the_epochs_before_it_alone() {
        if !Backend::Flex.is_compiled() {
            return;
        }
        let (train_set, test_set) = (toy(300, 0), toy(100, 1000));
        let plain = RunSpec {
            train_size: Some(200),
            epochs: 2,
            backend: Backend::Flex,
            ..RunSpec::default()
        };
        let later = RunSpec { nudge_seed: Some(5), nudge_epoch: 1, ..plain.clone() };
        let (models, input) = (Models::standard(), ModelInput::new(train_set.shape(), 10));
        let device = plain.backend.device().unwrap();
        let train_indices: Vec<usize> = (0..200).collect();
        let data = TrainingData {
            train: &train_set,
            train_indices: &train_indices,
            test: &test_set,
            test_indices: None,
            epoch_test_indices: None,
            class_weights: None,
            augment: &Augmentation::NONE,
            also: &[],
        };
        let run = |spec: &RunSpec| train(spec, &models, &input, &data, &device, &mut |_| {});
        let (a, b) = (run(&plain).unwrap(), run(&later).unwrap());
        assert_eq!(a.nudge, None);
        let (x, y) = (&a.epochs[0], &b.epochs[0]);
        assert_eq!(x.train_loss.to_bits(), y.train_loss.to_bits());
        assert_eq!(x.test_accuracy.to_bits(), y.test_accuracy.to_bits());
        assert_eq!(x.test_loss.to_bits(), y.test_loss.to_bits());
        let nudge = b.nudge.expect("the weight moved after epoch 1");
        let up = nudge.after.abs() > nudge.before.abs();
        assert_eq!(nudge.after.to_bits(), cnnvar_models::nudge_value(nudge.before, up).to_bits());
        let ad = device.clone().autodiff();
        let (initial, none) =
            crate::train::initial_model(&later, &models, &input, &device, &ad).unwrap();
        assert_eq!(none, None, "nothing moves before training");
        let weights = initial.float_parameters().unwrap();
        let (_, values) = weights.iter().find(|(n, _)| *n == nudge.parameter).unwrap();
        assert_ne!(values[nudge.index].to_bits(), nudge.before.to_bits(), "a trained value");
    }
}
