//! Fixtures for tests and examples of the crates that read run records.

use crate::{Provenance, RunRecord, RunSpec};

/// A record of `spec` with made-up numbers (80% test accuracy, ten classes, one test
/// example, no epochs): the one `RunRecord` literal of the workspace's tests; override
/// fields with struct update syntax.
pub fn record_of(spec: &RunSpec) -> RunRecord {
    RunRecord {
        run_id: spec.run_id(),
        test_accuracy: 0.8,
        test_loss: 0.5,
        train_accuracy: 0.9,
        train_loss: 0.3,
        per_class_accuracy: vec![0.8; 10],
        epochs: vec![],
        diverged: false,
        error: None,
        train_examples: 1,
        test_examples: 1,
        params: 1,
        flops: 1,
        seconds: 1.0,
        spec: spec.clone(),
        provenance: Provenance::default(),
    }
}
