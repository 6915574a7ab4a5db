//! Adaptive seeding in a sweep: the decisions of `cnnvar_analysis::decisions` from the
//! records in a study directory, and their files.

use std::path::PathBuf;

use cnnvar_analysis::decisions::StudyDecisions;
use cnnvar_core::Result;
use cnnvar_core::study::SeedCounts;
use cnnvar_store::{Plan, StudyDir, StudyFile};

/// The decisions of `plan`'s adaptive study from the records in `study` (those of
/// every replicate up to `max`, whatever the plan holds now); `None` for a study that
/// seeds a fixed number. What each round of a sweep plans from.
pub fn decisions(plan: &Plan, study: &StudyDir) -> Option<StudyDecisions> {
    let full = plan.at_max_seeds()?;
    cnnvar_analysis::decisions::decisions(&plan.study, &study.results(&full.runs))
}

/// The plans of the fewest and of the most runs an adaptive plan can come to: `min`
/// seeds of every level, and `max` (an experiment of one level stops at `min`);
/// `None` for a fixed study.
pub fn extremes(plan: &Plan) -> Option<(Plan, Plan)> {
    let a = plan.study.adaptive.as_ref()?;
    let at =
        |most: bool| {
            let seeds = SeedCounts::with(&plan.study, |e| {
                if most && e.levels.len() > 1 { a.max } else { a.min }
            });
            let mut p = plan.clone();
            p.set_seeds(&seeds);
            p
        };
    Some((at(false), at(true)))
}

/// Writes `decisions.json` and `decisions.csv` into `study` (unchanged files are not
/// rewritten); returns their paths.
pub fn write_decisions(study: &StudyDir, d: &StudyDecisions) -> Result<(PathBuf, PathBuf)> {
    let json = study.write_if_changed(StudyFile::DecisionsJson, &d.to_json()?)?;
    let csv = study.write_if_changed(StudyFile::DecisionsCsv, &d.to_csv()?)?;
    Ok((json, csv))
}
