//! What a front end may set over a study file ([`StudyOverrides`]), checked against the
//! limits a file is held to, and the list of every setting a front end may override
//! ([`overridable_settings`]).

use crate::spec::MAX_EPOCHS;
use crate::{Backend, Error, Result, RunSpec};

use super::Study;
use super::limits::MAX_RUNS;

/// What a front end sets over a study file: a shorter or otherwise changed version of
/// the study. Runs whose specs change are new runs, with ids of their own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StudyOverrides {
    /// Replicates per level instead of the file's. The study becomes a fixed one of
    /// this many seeds: an adaptive study keeps its first replicates (the same runs)
    /// and drops its adaptive seeding.
    pub seeds: Option<usize>,
    /// Epochs of every run instead of the file's.
    pub epochs: Option<usize>,
    /// The backend of every run instead of the file's: a choice already resolved
    /// (`BackendChoice::resolve`) and checked when it was made.
    pub backend: Option<Backend>,
}

impl StudyOverrides {
    /// The settings these are, as an [`Error::Setting`] names them.
    pub const SETTINGS: &'static [&'static str] = &["seeds", "epochs", "backend"];
}

/// Every setting a front end may set over a file, named as in files and as an
/// [`Error::Setting`] names it: a study's [`StudyOverrides::SETTINGS`], then each field
/// of a single run's spec ([`RunSpec::fields`]) not already listed. A front end maps each
/// to its own way of setting it (a command line, to its flag).
pub fn overridable_settings() -> Vec<&'static str> {
    let mut settings = StudyOverrides::SETTINGS.to_vec();
    // A user's command (`script`) is set by a study file only.
    settings.extend(
        RunSpec::fields()
            .iter()
            .filter(|f| !StudyOverrides::SETTINGS.contains(f) && **f != "script"),
    );
    settings
}

impl Study {
    /// Checks overrides of `seeds` and `epochs` against the limits a study file is held
    /// to (the 100 000-run limit, the epochs limit), so that an override no file could
    /// ask for is refused before anything is planned or run. Errors are
    /// [`Error::Setting`]s naming `seeds` or `epochs`.
    pub fn check_overrides(&self, seeds: Option<usize>, epochs: Option<usize>) -> Result<()> {
        if let Some(n) = seeds {
            let levels: usize = self.experiments.iter().map(|e| e.levels.len()).sum();
            let most = MAX_RUNS / levels.max(1);
            if n == 0 || n > most {
                return Err(Error::setting(
                    "seeds",
                    format!(
                        "must be from 1 to {most} for this study ({levels} levels; a study \
                         expands to at most {MAX_RUNS} runs), got {n}"
                    ),
                ));
            }
        }
        if epochs.is_some() && self.is_script() {
            return Err(Error::setting(
                "epochs",
                "this study trains with its own command, whose epochs (if it has any) are                  one of its parameters: set it in the study file",
            ));
        }
        if let Some(e) = epochs
            && !(1..=MAX_EPOCHS).contains(&e)
        {
            return Err(Error::setting("epochs", format!("must be 1 to {MAX_EPOCHS}, got {e}")));
        }
        Ok(())
    }

    /// Checks `overrides` ([`Study::check_overrides`]) and sets them over the study:
    /// its seeds (making it a fixed study), and every level's epochs and backend. On an
    /// error the study is unchanged.
    pub fn apply_overrides(&mut self, overrides: &StudyOverrides) -> Result<()> {
        self.check_overrides(overrides.seeds, overrides.epochs)?;
        if let Some(n) = overrides.seeds {
            self.seeds = n;
            self.adaptive = None;
        }
        for level in self.experiments.iter_mut().flat_map(|x| x.levels.iter_mut()) {
            if let Some(e) = overrides.epochs {
                level.spec.epochs = e;
            }
            if let Some(b) = overrides.backend {
                level.spec.backend = b;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::{PlannedRun, SeedCounts, expand, expand_to, parse};
    use std::path::Path;

    const STUDY: &str = "seeds = 3\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n\
        [[experiment]]\nname = \"v\"\nkind = \"variance-sources\"\nbase = { train_size = 100, subset = \"stratified\" }\n";

    /// Overrides of `seeds` and `epochs` are held to the limits a study file is held to,
    /// and the error names the setting, not a front end's flag.
    #[test]
    fn overrides_beyond_the_limits_are_refused() {
        let s = parse(STUDY, Path::new("s.toml")).unwrap();
        s.check_overrides(Some(3), Some(2)).unwrap();
        // 6 levels: at most 16 666 seeds.
        s.check_overrides(Some(16_666), None).unwrap();
        for n in [0, 16_667, 1_000_000] {
            let e = s.check_overrides(Some(n), None).unwrap_err();
            assert!(matches!(&e, Error::Setting { setting, .. } if setting == "seeds"), "{e:?}");
            let e = e.to_string();
            assert!(e.contains("`seeds`") && e.contains("100000") && !e.contains("--"), "{e}");
        }
        for e in [0, 1_000_000] {
            let e = s.check_overrides(None, Some(e)).unwrap_err().to_string();
            assert!(e.contains("`epochs`") && e.contains("100000") && !e.contains("--"), "{e}");
        }
        let mut same = s.clone();
        let too_many = StudyOverrides { seeds: Some(0), epochs: Some(2), ..Default::default() };
        assert!(same.apply_overrides(&too_many).is_err());
        assert_eq!(same, s, "a refused override changes nothing");
    }

    /// Applied overrides reach every level; seeds make an adaptive study fixed, with
    /// the same first replicates.
    #[test]
    fn overrides_reach_every_run() {
        let text = STUDY.replace(
            "seeds = 3",
            "seeds = { min = 2, max = 6, step = 2 }\nresolve = { delta = 1 }",
        );
        let adaptive = parse(&text, Path::new("s.toml")).unwrap();
        let mut fixed = adaptive.clone();
        let o = StudyOverrides { seeds: Some(4), epochs: Some(2), backend: Some(Backend::Ndarray) };
        fixed.apply_overrides(&o).unwrap();
        assert_eq!((fixed.seeds, fixed.adaptive.is_none()), (4, true));
        let runs = expand(&fixed, None);
        assert_eq!(runs.len(), 4 * 6);
        assert!(runs.iter().all(|r| r.spec.epochs == 2 && r.spec.backend == Backend::Ndarray));
        let mut seeds_only = adaptive.clone();
        seeds_only
            .apply_overrides(&StudyOverrides { seeds: Some(4), ..Default::default() })
            .unwrap();
        let first = |runs: &[PlannedRun]| -> Vec<String> {
            runs.iter().filter(|r| r.replicate < 2).map(|r| r.run_id.clone()).collect()
        };
        assert_eq!(first(&expand(&seeds_only, None)), first(&expand(&adaptive, None)));
    }

    /// The settings a front end may override: the study's first, then every spec field
    /// once, but a user's command, which only a study file sets.
    #[test]
    fn overridable_settings_list_the_study_then_the_spec() {
        let all = overridable_settings();
        assert_eq!(&all[..3], StudyOverrides::SETTINGS);
        for f in RunSpec::fields() {
            let once = usize::from(*f != "script");
            assert_eq!(all.iter().filter(|s| *s == f).count(), once, "{f}");
        }
        assert_eq!(all.len(), RunSpec::fields().len(), "seeds is in, script out");
    }

    /// The committed studies, with the overrides their sweeps were run with, expand
    /// (once, at the counts their plans hold) to exactly the runs of their `plan.json`:
    /// parsing, overrides and expansion keep every committed run id.
    #[test]
    fn committed_plans_expand_to_the_same_runs() {
        let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
        for name in ["seed", "seed-adaptive", "full"] {
            let dir = results.join(name);
            let plan: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap())
                    .unwrap();
            let runs: Vec<PlannedRun> = serde_json::from_value(plan["runs"].clone()).unwrap();
            let backend = plan["backend_override"].as_str().map(|b| b.parse().unwrap());
            let mut study = crate::study::Study::load(&dir.join("study.toml")).unwrap();
            study.apply_overrides(&StudyOverrides { backend, ..Default::default() }).unwrap();
            let counts = SeedCounts::of_runs(&study, &runs);
            let ids = |runs: &[PlannedRun]| -> Vec<(String, usize, String)> {
                let key = |r: &PlannedRun| (r.experiment.clone(), r.replicate, r.run_id.clone());
                let mut ids: Vec<_> = runs.iter().map(key).collect();
                ids.sort();
                ids
            };
            assert_eq!(ids(&expand_to(&study, None, &counts)), ids(&runs), "{name}");
        }
    }
}
