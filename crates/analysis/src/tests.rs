//! Unit tests of the study analysis.

#[cfg(test)]
mod study_tests {
    #[allow(unused_imports)]
    use crate::testing::plan_of;
    use crate::*;
    #[allow(unused_imports)]
    use crate::{
        noise::NoiseSummary,
        power::{Design, Scale, SeedsNeeded, TTest},
        stats::*,
    };
    #[allow(unused_imports)]
    use cnnvar_core::study::{Experiment, ExperimentKind, Level, PlannedRun};
    use cnnvar_core::{EpochRecord, RunSpec};
    #[allow(unused_imports)]
    use cnnvar_core::{Predictions, RunRecord};
    #[allow(unused_imports)]
    use std::collections::HashMap;
    #[allow(unused_imports)]
    use std::path::Path;

    fn record(acc: f64, diverged: bool) -> RunRecord {
        let spec = RunSpec::default();
        RunRecord {
            test_accuracy: acc,
            test_loss: if diverged { f64::NAN } else { 1.0 - acc },
            train_accuracy: if diverged { acc } else { acc + 0.05 },
            train_loss: 0.1,
            per_class_accuracy: vec![acc; 10],
            epochs: vec![EpochRecord {
                epoch: 1,
                train_loss: if diverged { f64::NAN } else { 0.5 },
                train_accuracy: acc,
                test_loss: 0.5,
                test_accuracy: acc,
                seconds: 1.0,
                train_samples_per_sec: 1.0,
                eval_samples_per_sec: 1.0,
            }],
            diverged,
            ..cnnvar_core::testing::record_of(&spec)
        }
    }

    fn experiment(kind: ExperimentKind, labels: &[&str]) -> Experiment {
        Experiment {
            name: "e".into(),
            title: "E".into(),
            claim: None,
            expect_best: None,
            checks: vec![],
            kind,
            factors: vec![if kind == ExperimentKind::Factor {
                "lr".into()
            } else {
                "seed source".into()
            }],
            levels: labels
                .iter()
                .map(|l| Level {
                    label: l.to_string(),
                    values: Default::default(),
                    spec: RunSpec::default(),
                })
                .collect(),
        }
    }

    fn planned(level: &str, r: usize) -> PlannedRun {
        PlannedRun {
            experiment: "e".into(),
            level: level.into(),
            level_index: 0,
            replicate: r,
            run_id: format!("{level}{r}"),
            spec: RunSpec::default(),
        }
    }

    #[test]
    fn class_names_come_from_the_levels_data_set() {
        let mut exp = experiment(ExperimentKind::Factor, &["a", "b"]);
        let names = experiment_stats(&exp, &[]).class_names;
        assert_eq!(names.first().map(String::as_str), Some("T-shirt/top"));
        assert_eq!(names.len(), 10);
        exp.levels[1].spec.dataset = cnnvar_core::DatasetName::Cifar10;
        assert!(experiment_stats(&exp, &[]).class_names.is_empty());
    }

    /// An image folder's class names come from its records (the class folders'), when
    /// they agree; none before any run is complete.
    #[test]
    fn an_image_folders_class_names_come_from_its_records() {
        let mut exp = experiment(ExperimentKind::Factor, &["a", "b"]);
        for level in &mut exp.levels {
            level.spec.dataset = cnnvar_core::DatasetName::Folder;
        }
        assert!(experiment_stats(&exp, &[]).class_names.is_empty());
        let runs = [planned("a", 0), planned("b", 0)];
        let named = |names: &[&str]| {
            let mut r = record(0.9, false);
            r.provenance.class_names = names.iter().map(|n| n.to_string()).collect();
            r
        };
        let results = vec![(&runs[0], named(&["cat", "dog"])), (&runs[1], named(&["cat", "dog"]))];
        assert_eq!(experiment_stats(&exp, &results).class_names, ["cat", "dog"]);
        let mixed = vec![(&runs[0], named(&["cat", "dog"])), (&runs[1], named(&["ant", "bee"]))];
        assert!(experiment_stats(&exp, &mixed).class_names.is_empty());
    }

    #[test]
    fn a_real_difference_gets_a_verdict() {
        let exp = experiment(ExperimentKind::Factor, &["0.01", "0.0001"]);
        let runs: Vec<PlannedRun> =
            (0..5).flat_map(|r| [planned("0.01", r), planned("0.0001", r)]).collect();
        let results: Vec<(&PlannedRun, RunRecord)> = runs
            .iter()
            .map(|p| {
                let base = if p.level == "0.01" { 0.80 } else { 0.90 };
                (p, record(base + 0.002 * p.replicate as f64, false))
            })
            .collect();
        let s = experiment_stats(&exp, &results);
        assert_eq!(s.pairs.len(), 1);
        let pair = &s.pairs[0];
        assert!(pair.significant);
        assert_eq!(pair.outcome, Outcome::Resolved);
        // A − B: lr 0.01 is 10 points below lr 0.0001, the adjusted interval all below 0.
        assert!((pair.diff + 0.10).abs() < 1e-9, "{}", pair.diff);
        assert!(pair.ci_adjusted.is_some_and(|(lo, hi)| lo <= hi && hi < 0.0), "{pair:?}");
        assert_eq!(s.levels[0].test_accuracy.as_ref().unwrap().n, 5);
        assert!((s.levels[1].gap.as_ref().unwrap().mean - 0.05).abs() < 1e-9);
    }

    #[test]
    fn noise_is_called_noise() {
        let exp = experiment(ExperimentKind::Factor, &["a", "b"]);
        let runs: Vec<PlannedRun> =
            (0..5).flat_map(|r| [planned("a", r), planned("b", r)]).collect();
        let accs = [0.81, 0.85, 0.83, 0.80, 0.84];
        let results: Vec<(&PlannedRun, RunRecord)> = runs
            .iter()
            .map(|p| {
                let shift = if p.level == "a" { 0.0 } else { 0.003 };
                (p, record(accs[(p.replicate + usize::from(p.level == "b")) % 5] + shift, false))
            })
            .collect();
        let s = experiment_stats(&exp, &results);
        assert!(!s.pairs[0].significant);
        assert_ne!(s.pairs[0].outcome, Outcome::Resolved);
    }

    #[test]
    fn diverged_runs_are_counted_not_averaged() {
        let exp = experiment(ExperimentKind::Factor, &["a", "b"]);
        let runs: Vec<PlannedRun> =
            (0..3).flat_map(|r| [planned("a", r), planned("b", r)]).collect();
        let results: Vec<(&PlannedRun, RunRecord)> = runs
            .iter()
            .map(|p| {
                (
                    p,
                    record(
                        if p.level == "a" { 0.5 + 0.01 * p.replicate as f64 } else { 0.8 },
                        p.level == "a" && p.replicate == 0,
                    ),
                )
            })
            .collect();
        let s = experiment_stats(&exp, &results);
        let a = &s.levels[0];
        assert_eq!((a.complete, a.diverged, a.accuracies.len()), (3, 1, 2));
        // Comparisons use the runs that did not diverge; the divergence is an outcome of
        // its own (the level's `diverged`).
        assert_eq!(a.scored_accuracies, [0.51, 0.52]);
        assert_eq!(a.scored_replicates, [1, 2]);
        assert_eq!(a.diverged_runs.len(), 1);
        assert_eq!((a.diverged_runs[0].run_id.as_str(), a.diverged_runs[0].replicate), ("a0", 0));
        assert!(a.diverged_runs[0].reason.starts_with("non-finite"), "{:?}", a.diverged_runs);
        let acc = a.test_accuracy.as_ref().unwrap();
        assert!(acc.mean.is_finite() && acc.sd.is_some_and(f64::is_finite));
        assert!(a.test_loss.as_ref().unwrap().mean.is_finite());
        assert!(a.curve.iter().all(|p| p.train.mean.is_finite()));
        // Everything serialises to JSON (no NaN; the reasons may say "NaN" in words).
        let mut numbers = s.clone();
        numbers.levels.iter_mut().for_each(|l| l.diverged_runs.clear());
        assert!(serde_json::to_string(&numbers).unwrap().find("NaN").is_none());
    }

    /// A learning rate at which every seed diverges (three with a NaN loss, two
    /// stuck at chance with a finite loss, like Adam at lr 10) has no accuracy to
    /// compare: its effect is its divergence rate, which the exact test resolves.
    #[test]
    fn a_level_that_always_diverges_is_an_effect() {
        let exp = experiment(ExperimentKind::Factor, &["0.001", "10"]);
        let runs: Vec<PlannedRun> =
            (0..5).flat_map(|r| [planned("0.001", r), planned("10", r)]).collect();
        let results: Vec<(&PlannedRun, RunRecord)> = runs
            .iter()
            .map(|p| match p.level.as_str() {
                "10" => {
                    let mut stuck = record(0.1, p.replicate < 3);
                    stuck.epochs[0].train_loss = if stuck.diverged { f64::NAN } else { 22.0 };
                    (p, stuck)
                }
                _ => (p, record(0.85 + 0.002 * p.replicate as f64, false)),
            })
            .collect();
        let lr = experiment_stats(&exp, &results);
        let wild = &lr.levels[1];
        assert_eq!((wild.complete, wild.diverged, wild.accuracies.len()), (5, 5, 0));
        assert!(wild.diverged_runs[3].reason.contains("at chance"), "{:?}", wild.diverged_runs);
        assert!(lr.pairs.is_empty(), "no accuracy to compare: {:?}", lr.pairs);
        let d = crate::factor::divergence_test(&lr.levels);
        assert!(d.p.expect("an exact test") < 0.01, "{d:?}");

        let null_exp = experiment(ExperimentKind::Factor, &["a", "b"]);
        let null_runs: Vec<PlannedRun> =
            (0..5).flat_map(|r| [planned("a", r), planned("b", r)]).collect();
        let accs = [0.81, 0.85, 0.83, 0.80, 0.84];
        let null_results: Vec<(&PlannedRun, RunRecord)> = null_runs
            .iter()
            .map(|p| (p, record(accs[(p.replicate + usize::from(p.level == "b")) % 5], false)))
            .collect();
        let mut null = experiment_stats(&null_exp, &null_results);
        null.name = "null".into();
        let study = StudyStats {
            study: "t".into(),
            planned: 20,
            complete: 20,
            diverged: 5,
            seeds: 5,
            test_set_noise: None,
            time: None,
            experiments: vec![null, lr],
        };
        let ranking = rank::rank(&study);
        // Its accuracy cannot be compared (no run of lr 10 trained), so it is not ranked
        // by accuracy; its divergence is its effect (tested above).
        assert!(ranking.factors.iter().all(|f| f.experiment != "e"), "{ranking:?}");
    }

    #[test]
    fn single_runs_have_no_test() {
        let exp = experiment(ExperimentKind::Factor, &["a", "b"]);
        let runs = [planned("a", 0), planned("b", 0)];
        let results: Vec<(&PlannedRun, RunRecord)> =
            runs.iter().map(|p| (p, record(0.8, false))).collect();
        let s = experiment_stats(&exp, &results);
        assert!(s.pairs[0].p_adjusted.is_none() && !s.pairs[0].significant);
        assert_eq!(s.pairs[0].outcome, Outcome::Untested);
        assert!(s.pairs[0].deciding().is_none() && s.pairs[0].ci_adjusted.is_none());
    }

    #[test]
    fn variance_sources_report_sd_with_interval() {
        let exp = experiment(ExperimentKind::VarianceSources, &["init", "order", "subset", "all"]);
        let runs: Vec<PlannedRun> = (0..5)
            .flat_map(|r| ["init", "order", "subset", "all"].map(|l| planned(l, r)))
            .collect();
        let results: Vec<(&PlannedRun, RunRecord)> = runs
            .iter()
            .map(|p| {
                let spread = match p.level.as_str() {
                    "init" => 0.001,
                    "order" => 0.004,
                    "subset" => 0.01,
                    _ => 0.012,
                };
                (p, record(0.8 + spread * (p.replicate as f64 - 2.0), false))
            })
            .collect();
        let s = experiment_stats(&exp, &results);
        assert_eq!(s.sources.len(), 4);
        let sd = |i: usize| s.sources[i].sd.unwrap();
        assert!(sd(0) < sd(1) && sd(1) < sd(2) && sd(2) < sd(3));
        let (lo, hi) = s.sources[2].sd_ci.unwrap();
        assert!(lo < sd(2) && sd(2) < hi);
    }
}

#[cfg(test)]
mod protocol_tests {
    #[allow(unused_imports)]
    use crate::testing::plan_of;
    use crate::*;
    #[allow(unused_imports)]
    use crate::{
        noise::NoiseSummary,
        power::{Design, Scale, SeedsNeeded, TTest},
        stats::*,
    };
    #[allow(unused_imports)]
    use cnnvar_core::study::{Experiment, ExperimentKind, Level, PlannedRun};
    use cnnvar_core::{EvalSet, RunSpec};
    #[allow(unused_imports)]
    use cnnvar_core::{Predictions, RunRecord};
    #[allow(unused_imports)]
    use std::collections::HashMap;
    #[allow(unused_imports)]
    use std::path::Path;

    fn fold_spec(fold: usize) -> RunSpec {
        RunSpec {
            evaluate_on: Some(EvalSet::Validation),
            folds: Some(3),
            fold: Some(fold),
            ..RunSpec::default()
        }
    }

    /// Three folds, four replicates, constructed so the single split (fold 0) swings
    /// by ±3 points while the mean over folds is nearly constant: the k-fold estimate
    /// must come out steadier, with the exact means.
    #[test]
    fn k_fold_is_steadier_than_a_single_split() {
        let exp = Experiment {
            name: "protocol".into(),
            title: "Protocol".into(),
            claim: None,
            expect_best: None,
            checks: vec![],
            kind: ExperimentKind::Factor,
            factors: vec!["fold".into()],
            levels: (0..3)
                .map(|f| Level {
                    label: f.to_string(),
                    values: Default::default(),
                    spec: fold_spec(f),
                })
                .collect(),
        };
        // fold accuracies per replicate: fold 0 = 0.80 ± 0.03, folds 1 and 2 compensate.
        let table =
            [[0.83, 0.785, 0.785], [0.77, 0.815, 0.815], [0.83, 0.78, 0.79], [0.77, 0.82, 0.81]];
        let runs: Vec<PlannedRun> = (0..4)
            .flat_map(|r| {
                (0..3).map(move |f| PlannedRun {
                    experiment: "protocol".into(),
                    level: f.to_string(),
                    level_index: f,
                    replicate: r,
                    run_id: format!("{r}-{f}"),
                    spec: fold_spec(f),
                })
            })
            .collect();
        let results: Vec<(&PlannedRun, RunRecord)> = runs
            .iter()
            .map(|p| {
                let spec = p.spec.clone();
                let record = RunRecord {
                    run_id: p.run_id.clone(),
                    test_accuracy: table[p.replicate][p.level_index],
                    per_class_accuracy: vec![],
                    ..cnnvar_core::testing::record_of(&spec)
                };
                (p, record)
            })
            .collect();
        let s = experiment_stats(&exp, &results);
        let cv = s.cross_validation.expect("a protocol experiment");
        assert_eq!((cv.folds, cv.replicates), (3, 4));
        assert!((cv.single_split.mean - 0.80).abs() < 1e-12);
        assert!((cv.k_fold.mean - 0.80).abs() < 1e-12);
        let (sd1, sdk) = (cv.single_split.sd.unwrap(), cv.k_fold.sd.unwrap());
        assert!((sd1 - 0.03 * (4.0f64 / 3.0).sqrt()).abs() < 1e-9, "{sd1}");
        assert!(sdk < sd1 / 5.0, "{sdk} vs {sd1}");
        // A diverged fold drops its replicate from both estimators.
        let mut broken = results.clone();
        broken[4].1.diverged = true;
        let cv = experiment_stats(&exp, &broken).cross_validation.expect("still enough");
        assert_eq!(cv.replicates, 3);
    }
}

#[cfg(test)]
mod noise_and_power_tests {
    #[allow(unused_imports)]
    use crate::testing::plan_of;
    use crate::*;
    #[allow(unused_imports)]
    use crate::{
        noise::NoiseSummary,
        power::{Design, Scale, SeedsNeeded, TTest},
        stats::*,
    };
    use cnnvar_core::RunSpec;
    #[allow(unused_imports)]
    use cnnvar_core::study::{Experiment, ExperimentKind, Level, PlannedRun};
    #[allow(unused_imports)]
    use cnnvar_core::{Predictions, RunRecord};
    #[allow(unused_imports)]
    use std::collections::HashMap;
    #[allow(unused_imports)]
    use std::path::Path;

    fn record(run: &PlannedRun, acc: f64) -> RunRecord {
        RunRecord {
            run_id: run.run_id.clone(),
            test_accuracy: acc,
            train_accuracy: acc + 0.05,
            per_class_accuracy: vec![acc; 10],
            test_examples: 100,
            ..cnnvar_core::testing::record_of(&run.spec)
        }
    }

    fn planned(exp: &str, level: &str, r: usize) -> PlannedRun {
        PlannedRun {
            experiment: exp.into(),
            level: level.into(),
            level_index: 0,
            replicate: r,
            run_id: format!("{level}-{r}"),
            spec: RunSpec::default(),
        }
    }

    fn factor(labels: &[&str]) -> Experiment {
        Experiment {
            name: "e".into(),
            title: "E".into(),
            claim: None,
            expect_best: None,
            checks: vec![],
            kind: ExperimentKind::Factor,
            factors: vec!["model".into()],
            levels: labels
                .iter()
                .map(|l| Level {
                    label: l.to_string(),
                    values: Default::default(),
                    spec: RunSpec::default(),
                })
                .collect(),
        }
    }

    /// 100 labels (class i % 10) and a run that gets `wrong` of them wrong, starting
    /// at example `from`.
    fn run_predictions(wrong: usize, from: usize) -> Predictions {
        let labels: Vec<u8> = (0..100).map(|i| (i % 10) as u8).collect();
        let mut predicted = labels.clone();
        for i in from..from + wrong {
            predicted[i % 100] = (predicted[i % 100] + 1) % 10;
        }
        Predictions { predicted, labels }
    }

    /// A level with every run's predictions has its test-set noise; one where only
    /// one run has them says so and names the runs without; runs evaluated on other
    /// examples (other labels) are not pooled.
    #[test]
    fn levels_with_and_without_predictions() {
        let exp = factor(&["a", "b", "c"]);
        let runs: Vec<PlannedRun> =
            (0..3).flat_map(|r| ["a", "b", "c"].map(|l| planned("e", l, r))).collect();
        let mut predictions = HashMap::new();
        for run in &runs {
            let p = run_predictions(5 + 3 * run.replicate, 7 * run.replicate);
            match run.level.as_str() {
                "a" => {
                    predictions.insert(run.run_id.clone(), p);
                }
                "b" if run.replicate == 0 => {
                    predictions.insert(run.run_id.clone(), p);
                }
                "c" => {
                    let mut p = p;
                    if run.replicate == 2 {
                        p.labels[0] = 9;
                    }
                    predictions.insert(run.run_id.clone(), p);
                }
                _ => {}
            }
        }
        let results: Vec<(&PlannedRun, RunRecord)> =
            runs.iter().map(|p| (p, record(p, 0.9 - 0.03 * p.replicate as f64))).collect();
        let inputs = AnalysisInputs { predictions, ..AnalysisInputs::default() };
        let s = experiment_stats_with(&exp, &results, &inputs);
        let (a, b, c) = (&s.levels[0], &s.levels[1], &s.levels[2]);
        let noise = a.test_set_noise.as_ref().expect("every run has predictions");
        assert_eq!((noise.runs, noise.examples, a.runs_with_predictions), (3, 100, 3));
        // Accuracies 0.95, 0.92, 0.89 from the predictions.
        assert!((noise.observed_sd - 0.03).abs() < 1e-12, "{}", noise.observed_sd);
        assert!(noise.floor_sd > 0.0 && noise.floor_ci.is_some());
        assert!(!noise.most_contested.is_empty() && noise.most_contested.len() <= MOST_CONTESTED);
        assert!(a.without_predictions.is_empty() && a.noise_missing.is_none());
        assert!(b.test_set_noise.is_none());
        assert_eq!(b.without_predictions, ["b-1", "b-2"]);
        assert_eq!(b.noise_missing, Some(MissingNoise::OneRun { run: "b-0".into() }), "{b:?}");
        assert!(c.test_set_noise.is_none() && c.without_predictions.is_empty());
        let differ = MissingNoise::DifferentExamples { first: "c-0".into(), other: "c-2".into() };
        assert_eq!(c.noise_missing, Some(differ), "{c:?}");
        // The study's pooled noise comes from level a alone.
        let study = study_noise(std::slice::from_ref(&s)).expect("one level");
        assert_eq!((study.levels, study.runs, study.examples), (1, 3, (100, 100)));
        assert!((study.observed_sd - 0.03).abs() < 1e-12, "{study:?}");
        assert!((study.floor_sd - noise.floor_sd).abs() < 1e-12, "{study:?}");
        // Serialised without the per-example votes, and without NaN.
        let json = serde_json::to_string(&s).expect("serialises");
        assert!(!json.contains("per_example") && !json.contains("NaN"));
        // Without predictions at all, nothing breaks and every run is listed.
        let bare = experiment_stats(&exp, &results);
        assert!(bare.levels.iter().all(|l| l.test_set_noise.is_none()));
        assert_eq!(bare.levels[0].without_predictions.len(), 3);
        assert_eq!(bare.levels[0].noise_missing, Some(MissingNoise::NoPredictions));
        assert!(study_noise(std::slice::from_ref(&bare)).is_none());
    }

    /// Replicate accuracies that swing together at both levels (shared seeds), with B a
    /// steady 0.4 points below A.
    fn swinging() -> (Experiment, Vec<PlannedRun>, Vec<f64>) {
        let exp = factor(&["a", "b"]);
        let runs: Vec<PlannedRun> =
            (0..5).flat_map(|r| ["a", "b"].map(|l| planned("e", l, r))).collect();
        let base = vec![0.80, 0.83, 0.78, 0.85, 0.81];
        (exp, runs, base)
    }

    /// With paired seeds, the paired test decides (and resolves a steady difference
    /// that Welch cannot tell from the swings); without, Welch decides: a 0.4-point
    /// difference against swings of 2.7 points is within seed noise, a 3-point one is
    /// not resolved, with the seeds it would need.
    #[test]
    fn paired_and_unpaired_comparisons() {
        let (exp, runs, base) = swinging();
        let results = |shift: f64| -> Vec<(&PlannedRun, RunRecord)> {
            runs.iter()
                .map(|p| {
                    let jitter = 0.0002 * (p.replicate % 2) as f64;
                    let b = if p.level == "b" { -shift - jitter } else { 0.0 };
                    (p, record(p, base[p.replicate] + b))
                })
                .collect()
        };
        let paired = AnalysisInputs { paired_seeds: true, ..AnalysisInputs::default() };
        let unpaired = AnalysisInputs { paired_seeds: false, ..AnalysisInputs::default() };
        let small = results(0.004);
        let s = experiment_stats_with(&exp, &small, &paired);
        let pair = &s.pairs[0];
        assert_eq!(pair.test, Some(Design::Paired));
        assert!(pair.paired.is_some() && pair.welch.is_some());
        assert!(pair.paired.as_ref().unwrap().p < 1e-4 && pair.welch.as_ref().unwrap().p > 0.5);
        assert_eq!(pair.outcome, Outcome::Resolved);
        assert!((pair.diff - 0.004).abs() < 1e-3, "{}", pair.diff);
        assert!(pair.ci_adjusted.is_some_and(|(lo, _)| lo > 0.0), "{pair:?}");
        let s = experiment_stats_with(&exp, &small, &unpaired);
        let pair = &s.pairs[0];
        assert_eq!((pair.test, pair.paired.is_none()), (Some(Design::Welch), true));
        // Unpaired, the 0.4-point difference is lost in the seeds' spread: not resolved,
        // and within ±0.5 points cannot be shown either; with a margin of 5 points the
        // equivalence test shows it.
        assert_eq!(pair.outcome, Outcome::Unresolved);
        let wide = AnalysisInputs { margin: 5.0, ..unpaired.clone() };
        let s = experiment_stats_with(&exp, &small, &wide);
        let pair = &s.pairs[0];
        assert_eq!((pair.outcome, pair.margin), (Outcome::WithinNoise, 5.0));

        let large = results(0.03);
        let s = experiment_stats_with(&exp, &large, &unpaired);
        let pair = &s.pairs[0];
        assert_eq!(pair.outcome, Outcome::Unresolved);
        let t = pair.deciding().expect("tested");
        assert_eq!((t.design, t.n_a, t.n_b), (Design::Welch, 5, 5));
        assert!(matches!(pair.seeds_needed, Some(SeedsNeeded::Exactly(n)) if n > 5));
        let s = experiment_stats_with(&exp, &large, &paired);
        assert_eq!(s.pairs[0].outcome, Outcome::Resolved);
        // Paired over the replicates both levels have: one missing run drops its pair.
        let fewer: Vec<(&PlannedRun, RunRecord)> =
            large.iter().filter(|(p, _)| !(p.level == "b" && p.replicate == 4)).cloned().collect();
        let s = experiment_stats_with(&exp, &fewer, &paired);
        let t = s.pairs[0].paired.as_ref().expect("4 shared replicates");
        assert_eq!((t.n_a, s.pairs[0].welch.as_ref().unwrap().n_b), (4, 4));
    }

    /// Whatever the data, the outcome agrees with the adjusted interval: resolved exactly
    /// when the interval excludes 0, within seed noise only when the equivalence interval
    /// lies inside ± the margin, and not resolved otherwise (the report's sentences say
    /// so: `cnnvar-report`'s `verdicts` tests).
    #[test]
    fn verdicts_agree_with_their_intervals() {
        let mut state = 0x9e37_79b9_u64;
        let mut uniform = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let labels = ["a", "b", "c", "d"];
        let mut seen = std::collections::HashSet::new();
        for case in 0..300 {
            let levels = 2 + case % 3;
            let exp = factor(&labels[..levels]);
            let seeds = 3 + case % 4;
            let runs: Vec<PlannedRun> = (0..seeds)
                .flat_map(|r| labels[..levels].iter().map(move |l| planned("e", l, r)))
                .collect();
            let spread = [0.0005, 0.003, 0.01][case % 3];
            let effect = 0.03 * uniform();
            let results: Vec<(&PlannedRun, RunRecord)> = runs
                .iter()
                .map(|p| {
                    let level = labels.iter().position(|l| *l == p.level).unwrap() as f64;
                    let acc = 0.8 + effect * level * uniform() + spread * uniform();
                    (p, record(p, acc))
                })
                .collect();
            let inputs = AnalysisInputs { paired_seeds: case % 2 == 0, ..Default::default() };
            let s = experiment_stats_with(&exp, &results, &inputs);
            assert_eq!(s.pairs.len(), levels * (levels - 1) / 2);
            for p in &s.pairs {
                assert_eq!(p.comparisons, s.pairs.len());
                let (lo, hi) = p.ci_adjusted.expect("tested");
                let t = p.deciding().expect("tested");
                assert_eq!((lo, hi), t.ci_adjusted(ALPHA, p.comparisons));
                let excludes = lo > 0.0 || hi < 0.0;
                if (t.p_bonferroni(p.comparisons) / ALPHA - 1.0).abs() > 1e-9 {
                    assert_eq!(excludes, p.significant, "{p:?}");
                }
                assert!(p.detectable.is_some(), "solvable: {p:?}");
                match p.outcome {
                    Outcome::Resolved => assert!(p.significant, "{p:?}"),
                    Outcome::WithinNoise => {
                        // Only an equivalence test says "within seed noise": the
                        // (1 − 2α/m) interval lies inside ± the margin.
                        let (elo, ehi) = t.ci_adjusted(2.0 * ALPHA, p.comparisons);
                        let m = p.margin / 100.0;
                        assert!(!p.significant && -m < elo && ehi < m, "{p:?}");
                    }
                    Outcome::Unresolved => assert!(!p.significant, "{p:?}"),
                    Outcome::Untested => panic!("every pair has runs"),
                }
                seen.insert(p.outcome);
            }
        }
        assert_eq!(seen.len(), 3, "resolved, within noise and unresolved all occur: {seen:?}");
    }

    /// An ordered numeric factor compares neighbouring levels only (in numeric order,
    /// whatever the file order), corrects for levels − 1 comparisons, and fits a
    /// trend on the log scale; an unordered factor compares every pair.
    #[test]
    fn ordered_factors_compare_neighbours_and_fit_a_trend() {
        let text = "seeds = 3\n[base]\nepochs = 1\n[[experiment]]\nname = \"size\"\n\
                    vary = { train_size = [1000, 100, 300, 3000] }\n[[experiment]]\n\
                    name = \"model\"\nvary = { model = [\"simple\", \"cnn\", \"complex\"] }\n";
        let study = cnnvar_core::study::parse(text, Path::new("s.toml")).expect("parses");
        let plan = plan_of(study);
        let results: Vec<(&PlannedRun, RunRecord)> = plan
            .runs
            .iter()
            .map(|p| {
                let size = p.spec.train_size.unwrap_or(100) as f64;
                let acc = 0.6 + 0.05 * size.log2() / 10.0 + 0.002 * p.replicate as f64;
                (p, record(p, acc))
            })
            .collect();
        let size = experiment_stats(&plan.study.experiments[0], &results);
        assert_eq!(size.ordered_factor.as_deref(), Some("train_size"));
        let pairs: Vec<(&str, &str)> =
            size.pairs.iter().map(|p| (p.a.as_str(), p.b.as_str())).collect();
        assert_eq!(pairs, [("100", "300"), ("300", "1000"), ("1000", "3000")]);
        assert!(size.pairs.iter().all(|p| p.comparisons == 3));
        let trend = size.trend.as_ref().expect("a trend");
        assert_eq!(
            (trend.trend.scale, trend.trend.n, trend.step.as_str()),
            (Scale::Log, 12, "doubling")
        );
        // 0.005 per doubling of the size, exactly.
        assert!((trend.per_step - 0.005).abs() < 1e-9, "{}", trend.per_step);
        let (lo, hi) = trend.per_step_ci;
        assert!(trend.trend.p < ALPHA && lo < trend.per_step && trend.per_step < hi, "{trend:?}");
        let model = experiment_stats(&plan.study.experiments[1], &results);
        assert_eq!((model.ordered_factor.as_ref(), model.trend.as_ref()), (None, None));
        assert_eq!(model.pairs.len(), 3);
        // A linear factor: dropout.
        let text = "seeds = 2\n[base]\nepochs = 1\n[[experiment]]\nname = \"drop\"\n\
                    vary = { dropout = [0.0, 0.25, 0.5] }\n";
        let plan = plan_of(cnnvar_core::study::parse(text, Path::new("d.toml")).expect("parses"));
        let results: Vec<(&PlannedRun, RunRecord)> = plan
            .runs
            .iter()
            .map(|p| {
                (
                    p,
                    record(
                        p,
                        0.8 - 0.02 * p.spec.dropout.unwrap_or(0.0) + 0.001 * p.replicate as f64,
                    ),
                )
            })
            .collect();
        let drop = experiment_stats(&plan.study.experiments[0], &results);
        assert_eq!(drop.pairs.len(), 2);
        let trend = drop.trend.as_ref().expect("a trend");
        assert_eq!((trend.trend.scale, trend.step.as_str()), (Scale::Linear, "unit"));
        assert!((trend.per_step + 0.02).abs() < 1e-9, "{}", trend.per_step);
    }
}
