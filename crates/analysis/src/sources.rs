//! A variance-sources experiment's question: how much spread of test accuracy each
//! source of seed randomness contributes on its own. Its levels hold the configuration
//! fixed and vary one seed each (`init`, `order`, `subset`), then all three (`all`);
//! what is compared is their **standard deviations**, never their means (each level's
//! mean is that of one fixed setting of the other seeds, which says nothing about the
//! source).
//!
//! Per source: the sd of test accuracy with its 95% chi-square interval (normal
//! outcomes) and a percentile bootstrap interval over its replicates (no shape
//! assumed, but too narrow with few seeds); the ratio of its sd to the all-seeds sd
//! with a bootstrap interval that resamples replicates jointly (replicate `r` of the
//! `all` level draws this source's seed as replicate `r` of this level does, so the two
//! sds are correlated and only resampling whole replicates keeps that); and, across
//! the single sources, the Brown–Forsythe test of equal spread (their runs share no
//! seed, so the groups are independent; `all` shares a seed with each and is left out,
//! and so are `rerun`, `threads`, `split` and the nudges, which vary no training
//! seed). Runs that diverged are left
//! out, as from the level summaries.
//!
//! **Chance or chaos?** An experiment may also list `rerun` (the fixed seeds run
//! again, replicate after replicate), `threads` (the fixed seeds trained with another
//! thread count each replicate) and `nudge` (the fixed seeds, with one initial
//! weight moved by one unit in the last place, a different weight each replicate).
//! Their runs share no seed with `all`'s, so [`chaos`] compares each one's spread with
//! the all-seeds spread by the F interval of the ratio of two independent sds (normal
//! outcomes) and says whether a perturbation far below any seed's explains
//! the seed noise ([`ChaosVerdict`]).

use std::collections::HashMap;

use cnnvar_core::study::{PlannedRun, is_seedless, nudge_epoch};
use cnnvar_core::{Predictions, RunRecord};
use serde::Serialize;

use crate::inference::{
    BrownForsythe, bootstrap_sd, bootstrap_sd_ratio, brown_forsythe, variance_ratio,
};
use crate::noise::Disagreement;
use crate::{LevelStats, SourceStats};

/// The level that varies every seed at once.
pub const ALL: &str = "all";

/// The level that runs the fixed seeds again, replicate after replicate.
pub const RERUN: &str = "rerun";

/// The level that runs the fixed seeds with one initial weight moved by one ulp.
pub const NUDGE: &str = "nudge";

/// The level that runs the fixed seeds with 1, 2, 3 or 4 compute threads in turn
/// (`cnnvar_core::study::THREAD_COUNTS`).
pub const THREADS: &str = "threads";

/// The level that evaluates the fixed seeds' model on a new bootstrap resample of the
/// test set each replicate: the test set's own part of the spread, measured.
pub const SPLIT: &str = "split";

/// The level that trains the fixed seeds' initial weights on the experiment's backend
/// and each other CPU backend in turn (`cnnvar_core::study::backend_cycle`): numerical
/// noise from another implementation of the same arithmetic.
pub const BACKEND: &str = "backend";

/// The least share of the all-seeds sd the lower end of a 95% interval must reach for
/// a spread to be called as large as new seeds' (chaos): half. With 10 seeds in each
/// arm the F interval of an sd ratio spans a factor of 2.0 each way, so only an
/// observed ratio of 1.0 or more reaches it (with 20 seeds, a factor of 1.6: 0.8 or
/// more).
pub const CHAOS_SHARE: f64 = 0.5;

/// Bootstrap resamples of the replicates.
pub const RESAMPLES: usize = 2000;

/// Seed of the bootstrap, fixed so that reports are reproducible (each source takes
/// its own stream from it).
const SEED: u64 = 0x5eed_5017;

/// Two-sided error of every interval here (95%).
const ALPHA: f64 = 0.05;

/// The accuracy of each run of `level` that did not diverge, with its replicate.
fn replicates(level: &LevelStats) -> Vec<(usize, f64)> {
    let diverged = |r: &usize| level.diverged_runs.iter().any(|d| d.replicate == *r);
    level
        .scored_replicates
        .iter()
        .zip(&level.scored_accuracies)
        .filter(|(r, a)| !diverged(r) && a.is_finite())
        .map(|(&r, &a)| (r, a))
        .collect()
}

/// The values of `a` and `b` at the replicates both have, in `a`'s order.
fn shared(a: &[(usize, f64)], b: &[(usize, f64)]) -> (Vec<f64>, Vec<f64>) {
    a.iter().filter_map(|(r, x)| b.iter().find(|(s, _)| s == r).map(|(_, y)| (*x, *y))).unzip()
}

/// The spread of test accuracy at each level of a variance-sources experiment (one
/// level per source of randomness), in level order.
pub fn source_stats(levels: &[LevelStats]) -> Vec<SourceStats> {
    let all = levels.iter().find(|l| l.label == ALL).map(replicates);
    levels
        .iter()
        .enumerate()
        .map(|(i, level)| {
            let runs = replicates(level);
            let values: Vec<f64> = runs.iter().map(|(_, a)| *a).collect();
            let seed = SEED.wrapping_add(i as u64);
            let chi2 = crate::inference::sd_interval(&values, ALPHA);
            let ratio = all.as_ref().filter(|_| level.label != ALL).and_then(|all| {
                let (x, y) = shared(&runs, all);
                bootstrap_sd_ratio(&x, &y, RESAMPLES, ALPHA, seed)
            });
            SourceStats {
                source: level.label.clone(),
                n: values.len(),
                sd: chi2.as_ref().map(|s| s.sd),
                sd_ci: chi2.map(|s| s.ci),
                sd_ci_bootstrap: bootstrap_sd(&values, RESAMPLES, ALPHA, seed).map(|b| b.ci),
                ratio_to_all: ratio.as_ref().map(|r| r.estimate),
                ratio_to_all_ci: ratio.map(|r| r.ci),
                ignored: seed_ignored(level),
            }
        })
        .collect()
}

/// Whether `level` varies a seed (it is no `rerun` or `nudge`) but its runs, two or
/// more with predictions, all predicted every test example alike.
fn seed_ignored(level: &LevelStats) -> bool {
    !is_seedless(&level.label)
        && level.test_set_noise.as_ref().is_some_and(|n| n.runs >= 2 && n.disagreement.max == 0.0)
}

/// Whether the single sources of a variance-sources experiment spread test accuracy
/// alike.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EqualSpread {
    /// The sources compared: every level but [`ALL`], with at least 2 runs.
    pub sources: Vec<String>,
    /// Runs compared.
    pub runs: usize,
    /// The Brown–Forsythe test (Levene's, centred at the medians) of equal spread.
    pub test: BrownForsythe,
}

/// The Brown–Forsythe test of equal spread across the single sources of a
/// variance-sources experiment's `levels` (not `all`, `rerun` or `nudge`); `None` with
/// fewer than 2 sources of at least 2 runs.
pub fn equal_spread(levels: &[LevelStats]) -> Option<EqualSpread> {
    let groups: Vec<(String, Vec<f64>)> = levels
        .iter()
        .filter(|l| l.label != ALL && !is_seedless(&l.label))
        .map(|l| (l.label.clone(), replicates(l).into_iter().map(|(_, a)| a).collect()))
        .filter(|(_, v): &(String, Vec<f64>)| v.len() >= 2)
        .collect();
    let values: Vec<&[f64]> = groups.iter().map(|(_, v)| v.as_slice()).collect();
    let test = brown_forsythe(&values)?;
    Some(EqualSpread {
        sources: groups.iter().map(|(s, _)| s.clone()).collect(),
        runs: values.iter().map(|v| v.len()).sum(),
        test,
    })
}

/// What a `rerun` or `nudge` level's spread says, against the all-seeds spread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChaosVerdict {
    /// Every run scored exactly the same accuracy.
    Identical,
    /// The 95% interval of its sd as a share of the all-seeds sd reaches 1 and starts
    /// at [`CHAOS_SHARE`] or above: as much spread as fully new seeds.
    AsMuchAsNewSeeds,
    /// The interval lies below 1: less spread than new seeds.
    LessThanNewSeeds,
    /// The interval reaches 1 but starts below [`CHAOS_SHARE`]: too wide to tell.
    NotResolved,
    /// No ratio: no `all` level, too few runs, or no spread at `all`.
    NoComparison,
}

/// A `rerun` or `nudge` level of a variance-sources experiment against its `all` level.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChaosStats {
    /// [`RERUN`], [`THREADS`], [`SPLIT`], [`BACKEND`], [`NUDGE`] or a `nudge@E`.
    pub source: String,
    /// Runs (diverged ones left out).
    pub n: usize,
    /// Standard deviation of test accuracy.
    pub sd: Option<f64>,
    /// Its 95% chi-square interval.
    pub sd_ci: Option<(f64, f64)>,
    /// `sd / sd(all)`: the share of the all-seeds spread.
    pub ratio: Option<f64>,
    /// Its 95% F interval (two independent samples, normal outcomes).
    pub ratio_ci: Option<(f64, f64)>,
    /// What that says.
    pub verdict: ChaosVerdict,
    /// For a nudge, the epoch after which the weight moved (0: before training).
    pub nudge_epoch: Option<u32>,
    /// For a nudge, how often its runs' predictions differ from their un-nudged twins'
    /// ([`LevelStats::twin_disagreement`]): the butterfly curve, against `nudge_epoch`.
    pub twin_disagreement: Option<Disagreement>,
}

/// The `rerun`, `threads`, `split` and nudge levels of a variance-sources experiment's
/// `levels`, in level order, each against the `all` level: empty when it has none.
pub fn chaos(levels: &[LevelStats]) -> Vec<ChaosStats> {
    let all: Option<Vec<f64>> =
        levels.iter().find(|l| l.label == ALL).map(|l| accuracies(&replicates(l)));
    levels
        .iter()
        .filter(|l| is_seedless(&l.label))
        .map(|level| {
            let values = accuracies(&replicates(level));
            let identical = values.len() >= 2 && values.iter().all(|v| *v == values[0]);
            // Identical values have no spread at all (not the rounding error of a mean).
            let interval = crate::inference::sd_interval(&values, ALPHA)
                .map(|i| if identical { (0.0, (0.0, 0.0)) } else { (i.sd, i.ci) });
            let ratio = all.as_ref().and_then(|all| variance_ratio(&values, all, ALPHA));
            let verdict = match &ratio {
                _ if identical => ChaosVerdict::Identical,
                None => ChaosVerdict::NoComparison,
                Some(r) => {
                    let (lo, hi) = r.sd_ratio_ci;
                    if hi < 1.0 {
                        ChaosVerdict::LessThanNewSeeds
                    } else if lo >= CHAOS_SHARE {
                        ChaosVerdict::AsMuchAsNewSeeds
                    } else {
                        ChaosVerdict::NotResolved
                    }
                }
            };
            ChaosStats {
                source: level.label.clone(),
                n: values.len(),
                sd: interval.map(|i| i.0),
                sd_ci: interval.map(|i| i.1),
                ratio: ratio.as_ref().map(|r| r.sd_ratio),
                ratio_ci: ratio.map(|r| r.sd_ratio_ci),
                verdict,
                nudge_epoch: nudge_epoch(&level.label),
                twin_disagreement: level.twin_disagreement.clone(),
            }
        })
        .collect()
}

/// The disagreement of the nudge level `label` (`nudge` or `nudge@E`) with its
/// un-nudged twins, from `runs` (an experiment's runs with their records) and their
/// `predictions`: for each replicate where both the nudged run and the `rerun` run of
/// that replicate (the same seeds, no weight moved) finished without diverging and have
/// predictions of the same examples, the share of examples the two predict
/// differently; the mean, least and most over those replicates. `None` for any other
/// level, or when no replicate has both.
pub fn twin_disagreement(
    label: &str,
    runs: &[&(&PlannedRun, RunRecord)],
    predictions: &HashMap<String, Predictions>,
) -> Option<Disagreement> {
    nudge_epoch(label)?;
    let scored = |level: &str, replicate: usize| -> Option<&Predictions> {
        let (run, rec) = runs.iter().find(|(r, _)| r.level == level && r.replicate == replicate)?;
        let ok = rec.divergence().is_none() && rec.test_accuracy.is_finite();
        ok.then(|| predictions.get(&run.run_id)).flatten()
    };
    let shares: Vec<f64> = runs
        .iter()
        .filter(|(r, _)| r.level == label)
        .filter_map(|(r, _)| {
            let (nudged, twin) = (scored(label, r.replicate)?, scored(RERUN, r.replicate)?);
            let same_examples = nudged.labels == twin.labels && !nudged.labels.is_empty();
            same_examples.then(|| Disagreement::share(&nudged.predicted, &twin.predicted))
        })
        .collect();
    (!shares.is_empty()).then(|| Disagreement::of(&shares))
}

/// The accuracies of `runs`.
fn accuracies(runs: &[(usize, f64)]) -> Vec<f64> {
    runs.iter().map(|(_, a)| *a).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DivergedRun;

    /// A level with these accuracies at replicates 0, 1, …
    fn level(label: &str, accuracies: &[f64]) -> LevelStats {
        LevelStats {
            label: label.into(),
            scored_accuracies: accuracies.to_vec(),
            scored_replicates: (0..accuracies.len()).collect(),
            ..LevelStats::default()
        }
    }

    /// A source whose runs all predicted alike is a seed the training ignores; one
    /// whose runs differ in one prediction is not, and neither is `rerun` (it varies no
    /// seed) or a level of one run.
    #[test]
    fn a_seed_whose_runs_all_predict_alike_is_ignored() {
        let labels = [0u8, 1, 2, 3];
        let with_runs = |label: &str, runs: &[[u8; 4]]| LevelStats {
            test_set_noise: crate::noise::test_set_noise(runs, &labels).ok().map(|n| n.summary(3)),
            ..level(label, &vec![0.5; runs.len()])
        };
        let same = [[0u8, 1, 0, 0]; 3];
        let one_differs = [[0u8, 1, 0, 0], [0, 1, 0, 0], [0, 1, 2, 0]];
        let levels = vec![
            with_runs("subset", &same),
            with_runs("init", &one_differs),
            with_runs("rerun", &same),
            with_runs("order", &same[..1]),
        ];
        let ignored: Vec<bool> = source_stats(&levels).iter().map(|s| s.ignored).collect();
        assert_eq!(ignored, [true, false, false, false]);
    }

    /// Normal-ish accuracies of sd `sd` from a fixed stream, plus `shared[r]`.
    fn draws(sd: f64, seed: u64, shared: &[f64]) -> Vec<f64> {
        let mut rng = crate::inference::bootstrap::SplitMix(seed);
        shared.iter().map(|s| 0.85 + s + sd * rng.normal()).collect()
    }

    /// The sd and its chi-square interval are those of the level's runs; the ratio to
    /// `all` is resampled over shared replicates and brackets its estimate; `all` has
    /// no ratio to itself.
    #[test]
    fn each_source_has_its_sd_intervals_and_ratio_to_all() {
        let init_part = draws(0.004, 1, &[0.0; 20]);
        let init: Vec<f64> = init_part.iter().map(|x| x - 0.85).collect();
        let levels = vec![
            level("init", &init_part),
            level("order", &draws(0.004, 2, &[0.0; 20])),
            level("subset", &draws(0.010, 3, &[0.0; 20])),
            level(ALL, &draws(0.009, 4, &init)),
        ];
        let s = source_stats(&levels);
        assert_eq!(s.len(), 4);
        for (src, lvl) in s.iter().zip(&levels) {
            let want = crate::inference::sd_interval(&lvl.scored_accuracies, 0.05).unwrap();
            assert_eq!((src.n, src.sd, src.sd_ci), (20, Some(want.sd), Some(want.ci)));
            let (lo, hi) = src.sd_ci_bootstrap.unwrap();
            assert!(lo < want.sd && want.sd < hi, "{src:?}");
        }
        for src in &s[..3] {
            let (r, (lo, hi)) = (src.ratio_to_all.unwrap(), src.ratio_to_all_ci.unwrap());
            assert!(lo < r && r < hi, "{src:?}");
            assert!((r - src.sd.unwrap() / s[3].sd.unwrap()).abs() < 1e-12);
        }
        assert_eq!((s[3].ratio_to_all, s[3].ratio_to_all_ci), (None, None));
        // Subset's spread is 2.5 times the others': told apart.
        let e = equal_spread(&levels).unwrap();
        assert_eq!((e.sources.len(), e.runs, e.test.df1, e.test.df2), (3, 60, 2.0, 57.0));
        assert!(e.test.p < 0.01, "{e:?}");
        assert_eq!(e.sources, ["init", "order", "subset"]);
        // The same report twice: the bootstrap is seeded.
        assert_eq!(source_stats(&levels), s);
    }

    /// Equal spreads are not told apart; a diverged run is left out of its level.
    #[test]
    fn equal_spreads_and_diverged_runs() {
        let mut levels = vec![
            level("init", &draws(0.005, 5, &[0.0; 12])),
            level("order", &draws(0.005, 6, &[0.0; 12])),
            level("subset", &draws(0.005, 7, &[0.0; 12])),
        ];
        let e = equal_spread(&levels).unwrap();
        assert!(e.test.p > 0.05, "{e:?}");
        levels[0].scored_accuracies[3] = 0.1;
        levels[0].diverged_runs =
            vec![DivergedRun { run_id: "x".into(), replicate: 3, reason: String::new() }];
        let s = source_stats(&levels);
        assert_eq!(s[0].n, 11);
        assert!(s[0].sd.unwrap() < 0.01, "the diverged run is left out: {:?}", s[0]);
        assert_eq!(s[0].ratio_to_all, None, "no `all` level, no ratio");
        assert!(equal_spread(&levels[..1]).is_none());
    }

    /// `rerun` and `nudge` against `all`: the ratio is the F interval of two
    /// independent sds; the same spread is chaos, a tenth of it less than new seeds,
    /// identical runs deterministic, three seeds not resolved, no `all` no comparison;
    /// neither enters the test of equal spread.
    #[test]
    fn rerun_and_nudge_are_judged_against_all_seeds() {
        let all = draws(0.01, 8, &[0.0; 20]);
        let same: Vec<f64> = all.iter().rev().map(|a| a - 0.002).collect();
        let small = draws(0.001, 9, &[0.0; 20]);
        let levels = vec![
            level("init", &draws(0.006, 10, &[0.0; 20])),
            level("order", &draws(0.006, 11, &[0.0; 20])),
            level("subset", &draws(0.006, 12, &[0.0; 20])),
            level(ALL, &all),
            level(RERUN, &[0.8512; 20]),
            level(NUDGE, &same),
        ];
        let c = chaos(&levels);
        assert_eq!(c.iter().map(|c| c.source.as_str()).collect::<Vec<_>>(), [RERUN, NUDGE]);
        assert_eq!(c[0].verdict, ChaosVerdict::Identical);
        assert_eq!((c[0].n, c[0].sd, c[0].sd_ci), (20, Some(0.0), Some((0.0, 0.0))));
        let want = variance_ratio(&same, &all, 0.05).unwrap();
        assert_eq!(c[1].verdict, ChaosVerdict::AsMuchAsNewSeeds, "{:?}", c[1]);
        assert_eq!((c[1].ratio, c[1].ratio_ci), (Some(want.sd_ratio), Some(want.sd_ratio_ci)));
        assert!((want.sd_ratio - 1.0).abs() < 1e-6, "{want:?}");
        let (lo, hi) = want.sd_ratio_ci;
        assert!((CHAOS_SHARE..1.0).contains(&lo) && hi > 1.0, "{want:?}");
        let e = equal_spread(&levels).unwrap();
        assert_eq!(e.sources, ["init", "order", "subset"]);
        // Both are sources of the experiment's spread too, rerun's with no spread.
        let s = source_stats(&levels);
        assert_eq!(s.iter().map(|s| s.source.as_str()).collect::<Vec<_>>()[4..], [RERUN, NUDGE]);
        let zero = |x: Option<f64>| x.is_some_and(|x| x.abs() < 5e-5);
        assert!(zero(s[4].sd) && zero(s[4].ratio_to_all), "{:?}", s[4]);

        let mut less = levels.clone();
        less[5] = level(NUDGE, &small);
        let c = chaos(&less);
        assert_eq!(c[1].verdict, ChaosVerdict::LessThanNewSeeds, "{:?}", c[1]);
        assert!(c[1].ratio_ci.unwrap().1 < 1.0);

        let few = vec![level(ALL, &all[..3]), level(NUDGE, &same[..3]), level(RERUN, &small[..3])];
        let c = chaos(&few);
        assert_eq!(c[0].source, NUDGE);
        assert_eq!(c[0].verdict, ChaosVerdict::NotResolved, "{:?}", c[0]);
        let (lo, hi) = c[0].ratio_ci.unwrap();
        assert!(lo < CHAOS_SHARE && hi >= 1.0, "{:?}", c[0]);
        assert_eq!((c[1].source.as_str(), c[1].n), (RERUN, 3));
        assert!(c[1].sd.is_some_and(|sd| sd < 0.01), "{:?}", c[1]);

        let alone = chaos(&[level(NUDGE, &same)]);
        assert_eq!((alone[0].verdict, alone[0].ratio), (ChaosVerdict::NoComparison, None));
        assert!(chaos(&levels[..4]).is_empty(), "no rerun or nudge level, nothing to say");
    }

    /// A nudge's twin is the `rerun` run of its replicate: per replicate, the share of
    /// examples the two predict differently, worked out by hand; replicates without a
    /// twin, with a diverged twin or on other examples are left out; levels that are not
    /// nudges have none.
    #[test]
    fn a_nudge_is_compared_with_the_rerun_of_its_replicate() {
        let run = |level: &str, r: usize, accuracy: f64| {
            let spec = cnnvar_core::RunSpec { init_seed: r as u64, ..Default::default() };
            let planned = PlannedRun {
                experiment: "v".into(),
                level: level.into(),
                level_index: 0,
                replicate: r,
                run_id: format!("{level}-{r}"),
                spec: spec.clone(),
            };
            (
                planned,
                RunRecord { test_accuracy: accuracy, ..cnnvar_core::testing::record_of(&spec) },
            )
        };
        let owned = [
            run(RERUN, 0, 0.5),
            run(RERUN, 1, 0.5),
            run(RERUN, 2, f64::NAN),
            run("nudge@2", 0, 0.5),
            run("nudge@2", 1, 0.5),
            run("nudge@2", 2, 0.5),
            run("nudge@2", 3, 0.5),
            run("init", 0, 0.5),
        ];
        let runs: Vec<(&PlannedRun, RunRecord)> =
            owned.iter().map(|(p, r)| (p, r.clone())).collect();
        let mine: Vec<&(&PlannedRun, RunRecord)> = runs.iter().collect();
        let labels = vec![0u8, 1, 2, 3];
        let preds = |id: &str, predicted: [u8; 4]| {
            (id.to_string(), Predictions { predicted: predicted.to_vec(), labels: labels.clone() })
        };
        let mut predictions: HashMap<String, Predictions> = [
            preds("rerun-0", [0, 1, 2, 3]),
            preds("rerun-1", [0, 1, 2, 3]),
            preds("rerun-2", [0, 1, 2, 3]),
            preds("nudge@2-0", [0, 1, 2, 0]),
            preds("nudge@2-1", [1, 1, 0, 0]),
            preds("nudge@2-2", [9, 9, 9, 9]),
            preds("nudge@2-3", [9, 9, 9, 9]),
            preds("init-0", [9, 9, 9, 9]),
        ]
        .into_iter()
        .collect();
        let d = twin_disagreement("nudge@2", &mine, &predictions).unwrap();
        assert_eq!((d.mean, d.min, d.max), (0.5, 0.25, 0.75));
        assert_eq!(twin_disagreement("init", &mine, &predictions), None);
        assert_eq!(twin_disagreement(RERUN, &mine, &predictions), None);
        assert_eq!(twin_disagreement(NUDGE, &mine, &predictions), None, "no nudge runs");
        // Other examples than the twin's: not compared.
        predictions.get_mut("rerun-1").unwrap().labels = vec![3, 2, 1, 0];
        let d = twin_disagreement("nudge@2", &mine, &predictions).unwrap();
        assert_eq!((d.mean, d.min, d.max), (0.25, 0.25, 0.25));
    }
}
