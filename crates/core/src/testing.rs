//! Fixtures for tests and examples of the crates that read run records.

use crate::study::{
    AdaptiveSeeds, AlphaSpending, Experiment, ExperimentKind, Level, Resolve, Study,
};
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

/// An adaptive study of `experiments` (name, levels), seeds 3 to 9 by 2, delta 0.5
/// points. Built, not parsed (parsing checks the backend is compiled in).
pub fn adaptive_study(experiments: &[(&str, usize)]) -> Study {
    let experiments: Vec<Experiment> = experiments
        .iter()
        .map(|&(name, levels)| Experiment {
            name: name.into(),
            title: name.into(),
            claim: None,
            expect_best: None,
            checks: vec![],
            kind: ExperimentKind::Factor,
            factors: vec!["lr".into()],
            levels: (0..levels)
                .map(|i| {
                    let lr = 0.1 / (i + 1) as f64;
                    Level {
                        label: format!("l{i}"),
                        values: [("lr".to_string(), lr.into())].into_iter().collect(),
                        spec: RunSpec { lr, epochs: 1, ..RunSpec::default() },
                    }
                })
                .collect(),
        })
        .collect();
    let resolve = Resolve {
        delta: 0.5,
        alpha: 0.05,
        spending: AlphaSpending::OBrienFleming,
        sd_interval_ratio: crate::study::DEFAULT_SD_INTERVAL_RATIO,
    };
    Study {
        name: "s".into(),
        description: String::new(),
        seeds: 3,
        adaptive: Some(AdaptiveSeeds {
            min: 3,
            max: 9,
            step: 2,
            resolve: experiments.iter().map(|e| (e.name.clone(), resolve)).collect(),
        }),
        seed: 0,
        paired_seeds: true,
        margin: crate::study::DEFAULT_MARGIN,
        experiments,
        source: "s.toml".into(),
    }
}
