//! One run from spec to record: load data, choose the subset, train, attach provenance.
//! `cnnvar train` and every study worker go through [`execute`].

use std::path::PathBuf;
use std::time::Instant;

use cnnvar_core::{Error, Provenance, Result, RunRecord, RunSpec};
use cnnvar_models::Architecture;

use crate::train::{Progress, TrainingData, train};

/// How to run, beyond what the spec fixes (none of it changes the numbers).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Where the data set is; `None` searches the usual places.
    pub data_dir: Option<PathBuf>,
    /// Compute threads; `None` uses every core.
    pub threads: Option<usize>,
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
    let device = spec.backend.device()?;
    let data = cnnvar_data::load(spec.dataset, options.data_dir.as_deref())?;
    let arch = Architecture::for_model(spec.model, data.train.shape()).map_err(|e| {
        Error::data(
            train_images_file(&data),
            format!("{} images do not fit model `{}`: {e}", data.train.shape(), spec.model),
        )
    })?;
    let indices = cnnvar_data::select(&data.train, spec.train_size, spec.subset, spec.subset_seed)?;
    let test_indices: Option<Vec<usize>> = match spec.test_size {
        Some(n) if n > data.test.len() => {
            return Err(Error::field(
                "spec",
                "test_size",
                format!("test_size {n} exceeds the {} test examples", data.test.len()),
            ));
        }
        Some(n) => Some((0..n).collect()),
        None => None,
    };
    let training = TrainingData {
        train: &data.train,
        train_indices: &indices,
        test: &data.test,
        test_indices: test_indices.as_deref(),
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
        train_examples: indices.len(),
        test_examples: outcome.test.examples,
        params: arch.params(),
        flops: arch.flops(),
        seconds: started.elapsed().as_secs_f64(),
        spec: spec.clone(),
        provenance,
    })
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
