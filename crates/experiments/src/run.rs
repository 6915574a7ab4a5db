//! One run from spec to record: load data, choose the subset, train, attach provenance.
//! `cnnvar train` and every study worker go through [`execute`].

use std::path::PathBuf;
use std::time::Instant;

use cnnvar_core::{
    AugmentName, DEFAULT_MINORITY, Error, EvalSet, Provenance, Rebalance, Result, RunRecord,
    RunSpec,
};
use cnnvar_data::{Augmentation, DataSplit, Dataset};
use cnnvar_models::Architecture;

use crate::train::{Progress, TrainingData, train};

/// How to run, beyond what the spec fixes (none of it changes the numbers).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Where the data set is; `None` searches the usual places.
    pub data_dir: Option<PathBuf>,
    /// Compute threads; `None` uses every core.
    pub threads: Option<usize>,
    /// The study directory of the run, if it belongs to one: the run's data must be the
    /// data the study's runs were trained on ([`crate::store::check_study_data`]; the
    /// first run records it).
    pub study_dir: Option<PathBuf>,
}

/// Runs `spec` to completion. Errors are returned for anything that stops the run
/// before training (bad spec, missing data, a backend that is not compiled in); a
/// run whose loss diverges is a successful call whose record says `diverged`.
pub fn execute(
    spec: &RunSpec,
    options: &RunOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunRecord> {
    let started = Instant::now();
    spec.validate()?;
    let threads = options
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let threads = cnnvar_core::configure_threads(threads).threads;
    cnnvar_core::tune_allocator();
    let device = spec.backend.device()?;
    let data = cnnvar_data::load_noting(spec.dataset, options.data_dir.as_deref(), &mut |n| {
        progress(Progress::Note(n.to_string()))
    })?;
    if let Some(study_dir) = &options.study_dir {
        crate::store::check_study_data(study_dir, &study_data(&data))?;
    }
    let arch = Architecture::for_spec(spec, data.train.shape()).map_err(|e| {
        Error::data(
            train_images_file(&data),
            format!("{} images do not fit model `{}`: {e}", data.train.shape(), spec.model),
        )
    })?;
    let prepared = prepare(spec, &data)?;
    let training = TrainingData {
        train: prepared.train.as_ref().unwrap_or(&data.train),
        train_indices: &prepared.train_indices,
        test: match spec.evaluate_on.unwrap_or(EvalSet::Test) {
            EvalSet::Test => &data.test,
            EvalSet::Twilight => prepared.eval.as_ref().unwrap_or(&data.test),
            EvalSet::Validation => &data.train,
        },
        test_indices: prepared.eval_indices.as_deref(),
        class_weights: prepared.class_weights.as_deref(),
        augment: &augmentation(spec),
    };
    let outcome = train(spec, &arch, &training, &device, progress)?;

    let mut provenance = Provenance::of_this_process(spec.backend, &format!("{device:?}"), threads);
    provenance.data_source = data.source.display().to_string();
    provenance.data_sha256 = data.sha256.clone();
    Ok(RunRecord {
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
        params: arch.params(),
        flops: arch.flops(),
        seconds: started.elapsed().as_secs_f64(),
        spec: spec.clone(),
        provenance,
    })
}

/// What a study records of the data its runs are trained on.
fn study_data(data: &DataSplit) -> crate::store::StudyData {
    crate::store::StudyData {
        dataset: data.name.to_string(),
        sha256: data.sha256.clone(),
        source: data.source.display().to_string(),
    }
}

/// The file the training images came from, for error messages.
fn train_images_file(data: &cnnvar_data::DataSplit) -> PathBuf {
    if data.name == cnnvar_core::DatasetName::Cifar10 {
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
    /// The shifted test set, when evaluating on it.
    eval: Option<Dataset>,
    /// The examples to evaluate: a test prefix (`test_size`) or the held-out fold.
    eval_indices: Option<Vec<usize>>,
    /// Class weights of the loss.
    class_weights: Option<Vec<f32>>,
}

/// Applies the spec's data transforms, all seeded by the subset seed, in a fixed
/// order: the subset, the imbalance, the cross-validation split, label noise (training
/// examples only), then the rebalancing.
fn prepare(spec: &RunSpec, data: &DataSplit) -> Result<Prepared> {
    let seed = spec.subset_seed;
    let mut indices = cnnvar_data::select(&data.train, spec.train_size, spec.subset, seed)?;
    if let Some(keep) = spec.imbalance.filter(|&k| k < 1.0) {
        let classes = spec.minority.clone().unwrap_or_else(|| DEFAULT_MINORITY.to_vec());
        indices = cnnvar_data::downsample_classes(&data.train, &indices, &classes, keep, seed)?;
    }
    let mut eval_indices = None;
    if spec.evaluate_on == Some(EvalSet::Validation) {
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
    let train = match spec.label_noise.filter(|&f| f > 0.0) {
        Some(f) => Some(cnnvar_data::label_noise(&data.train, &indices, f, seed)?),
        None => None,
    };
    let train_set = train.as_ref().unwrap_or(&data.train);
    let mut class_weights = None;
    match spec.rebalance.unwrap_or(Rebalance::None) {
        Rebalance::None => {}
        Rebalance::Oversample => indices = cnnvar_data::oversample(train_set, &indices, seed),
        Rebalance::ClassWeights => {
            class_weights = Some(cnnvar_data::class_weights(train_set, &indices));
        }
    }
    let eval =
        (spec.evaluate_on == Some(EvalSet::Twilight)).then(|| cnnvar_data::twilight(&data.test));
    Ok(Prepared { train, train_indices: indices, eval, eval_indices, class_weights })
}

/// The augmentation a spec names.
fn augmentation(spec: &RunSpec) -> Augmentation {
    match spec.augment.unwrap_or(AugmentName::None) {
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
