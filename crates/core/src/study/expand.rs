//! Expansion of a study into runs: experiments × levels × replicates, each with its
//! derived seeds and its run id.

use crate::RunSpec;
use serde::{Deserialize, Serialize};

use super::{
    Experiment, ExperimentKind, Level, SeedCounts, Study, THREAD_COUNTS, backend_cycle,
    derive_seed, is_seedless, nudge_epoch,
};

/// One run a study asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedRun {
    /// Experiment name.
    pub experiment: String,
    /// Level label.
    pub level: String,
    /// Index of the level within the experiment.
    pub level_index: usize,
    /// Replicate index, 0-based.
    pub replicate: usize,
    /// The run id (hash of `spec`).
    pub run_id: String,
    /// The fully resolved spec.
    pub spec: RunSpec,
}

/// How a quick version of a study shrinks its runs for smoke tests while keeping the study's structure
/// (every experiment, level and replicate; levels stay distinct).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuickScale {
    /// Epochs per run.
    pub epochs: usize,
    /// Training sizes n become ⌈n^exponent⌉ (1000 → 64, 10 000 → 252, 60 000 → 737):
    /// smaller, but still distinct and in the same order…
    pub exponent: f64,
    /// …and at least this (or n, if smaller).
    pub min_train_size: usize,
    /// Test examples evaluated.
    pub test_size: usize,
}

impl Default for QuickScale {
    fn default() -> Self {
        QuickScale { epochs: 1, exponent: 0.6, min_train_size: 20, test_size: 1000 }
    }
}

impl QuickScale {
    /// The shrunk version of `spec`. An image folder's sets are kept whole where the
    /// spec gives no size (`train_size`, `test_size`): their sizes are not known before
    /// the folder is read. A nudge after epoch *E* keeps *E* + 1 epochs (at most the
    /// spec's), so that a quick study's `nudge@E` runs still differ from its `nudge`.
    pub fn apply(&self, spec: &RunSpec) -> RunSpec {
        let resolved = spec.resolved();
        let (n, test) = (resolved.train_size, resolved.test_size);
        RunSpec {
            // A later nudge keeps the epoch it follows and one more to train after it.
            epochs: spec.epochs.min(self.epochs.max(spec.nudge_epoch as usize + 1)),
            train_size: n.map(|n| {
                ((n as f64).powf(self.exponent).ceil() as usize).max(self.min_train_size).min(n)
            }),
            test_size: test.map(|t| t.min(self.test_size)),
            ..spec.clone()
        }
    }
}

/// Every run of `study` with `seeds` replicates of each experiment's levels,
/// replicate-major within an experiment (one seed of every level first, so partial
/// results cover all levels), shrunk by `quick` when given. Replicate r's seeds do not
/// depend on how many replicates there are, so its runs are the same runs (ids) at any
/// count. The one expansion: [`expand`] and [`expand_with`] are it with other forms of
/// the counts.
pub fn expand_to(study: &Study, quick: Option<QuickScale>, seeds: &SeedCounts) -> Vec<PlannedRun> {
    let mut runs = Vec::new();
    for exp in &study.experiments {
        for replicate in 0..seeds.get(&exp.name) {
            for (level_index, level) in exp.levels.iter().enumerate() {
                let mut spec = seeded_spec(study, exp, level_index, level, replicate);
                if let Some(q) = quick {
                    spec = q.apply(&spec);
                }
                runs.push(PlannedRun {
                    experiment: exp.name.clone(),
                    level: level.label.clone(),
                    level_index,
                    replicate,
                    run_id: spec.run_id(),
                    spec,
                });
            }
        }
    }
    runs
}

/// Every run of `study` at its initial counts ([`SeedCounts::initial`]: `study.seeds`
/// replicates of every level; of an adaptive study, its `min`), shrunk by `quick` when
/// given.
pub fn expand(study: &Study, quick: Option<QuickScale>) -> Vec<PlannedRun> {
    expand_to(study, quick, &SeedCounts::initial(study))
}

/// [`expand_to`] with `seeds(experiment)` replicates of each experiment's levels
/// ([`SeedCounts::with`]).
pub fn expand_with(
    study: &Study,
    quick: Option<QuickScale>,
    seeds: impl Fn(&Experiment) -> usize,
) -> Vec<PlannedRun> {
    expand_to(study, quick, &SeedCounts::with(study, seeds))
}

/// The spec of replicate `replicate` of `level` (the `level_index`-th of `exp`), with
/// its three seeds derived from the study seed.
fn seeded_spec(
    study: &Study,
    exp: &Experiment,
    level_index: usize,
    level: &Level,
    replicate: usize,
) -> RunSpec {
    let mut spec = level.spec.clone();
    let seed = |level: Option<usize>, r: usize, stream: &str| {
        derive_seed(study.seed, &exp.name, level, r, stream)
    };
    match exp.kind {
        ExperimentKind::Factor => {
            let l = (!study.paired_seeds).then_some(level_index);
            spec.init_seed = seed(l, replicate, "init");
            spec.order_seed = seed(l, replicate, "order");
            spec.subset_seed = seed(l, replicate, "subset");
        }
        ExperimentKind::VarianceSources => {
            // Stream index 0 is the fixed value; the level's source takes indices
            // 1..=seeds, so no two arms share a run. `rerun` and `nudge` keep all three
            // seeds at the fixed values (the seeds each single-source arm holds fixed,
            // a setting no other arm runs): `rerun` gives replicate r the rerun number
            // r + 1 (a run of its own, trained alike), `nudge` the nudge seed of index
            // r + 1 of the `nudge` stream (which weight moves, and which way), and
            // `nudge@E` that seed too, moving the weight after epoch E.
            let r = replicate + 1;
            let (init, order, subset) = match level.label.as_str() {
                "init" => (r, 0, 0),
                "order" => (0, r, 0),
                "subset" => (0, 0, r),
                "dropout" | "augment" => (0, 0, 0),
                label if is_seedless(label) => (0, 0, 0),
                _ => (r, r, r),
            };
            spec.init_seed = seed(None, init, "init");
            spec.order_seed = seed(None, order, "order");
            spec.subset_seed = seed(None, subset, "subset");
            // Replicate r's own stream for `dropout` and `augment`; in an experiment
            // that lists them, `order` holds them at the values the fixed order seed
            // gives (in one that does not, they follow the order seed, as always).
            let fixed = |listed: &str| exp.levels.iter().any(|l| l.label == listed);
            let fixed_order = seed(None, 0, "order");
            let at_fixed_order = RunSpec { order_seed: fixed_order, ..spec.clone() };
            match level.label.as_str() {
                "rerun" => {
                    // A study holds at most `MAX_RUNS` runs, far below `u32::MAX`.
                    spec.rerun = u32::try_from(r).unwrap_or(u32::MAX);
                }
                "threads" => {
                    // Thread counts repeat every 4 replicates: the rerun number keeps
                    // each replicate a run of its own.
                    spec.rerun = u32::try_from(r).unwrap_or(u32::MAX);
                    spec.threads = Some(THREAD_COUNTS[replicate % THREAD_COUNTS.len()]);
                }
                "backend" => {
                    // The backends repeat every few replicates: the rerun number keeps
                    // each replicate a run of its own. The weights are the base's.
                    let base = spec.backend;
                    let cycle = backend_cycle(base);
                    spec.rerun = u32::try_from(r).unwrap_or(u32::MAX);
                    spec.backend = cycle[replicate % cycle.len()];
                    spec.weights_backend = (spec.backend != base).then_some(base);
                }
                "dropout" => spec.dropout_seed = Some(seed(None, r, "dropout")),
                "split" => spec.split_seed = Some(seed(None, r, "split")),
                "augment" => spec.augment_seed = Some(seed(None, r, "augment")),
                "order" => {
                    if fixed("dropout") {
                        spec.dropout_seed = Some(at_fixed_order.dropout_stream_seed());
                    }
                    if fixed("augment") {
                        spec.augment_seed = Some(at_fixed_order.augment_stream_seed());
                    }
                }
                label => {
                    if let Some(epoch) = nudge_epoch(label) {
                        // Every nudge source moves the same weight in replicate r; only when.
                        spec.nudge_seed = Some(seed(None, r, "nudge"));
                        spec.nudge_epoch = epoch;
                    }
                }
            }
        }
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backend;
    use crate::study::parse;
    use std::path::Path;

    const STUDY: &str = "seeds = 3\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n\
        [[experiment]]\nname = \"v\"\nkind = \"variance-sources\"\nbase = { train_size = 100, subset = \"stratified\" }\n";

    #[test]
    fn count_and_pairing() {
        let s = parse(STUDY, Path::new("s.toml")).unwrap();
        let runs = expand(&s, None);
        assert_eq!(runs.len(), 3 * 2 + 3 * 4);
        let a: Vec<_> = runs.iter().filter(|r| r.experiment == "a").collect();
        // Paired: replicate r has the same seeds at both levels, different across r.
        for r in 0..3 {
            let at: Vec<_> = a.iter().filter(|p| p.replicate == r).collect();
            assert_eq!(at[0].spec.init_seed, at[1].spec.init_seed);
            assert_ne!(at[0].run_id, at[1].run_id);
        }
        assert_ne!(a[0].spec.init_seed, a[2].spec.init_seed);
    }

    #[test]
    fn variance_sources_vary_one_seed_each() {
        let s = parse(STUDY, Path::new("s.toml")).unwrap();
        let runs = expand(&s, None);
        let ids: std::collections::BTreeSet<&str> =
            runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids.len(), runs.len(), "no two planned runs share a spec");
        let arm = |l: &str| -> Vec<&PlannedRun> {
            runs.iter().filter(|r| r.experiment == "v" && r.level == l).collect()
        };
        let distinct = |v: Vec<u64>| v.iter().collect::<std::collections::BTreeSet<_>>().len();
        let init = arm("init");
        assert_eq!(distinct(init.iter().map(|r| r.spec.init_seed).collect()), 3);
        assert_eq!(distinct(init.iter().map(|r| r.spec.order_seed).collect()), 1);
        assert_eq!(distinct(init.iter().map(|r| r.spec.subset_seed).collect()), 1);
        let order = arm("order");
        assert_eq!(distinct(order.iter().map(|r| r.spec.order_seed).collect()), 3);
        assert_eq!(distinct(order.iter().map(|r| r.spec.init_seed).collect()), 1);
        let all = arm("all");
        assert_eq!(distinct(all.iter().map(|r| r.spec.subset_seed).collect()), 3);
    }

    /// `rerun` and `nudge` run the seeds every single-source arm holds fixed, the same
    /// in every replicate; replicate r of `rerun` has the rerun number r + 1 (so its
    /// own run id), of `nudge` a nudge seed of its own. The four old arms' runs are the
    /// same runs whether or not the new sources are listed.
    #[test]
    fn rerun_and_nudge_keep_the_fixed_seeds() {
        let text = STUDY.replace(
            "kind = \"variance-sources\"\n",
            "kind = \"variance-sources\"\nsources = [\"init\", \"order\", \"subset\", \"all\", \"rerun\", \"nudge\"]\n",
        );
        let s = parse(&text, Path::new("s.toml")).unwrap();
        let runs = expand(&s, None);
        let ids: std::collections::BTreeSet<&str> =
            runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids.len(), runs.len(), "no two planned runs share a spec");
        let arm = |l: &str| -> Vec<&PlannedRun> {
            runs.iter().filter(|r| r.experiment == "v" && r.level == l).collect()
        };
        let seeds = |r: &PlannedRun| (r.spec.init_seed, r.spec.order_seed, r.spec.subset_seed);
        // The fixed seeds: init from the order arm, order from the init arm, subset
        // from either.
        let fixed = (
            arm("order")[0].spec.init_seed,
            arm("init")[0].spec.order_seed,
            arm("init")[0].spec.subset_seed,
        );
        for (source, runs) in [("rerun", arm("rerun")), ("nudge", arm("nudge"))] {
            assert_eq!(runs.len(), 3, "{source}");
            assert!(runs.iter().all(|r| seeds(r) == fixed), "{source}");
        }
        let reruns: Vec<u32> = arm("rerun").iter().map(|r| r.spec.rerun).collect();
        assert_eq!(reruns, [1, 2, 3]);
        assert!(arm("rerun").iter().all(|r| r.spec.nudge_seed.is_none()));
        let nudges: std::collections::BTreeSet<Option<u64>> =
            arm("nudge").iter().map(|r| r.spec.nudge_seed).collect();
        assert_eq!(nudges.len(), 3);
        assert!(nudges.iter().all(|n| n.is_some()));
        assert!(arm("nudge").iter().all(|r| r.spec.rerun == 0));
        // Apart from their marks, rerun and nudge specs are the same spec.
        let bare = |r: &PlannedRun| RunSpec { rerun: 0, nudge_seed: None, ..r.spec.clone() };
        assert_eq!(bare(arm("rerun")[0]), bare(arm("nudge")[2]));
        let old = expand(&parse(STUDY, Path::new("s.toml")).unwrap(), None);
        let kept: Vec<&str> = runs
            .iter()
            .filter(|r| !["rerun", "nudge"].contains(&r.level.as_str()))
            .map(|r| r.run_id.as_str())
            .collect();
        assert_eq!(kept, old.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>());
        assert!(old.iter().all(|r| r.spec.rerun == 0 && r.spec.nudge_seed.is_none()));
    }

    /// `nudge@E` moves the weight `nudge` moves in the same replicate (the same seeds and
    /// nudge seed) after epoch E: the same spec but for `nudge_epoch`, a run of its own.
    #[test]
    fn later_nudges_move_the_same_weight_after_their_epoch() {
        let sources = "sources = [\"all\", \"rerun\", \"nudge\", \"nudge@2\", \"nudge@5\"]\n";
        let text = STUDY.replace(
            "kind = \"variance-sources\"\n",
            &format!("kind = \"variance-sources\"\n{sources}"),
        );
        let runs = expand(&parse(&text, Path::new("s.toml")).unwrap(), None);
        let arm = |l: &str| -> Vec<&PlannedRun> {
            runs.iter().filter(|r| r.experiment == "v" && r.level == l).collect()
        };
        assert!(arm("nudge").iter().all(|r| r.spec.nudge_epoch == 0));
        for (label, epoch) in [("nudge@2", 2), ("nudge@5", 5)] {
            assert_eq!(arm(label).len(), 3, "{label}");
            for (at_start, later) in arm("nudge").iter().zip(arm(label)) {
                assert_eq!(later.spec, RunSpec { nudge_epoch: epoch, ..at_start.spec.clone() });
                assert_ne!(later.run_id, at_start.run_id);
            }
        }
        for (label, err) in [
            ("nudge@10", "after the last epoch"),
            ("nudge@0", "unknown source `nudge@0`"),
            ("nudge@02", "unknown source `nudge@02`"),
            ("nudge@+2", "unknown source `nudge@+2`"),
            ("nudge@", "unknown source `nudge@`"),
        ] {
            let text = STUDY.replace(
                "kind = \"variance-sources\"\n",
                &format!("kind = \"variance-sources\"\nsources = [\"all\", \"{label}\"]\n"),
            );
            let e = parse(&text, Path::new("s.toml")).unwrap_err().to_string();
            assert!(e.contains(err) && e.contains("sources"), "{label}: {e}");
        }
    }

    /// `studies/chaos.toml`: two experiments of the six sources, three later nudges,
    /// `threads`, `split` and `backend`, and one of dropout's and augmentation's own
    /// seeds; 10 seeds each, 300 runs, 292 distinct (`backend`'s flex replicates are
    /// `rerun`'s runs). A build without ndarray and tch cannot plan it, and says so.
    #[test]
    fn the_chaos_study_expands() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../studies/chaos.toml");
        let study = match crate::study::Study::load(&path) {
            Ok(study) => study,
            Err(e) => {
                assert!(crate::study::SOURCE_BACKENDS.iter().any(|b| b.check_plannable().is_err()));
                assert!(e.to_string().contains("`backend` source trains on"), "{e}");
                return;
            }
        };
        let mut sources = crate::study::ALL_VARIANCE_SOURCES[..6].to_vec();
        sources.extend(["nudge@1", "nudge@2", "nudge@5", "threads", "split", "backend"]);
        for exp in &study.experiments[..2] {
            let labels: Vec<&str> = exp.levels.iter().map(|l| l.label.as_str()).collect();
            assert_eq!(labels, sources, "{}", exp.name);
        }
        let runs = expand(&study, None);
        assert_eq!(runs.len(), 2 * 12 * 10 + 6 * 10);
        let ids: std::collections::BTreeSet<&str> =
            runs.iter().map(|r| r.run_id.as_str()).collect();
        assert_eq!(ids.len(), runs.len() - 2 * 4);
        assert!(
            runs.iter().all(|r| r.spec.epochs == 10 && r.spec.model == crate::ModelName::Simple)
        );
        let sizes: std::collections::BTreeSet<Option<usize>> =
            runs.iter().map(|r| r.spec.train_size).collect();
        assert_eq!(sizes.into_iter().collect::<Vec<_>>(), [Some(1000), Some(10000)]);
    }

    /// `backend` is `rerun` trained on the experiment's backend and then each other CPU
    /// backend in turn, every replicate from the weights the experiment's backend draws;
    /// a build that lacks one of them cannot plan it and says which; a script cannot
    /// list it.
    #[test]
    fn the_backend_source_trains_the_same_weights_on_each_cpu_backend() {
        let text = STUDY.replace(
            "kind = \"variance-sources\"\n",
            "kind = \"variance-sources\"\nsources = [\"rerun\", \"backend\"]\n",
        );
        let text = text.replace("seeds = 3", "seeds = 4\n[base]\nbackend = \"flex\"");
        let all_plannable =
            crate::study::SOURCE_BACKENDS.iter().all(|b| b.check_plannable().is_ok());
        let study = match parse(&text, Path::new("s.toml")) {
            Ok(study) => study,
            Err(e) => {
                assert!(!all_plannable, "{e}");
                let e = e.to_string();
                assert!(e.contains("`backend` source trains on") && e.contains("feature"), "{e}");
                return;
            }
        };
        assert!(all_plannable);
        let runs = expand(&study, None);
        let arm = |l: &str| -> Vec<&PlannedRun> {
            runs.iter().filter(|r| r.experiment == "v" && r.level == l).collect()
        };
        let backends: Vec<(Backend, Option<Backend>, u32)> = arm("backend")
            .iter()
            .map(|r| (r.spec.backend, r.spec.weights_backend, r.spec.rerun))
            .collect();
        let (flex, nd, tch) = (Backend::Flex, Backend::Ndarray, Backend::Tch);
        assert_eq!(
            backends,
            [(flex, None, 1), (nd, Some(flex), 2), (tch, Some(flex), 3), (flex, None, 4)]
        );
        for (b, rerun) in arm("backend").iter().zip(arm("rerun")) {
            let same = RunSpec { backend: flex, weights_backend: None, ..b.spec.clone() };
            assert_eq!(same, rerun.spec);
        }
        assert_eq!(crate::study::backend_cycle(tch), [tch, flex, nd]);
        let script = "seeds = 2\n[base]\ncommand = [\"python\", \"train.py\"]\n[[experiment]]\n\
            name = \"v\"\nkind = \"variance-sources\"\nsources = [\"init\", \"backend\"]\n";
        let e = parse(script, Path::new("s.toml")).unwrap_err().to_string();
        assert!(e.contains("`backend`: a script trains on its own framework"), "{e}");
    }

    /// `dropout` and `augment` draw their own seed each replicate with init, order and
    /// subset fixed; `threads` is `rerun` trained with 1, 2, 3, 4, 1, … threads. Where
    /// `dropout` or `augment` is listed, `order` holds that stream at its fixed value (the
    /// one the fixed order seed gives), so `order` is the order of examples alone; where
    /// neither is, `order`'s runs are those of an experiment without the new sources.
    #[test]
    fn dropout_augment_and_threads_change_only_their_own_stream() {
        let regularised = STUDY.replace(
            "subset = \"stratified\" }",
            "subset = \"stratified\", dropout = 0.25, augment = \"geometric\" }",
        );
        let with = |sources: &str| {
            let text = regularised.replace(
                "kind = \"variance-sources\"\n",
                &format!("kind = \"variance-sources\"\nsources = [{sources}]\n"),
            );
            expand(&parse(&text, Path::new("s.toml")).unwrap(), None)
        };
        let runs =
            with("\"order\", \"all\", \"rerun\", \"dropout\", \"augment\", \"threads\", \"split\"");
        let arm = |l: &str| -> Vec<&PlannedRun> {
            runs.iter().filter(|r| r.experiment == "v" && r.level == l).collect()
        };
        let fixed = arm("rerun")[0].spec.clone();
        let fixed = RunSpec { rerun: 0, ..fixed };
        for (source, stream) in [("dropout", 0), ("augment", 1)] {
            let streams: std::collections::BTreeSet<u64> = arm(source)
                .iter()
                .map(|r| {
                    let s = &r.spec;
                    assert_eq!(
                        (s.init_seed, s.order_seed, s.subset_seed),
                        (fixed.init_seed, fixed.order_seed, fixed.subset_seed)
                    );
                    assert_eq!(s.rerun, 0);
                    if stream == 0 {
                        assert_eq!(s.augment_stream_seed(), fixed.augment_stream_seed());
                        s.dropout_stream_seed()
                    } else {
                        assert_eq!(s.dropout_stream_seed(), fixed.dropout_stream_seed());
                        s.augment_stream_seed()
                    }
                })
                .collect();
            assert_eq!(streams.len(), 3, "{source}: a stream of its own per replicate");
            let fixed_stream =
                if stream == 0 { fixed.dropout_stream_seed() } else { fixed.augment_stream_seed() };
            assert!(!streams.contains(&fixed_stream), "{source}");
        }
        for r in arm("order") {
            assert_ne!(r.spec.order_seed, fixed.order_seed);
            assert_eq!(r.spec.dropout_stream_seed(), fixed.dropout_stream_seed());
            assert_eq!(r.spec.augment_stream_seed(), fixed.augment_stream_seed());
        }
        for r in arm("all") {
            assert_eq!((r.spec.dropout_seed, r.spec.augment_seed), (None, None));
        }
        let threads: Vec<(Option<usize>, u32)> =
            arm("threads").iter().map(|r| (r.spec.threads, r.spec.rerun)).collect();
        assert_eq!(threads, [(Some(1), 1), (Some(2), 2), (Some(3), 3)]);
        // `split` is the fixed seeds' run, scored on a resample of its own per replicate.
        let splits: std::collections::BTreeSet<Option<u64>> =
            arm("split").iter().map(|r| r.spec.split_seed).collect();
        assert_eq!(splits.len(), 3);
        for r in arm("split") {
            assert!(r.spec.split_seed.is_some());
            assert_eq!(RunSpec { split_seed: None, ..r.spec.clone() }, fixed);
        }
        for (t, rerun) in arm("threads").iter().zip(arm("rerun")) {
            assert_eq!(RunSpec { threads: None, ..t.spec.clone() }, rerun.spec);
            assert_ne!(t.run_id, rerun.run_id);
        }
        // Without `dropout` and `augment`, `order` and `all` are the runs they always were.
        let plain = with("\"order\", \"all\", \"rerun\"");
        let old_order: Vec<&str> =
            plain.iter().filter(|r| r.level == "order").map(|r| r.run_id.as_str()).collect();
        assert!(
            plain.iter().all(|r| r.spec.dropout_seed.is_none() && r.spec.augment_seed.is_none())
        );
        let new_order: Vec<&str> = arm("order").iter().map(|r| r.run_id.as_str()).collect();
        assert_ne!(old_order, new_order);
        let all_ids = |runs: &[PlannedRun]| -> Vec<String> {
            runs.iter().filter(|r| r.level == "all").map(|r| r.run_id.clone()).collect()
        };
        assert_eq!(all_ids(&plain), all_ids(&runs));
    }

    #[test]
    fn unpaired_seeds_differ_across_levels() {
        let text = format!("paired_seeds = false\n{STUDY}");
        let s = parse(&text, Path::new("s.toml")).unwrap();
        let runs = expand(&s, None);
        let a: Vec<_> = runs.iter().filter(|r| r.experiment == "a").collect();
        let seeds: std::collections::BTreeSet<u64> = a.iter().map(|r| r.spec.init_seed).collect();
        assert_eq!(seeds.len(), a.len());
    }

    /// Replicate r is the same run whatever the design: an adaptive study expanded to
    /// any number of seeds per experiment is a prefix of a fixed study's replicates.
    #[test]
    fn replicates_are_the_same_runs_in_any_design() {
        let fixed = parse(&STUDY.replace("seeds = 3", "seeds = 5"), Path::new("s.toml")).unwrap();
        let text = STUDY.replace(
            "seeds = 3",
            "seeds = { min = 2, max = 9, step = 3 }\nresolve = { delta = 1 }",
        );
        let adaptive = parse(&text, Path::new("s.toml")).unwrap();
        assert_eq!(expand(&adaptive, None).len(), 2 * 2 + 2 * 4, "`min` seeds by default");
        let seeds = |e: &crate::study::Experiment| if e.name == "a" { 5 } else { 2 };
        let some = expand_with(&adaptive, None, seeds);
        let all = expand(&fixed, None);
        for exp in ["a", "v"] {
            let ids = |runs: &[PlannedRun], n: usize| -> Vec<String> {
                let mine = runs.iter().filter(|r| r.experiment == exp && r.replicate < n);
                mine.map(|r| r.run_id.clone()).collect()
            };
            let n = if exp == "a" { 5 } else { 2 };
            assert_eq!(ids(&some, n), ids(&all, n), "{exp}");
            assert_eq!(ids(&some, 9).len(), ids(&all, n).len(), "{exp}: no more replicates");
        }
    }

    /// Study runs evaluate their curve points on 2000 test examples unless the study,
    /// an experiment or a level says otherwise; `"full"` is the whole test set every
    /// epoch, and 0 is refused.
    #[test]
    fn study_runs_default_to_an_eval_subset() {
        let runs = expand(&parse(STUDY, Path::new("s.toml")).unwrap(), None);
        assert!(runs.iter().all(|r| r.spec.eval_subset == Some(crate::DEFAULT_EVAL_SUBSET)));
        let text = "[base]\neval_subset = \"full\"\n[[experiment]]\nname = \"a\"\n\
                    vary = { lr = [0.1] }\n[[experiment]]\nname = \"b\"\n\
                    base = { eval_subset = 500 }\nvary = { lr = [0.1] }\n[[experiment]]\n\
                    name = \"c\"\nvary = { eval_subset = [\"full\", 1000] }\n";
        let study = parse(text, Path::new("s.toml")).unwrap();
        let subsets = |e: &str| -> Vec<(String, Option<usize>)> {
            study
                .experiments
                .iter()
                .filter(|x| x.name == e)
                .flat_map(|x| &x.levels)
                .map(|l| (l.label.clone(), l.spec.eval_subset))
                .collect()
        };
        assert_eq!(subsets("a"), [("0.1".to_string(), None)]);
        assert_eq!(subsets("b"), [("0.1".to_string(), Some(500))]);
        assert_eq!(subsets("c"), [("full".to_string(), None), ("1000".to_string(), Some(1000))]);
        let zero = "[[experiment]]\nname = \"a\"\nvary = { eval_subset = [0] }\n";
        let e = parse(zero, Path::new("s.toml")).unwrap_err().to_string();
        assert!(e.contains("s.toml:3") && e.contains("`eval_subset`") && e.contains("full"), "{e}");
    }

    #[test]
    fn quick_keeps_levels_distinct() {
        let q = QuickScale::default();
        let small = q.apply(&RunSpec { train_size: Some(1000), ..RunSpec::default() });
        let full = q.apply(&RunSpec::default());
        assert_eq!(small.train_size, Some(64));
        assert_eq!(full.train_size, Some(737));
        let sizes: Vec<Option<usize>> = [250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 60000]
            .iter()
            .map(|&n| q.apply(&RunSpec { train_size: Some(n), ..RunSpec::default() }).train_size)
            .collect();
        assert!(sizes.windows(2).all(|w| w[0] < w[1]), "{sizes:?}");
        let tiny = q.apply(&RunSpec { train_size: Some(5), ..RunSpec::default() });
        assert_eq!(tiny.train_size, Some(5));
        assert_eq!(full.epochs, 1);
        assert_eq!(full.test_size, Some(1000));
        // A nudge after epoch 5 keeps 6 epochs; the spec's own count caps it.
        let later = RunSpec { nudge_seed: Some(1), nudge_epoch: 5, ..RunSpec::default() };
        assert_eq!(q.apply(&later).epochs, 6);
        assert!(q.apply(&later).validate().is_ok());
        assert_eq!(q.apply(&RunSpec { epochs: 4, nudge_epoch: 3, ..later }).epochs, 4);
    }
}
