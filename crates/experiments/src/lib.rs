//! # cnnvar-experiments
//!
//! The harness between a spec and a record: the training loop ([`train`]), written
//! once for any burn `Device` and any registered model (`cnnvar_models::Models`); the
//! optimizers and their presets ([`optimizer`]); evaluation ([`evaluate`]); one run
//! from spec to record ([`execute`]); studies run by worker processes into the run
//! store of `cnnvar-store` ([`sweep`]: executors, the worker protocol, adaptive
//! rounds), with their image folders fixed by content when planned ([`folders`]). The
//! statistics are `cnnvar-analysis`'s and the report `cnnvar-report`'s: neither needs
//! burn, this crate does.
#![doc = r#"
```no_run
use cnnvar_core::{ModelName, RunSpec};
use cnnvar_experiments::{RunOptions, execute};
let spec = RunSpec { model: ModelName::Simple, train_size: Some(2000), epochs: 1, ..RunSpec::default() };
let record = execute(&spec, &RunOptions::default(), &mut |_| {}).unwrap().record;
println!("test accuracy {:.4}", record.test_accuracy);
```

Your own model on your own images: implement `cnnvar_models::Classifier`, register it
in the `Models` of [`RunOptions`], and name it and the image folder in the spec. The
record's spec carries the folder's checksum (`data_sha256`, part of the run id) and its
provenance the class names.

```no_run
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use cnnvar_core::{DatasetName, ModelName, Result, RunSpec};
use cnnvar_experiments::{RunOptions, execute};
use cnnvar_models::{Classifier, ModelInput, Models};

/// Logistic regression on the pixels.
#[derive(Module, Debug)]
struct Logistic {
    dense: Linear,
}

impl Classifier for Logistic {
    fn build(input: &ModelInput, _spec: &RunSpec, device: &Device) -> Result<Self> {
        let pixels = input.channels * input.height * input.width;
        Ok(Logistic { dense: LinearConfig::new(pixels, input.classes).init(device) })
    }

    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.dense.forward(images.flatten(1, 3))
    }
}

let spec = RunSpec {
    dataset: DatasetName::Folder,
    data_dir: Some("data/digits".into()),
    model: ModelName::Custom("logistic".into()),
    epochs: 20,
    ..RunSpec::default()
};
let options = RunOptions {
    models: Models::standard().with::<Logistic>("logistic"),
    ..RunOptions::default()
};
let record = execute(&spec, &options, &mut |_| {})?.record;
println!(
    "{:.4} on {} classes ({}), data sha256 {}",
    record.test_accuracy,
    record.provenance.class_names.len(),
    record.provenance.class_names.join(", "),
    record.spec.data_sha256.unwrap_or_default()
);
# Ok::<(), cnnvar_core::Error>(())
```
"#]

pub mod evaluate;
pub mod folders;
pub mod optimizer;
pub mod probe;
pub mod run;
pub mod script;
pub mod sweep;
pub mod train;

pub use cnnvar_store::RunOutput;
pub use run::{
    RunData, RunOptions, execute, execute_on, execute_together, execute_together_on, load_run_data,
};
pub use train::TrainProgress;

/// The training progress of one run: renamed [`TrainProgress`] (a sweep's events are
/// [`sweep::SweepEvent`]); this name goes in the next release.
#[deprecated(note = "renamed TrainProgress")]
pub type Progress = TrainProgress;

/// Renamed [`load_run_data`] (it returns a [`RunData`]); this name goes in the next
/// release.
#[deprecated(note = "renamed load_run_data")]
pub fn load_data(
    spec: &cnnvar_core::RunSpec,
    options: &RunOptions,
    progress: &mut dyn FnMut(TrainProgress),
) -> cnnvar_core::Result<(cnnvar_core::RunSpec, RunData)> {
    load_run_data(spec, options, progress)
}
