//! # cnnvar-experiments
//!
//! Everything between a spec and a verdict: the training loop ([`train`]), written once
//! for any burn `Device`; the optimizers and their presets ([`optimizer`]); evaluation
//! ([`evaluate`]); one run from spec to record ([`execute`]); and the run store
//! ([`store`]), where each run's directory is named by the hash of its spec.
//!
//! ```no_run
//! use cnnvar_core::{ModelName, RunSpec};
//! use cnnvar_experiments::{RunOptions, execute};
//! let spec = RunSpec { model: ModelName::Simple, train_size: Some(2000), epochs: 1, ..RunSpec::default() };
//! let record = execute(&spec, &RunOptions::default(), &mut |_| {}).unwrap();
//! println!("test accuracy {:.4}", record.test_accuracy);
//! ```

pub mod analysis;
pub mod evaluate;
pub mod optimizer;
pub mod report;
pub mod run;
pub mod store;
/// Study files: parsing, validation and expansion into runs (they live in `cnnvar-core`,
/// so that tools reading study files need no burn).
pub use cnnvar_core::study;
pub mod sweep;
pub mod train;

pub use run::{RunOptions, execute};
pub use train::Progress;
