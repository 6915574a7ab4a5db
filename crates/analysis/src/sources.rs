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
//! seed, so the groups are independent; `all` shares a seed with each and is left out).
//! Runs that diverged are left out, as from the level summaries.

use serde::Serialize;

use crate::inference::{BrownForsythe, bootstrap_sd, bootstrap_sd_ratio, brown_forsythe};
use crate::{LevelStats, SourceStats};

/// The level that varies every seed at once.
pub const ALL: &str = "all";

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
            }
        })
        .collect()
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
/// variance-sources experiment's `levels`; `None` with fewer than 2 sources of at least
/// 2 runs.
pub fn equal_spread(levels: &[LevelStats]) -> Option<EqualSpread> {
    let groups: Vec<(String, Vec<f64>)> = levels
        .iter()
        .filter(|l| l.label != ALL)
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

/// `subset: sd 1.02 [0.79, 1.45] points, 0.95 [0.71, 1.32] of all seeds' sd; …; spread
/// differs between init, order and subset (Brown–Forsythe p = 0.003)`: each source's
/// sd with its chi-square interval and its ratio to the all-seeds sd, then the test.
pub fn sentence(sources: &[SourceStats], equal: Option<&EqualSpread>) -> String {
    let pts = |x: f64| format!("{:.2}", 100.0 * x);
    let mut parts: Vec<String> = sources
        .iter()
        .filter_map(|s| {
            let sd = s.sd?;
            let ci =
                s.sd_ci.map_or(String::new(), |(lo, hi)| format!(" [{}, {}]", pts(lo), pts(hi)));
            let ratio = match (s.ratio_to_all, s.ratio_to_all_ci) {
                (Some(r), Some((lo, hi))) => {
                    format!(", {r:.2} [{lo:.2}, {hi:.2}] of all seeds' sd")
                }
                _ => String::new(),
            };
            Some(format!("{}: sd {}{ci} points{ratio}", s.source, pts(sd)))
        })
        .collect();
    if let Some(e) = equal {
        let names = match e.sources.as_slice() {
            [rest @ .., last] if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            other => other.join(", "),
        };
        let p = if e.test.p < 0.001 { "p < 0.001".into() } else { format!("p = {:.3}", e.test.p) };
        let verb = if e.test.p < ALPHA { "differs" } else { "not shown to differ" };
        parts.push(format!("spread {verb} between {names} (Brown–Forsythe {p})"));
    }
    parts.join("; ")
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
        let text = sentence(&s, Some(&e));
        assert!(text.starts_with("init: sd 0."), "{text}");
        assert!(text.contains("] of all seeds' sd; order: sd 0."), "{text}");
        assert!(
            text.contains("; spread differs between init, order and subset (Brown–Forsythe p"),
            "{text}"
        );
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
        assert!(sentence(&source_stats(&levels), Some(&e)).contains("not shown to differ"));
        levels[0].scored_accuracies[3] = 0.1;
        levels[0].diverged_runs =
            vec![DivergedRun { run_id: "x".into(), replicate: 3, reason: String::new() }];
        let s = source_stats(&levels);
        assert_eq!(s[0].n, 11);
        assert!(s[0].sd.unwrap() < 0.01, "the diverged run is left out: {:?}", s[0]);
        assert_eq!(s[0].ratio_to_all, None, "no `all` level, no ratio");
        assert!(equal_spread(&levels[..1]).is_none());
    }
}
