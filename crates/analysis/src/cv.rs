//! The evaluation-protocol experiment: a k-fold cross-validation estimate against a
//! single train/validation split, compared on how much each moves from seed to seed.
//!
//! Like with like: every fold serves as "the" split, so the single split's variance
//! between replicates is pooled over the folds (`k × (r − 1)` degrees of freedom
//! nominally), against the variance of the k-fold estimate (the mean over the folds of a
//! replicate, `r − 1` degrees of freedom). The two are not independent — the k-fold
//! mean is made of the single splits, and with paired seeds the folds of a replicate
//! share its seeds — so their ratio is not tested with the F test of two independent
//! variances. In the replicates × folds table `y_rf = μ_f + b_r + e_rf` (a replicate's
//! shared effect `b_r` of variance `σ_b²`, a fold-specific part `e_rf` of variance
//! `σ_e²`) the single split has variance `σ_b² + σ_e²` and the k-fold mean `σ_b² + σ_e²/k`,
//! so their ratio is `ρ = 1 + (k − 1)/θ` with `θ = 1 + k σ_b²/σ_e²`. The two-way ANOVA
//! without interaction gives exactly that: the pooled single-split variance is
//! `(MS_rep + (k − 1) MS_err)/k`, the k-fold one `MS_rep/k`, and `F = MS_rep/MS_err` is
//! `θ` times an `F(r − 1, (r − 1)(k − 1))` variable under normal effects, whence an exact
//! interval for `ρ` (within `[1, k]`: the mean of k evaluations cannot vary more than
//! one of them, and varies k times less when they share nothing). So "steadier" is
//! certain; the interval says by how much. The F test's p is that of `σ_b² = 0` (the
//! folds of a replicate share nothing, `ρ = k`).
//!
//! Part of the k-fold estimate's steadiness is only that it scores k times more
//! images: each fold's validation set is a fresh sample of images, and accuracy on `n`
//! images varies by `√(p(1 − p)/n)` from the images alone (within each class with
//! stratified folds: `√(Σ_c n_c p_c(1 − p_c))/n`, from the stored predictions when a run
//! has them). That floor is given for a single split and for the k-fold mean (its folds'
//! validation sets are disjoint, so their floors add in quadrature, over `k²`).

use std::collections::HashMap;

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

use cnnvar_core::{EvalSet, Predictions, RunRecord};

use super::stats::{Summary, sd_interval, summarize};
use cnnvar_core::study::{Experiment, PlannedRun};

/// Both estimators of one protocol experiment, over its replicates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProtocolStats {
    /// Folds (k).
    pub folds: usize,
    /// Replicates with every fold complete and finite.
    pub replicates: usize,
    /// Fold 0's validation accuracy across replicates: one single split as a protocol
    /// using one would have it (the comparison below uses every fold).
    pub single_split: Summary,
    /// 95% interval of its standard deviation.
    pub single_split_sd_ci: Option<(f64, f64)>,
    /// The sd of a single split's estimate between replicates, pooled over the folds
    /// (each fold as "the" split).
    pub single_split_sd_pooled: f64,
    /// Its degrees of freedom: `k (r − 1)` nominally, fewer in effect because the folds
    /// of a replicate share its seeds (Satterthwaite's, from the two-way ANOVA's mean
    /// squares; at most `k (r − 1)`).
    pub single_split_df: f64,
    /// 95% chi-square interval of `single_split_sd_pooled` on `single_split_df`.
    pub single_split_pooled_sd_ci: Option<(f64, f64)>,
    /// The k-fold estimate (mean validation accuracy over the folds) across replicates.
    pub k_fold: Summary,
    /// 95% interval of its standard deviation.
    pub k_fold_sd_ci: Option<(f64, f64)>,
    /// The single split's variance over the k-fold estimate's, with its interval and
    /// test; `None` when the k-fold estimate does not vary.
    pub ratio: Option<FoldVarianceRatio>,
    /// Validation images per fold (the mean over the runs, rounded).
    pub examples_per_fold: usize,
    /// The spread the validation images alone give each estimate.
    pub floor: Option<EvaluationFloor>,
}

/// A single split's variance between replicates against the k-fold estimate's, from a
/// replicates × folds table (module docs).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FoldVarianceRatio {
    /// Replicates (r).
    pub replicates: usize,
    /// Folds (k).
    pub folds: usize,
    /// A single split's variance between replicates, pooled over the folds.
    pub single_split_var: f64,
    /// The k-fold estimate's variance between replicates.
    pub k_fold_var: f64,
    /// `single_split_var / k_fold_var` (at least 1), at most `k`: the true ratio lies in
    /// `[1, k]`, and a table whose replicate mean square falls below the error's (F < 1,
    /// a negative estimate of the replicate variance) gives `k`, as the interval does.
    pub ratio: f64,
    /// Its `1 − alpha` interval, within `[1, k]`.
    pub ci: (f64, f64),
    /// `√ratio`: how many times less the k-fold estimate moves, in sd.
    pub sd_ratio: f64,
    /// Its interval.
    pub sd_ratio_ci: (f64, f64),
    /// The two-way ANOVA's F for replicates, `MS_rep / MS_err`; `None` when the table
    /// has no fold-specific spread (`MS_err = 0`: the ratio is then 1).
    pub f: Option<f64>,
    /// Its degrees of freedom, `(r − 1, (r − 1)(k − 1))`.
    pub df: (f64, f64),
    /// P(F ≥ f) with no shared replicate effect (`σ_b² = 0`, `ratio = k`).
    pub p: f64,
}

/// The sd of test accuracy that the validation images alone give, per estimate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvaluationFloor {
    /// A single split's (one fold's validation set), root mean square over the runs.
    pub single_split: f64,
    /// The k-fold estimate's (the k disjoint validation sets of a replicate), root
    /// mean square over the replicates.
    pub k_fold: f64,
    /// Whether every run's floor came from its stored predictions (within each class,
    /// as the folds are stratified); otherwise from its accuracy alone,
    /// `√(p(1 − p)/n)` (slightly above the stratified floor).
    pub from_predictions: bool,
}

/// The variance ratio of a replicates × folds table `y[replicate][fold]` (module
/// docs), with a `1 − alpha` interval; `None` below 2 replicates or 2 folds, for a
/// ragged table, a non-finite value, `alpha` outside (0, 1), or when the k-fold
/// estimate does not vary.
pub fn fold_variance_ratio(y: &[Vec<f64>], alpha: f64) -> Option<FoldVarianceRatio> {
    let (r, k) = (y.len(), y.first().map_or(0, Vec::len));
    let ok = r >= 2
        && k >= 2
        && y.iter().all(|row| row.len() == k && row.iter().all(|v| v.is_finite()))
        && alpha > 0.0
        && alpha < 1.0;
    if !ok {
        return None;
    }
    let (rf, kf) = (r as f64, k as f64);
    let grand = y.iter().flatten().sum::<f64>() / (rf * kf);
    let rep: Vec<f64> = y.iter().map(|row| row.iter().sum::<f64>() / kf).collect();
    let fold: Vec<f64> = (0..k).map(|f| y.iter().map(|row| row[f]).sum::<f64>() / rf).collect();
    let ss_rep = kf * rep.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let ss_err: f64 = (0..r)
        .flat_map(|i| (0..k).map(move |f| (i, f)))
        .map(|(i, f)| (y[i][f] - rep[i] - fold[f] + grand).powi(2))
        .sum();
    let (d1, d2) = (rf - 1.0, (rf - 1.0) * (kf - 1.0));
    let (ms_rep, ms_err) = (ss_rep / d1, ss_err / d2);
    if ms_rep <= 0.0 {
        return None;
    }
    let single_split_var = (ss_rep + ss_err) / (kf * d1);
    let k_fold_var = ms_rep / kf;
    let scale = ms_rep.abs().max(1e-300);
    let (f, ci, p) = if ms_err <= 1e-14 * scale {
        (None, (1.0, 1.0), 0.0)
    } else {
        let f = ms_rep / ms_err;
        let dist = FisherSnedecor::new(d1, d2).ok()?;
        let rho = |q: f64| (1.0 + (kf - 1.0) * dist.inverse_cdf(q) / f).min(kf);
        (Some(f), (rho(alpha / 2.0), rho(1.0 - alpha / 2.0)), dist.sf(f))
    };
    let ratio = (single_split_var / k_fold_var).min(kf);
    Some(FoldVarianceRatio {
        replicates: r,
        folds: k,
        single_split_var,
        k_fold_var,
        ratio,
        ci,
        sd_ratio: ratio.sqrt(),
        sd_ratio_ci: (ci.0.sqrt(), ci.1.sqrt()),
        f,
        df: (d1, d2),
        p,
    })
}

/// Satterthwaite's degrees of freedom of the pooled single-split variance
/// `(SS_rep + SS_err) / (k (r − 1))`, from the mean squares of `ratio`'s table.
fn pooled_df(v: &FoldVarianceRatio) -> f64 {
    let kf = v.folds as f64;
    let ms_rep = kf * v.k_fold_var;
    let ss_rep = v.df.0 * ms_rep;
    let ss_err = kf * v.df.0 * v.single_split_var - ss_rep;
    let denom = ss_rep * ss_rep / v.df.0 + ss_err * ss_err / v.df.1;
    let df = if denom > 0.0 { (ss_rep + ss_err).powi(2) / denom } else { v.df.0 };
    df.min(kf * v.df.0)
}

/// The variance a run's validation images alone give its accuracy: within each class
/// from its predictions, else `p(1 − p)/n` from its record.
fn evaluation_variance(record: &RunRecord, predictions: Option<&Predictions>) -> (f64, bool) {
    if let Some(p) = predictions.filter(|p| !p.labels.is_empty()) {
        let n = p.labels.len() as f64;
        let mut per_class: HashMap<u8, (f64, f64)> = HashMap::new();
        for (predicted, label) in p.predicted.iter().zip(&p.labels) {
            let e = per_class.entry(*label).or_default();
            e.0 += 1.0;
            e.1 += f64::from(u8::from(predicted == label));
        }
        let sum: f64 = per_class.values().map(|(m, c)| c * (m - c) / m).sum();
        return (sum / (n * n), true);
    }
    let (a, n) = (record.test_accuracy, record.test_examples.max(1) as f64);
    (a * (1.0 - a) / n, false)
}

/// The protocol comparison of `exp`, when it varies only `fold` and every level is
/// evaluated on a held-out fold; `None` otherwise or with fewer than 2 complete
/// replicates. `predictions` (by run id) give the validation floor within each class
/// where a run has them.
pub fn protocol_stats(
    exp: &Experiment,
    results: &[&(&PlannedRun, RunRecord)],
    predictions: &HashMap<String, Predictions>,
) -> Option<ProtocolStats> {
    if !cnnvar_core::study::is_protocol(&exp.factors)
        || exp.levels.is_empty()
        || exp.levels.iter().any(|l| l.spec.evaluate_on != Some(EvalSet::Validation))
    {
        return None;
    }
    let folds = exp.levels[0].spec.folds?;
    let first_fold = exp.levels.iter().position(|l| l.spec.fold == Some(0))?;
    let replicates = results.iter().map(|(r, _)| r.replicate + 1).max().unwrap_or(0);
    let (mut table, mut single) = (Vec::new(), Vec::new());
    let (mut floors, mut examples) = (Vec::new(), Vec::new());
    for replicate in 0..replicates {
        let mut runs: Vec<(usize, &RunRecord, &str)> = results
            .iter()
            .filter(|(r, rec)| r.replicate == replicate && rec.divergence().is_none())
            .filter(|(_, rec)| rec.test_accuracy.is_finite())
            .map(|(r, rec)| (r.level_index, rec, r.run_id.as_str()))
            .collect();
        runs.sort_by_key(|(l, _, _)| *l);
        runs.dedup_by_key(|(l, _, _)| *l);
        if runs.len() != exp.levels.len() {
            continue;
        }
        let Some(&(_, first, _)) = runs.iter().find(|(l, _, _)| *l == first_fold) else {
            continue;
        };
        single.push(first.test_accuracy);
        table.push(runs.iter().map(|(_, rec, _)| rec.test_accuracy).collect::<Vec<f64>>());
        floors.push(
            runs.iter()
                .map(|(_, rec, id)| evaluation_variance(rec, predictions.get(*id)))
                .collect::<Vec<_>>(),
        );
        examples.extend(runs.iter().map(|(_, rec, _)| rec.test_examples));
    }
    if single.len() < 2 {
        return None;
    }
    let k_fold: Vec<f64> =
        table.iter().map(|row| row.iter().sum::<f64>() / row.len() as f64).collect();
    let (s, k) = (summarize(&single)?, summarize(&k_fold)?);
    let ratio = fold_variance_ratio(&table, 0.05);
    let levels = exp.levels.len() as f64;
    let (pooled_sd, pooled_df) = match &ratio {
        Some(v) => (v.single_split_var.sqrt(), pooled_df(v)),
        None => {
            let v = fold_variance_ratio_var(&table);
            (v.sqrt(), levels * (table.len() as f64 - 1.0))
        }
    };
    let runs = floors.iter().map(Vec::len).sum::<usize>().max(1) as f64;
    let floor = (!floors.is_empty()).then(|| EvaluationFloor {
        single_split: (floors.iter().flatten().map(|(v, _)| v).sum::<f64>() / runs).sqrt(),
        k_fold: (floors
            .iter()
            .map(|row| row.iter().map(|(v, _)| v).sum::<f64>() / (row.len() as f64).powi(2))
            .sum::<f64>()
            / floors.len() as f64)
            .sqrt(),
        from_predictions: floors.iter().flatten().all(|(_, p)| *p),
    });
    let examples_per_fold =
        (examples.iter().sum::<usize>() as f64 / examples.len().max(1) as f64).round() as usize;
    Some(ProtocolStats {
        folds,
        replicates: single.len(),
        single_split_sd_ci: sd_interval(&single),
        k_fold_sd_ci: sd_interval(&k_fold),
        single_split: s,
        single_split_sd_pooled: pooled_sd,
        single_split_df: pooled_df,
        single_split_pooled_sd_ci: crate::inference::sd_interval_df(pooled_sd, pooled_df, 0.05)
            .map(|c| c.ci),
        k_fold: k,
        ratio,
        examples_per_fold,
        floor,
    })
}

/// The single split's variance pooled over the folds of `table`, without the ratio.
fn fold_variance_ratio_var(table: &[Vec<f64>]) -> f64 {
    let (r, k) = (table.len(), table.first().map_or(0, Vec::len));
    if r < 2 || k == 0 {
        return f64::NAN;
    }
    let ss: f64 = (0..k)
        .map(|f| {
            let m = table.iter().map(|row| row[f]).sum::<f64>() / r as f64;
            table.iter().map(|row| (row[f] - m).powi(2)).sum::<f64>()
        })
        .sum();
    ss / (k as f64 * (r as f64 - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference cases (scipy's F quantiles, statsmodels' two-way ANOVA) written by
    /// scripts/reference/inference_reference.py.
    fn reference() -> serde_json::Value {
        serde_json::from_str(include_str!("inference/reference.json")).expect("reference JSON")
    }

    fn f(v: &serde_json::Value) -> f64 {
        v.as_f64().expect("a number")
    }

    fn table(v: &serde_json::Value) -> Vec<Vec<f64>> {
        let rows = v.as_array().expect("rows");
        rows.iter().map(|row| row.as_array().expect("a row").iter().map(f).collect()).collect()
    }

    fn near(a: f64, b: f64, what: &str) {
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{what}: {a} vs reference {b}");
    }

    /// Against statsmodels' two-way ANOVA and scipy's F distribution, including the
    /// protocol experiment of results/full.
    #[test]
    fn fold_variance_ratio_matches_the_reference() {
        let r = reference();
        let cases = r["fold_variance"].as_array().expect("cases");
        assert!(cases.len() >= 4);
        for c in cases {
            let v = fold_variance_ratio(&table(&c["y"]), f(&c["alpha"])).expect("a ratio");
            near(v.single_split_var, f(&c["single_split_var"]), "single split variance");
            near(v.k_fold_var, f(&c["k_fold_var"]), "k-fold variance");
            near(v.ratio, f(&c["ratio"]), "ratio");
            near(v.f.expect("spread"), f(&c["f"]), "F");
            near(v.p, f(&c["p"]), "p");
            near(v.ci.0, f(&c["ci"][0]), "lower end");
            near(v.ci.1, f(&c["ci"][1]), "upper end");
            assert_eq!(v.df, (f(&c["df"][0]), f(&c["df"][1])));
            assert!(1.0 <= v.ci.0 && v.ci.0 <= v.ratio && v.ratio <= v.ci.1);
            assert!(v.ci.1 <= v.folds as f64);
        }
        // A replicate mean square below the error's (F < 1): the ratio is k, as its
        // interval's upper end, not 1 + (k − 1)/F beyond it.
        let flat = [vec![1.0, 2.0, 3.0], vec![3.0, 2.0, 1.5], vec![2.0, 3.0, 1.0]];
        let v = fold_variance_ratio(&flat, 0.05).expect("a ratio");
        assert!(v.f.is_some_and(|f| f < 1.0), "{v:?}");
        assert_eq!((v.ratio, v.ci.1), (3.0, 3.0));
        // results/full: all folds give a single split sd 0.78 against 0.36, 2.1× steadier.
        let full = fold_variance_ratio(&table(&cases[0]["y"]), 0.05).expect("a ratio");
        assert!((full.single_split_var.sqrt() - 0.779).abs() < 1e-3, "{full:?}");
        assert!((full.sd_ratio - 2.144).abs() < 1e-3, "{full:?}");
        assert!((pooled_df(&full) - 19.96).abs() < 0.01, "{}", pooled_df(&full));
    }

    /// The ratio's interval covers it in about 95% of simulated tables of the model
    /// (6 replicates × 5 folds, shared sd 0.5, fold sd 1; deterministic seed), and
    /// the naive F interval of two independent variances would not be in [1, k].
    #[test]
    fn fold_variance_ratio_interval_covers() {
        let mut rng = crate::inference::bootstrap::SplitMix(11);
        let (sb, se, k) = (0.5_f64, 1.0_f64, 5usize);
        let truth = (sb * sb + se * se) / (sb * sb + se * se / k as f64);
        let n = 2000;
        let mut covered = 0;
        for _ in 0..n {
            let y: Vec<Vec<f64>> = (0..6)
                .map(|_| {
                    let b = sb * rng.normal();
                    (0..k).map(|f| 80.0 + f as f64 * 0.1 + b + se * rng.normal()).collect()
                })
                .collect();
            let v = fold_variance_ratio(&y, 0.05).expect("a ratio");
            covered += usize::from(v.ci.0 <= truth && truth <= v.ci.1);
        }
        let coverage = covered as f64 / n as f64;
        assert!(coverage >= 0.95 - 3.0 * (0.95 * 0.05 / n as f64).sqrt(), "{coverage}");
        assert!(coverage <= 0.97, "{coverage}");
    }

    /// A protocol experiment of 3 folds × 4 replicates of 100 validation images (two
    /// classes of 50): the single split pooled over every fold, the ratio, and the
    /// validation floor within each class from predictions, or binomial from the
    /// record where a run has none.
    #[test]
    fn protocol_stats_pool_every_fold_and_give_the_validation_floor() {
        use cnnvar_core::study::{ExperimentKind, Level};
        use cnnvar_core::{EvalSet, RunSpec};
        let spec = |f: usize| RunSpec {
            evaluate_on: Some(EvalSet::Validation),
            folds: Some(3),
            fold: Some(f),
            ..RunSpec::default()
        };
        let exp = Experiment {
            name: "protocol".into(),
            title: "Protocol".into(),
            claim: None,
            expect_best: None,
            checks: vec![],
            kind: ExperimentKind::Factor,
            factors: vec!["fold".into()],
            levels: (0..3)
                .map(|f| Level { label: f.to_string(), values: Default::default(), spec: spec(f) })
                .collect(),
        };
        let table =
            [[0.83, 0.79, 0.80], [0.77, 0.81, 0.82], [0.84, 0.78, 0.80], [0.78, 0.80, 0.79]];
        let runs: Vec<PlannedRun> = (0..4)
            .flat_map(|r| {
                (0..3).map(move |f| PlannedRun {
                    experiment: "protocol".into(),
                    level: f.to_string(),
                    level_index: f,
                    replicate: r,
                    run_id: format!("{r}-{f}"),
                    spec: spec(f),
                })
            })
            .collect();
        let results: Vec<(&PlannedRun, RunRecord)> = runs
            .iter()
            .map(|p| {
                let mut rec = cnnvar_core::testing::record_of(&p.spec);
                rec.run_id = p.run_id.clone();
                rec.test_accuracy = table[p.replicate][p.level_index];
                rec.test_examples = 100;
                (p, rec)
            })
            .collect();
        let mine: Vec<&(&PlannedRun, RunRecord)> = results.iter().collect();
        // Predictions of every run: class 0 right on 45 of 50, class 1 on 35 of 50.
        let labels: Vec<u8> = (0..100).map(|i| u8::from(i >= 50)).collect();
        let predicted: Vec<u8> = (0..100)
            .map(|i| if (45..50).contains(&i) || i >= 85 { 1 - labels[i] } else { labels[i] })
            .collect();
        let preds = Predictions { predicted, labels };
        let all: HashMap<String, Predictions> =
            runs.iter().map(|r| (r.run_id.clone(), preds.clone())).collect();
        let cv = protocol_stats(&exp, &mine, &all).expect("a protocol experiment");
        let rows: Vec<Vec<f64>> = table.iter().map(|r| r.to_vec()).collect();
        let v = fold_variance_ratio(&rows, 0.05).expect("a ratio");
        assert_eq!(cv.ratio.as_ref(), Some(&v));
        assert!((cv.single_split_sd_pooled - v.single_split_var.sqrt()).abs() < 1e-15);
        assert!(cv.single_split_df <= 9.0 && cv.single_split_df > 3.0, "{}", cv.single_split_df);
        assert_eq!((cv.examples_per_fold, cv.replicates), (100, 4));
        // Within class: (50·0.9·0.1 + 50·0.7·0.3) / 100² per run; the mean of 3 folds
        // has a third of it.
        let f = cv.floor.as_ref().expect("a floor");
        let per_run: f64 = (50.0 * 0.9 * 0.1 + 50.0 * 0.7 * 0.3) / 10_000.0;
        assert!((f.single_split - per_run.sqrt()).abs() < 1e-12 && f.from_predictions);
        assert!((f.k_fold - (per_run / 3.0).sqrt()).abs() < 1e-12);
        // Without predictions: binomial on each run's accuracy.
        let cv = protocol_stats(&exp, &mine, &HashMap::new()).expect("a protocol experiment");
        let f = cv.floor.expect("a floor");
        let binomial: f64 =
            table.iter().flatten().map(|a| a * (1.0 - a) / 100.0).sum::<f64>() / 12.0;
        assert!((f.single_split - binomial.sqrt()).abs() < 1e-12 && !f.from_predictions);
    }

    #[test]
    fn degenerate_tables() {
        assert!(fold_variance_ratio(&[vec![1.0, 2.0]], 0.05).is_none(), "one replicate");
        assert!(fold_variance_ratio(&[vec![1.0], vec![2.0]], 0.05).is_none(), "one fold");
        assert!(fold_variance_ratio(&[vec![1.0, 2.0], vec![1.0]], 0.05).is_none(), "ragged");
        assert!(fold_variance_ratio(&[vec![1.0, 2.0], vec![1.0, 2.0]], 0.05).is_none());
        // Folds that move together exactly: a single split is no worse than the mean.
        let v = fold_variance_ratio(&[vec![1.0, 2.0], vec![3.0, 4.0], vec![0.0, 1.0]], 0.05)
            .expect("a ratio");
        assert_eq!((v.f, v.ci, v.ratio), (None, (1.0, 1.0), 1.0));
    }
}
