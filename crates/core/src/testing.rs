//! Fixtures for tests and examples of the crates that read run records, and the one
//! way a test says it skipped ([`skip`]).

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
        nudge: None,
        trained_with: None,
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

/// What every line saying that a test skipped starts with, on stderr and in
/// [`SKIP_LOG_VAR`]'s file: `cnnvar-test-skip: <test>: <why>`.
pub const SKIP_PREFIX: &str = "cnnvar-test-skip: ";

/// The environment variable naming a file that every skip line is appended to
/// ([`skip`]): a test run (CI's) sets it and fails when the file is not empty, since
/// libtest shows a passing test's stderr to no one.
pub const SKIP_LOG_VAR: &str = "CNNVAR_SKIP_LOG";

/// The line saying that `test` skipped, and why (one line: newlines in `why` become
/// spaces).
pub fn skip_line(test: &str, why: &str) -> String {
    format!("{SKIP_PREFIX}{test}: {}", why.replace(['\n', '\r'], " "))
}

/// Says that the running test skips because a resource it needs is missing (a browser,
/// Slurm, a data set, a backend, a tmpfs, the digits): its [`skip_line`] on stderr,
/// named after the test (libtest's name of the test's thread), and appended to the file
/// `$CNNVAR_SKIP_LOG` when that is set. A test that a `CNNVAR_REQUIRE_*` variable makes
/// need the resource panics instead of calling this. The one place a test skips from,
/// so that no skip goes unnoticed; panics when the line cannot be appended (a skip that
/// cannot be recorded must fail the run that asked for the record).
pub fn skip(why: &str) {
    let thread = std::thread::current();
    let line = skip_line(thread.name().unwrap_or("an unnamed test"), why);
    eprintln!("{line}");
    if let Some(log) = std::env::var_os(SKIP_LOG_VAR).filter(|l| !l.is_empty())
        && let Err(e) = append_line(std::path::Path::new(&log), &line)
    {
        panic!("{line}; and it cannot be recorded in {SKIP_LOG_VAR}={log:?}: {e}");
    }
}

/// Appends `line` and a newline to the file at `path` (created if missing), in one
/// write, so that lines of tests running at once do not interleave.
pub fn append_line(path: &std::path::Path, line: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(format!("{line}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A skip line names the test and the reason on one line, and lines appended by
    /// several writers at once each arrive whole.
    #[test]
    fn skip_lines_are_one_line_each_and_append_whole() {
        let line = skip_line("report::html_is_valid", "no Chromium\n(apt-get install chromium)");
        assert_eq!(
            line,
            "cnnvar-test-skip: report::html_is_valid: no Chromium (apt-get install chromium)"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("skips.log");
        std::thread::scope(|s| {
            for t in 0..8 {
                let log = &log;
                s.spawn(move || {
                    for i in 0..50 {
                        append_line(log, &skip_line(&format!("t{t}"), &"x".repeat(i)))
                            .expect("appends");
                    }
                });
            }
        });
        let text = std::fs::read_to_string(&log).expect("log");
        assert_eq!(text.lines().count(), 400);
        for l in text.lines() {
            let rest = l.strip_prefix(SKIP_PREFIX).expect("the prefix first");
            let (test, why) = rest.split_once(": ").expect("test: why");
            assert!(test.starts_with('t') && why.chars().all(|c| c == 'x'), "{l}");
        }
    }
}
