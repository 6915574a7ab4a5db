//! # cnnvar-experiments
//!
//! Everything between a spec and a verdict: the training loop ([`train`]), written once
//! for any burn `Device`; the optimizers and their presets ([`optimizer`]); evaluation
//! ([`evaluate`]); one run from spec to record ([`execute`]); the run store ([`store`]),
//! where each run's directory is named by the hash of its spec; studies run by worker
//! processes ([`sweep`]); their statistics ([`analysis`]) and report ([`report`]).
//!
//! The training half is the `train` feature (a default one, and implied by every
//! backend feature): without it (`--no-default-features`) the crate has no burn in its
//! dependency tree, and the run store, plans, executors, worker protocol, statistics
//! and report build and test alone.
#![cfg_attr(
    feature = "train",
    doc = r#"
```no_run
use cnnvar_core::{ModelName, RunSpec};
use cnnvar_experiments::{RunOptions, execute};
let spec = RunSpec { model: ModelName::Simple, train_size: Some(2000), epochs: 1, ..RunSpec::default() };
let record = execute(&spec, &RunOptions::default(), &mut |_| {}).unwrap().record;
println!("test accuracy {:.4}", record.test_accuracy);
```
"#
)]

pub mod analysis;
pub mod data;
#[cfg(feature = "train")]
pub mod evaluate;
#[cfg(feature = "train")]
pub mod optimizer;
pub mod report;
#[cfg(feature = "train")]
pub mod run;
pub mod store;
/// Study files: parsing, validation and expansion into runs (they live in `cnnvar-core`,
/// so that tools reading study files need no burn).
pub use cnnvar_core::study;
pub mod sweep;
#[cfg(feature = "train")]
pub mod train;

#[cfg(feature = "train")]
pub use run::{RunData, RunOptions, execute, execute_on, load_data};
pub use store::RunOutput;
#[cfg(feature = "train")]
pub use train::Progress;
