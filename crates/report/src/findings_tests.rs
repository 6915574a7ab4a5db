//! The findings in words, from typed outcomes made up for each sentence.

use cnnvar_analysis::inference::BrownForsythe;
use cnnvar_analysis::sources::{
    BACKEND, ChaosStats, ChaosVerdict, EqualSpread, NUDGE, RERUN, SPLIT, THREADS,
};
use cnnvar_analysis::{SourceStats, StudyNoise};

use super::*;

/// A `rerun` or `nudge` level of 20 runs with this verdict: sd 0.12 [0.09, 0.18]
/// points, 97% [52, 190] of the all-seeds spread.
fn chaos(source: &str, verdict: ChaosVerdict) -> ChaosStats {
    ChaosStats {
        source: source.into(),
        n: 20,
        sd: Some(0.0012),
        sd_ci: Some((0.0009, 0.0018)),
        ratio: Some(0.97),
        ratio_ci: Some((0.52, 1.9)),
        verdict,
        nudge_epoch: cnnvar_core::study::nudge_epoch(source),
        twin_disagreement: None,
    }
}

/// Every verdict of both sources has its own sentence.
#[test]
fn each_chaos_verdict_in_words() {
    use ChaosVerdict::*;
    let said = |source: &str, verdict| chaos_sentence(&chaos(source, verdict));
    let share = "97% [52, 190] of the spread of fully new seeds";
    let sd = "sd 0.12 [0.09, 0.18] points";
    assert_eq!(
        said(RERUN, Identical),
        "rerunning the same seeds gave identical accuracy in all 20 runs (deterministic)"
    );
    assert_eq!(
        said(NUDGE, Identical),
        "changing one weight by one ulp left accuracy identical in all 20 runs: no chaos here"
    );
    assert_eq!(
        said(NUDGE, AsMuchAsNewSeeds),
        format!(
            "changing one weight by one ulp gives {share}: the variation is chaos, not bad luck \
             with seeds"
        )
    );
    assert_eq!(
        said(NUDGE, LessThanNewSeeds),
        format!(
            "changing one weight by one ulp gives {share}: the nudge alone moves accuracy less \
             than new seeds"
        )
    );
    assert_eq!(
        said(NUDGE, NotResolved),
        format!(
            "changing one weight by one ulp gives {share}: not resolved (the interval is too \
             wide; more seeds would tell)"
        )
    );
    assert_eq!(
        said(RERUN, AsMuchAsNewSeeds),
        format!(
            "rerunning the same seeds gave {sd}, {share}: the runs are not deterministic, and \
             that alone varies accuracy as much as new seeds"
        )
    );
    assert_eq!(
        said(RERUN, LessThanNewSeeds),
        format!(
            "rerunning the same seeds gave {sd}, {share}: not deterministic, but less than new seeds"
        )
    );
    assert_eq!(
        said(RERUN, NotResolved),
        format!(
            "rerunning the same seeds gave {sd}, {share}: not deterministic; how much, not resolved"
        )
    );
    let threads = "training the same seeds with 1, 2, 3 or 4 threads";
    assert_eq!(
        said(THREADS, Identical),
        format!(
            "{threads} gave identical accuracy in all 20 runs: the thread count does not change \
             the arithmetic"
        )
    );
    assert_eq!(
        said(THREADS, AsMuchAsNewSeeds),
        format!(
            "{threads} gave {sd}, {share}: the order of the arithmetic's reductions alone varies \
             accuracy as much as new seeds"
        )
    );
    assert_eq!(
        said(THREADS, LessThanNewSeeds),
        format!("{threads} gave {sd}, {share}: numerical noise, but less than new seeds")
    );
    let backend = "training the same initial weights on flex, ndarray and LibTorch in turn";
    assert_eq!(
        said(BACKEND, Identical),
        format!(
            "{backend} gave identical accuracy in all 20 runs: the backends' arithmetic agrees"
        )
    );
    assert_eq!(
        said(BACKEND, LessThanNewSeeds),
        format!("{backend} gave {sd}, {share}: numerical noise, but less than new seeds")
    );
    let split = "scoring the same model on a fresh draw of the test set (a bootstrap resample)";
    assert_eq!(
        said(SPLIT, LessThanNewSeeds),
        format!("{split} gave {sd}, {share}: the test set's own part is smaller than new seeds'")
    );
    assert_eq!(
        said(SPLIT, AsMuchAsNewSeeds),
        format!(
            "{split} gave {sd}, {share}: which test images are drawn moves accuracy as much as \
             new seeds do"
        )
    );
}

/// A later nudge says when it moved the weight, and a nudge with twins how often its
/// predictions differ from theirs.
#[test]
fn a_later_nudge_and_its_twins_in_words() {
    let share = "97% [52, 190] of the spread of fully new seeds";
    let later = chaos("nudge@5", ChaosVerdict::LessThanNewSeeds);
    assert_eq!(
        chaos_sentence(&later),
        format!(
            "changing one weight by one ulp after epoch 5 gives {share}: the nudge alone \
             moves accuracy less than new seeds"
        )
    );
    let disagreement =
        cnnvar_analysis::noise::Disagreement { mean: 0.0789, min: 0.00112, max: 0.1 };
    let twins = ChaosStats { twin_disagreement: Some(disagreement), ..later };
    assert!(
        chaos_sentence(&twins).ends_with(
            "less than new seeds; its runs predict 7.9% of the test images differently from \
             their un-nudged twins (0.11%–10.0%)"
        ),
        "{}",
        chaos_sentence(&twins)
    );
    let rerun = ChaosStats { twin_disagreement: None, ..chaos(RERUN, ChaosVerdict::Identical) };
    assert!(!chaos_sentence(&rerun).contains("twins"));
    assert_eq!(pct_short(0.0), "0%");
    assert_eq!(pct_short(0.00004), "0.004%", "not zero, so not written as zero");
}

/// Without an all-seeds level there is only the sd, or how few runs there are.
#[test]
fn chaos_without_a_comparison() {
    let alone = |source: &str, n: usize| {
        let sd = (n >= 2).then_some(0.0012);
        let c = ChaosStats {
            n,
            sd,
            sd_ci: sd.map(|_| (0.0009, 0.0018)),
            ratio: None,
            ratio_ci: None,
            ..chaos(source, ChaosVerdict::NoComparison)
        };
        chaos_sentence(&c)
    };
    assert_eq!(
        alone(NUDGE, 20),
        "changing one weight by one ulp gave sd 0.12 [0.09, 0.18] points (no all-seeds spread \
         to compare with)"
    );
    assert_eq!(
        alone(RERUN, 1),
        "rerunning the same seeds gave 1 run, too few for an sd (no all-seeds spread to compare \
         with)"
    );
    assert!(alone(RERUN, 0).starts_with("rerunning the same seeds gave 0 runs, too few"));
}

/// `source` of 20 runs with sd `sd` [0.8 sd, 1.4 sd] and, but for `all`, its ratio to
/// the all-seeds sd.
fn source(name: &str, sd: f64, ratio: Option<f64>) -> SourceStats {
    SourceStats {
        source: name.into(),
        n: 20,
        sd: Some(sd),
        sd_ci: Some((0.8 * sd, 1.4 * sd)),
        sd_ci_bootstrap: None,
        ratio_to_all: ratio,
        ratio_to_all_ci: ratio.map(|r| (0.5 * r, 1.5 * r)),
        ignored: false,
    }
}

/// The test of equal spread between `sources` with p-value `p`.
fn equal(sources: &[&str], p: f64) -> EqualSpread {
    EqualSpread {
        sources: sources.iter().map(|s| s.to_string()).collect(),
        runs: 20 * sources.len(),
        test: BrownForsythe { statistic: Some(1.0), df1: 2.0, df2: 57.0, p },
    }
}

/// Each source's sd, interval and share of the all-seeds sd, then whether the single
/// sources' spreads differ.
#[test]
fn the_sources_in_one_sentence() {
    let sources = [
        source("init", 0.01, Some(0.5)),
        source("order", 0.02, Some(1.0)),
        SourceStats { sd: None, ..source("subset", 0.0, None) },
        source("all", 0.02, None),
    ];
    assert_eq!(
        sources_sentence(&sources, Some(&equal(&["init", "order", "subset"], 0.0004))),
        "init: sd 1.00 [0.80, 1.40] points, 0.50 [0.25, 0.75] of all seeds' sd; order: sd 2.00 \
         [1.60, 2.80] points, 1.00 [0.50, 1.50] of all seeds' sd; all: sd 2.00 [1.60, 2.80] \
         points; spread differs between init, order and subset (Brown–Forsythe p < 0.001)"
    );
    let two = sources_sentence(&sources[..1], Some(&equal(&["init", "order"], 0.25)));
    assert!(
        two.ends_with(
            "; spread not shown to differ between init and order (Brown–Forsythe p = 0.250)"
        ),
        "{two}"
    );
    assert_eq!(sources_sentence(&sources[2..3], None), "");
}

/// A protocol experiment of 3 folds × 4 replicates of 100 validation images (two
/// classes of 50), every run with `predictions` when given: its [`ProtocolStats`].
fn protocol(predictions: Option<cnnvar_core::Predictions>) -> cnnvar_analysis::cv::ProtocolStats {
    use cnnvar_core::study::{Experiment, ExperimentKind, Level, PlannedRun};
    use cnnvar_core::{EvalSet, RunRecord, RunSpec};
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
    let table = [[0.83, 0.79, 0.80], [0.77, 0.81, 0.82], [0.84, 0.78, 0.80], [0.78, 0.80, 0.79]];
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
            let record = RunRecord {
                run_id: p.run_id.clone(),
                test_accuracy: table[p.replicate][p.level_index],
                test_examples: 100,
                ..cnnvar_core::testing::record_of(&p.spec)
            };
            (p, record)
        })
        .collect();
    let mine: Vec<&(&PlannedRun, RunRecord)> = results.iter().collect();
    let all: std::collections::HashMap<String, cnnvar_core::Predictions> = predictions
        .map(|p| runs.iter().map(|r| (r.run_id.clone(), p.clone())).collect())
        .unwrap_or_default();
    cnnvar_analysis::cv::protocol_stats(&exp, &mine, &all).expect("a protocol experiment")
}

/// The protocol's sentence and line: the ratio with its intervals, and the validation
/// floor within each class from predictions, or binomial from the records. The table
/// has F < 1 (a negative replicate variance estimate): the ratio is capped at k = 3.
#[test]
fn the_protocol_in_words() {
    // Class 0 right on 45 of 50, class 1 on 35 of 50.
    let labels: Vec<u8> = (0..100).map(|i| u8::from(i >= 50)).collect();
    let predicted: Vec<u8> = (0..100)
        .map(|i| if (45..50).contains(&i) || i >= 85 { 1 - labels[i] } else { labels[i] })
        .collect();
    let cv = protocol(Some(cnnvar_core::Predictions { predicted, labels }));
    assert_eq!(
        protocol_line(&cv),
        "single split (each of the 3 folds in turn, pooled): sd 2.28 [1.52, 4.50] points \
         between replicates (7.5 df); 3-fold cross-validation: mean 80.08%, sd 0.79 [0.45, \
         2.94] points (4 replicates). The 3-fold estimate moves 1.73× less [1.22, 1.73] in sd \
         (variance ratio 3.00 [1.50, 3.00], from the replicate × fold ANOVA, at most 3; F(3, \
         6) = 0.27, p = 0.844 for no effect shared by the folds of a replicate). It scores 3× \
         more images (300 against 100): the validation images alone give sd 3.87 of a single \
         split's 2.28 and 2.24 of the 3-fold estimate's 0.79 points (binomial within each \
         class)."
    );
    assert_eq!(
        protocol_sentence(&cv),
        "across 4 replicates, the 3-fold estimate (80.1 ± 0.79 sd) moves 1.7× less than a \
         single split (sd 2.28 points, pooled over the 3 folds as the split), 95% CI [1.22, \
         1.73]× (variance ratio 3.00 [1.50, 3.00], from the replicate × fold ANOVA; at most 3× \
         in variance); it also scores 3× more images (300 against 100), and the validation \
         images alone give sd 3.87 of a single split's 2.28 and 2.24 of the 3-fold estimate's \
         0.79 points"
    );
    let binomial = protocol_line(&protocol(None));
    assert!(binomial.ends_with(" points (binomial)."), "{binomial}");
    let no_ratio = cnnvar_analysis::cv::ProtocolStats { ratio: None, floor: None, ..cv };
    assert!(!protocol_line(&no_ratio).contains("moves"));
    assert_eq!(
        protocol_sentence(&no_ratio),
        format!(
            "3-fold estimate 80.1 against a single split (sd {} points, pooled over the folds)",
            crate::words::pts2(no_ratio.single_split_sd_pooled)
        )
    );
}

/// A level of 3 runs on 4 test examples: seed sd 38.19 points against a floor of 25.
fn level_noise() -> cnnvar_analysis::noise::NoiseSummary {
    cnnvar_analysis::noise::NoiseSummary {
        runs: 3,
        examples: 4,
        mean_accuracy: 1.75 / 3.0,
        observed_sd: (0.875f64 / 6.0).sqrt(),
        floor_sd: 0.25,
        floor_ci: Some((0.2, 0.3)),
        excess_sd: (1.0f64 / 12.0).sqrt(),
        within_floor: false,
        disagreement: cnnvar_analysis::noise::Disagreement { mean: 0.5, min: 0.25, max: 0.75 },
        ensemble_accuracy: 0.5,
        ensemble_gain: 0.5 - 1.75 / 3.0,
        ensemble_ties: 0,
        most_contested: vec![],
    }
}

/// A level's seed sd exceeds the floor by a real difference, or is within it.
#[test]
fn a_levels_test_set_noise_in_words() {
    let tail = "runs disagree on 50.0% of examples; a majority vote of the 3 runs scores 50.0 \
                (-8.33 points over the mean run)";
    assert_eq!(
        level_noise_sentence(&level_noise()),
        format!(
            "Seed sd 38.19 points exceeds the 25.00 points [20.00, 30.00] that independent \
             errors on 4 test examples give: the excess, 28.87 points, is a real difference in \
             accuracy between runs; {tail}"
        )
    );
    let within = cnnvar_analysis::noise::NoiseSummary {
        observed_sd: 0.2,
        excess_sd: 0.0,
        within_floor: true,
        floor_ci: None,
        ..level_noise()
    };
    assert_eq!(
        level_noise_sentence(&within),
        format!(
            "Seed sd 20.00 points is within the 25.00 points that independent errors on 4 test \
             examples give: on this test set the seeds cannot be told apart in accuracy; {tail}"
        )
    );
}

/// The study's pooled test-set noise: the test set's share of the seed sd, and the rest.
#[test]
fn the_studys_test_set_noise_in_words() {
    let noise = StudyNoise {
        levels: 2,
        runs: 10,
        examples: (10_000, 10_000),
        observed_sd: 0.005,
        floor_sd: 0.003,
        excess_sd: 0.004,
        ensemble_gain: 0.01,
    };
    assert_eq!(
        study_noise_sentence(&noise),
        "Of the 0.50 points of test accuracy between seeds (sd within a level, pooled over 2 \
         levels and 10 runs), 0.30 is what a 10 000-image test set alone produces; the rest, \
         0.40 points (in quadrature), is a real difference between the trained models."
    );
    let all = StudyNoise { examples: (1000, 10_000), floor_sd: 0.005, excess_sd: 0.0, ..noise };
    assert_eq!(
        study_noise_sentence(&all),
        "Of the 0.50 points of test accuracy between seeds (sd within a level, pooled over 2 \
         levels and 10 runs), all is what test sets of 1 000 to 10 000 images alone produces (a \
         floor of 0.50 points): on this test set the seeds cannot be told apart in accuracy."
    );
}

/// Two workers, then a pause: the wall time spans it and the busy time does not.
#[test]
fn the_studys_time_in_words() {
    let t = cnnvar_analysis::timing::StudyTime {
        runs: 4,
        first_start_unix: 1_000_000.0,
        last_finish_unix: 1_004_000.0,
        wall_seconds: 4000.0,
        busy_seconds: 850.0,
        compute_seconds: 920.0,
    };
    assert_eq!(
        study_time_sentence(&t),
        "wall time 1 h 07 min (first run's start to last run's finish; runs going for 14 min of \
         it, 1.1 runs at a time on average), compute time 15 min (4 runs' durations summed)"
    );
    let busy = cnnvar_analysis::timing::StudyTime { busy_seconds: 3950.0, ..t };
    assert!(
        study_time_sentence(&busy)
            .starts_with("wall time 1 h 07 min (first run's start to last run's finish, 0.2 runs")
    );
}

#[test]
fn durations_read_as_hours_and_minutes() {
    assert_eq!(duration(10_489.0), "2 h 55 min");
    assert_eq!(duration(12_480.0), "3 h 28 min");
    assert_eq!(duration(7_199.0), "2 h 00 min");
    assert_eq!(duration(3_570.0), "1 h 00 min");
    assert_eq!(duration(600.0), "10 min");
    assert_eq!(duration(42.4), "42 s");
}

/// Why a level has no test-set noise, in words.
#[test]
fn missing_noise_in_words() {
    use cnnvar_analysis::MissingNoise;
    use cnnvar_analysis::noise::NoiseError;
    assert_eq!(
        missing_noise_text(&MissingNoise::NoPredictions),
        "no run of this level has stored predictions"
    );
    assert_eq!(
        missing_noise_text(&MissingNoise::OneRun { run: "b-0".into() }),
        "only run b-0 has stored predictions (of the level's non-diverged runs); test-set noise \
         needs 2"
    );
    assert_eq!(
        missing_noise_text(&MissingNoise::DifferentExamples {
            first: "c-0".into(),
            other: "c-2".into()
        }),
        "runs c-0 and c-2 were evaluated on different examples (their labels differ), so their \
         predictions cannot be pooled"
    );
    let invalid = NoiseError::LengthMismatch { run: 1, predictions: 1, labels: 2 };
    assert_eq!(
        missing_noise_text(&MissingNoise::Invalid(invalid)),
        "run 1 has 1 predictions for 2 test examples"
    );
}
