//! Test fixtures: a study expanded into its runs, as a plan holds them.

use cnnvar_core::study::{PlannedRun, Study, expand};

/// A study with its planned runs.
pub(crate) struct TestPlan {
    pub study: Study,
    pub runs: Vec<PlannedRun>,
}

/// `study` expanded (no `--quick`).
pub(crate) fn plan_of(study: Study) -> TestPlan {
    TestPlan { runs: expand(&study, None), study }
}
