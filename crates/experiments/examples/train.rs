//! One short run from spec to record: the simple model, 1 epoch on 1000 Fashion-MNIST
//! training images, evaluated on 1000 test images, on the default backend, through
//! [`cnnvar_experiments::execute`] (what `cnnvar train` and every sweep worker run).
//!
//! `cargo run -p cnnvar-experiments --example train [DATA_DIR]`: Fashion-MNIST from
//! `DATA_DIR`, else where cnnvar looks for it ($CNNVAR_DATA_DIR, the user cache, the
//! system location); without it the example says where to get it and trains nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use cnnvar_core::{DatasetName, RunSpec};
use cnnvar_experiments::{RunOptions, TrainProgress, execute};

fn main() -> ExitCode {
    let data_dir = std::env::args_os().nth(1).map(PathBuf::from);
    let spec = RunSpec {
        dataset: DatasetName::FashionMnist,
        train_size: Some(1000),
        test_size: Some(1000),
        epochs: 1,
        ..RunSpec::new_run()
    };
    // No download on first use: a missing data set is said, not fetched.
    if let Err(e) = cnnvar_data::find(DatasetName::FashionMnist, data_dir.as_deref()) {
        println!("Fashion-MNIST is not here, so nothing is trained: {e}");
        return ExitCode::SUCCESS;
    }
    let options = RunOptions { data_dir, threads: Some(2), ..RunOptions::default() };
    println!("run {} ({} on {}, 1 epoch)", spec.run_id(), spec.model, spec.dataset);
    let mut shown = |p: TrainProgress| match p {
        TrainProgress::Epoch(e) => println!("{e}"),
        TrainProgress::Note(n) => println!("{n}"),
        TrainProgress::Batch { .. } => {}
    };
    match execute(&spec, &options, &mut shown) {
        Ok(out) => {
            let r = &out.record;
            println!(
                "test accuracy {:.4} on {} examples ({} params, {:.1} s)",
                r.test_accuracy, r.test_examples, r.params, r.seconds
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
