//! [`SeedCounts`]: how many seeds each experiment of a study runs now, the one form of a
//! study's seed count that expansion takes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Experiment, PlannedRun, Study};

/// How many seeds (replicates of every level) each experiment of a study runs now, by
/// experiment name. Expansion takes this and nothing else ([`expand_to`](super::expand_to)).
///
/// A study file states its seeds as a number (`seeds = 5`) or as adaptive seeding
/// (`seeds = { min, max, step }`, where [`Study::seeds`] is `min`), and a front end may
/// override them ([`StudyOverrides::seeds`](super::StudyOverrides), which makes the
/// study a fixed one). [`SeedCounts::initial`] turns whichever applies into a count per
/// experiment; an adaptive study's later rounds raise the counts of the experiments still
/// undecided ([`SeedCounts::update`]). Replicate r is the same run at any count, so a
/// larger count only adds runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SeedCounts(BTreeMap<String, usize>);

impl SeedCounts {
    /// The counts before any run: [`Study::seeds`] for every experiment (a fixed study's
    /// number, or an adaptive study's `min`, its first look).
    pub fn initial(study: &Study) -> SeedCounts {
        SeedCounts::with(study, |_| study.seeds)
    }

    /// `seeds(experiment)` for every experiment of `study`.
    pub fn with(study: &Study, seeds: impl Fn(&Experiment) -> usize) -> SeedCounts {
        SeedCounts(study.experiments.iter().map(|e| (e.name.clone(), seeds(e))).collect())
    }

    /// The counts an expansion of `study` holds: for each experiment, one more than the
    /// highest replicate among `runs` (0 where it has none). Reads a stored plan back.
    pub fn of_runs(study: &Study, runs: &[PlannedRun]) -> SeedCounts {
        let mut counts = SeedCounts::with(study, |_| 0);
        for r in runs {
            if let Some(n) = counts.0.get_mut(&r.experiment) {
                *n = (*n).max(r.replicate + 1);
            }
        }
        counts
    }

    /// The count of the experiment named `experiment`; 0 for a name the study lacks.
    pub fn get(&self, experiment: &str) -> usize {
        self.0.get(experiment).copied().unwrap_or(0)
    }

    /// Sets the count of each experiment `counts` names (a round's decisions), leaving
    /// the others as they are; a name the study lacks is ignored.
    pub fn update(&mut self, counts: &BTreeMap<String, usize>) {
        for (name, &n) in counts {
            if let Some(count) = self.0.get_mut(name) {
                *count = n;
            }
        }
    }

    /// Every experiment's count, by name.
    pub fn as_map(&self) -> &BTreeMap<String, usize> {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::{expand_to, parse};
    use std::path::Path;

    const TWO: &str = "seeds = 3\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n\
        [[experiment]]\nname = \"b\"\nvary = { lr = [0.1] }\n";

    /// A fixed study starts at its `seeds`, an adaptive one at `min`; a round's update
    /// changes only the experiments it names, and an expansion reads back to its counts.
    #[test]
    fn counts_start_from_the_study_and_follow_the_rounds() {
        let fixed = parse(TWO, Path::new("s.toml")).expect("study");
        let counts = SeedCounts::initial(&fixed);
        assert_eq!((counts.get("a"), counts.get("b"), counts.get("zz")), (3, 3, 0));
        let adaptive = TWO.replace(
            "seeds = 3",
            "seeds = { min = 2, max = 8, step = 2 }\nresolve = { delta = 1 }",
        );
        let adaptive = parse(&adaptive, Path::new("s.toml")).expect("study");
        let mut counts = SeedCounts::initial(&adaptive);
        assert_eq!(counts.as_map().values().collect::<Vec<_>>(), [&2, &2]);
        counts.update(&[("a".to_string(), 6), ("nope".to_string(), 9)].into_iter().collect());
        assert_eq!((counts.get("a"), counts.get("b"), counts.get("nope")), (6, 2, 0));
        let runs = expand_to(&adaptive, None, &counts);
        assert_eq!(runs.len(), 6 * 2 + 2);
        assert_eq!(SeedCounts::of_runs(&adaptive, &runs), counts);
        assert_eq!(SeedCounts::of_runs(&adaptive, &[]).get("a"), 0);
    }
}
