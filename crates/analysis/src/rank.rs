//! Ranking the factors of a study: how far each moves test accuracy, as the
//! noise-corrected sd of its true level means (which, unlike the best-minus-worst
//! range, does not grow with the number of levels when there is no effect), with its
//! interval and its ratio to the seed noise of the same experiment, and the factor
//! test that matches the design ([`crate::factor`]), Holm-adjusted over the study's
//! factors. Diverged runs are out of the accuracy statistics and counted on their own
//! (each factor's divergence per level, with the exact test of equal rates). The seed
//! noise is split into its test-set part (the floor of [`super::noise`]) and its
//! training part (the excess). In a study with adaptive seeding a factor's verdict is
//! its sequential decisions' ([`apply_sequential`]).

use std::collections::BTreeMap;

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor};

use super::splitmix::SplitMix;
use crate::claims::ClaimResult;
use crate::factor::FactorDesign;
use crate::{ALPHA, ExperimentStats, StudyStats};
use cnnvar_core::study::ExperimentKind;

/// Bootstrap resamples for the interval of eta squared.
pub const BOOTSTRAP: usize = 2000;

/// One factor's effect on test accuracy, in points.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FactorEffect {
    /// Experiment name.
    pub experiment: String,
    /// Experiment title (the factor in words).
    pub title: String,
    /// Levels in the test.
    pub levels: usize,
    /// Runs in the test.
    pub runs: usize,
    /// Blocked (paired seeds) or independent; `None` without a test.
    pub design: Option<FactorDesign>,
    /// Blocked: replicates in the test.
    pub blocks: usize,
    /// Blocked: replicates left out (a run missing or diverged).
    pub dropped_blocks: usize,
    /// The noise-corrected sd of the true level means (`√max(0, (MS_level −
    /// MS_error)/b)`): the effect.
    pub effect_sd: Option<f64>,
    /// Its 95% interval (from the noncentral F).
    pub effect_ci: Option<(f64, f64)>,
    /// `effect_sd / noise_sd` ("× seed noise").
    pub noise_ratio: Option<f64>,
    /// Its 95% interval (the effect's, over the seed noise taken as known).
    pub noise_ratio_ci: Option<(f64, f64)>,
    /// The seed noise of this experiment: the sd between the seeds of one level,
    /// pooled over its levels, diverged runs out.
    pub noise_sd: Option<f64>,
    /// The test-set part of the seed noise (pooled floor of the levels' predictions).
    pub floor_sd: Option<f64>,
    /// The training part.
    pub excess_sd: Option<f64>,
    /// Best level (highest mean accuracy of the runs that did not diverge).
    pub best: String,
    /// Worst level.
    pub worst: String,
    /// Best minus worst.
    pub best_minus_worst: Option<f64>,
    /// Its simultaneous 95% interval (valid over every pair, so for the pair the data
    /// picked).
    pub best_worst_ci: Option<(f64, f64)>,
    /// The factor test's p-value (block ANOVA, or one-way without paired seeds).
    pub p: Option<f64>,
    /// The same, Holm-adjusted over the study's factor tests.
    pub p_holm: Option<f64>,
    /// The rank check (`friedman`, `kruskal-wallis`).
    pub rank_test: String,
    /// Its p-value (unadjusted).
    pub rank_p: Option<f64>,
    /// Whether the levels differ: the Holm-adjusted factor test rejects at 5% (or, with
    /// adaptive seeding, a comparison was decided different).
    pub distinguishable: bool,
    /// The levels with diverged runs, in level order.
    pub diverged: Vec<DivergedLevel>,
    /// The exact test of equal divergence rates across levels (Freeman–Halton).
    pub divergence_p: Option<f64>,
    /// The claim, tested part by part.
    pub claim: Option<ClaimResult>,
    /// What adaptive seeding decided of the factor's comparisons, in a study with
    /// `seeds = { min, max, step }`: then `distinguishable` is its.
    pub sequential: Option<Sequential>,
}

/// What adaptive seeding decided of one factor's comparisons.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sequential {
    /// The factor's verdict from its comparisons' decisions.
    pub outcome: SequentialOutcome,
    /// The equivalence margin, in accuracy points.
    pub delta: f64,
    /// Seeds per level the experiment used (so far, while open).
    pub seeds: usize,
    /// The decisions, one clause per comparison (`60000 > 1000 at look 2 (5 seeds)`).
    pub decisions: String,
}

/// A factor's verdict from its sequential decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SequentialOutcome {
    /// Some comparison was decided different: the factor has an effect.
    Different,
    /// Every comparison was decided equivalent: no effect beyond ±delta.
    Equivalent,
    /// None decided different, some undecided at the most seeds the study allows.
    Undecided,
    /// None decided different, some still open (the sweep has more looks to take).
    Open,
}

impl SequentialOutcome {
    /// The outcome of comparisons, each `(decided different, decided equivalent, still
    /// open)`; `None` without comparisons.
    pub fn of(comparisons: impl IntoIterator<Item = (bool, bool, bool)>) -> Option<Self> {
        let (mut any, mut different, mut all_equivalent, mut open) = (false, false, true, false);
        for (d, e, o) in comparisons {
            any = true;
            different |= d;
            all_equivalent &= e;
            open |= o;
        }
        Some(match () {
            _ if !any => return None,
            _ if different => Self::Different,
            _ if all_equivalent => Self::Equivalent,
            _ if open => Self::Open,
            _ => Self::Undecided,
        })
    }
}

/// A level of a factor some of whose runs diverged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DivergedLevel {
    /// Level label.
    pub level: String,
    /// Diverged runs.
    pub diverged: usize,
    /// Runs with a record.
    pub runs: usize,
}

/// The ranking of a study's factors, largest effect first. Every figure is in
/// accuracy points.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ranking {
    /// Factors, ranked by their between-level sd (ties: by name).
    pub factors: Vec<FactorEffect>,
    /// The study's seed noise: the median over factor experiments of each one's sd
    /// between the seeds of one level, pooled over its levels, diverged runs out (a
    /// median, so that one unstable experiment does not set the noise of the others).
    pub noise_sd: Option<f64>,
    /// The sd when every seed varies, from a variance-sources experiment, if any.
    pub all_seeds_sd: Option<f64>,
    /// The test-set part of the seed noise: the median over factor experiments of
    /// each one's pooled floor (at most `noise_sd`).
    pub floor_sd: Option<f64>,
    /// The training part: `√max(0, noise_sd² − floor_sd²)`.
    pub excess_sd: Option<f64>,
}

/// The floor and the excess of the levels of `exp` with test-set noise, each pooled
/// (variances weighted by runs − 1); `None` when no level has it.
pub fn noise_split(exp: &ExperimentStats) -> Option<(f64, f64)> {
    let noises: Vec<_> = exp.levels.iter().filter_map(|l| l.test_set_noise.as_ref()).collect();
    let df: f64 = noises.iter().map(|n| n.runs as f64 - 1.0).sum();
    if df <= 0.0 {
        return None;
    }
    let pool = |f: &dyn Fn(&super::noise::NoiseSummary) -> f64| {
        (noises.iter().map(|n| (n.runs as f64 - 1.0) * f(n).powi(2)).sum::<f64>() / df).sqrt()
    };
    let floor = pool(&|n| n.floor_sd);
    let observed = pool(&|n| n.observed_sd);
    Some((floor, (observed.powi(2) - floor.powi(2)).max(0.0).sqrt()))
}

/// The median of `xs` (finite values only); `None` when there are none.
fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.retain(|x| x.is_finite());
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => None,
        n if n % 2 == 1 => Some(xs[n / 2]),
        n => Some((xs[n / 2 - 1] + xs[n / 2]) / 2.0),
    }
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// (sum of squares between, within, total) of groups.
fn sums_of_squares(groups: &[&[f64]]) -> (f64, f64, f64) {
    let all: Vec<f64> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    let grand = mean(&all);
    let between: f64 = groups.iter().map(|g| g.len() as f64 * (mean(g) - grand).powi(2)).sum();
    let within: f64 = groups
        .iter()
        .map(|g| {
            let m = mean(g);
            g.iter().map(|x| (x - m).powi(2)).sum::<f64>()
        })
        .sum();
    (between, within, between + within)
}

/// Eta squared of groups, `None` when the total variance is zero.
pub fn eta_squared(groups: &[&[f64]]) -> Option<f64> {
    let (b, _, t) = sums_of_squares(groups);
    (t > 0.0).then(|| b / t)
}

/// One-way ANOVA F-test p-value; `None` without at least 2 groups and some within-group
/// degrees of freedom.
pub fn anova_p(groups: &[&[f64]]) -> Option<f64> {
    let k = groups.len();
    let n: usize = groups.iter().map(|g| g.len()).sum();
    if k < 2 || n <= k {
        return None;
    }
    let (b, w, _) = sums_of_squares(groups);
    let (df1, df2) = ((k - 1) as f64, (n - k) as f64);
    if w == 0.0 {
        return Some(if b == 0.0 { 1.0 } else { 0.0 });
    }
    let f = (b / df1) / (w / df2);
    let dist = FisherSnedecor::new(df1, df2).ok()?;
    Some((1.0 - dist.cdf(f)).clamp(0.0, 1.0))
}

/// Kruskal–Wallis H-test p-value (tie-corrected, chi-square with k − 1 df).
pub fn kruskal_p(groups: &[&[f64]]) -> Option<f64> {
    let k = groups.len();
    let n: usize = groups.iter().map(|g| g.len()).sum();
    if k < 2 || n <= k {
        return None;
    }
    let mut all: Vec<(f64, usize)> =
        groups.iter().enumerate().flat_map(|(i, g)| g.iter().map(move |&x| (x, i))).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut ranks = vec![0.0; all.len()];
    let mut ties = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for rank in &mut ranks[i..=j] {
            *rank = r;
        }
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    let nf = n as f64;
    let mut rank_sums = vec![0.0; k];
    for ((_, g), r) in all.iter().zip(&ranks) {
        rank_sums[*g] += r;
    }
    let h: f64 = 12.0 / (nf * (nf + 1.0))
        * groups.iter().zip(&rank_sums).map(|(g, r)| r * r / g.len() as f64).sum::<f64>()
        - 3.0 * (nf + 1.0);
    let correction = 1.0 - ties / (nf * nf * nf - nf);
    if correction <= 0.0 {
        return Some(1.0);
    }
    let h = h / correction;
    let dist = ChiSquared::new((k - 1) as f64).ok()?;
    Some((1.0 - dist.cdf(h.max(0.0))).clamp(0.0, 1.0))
}

/// 95% percentile-bootstrap interval of eta squared, resampling runs within each level
/// (fixed seed, so reports are reproducible).
pub fn eta_squared_ci(groups: &[&[f64]]) -> Option<(f64, f64)> {
    if groups.len() < 2 || groups.iter().any(|g| g.len() < 2) {
        return None;
    }
    let mut rng = SplitMix(0x5eed_e7a2);
    let mut etas = Vec::with_capacity(BOOTSTRAP);
    let mut resampled: Vec<Vec<f64>> = groups.iter().map(|g| vec![0.0; g.len()]).collect();
    for _ in 0..BOOTSTRAP {
        for (g, r) in groups.iter().zip(resampled.iter_mut()) {
            for v in r.iter_mut() {
                *v = g[rng.below(g.len())];
            }
        }
        let refs: Vec<&[f64]> = resampled.iter().map(Vec::as_slice).collect();
        etas.push(eta_squared(&refs).unwrap_or(0.0));
    }
    etas.sort_by(f64::total_cmp);
    let at = |q: f64| etas[((etas.len() - 1) as f64 * q).round() as usize];
    Some((at(0.025), at(0.975)))
}

/// Whether `exp` is ranked as a factor: a factor experiment that does not vary only
/// the cross-validation fold (that one compares evaluation protocols, see `cv.rs`; the
/// fold index is not a cause of variation to rank).
fn is_rankable(exp: &ExperimentStats) -> bool {
    exp.kind == ExperimentKind::Factor && !cnnvar_core::study::is_protocol(&exp.factors)
}

/// Makes each factor's verdict in `ranking` its sequential decisions', for the factors
/// `sequential` names (by experiment): a decided difference is an effect
/// (`distinguishable`), comparisons all decided equivalent are no effect beyond ±delta,
/// undecided or open ones are not resolved. The order of the factors is unchanged;
/// factors not named keep the factor test's verdict.
pub fn apply_sequential(ranking: &mut Ranking, sequential: &BTreeMap<String, Sequential>) {
    for f in &mut ranking.factors {
        let Some(s) = sequential.get(&f.experiment) else { continue };
        f.distinguishable = s.outcome == SequentialOutcome::Different;
        f.sequential = Some(s.clone());
    }
}

/// The effect of one factor experiment; `None` for variance-sources and protocol
/// (fold) experiments, and when no two levels have runs to test.
pub fn factor_effect(exp: &ExperimentStats) -> Option<FactorEffect> {
    if !is_rankable(exp) {
        return None;
    }
    let t = exp.factor.as_ref()?;
    let split = noise_split(exp);
    let spread = t.spread.as_ref();
    let bw = t.best_worst.as_ref();
    let diverged = exp
        .levels
        .iter()
        .filter(|l| l.diverged > 0)
        .map(|l| DivergedLevel { level: l.label.clone(), diverged: l.diverged, runs: l.complete })
        .collect();
    Some(FactorEffect {
        experiment: exp.name.clone(),
        title: exp.title.clone(),
        levels: t.levels,
        runs: t.runs,
        design: Some(t.design),
        blocks: t.blocks,
        dropped_blocks: t.dropped_blocks,
        effect_sd: spread.map(|s| s.sd),
        effect_ci: spread.and_then(|s| s.ci),
        noise_ratio: spread.zip(t.seed_sd).filter(|(_, n)| *n > 0.0).map(|(s, n)| s.sd / n),
        noise_ratio_ci: spread
            .and_then(|s| s.ci)
            .zip(t.seed_sd)
            .filter(|(_, n)| *n > 0.0)
            .map(|((lo, hi), n)| (lo / n, hi / n)),
        noise_sd: t.seed_sd,
        floor_sd: split.map(|s| 100.0 * s.0),
        excess_sd: split.map(|s| 100.0 * s.1),
        best: bw.map(|b| b.best.clone()).unwrap_or_default(),
        worst: bw.map(|b| b.worst.clone()).unwrap_or_default(),
        best_minus_worst: bw.map(|b| b.diff),
        best_worst_ci: bw.map(|b| b.ci),
        p: Some(t.p),
        p_holm: t.p_holm,
        rank_test: t.rank_test.to_string(),
        rank_p: t.rank_p,
        distinguishable: t.p_holm.unwrap_or(t.p) < ALPHA,
        diverged,
        divergence_p: exp.divergence.p,
        claim: exp.claim_result.clone(),
        sequential: None,
    })
}

/// Ranks every factor experiment of a study, largest between-level sd first.
pub fn rank(stats: &StudyStats) -> Ranking {
    let mut factors: Vec<FactorEffect> =
        stats.experiments.iter().filter_map(factor_effect).collect();
    factors.sort_by(|a, b| {
        let sd = |f: &FactorEffect| f.effect_sd.unwrap_or(f64::NEG_INFINITY);
        sd(b).total_cmp(&sd(a)).then(a.experiment.cmp(&b.experiment))
    });
    // The study's seed noise: the median of the experiments' sd between seeds within a
    // level (diverged runs out).
    let noise_sd = median(factors.iter().filter_map(|f| f.noise_sd).collect());
    let floors: Vec<f64> = stats
        .experiments
        .iter()
        .filter(|e| is_rankable(e))
        .filter_map(|e| noise_split(e).map(|s| 100.0 * s.0))
        .collect();
    let floor_sd = median(floors).map(|f| noise_sd.map_or(f, |n| f.min(n)));
    let excess_sd = noise_sd.zip(floor_sd).map(|(n, f)| (n * n - f * f).max(0.0).sqrt());
    let all_seeds_sd = stats
        .experiments
        .iter()
        .flat_map(|e| e.sources.iter())
        .find(|s| s.source == "all")
        .and_then(|s| s.sd)
        .map(|sd| 100.0 * sd);
    Ranking { factors, noise_sd, all_seeds_sd, floor_sd, excess_sd }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anova_and_kruskal_on_known_data() {
        // Three groups with known answers (closed forms for df1 = 2).
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [3.0, 4.0, 5.0, 6.0];
        let c = [7.0, 8.0, 9.0, 10.0];
        let g: Vec<&[f64]> = vec![&a, &b, &c];
        // SSB = 4*((2.5-5.1667)^2+(4.5-5.1667)^2+(8.5-5.1667)^2) = 74.667, SSW = 15
        let eta = eta_squared(&g).unwrap();
        assert!((eta - 74.666_666 / 89.666_666).abs() < 1e-6, "{eta}");
        let p = anova_p(&g).unwrap();
        // F = (74.667/2)/(15/9) = 22.4 with df (2, 9): p = (1 + 2F/9)^(-9/2) = 0.0003203
        assert!((p - 0.000_320_31).abs() < 1e-7, "{p}");
        // Kruskal–Wallis: rank sums 12, 24, 42 → H = 8.769, tie-corrected (two pairs of
        // ties) 8.831; with 2 df p = exp(-H/2) = 0.012089.
        let kp = kruskal_p(&g).unwrap();
        assert!((kp - 0.012_088_6).abs() < 1e-6, "{kp}");
    }

    #[test]
    fn no_effect_is_not_distinguishable() {
        let a = [0.80, 0.82, 0.81, 0.83, 0.79];
        let b = [0.81, 0.80, 0.83, 0.79, 0.82];
        let g: Vec<&[f64]> = vec![&a, &b];
        assert!(anova_p(&g).unwrap() > 0.5);
        assert!(kruskal_p(&g).unwrap() > 0.5);
        let (lo, hi) = eta_squared_ci(&g).unwrap();
        assert!(lo >= 0.0 && hi <= 1.0 && lo <= hi);
    }

    #[test]
    fn identical_values_and_single_groups() {
        let a = [0.5, 0.5];
        let g: Vec<&[f64]> = vec![&a, &a];
        assert_eq!(anova_p(&g), Some(1.0));
        assert_eq!(eta_squared(&g), None);
        assert_eq!(kruskal_p(&g), Some(1.0));
        let one: Vec<&[f64]> = vec![&a];
        assert_eq!(anova_p(&one), None);
    }

    fn level(label: &str, accs: &[f64]) -> crate::LevelStats {
        crate::LevelStats {
            label: label.into(),
            planned: accs.len(),
            complete: accs.len(),
            accuracies: accs.to_vec(),
            scored_accuracies: accs.to_vec(),
            scored_replicates: (0..accs.len()).collect(),
            test_accuracy: super::super::stats::summarize(accs),
            ..Default::default()
        }
    }

    fn exp(
        name: &str,
        levels: Vec<crate::LevelStats>,
        expect_best: Option<&str>,
    ) -> ExperimentStats {
        let factor = crate::factor::factor_test(&levels, true).map(|mut f| {
            f.p_holm = Some(f.p);
            f
        });
        ExperimentStats {
            name: name.into(),
            title: format!("factor {name}"),
            claim: Some(format!("{name} matters")),
            expect_best: expect_best.map(String::from),
            kind: ExperimentKind::Factor,
            factors: vec![name.into()],
            divergence: crate::factor::divergence_test(&levels),
            levels,
            pairs: vec![],
            paired_seeds: true,
            ordered_factor: None,
            trend: None,
            sources: vec![],
            learning_curve: None,
            cross_validation: None,
            class_names: vec![],
            factor,
            claim_result: None,
        }
    }

    fn study(experiments: Vec<ExperimentStats>) -> StudyStats {
        StudyStats {
            study: "t".into(),
            planned: 0,
            complete: 0,
            diverged: 0,
            seeds: 5,
            test_set_noise: None,
            time: None,
            experiments,
        }
    }

    const NOISE: [f64; 5] = [-0.01, 0.005, 0.0, -0.005, 0.01];

    fn around(m: f64) -> Vec<f64> {
        NOISE.iter().map(|e| m + e).collect()
    }

    /// A strong factor ranks first with a resolved test and a large corrected spread; a
    /// null factor's corrected spread is near zero and it is not distinguishable.
    #[test]
    fn strong_factor_first_null_factor_below_the_noise() {
        let strong = exp(
            "size",
            vec![
                level("1000", &around(0.80)),
                level("60000", &[0.893, 0.906, 0.902, 0.894, 0.905]),
            ],
            Some("60000"),
        );
        let null = exp(
            "lr",
            vec![level("a", &around(0.85)), level("b", &[0.851, 0.847, 0.853, 0.849, 0.845])],
            None,
        );
        let r = rank(&study(vec![null, strong]));
        let top = &r.factors[0];
        assert_eq!(top.experiment, "size");
        assert!(top.distinguishable && top.noise_ratio.unwrap() > 5.0, "{top:?}");
        // Two levels 10 points apart: their means' sd is 10/√2 points.
        assert!((top.effect_sd.unwrap() - 10.0 / 2f64.sqrt()).abs() < 0.05, "{top:?}");
        assert_eq!((top.best.as_str(), top.worst.as_str()), ("60000", "1000"));
        let (lo, hi) = top.best_worst_ci.unwrap();
        assert!(lo < 10.0 && 10.0 < hi, "{lo} {hi}");
        let weak = &r.factors[1];
        assert!(!weak.distinguishable, "{weak:?}");
        assert!(weak.effect_sd.unwrap() < r.noise_sd.unwrap(), "{weak:?}");
    }

    /// Factors without a test (one level) are not ranked; equal effects keep a stable
    /// order by name.
    #[test]
    fn ties_and_single_levels() {
        let a = exp("a", vec![level("x", &around(0.8)), level("y", &around(0.8))], None);
        let b = exp("b", vec![level("x", &around(0.8)), level("y", &around(0.8))], None);
        let single = exp("c", vec![level("only", &around(0.8))], None);
        let r = rank(&study(vec![b, single, a]));
        let order: Vec<&str> = r.factors.iter().map(|f| f.experiment.as_str()).collect();
        assert_eq!(order, ["a", "b"]);
    }

    /// The study's noise is the median of the experiments' (one unstable experiment
    /// does not set it), and a fold experiment is not ranked.
    #[test]
    fn noise_is_robust_and_folds_are_not_factors() {
        let steady = |name: &str| {
            exp(name, vec![level("x", &around(0.80)), level("y", &around(0.82))], None)
        };
        let unstable = exp(
            "lr",
            vec![level("0.001", &around(0.85)), level("0.1", &[0.3, 0.85, 0.6, 0.84, 0.2])],
            None,
        );
        let mut folds = exp("fold", vec![level("0", &around(0.8)), level("1", &around(0.9))], None);
        folds.factors = vec!["fold".into()];
        let r = rank(&study(vec![steady("a"), steady("b"), unstable, folds]));
        let steady_noise = r.factors.iter().find(|f| f.experiment == "a").unwrap().noise_sd;
        assert_eq!(r.noise_sd, steady_noise);
        assert!(r.factors.iter().all(|f| f.experiment != "fold"));
        assert_eq!(r.factors.len(), 3);
    }

    fn sequential(outcome: SequentialOutcome) -> Sequential {
        Sequential { outcome, delta: 0.5, seeds: 20, decisions: "x vs y: decided".into() }
    }

    /// A factor's verdict follows its sequential decisions, whatever the factor test
    /// says; factors without decisions keep the test's, and the order is unchanged.
    #[test]
    fn sequential_decisions_set_the_verdict() {
        let strong =
            || exp("size", vec![level("1000", &around(0.80)), level("60000", &around(0.90))], None);
        let null = || {
            exp(
                "lr",
                vec![level("a", &around(0.85)), level("b", &[0.851, 0.847, 0.853, 0.849, 0.845])],
                Some("a"),
            )
        };
        let plain = rank(&study(vec![strong(), null()]));
        let mut r = plain.clone();
        apply_sequential(&mut r, &BTreeMap::new());
        assert_eq!(r, plain, "no decisions: the factor test's ranking");
        let cases = [
            (SequentialOutcome::Equivalent, "size", false),
            (SequentialOutcome::Undecided, "size", false),
            (SequentialOutcome::Open, "size", false),
            (SequentialOutcome::Different, "lr", true),
        ];
        for (outcome, name, distinguishable) in cases {
            let mut r = plain.clone();
            let decided = BTreeMap::from([(name.to_string(), sequential(outcome))]);
            apply_sequential(&mut r, &decided);
            let order: Vec<&str> = r.factors.iter().map(|f| f.experiment.as_str()).collect();
            assert_eq!(order, ["size", "lr"], "{outcome:?}");
            let f = r.factors.iter().find(|f| f.experiment == name).unwrap();
            assert_eq!(f.distinguishable, distinguishable, "{outcome:?}");
            assert_eq!(f.sequential.as_ref().map(|s| s.outcome), Some(outcome));
            let other = r.factors.iter().find(|f| f.experiment != name).unwrap();
            let before = plain.factors.iter().find(|f| f.experiment != name).unwrap();
            assert_eq!(other, before, "the other factor keeps its verdict");
        }
    }

    /// Any decided difference makes an effect; all equivalent makes none; otherwise
    /// open beats undecided.
    #[test]
    fn sequential_outcome_of_comparisons() {
        use SequentialOutcome as O;
        let (diff, equiv, open, undecided) = (
            (true, false, false),
            (false, true, false),
            (false, false, true),
            (false, false, false),
        );
        assert_eq!(O::of([]), None);
        assert_eq!(O::of([equiv, diff, undecided]), Some(O::Different));
        assert_eq!(O::of([equiv, equiv]), Some(O::Equivalent));
        assert_eq!(O::of([equiv, open, undecided]), Some(O::Open));
        assert_eq!(O::of([equiv, undecided]), Some(O::Undecided));
    }

    fn with_noise(mut l: crate::LevelStats, observed: f64, floor: f64) -> crate::LevelStats {
        l.test_set_noise = Some(super::super::noise::NoiseSummary {
            runs: 5,
            examples: 10_000,
            mean_accuracy: 0.8,
            observed_sd: observed,
            floor_sd: floor,
            floor_ci: None,
            excess_sd: (observed * observed - floor * floor).max(0.0).sqrt(),
            within_floor: observed <= floor,
            disagreement: super::super::noise::Disagreement { mean: 0.1, min: 0.1, max: 0.1 },
            ensemble_accuracy: 0.81,
            ensemble_gain: 0.01,
            ensemble_ties: 0,
            most_contested: vec![],
        });
        l
    }

    /// The seed-noise band splits into the test set's part (the pooled floor) and
    /// training's (the excess, in quadrature); without predictions there is no split.
    #[test]
    fn the_noise_band_splits_into_test_set_and_training() {
        let e = exp(
            "size",
            vec![
                with_noise(level("a", &around(0.8)), 0.005, 0.003),
                with_noise(level("b", &around(0.9)), 0.005, 0.004),
            ],
            None,
        );
        let (floor, excess) = noise_split(&e).expect("both levels have noise");
        assert!((floor - (12.5e-6f64).sqrt()).abs() < 1e-12, "{floor}");
        assert!((excess - (25e-6f64 - 12.5e-6).sqrt()).abs() < 1e-12, "{excess}");
        let bare = exp("lr", vec![level("x", &around(0.8)), level("y", &around(0.82))], None);
        assert_eq!(noise_split(&bare), None);
        let r = rank(&study(vec![e, bare]));
        let size = r.factors.iter().find(|f| f.experiment == "size").unwrap();
        assert_eq!((size.floor_sd, size.excess_sd), (Some(100.0 * floor), Some(100.0 * excess)));
        let lr = r.factors.iter().find(|f| f.experiment == "lr").unwrap();
        assert_eq!((lr.floor_sd, lr.excess_sd), (None, None));
        let (noise, f, x) = (r.noise_sd.unwrap(), r.floor_sd.unwrap(), r.excess_sd.unwrap());
        assert!(f <= noise && ((f * f + x * x).sqrt() - noise).abs() < 1e-9, "{noise} {f} {x}");
    }
}
