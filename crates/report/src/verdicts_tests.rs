//! The verdicts and headlines in words, on experiments analysed from made-up records.

use cnnvar_analysis::decisions::PairDecision;
use cnnvar_analysis::sequential::Verdict;
use cnnvar_analysis::{
    AnalysisInputs, ExperimentStats, Outcome, SequentialPair, experiment_stats,
    experiment_stats_with,
};
use cnnvar_core::study::{Experiment, ExperimentKind, Level, PlannedRun};
use cnnvar_core::{EpochRecord, RunRecord, RunSpec};

use super::*;
use crate::words::interval_text;

/// A record of `acc` test accuracy; a diverged one has a NaN loss.
fn record(acc: f64, diverged: bool) -> RunRecord {
    let spec = RunSpec::default();
    RunRecord {
        test_accuracy: acc,
        test_loss: if diverged { f64::NAN } else { 1.0 - acc },
        train_accuracy: if diverged { acc } else { acc + 0.05 },
        train_loss: 0.1,
        per_class_accuracy: vec![acc; 10],
        test_examples: 100,
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

/// Experiment `e` varying `factor` over `labels`.
fn experiment(kind: ExperimentKind, factor: &str, labels: &[&str]) -> Experiment {
    Experiment {
        name: "e".into(),
        title: "E".into(),
        claim: None,
        expect_best: None,
        checks: vec![],
        kind,
        factors: vec![factor.into()],
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

/// Replicate `r` of `level` of experiment `e`.
fn planned(level: &str, r: usize) -> PlannedRun {
    PlannedRun {
        experiment: "e".into(),
        level: level.into(),
        level_index: 0,
        replicate: r,
        run_id: format!("{level}-{r}"),
        spec: RunSpec::default(),
    }
}

/// `seeds` replicates of each of `labels`, the accuracy of each from `acc`.
fn runs(labels: &[&str], seeds: usize) -> Vec<PlannedRun> {
    (0..seeds).flat_map(|r| labels.iter().map(move |l| planned(l, r))).collect()
}

/// The runs with their records, `acc` giving each run's accuracy and divergence.
fn results(
    runs: &[PlannedRun],
    acc: impl Fn(&PlannedRun) -> (f64, bool),
) -> Vec<(&PlannedRun, RunRecord)> {
    runs.iter()
        .map(|p| {
            let (a, diverged) = acc(p);
            (p, record(a, diverged))
        })
        .collect()
}

#[test]
fn a_resolved_difference_names_the_winner_and_its_interval() {
    let exp = experiment(ExperimentKind::Factor, "lr", &["0.01", "0.0001"]);
    let runs = runs(&["0.01", "0.0001"], 5);
    let results = results(&runs, |p| {
        let base = if p.level == "0.01" { 0.80 } else { 0.90 };
        (base + 0.002 * p.replicate as f64, false)
    });
    let s = experiment_stats(&exp, &results);
    let h = headline(&s);
    assert!(h.starts_with("lr 0.0001 beats lr 0.01 by 10.0 points ["), "{h}");
    // The interval is of the winner minus the loser, like the stated difference.
    assert!(!h.contains("[-"), "{h}");
    assert_eq!(h, verdict_of(&s, &s.pairs[0]), "the headline is the largest resolved pair's");
}

#[test]
fn noise_is_called_noise() {
    let exp = experiment(ExperimentKind::Factor, "lr", &["a", "b"]);
    let runs = runs(&["a", "b"], 5);
    let accs = [0.81, 0.85, 0.83, 0.80, 0.84];
    let results = results(&runs, |p| {
        let shift = if p.level == "a" { 0.0 } else { 0.003 };
        (accs[(p.replicate + usize::from(p.level == "b")) % 5] + shift, false)
    });
    let s = experiment_stats(&exp, &results);
    assert!(headline(&s).contains("seed noise"), "{}", headline(&s));
}

/// The headline names the levels that diverged, with how often.
#[test]
fn the_headline_counts_diverged_runs() {
    let exp = experiment(ExperimentKind::Factor, "lr", &["a", "b"]);
    let runs = runs(&["a", "b"], 3);
    let results = results(&runs, |p| match p.level.as_str() {
        "a" => (0.5 + 0.01 * p.replicate as f64, p.replicate == 0),
        _ => (0.8, false),
    });
    let s = experiment_stats(&exp, &results);
    assert!(headline(&s).contains("lr a diverged in 1 of 3 seeds"), "{}", headline(&s));
    assert_eq!(
        divergence_note(&s).as_deref(),
        Some("lr a diverged in 1 of 3 seeds (counted at chance accuracy)")
    );
    let b_only = experiment_stats(&exp, &results[1..]);
    assert!(b_only.levels[0].diverged == 0 && divergence_note(&b_only).is_none());
}

/// A level at which every seed diverges has no accuracy to compare: the headline says
/// there is nothing to compare and that it diverged.
#[test]
fn a_level_that_always_diverges_is_named() {
    let exp = experiment(ExperimentKind::Factor, "lr", &["0.001", "10"]);
    let runs = runs(&["0.001", "10"], 5);
    let results = results(&runs, |p| match p.level.as_str() {
        "10" => (0.1, true),
        _ => (0.85 + 0.002 * p.replicate as f64, false),
    });
    let lr = experiment_stats(&exp, &results);
    assert!(lr.pairs.is_empty());
    assert_eq!(
        headline(&lr),
        "not enough runs to compare levels; lr 10 diverged in 5 of 5 seeds (counted at chance \
         accuracy)"
    );
}

#[test]
fn single_runs_have_no_test() {
    let exp = experiment(ExperimentKind::Factor, "lr", &["a", "b"]);
    let runs = runs(&["a", "b"], 1);
    let s = experiment_stats(&exp, &results(&runs, |_| (0.8, false)));
    assert_eq!(verdict_of(&s, &s.pairs[0]), "lr a vs lr b: too few runs for a test (0.0 points)");
    assert_eq!(headline(&s), "too few runs per level to test the pair");
}

/// Accuracies that swing together at both levels (shared seeds), B `shift` below A.
fn swinging(shift: f64) -> (Experiment, Vec<(PlannedRun, RunRecord)>) {
    let exp = experiment(ExperimentKind::Factor, "model", &["a", "b"]);
    let base = [0.80, 0.83, 0.78, 0.85, 0.81];
    let runs = runs(&["a", "b"], 5);
    let results = results(&runs, |p| {
        let jitter = 0.0002 * (p.replicate % 2) as f64;
        let b = if p.level == "b" { -shift - jitter } else { 0.0 };
        (base[p.replicate] + b, false)
    });
    (exp, results.into_iter().map(|(p, r)| (p.clone(), r)).collect())
}

/// The three verdicts of a pair: resolved by the paired test, within seed noise by the
/// equivalence test, and not resolved with the seeds it would need.
#[test]
fn paired_and_unpaired_verdicts() {
    let paired = AnalysisInputs { paired_seeds: true, ..AnalysisInputs::default() };
    let unpaired = AnalysisInputs { paired_seeds: false, ..AnalysisInputs::default() };
    let (exp, small) = swinging(0.004);
    let small: Vec<(&PlannedRun, RunRecord)> = small.iter().map(|(p, r)| (p, r.clone())).collect();
    let s = experiment_stats_with(&exp, &small, &paired);
    let v = verdict_of(&s, &s.pairs[0]);
    assert!(v.starts_with("model a beats model b by 0.4 points ["), "{v}");
    assert!(v.contains("paired p < 0.001"), "{v}");
    let wide = AnalysisInputs { margin: 5.0, ..unpaired.clone() };
    let s = experiment_stats_with(&exp, &small, &wide);
    let v = verdict_of(&s, &s.pairs[0]);
    assert!(v.contains("within seed noise"), "{v}");
    assert!(v.contains("inside ±5.00 points"), "{v}");
    assert_eq!(headline(&s), "no difference between levels: within seed noise");

    let (exp, large) = swinging(0.03);
    let large: Vec<(&PlannedRun, RunRecord)> = large.iter().map(|(p, r)| (p, r.clone())).collect();
    let s = experiment_stats_with(&exp, &large, &unpaired);
    let v = verdict_of(&s, &s.pairs[0]);
    assert!(v.starts_with("model a vs model b: not resolved with 5 seeds per level ("), "{v}");
    assert!(v.contains("to tell 3.01 points apart at 80% power needs about"), "{v}");
    let h = headline(&s);
    assert!(h.starts_with("no difference between levels is resolved with 5 seeds"), "{h}");
    assert!(h.contains(", would need about "), "{h}");
    assert!(h.ends_with("; 0 of the pair within seed noise"), "{h}");
}

/// Whatever the data, the verdict agrees with the adjusted interval it shows: "beats"
/// exactly when the outcome is resolved, "within seed noise" only when the equivalence
/// test says so, and "not resolved" otherwise, naming the correction.
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
        let exp = experiment(ExperimentKind::Factor, "model", &labels[..levels]);
        let runs = runs(&labels[..levels], 3 + case % 4);
        let spread = [0.0005, 0.003, 0.01][case % 3];
        let effect = 0.03 * uniform();
        let results: Vec<(&PlannedRun, RunRecord)> = runs
            .iter()
            .map(|p| {
                let level = labels.iter().position(|l| *l == p.level).unwrap_or(0) as f64;
                (p, record(0.8 + effect * level * uniform() + spread * uniform(), false))
            })
            .collect();
        let inputs = AnalysisInputs { paired_seeds: case % 2 == 0, ..Default::default() };
        let s = experiment_stats_with(&exp, &results, &inputs);
        for p in &s.pairs {
            let v = verdict_of(&s, p);
            let shown = interval_text(p.ci_adjusted, p.diff < 0.0 && p.significant);
            assert!(!shown.is_empty() && v.contains(&shown), "{shown} not in {v}");
            match p.outcome {
                Outcome::Resolved => assert!(v.contains(" beats "), "{v}"),
                Outcome::WithinNoise => assert!(v.contains("within seed noise"), "{v}"),
                Outcome::Unresolved => {
                    assert!(v.contains("not resolved with"), "{v}");
                    assert!(!v.contains("seed noise"), "{v}");
                }
                Outcome::Untested => panic!("every pair has runs"),
            }
            if p.comparisons > 1 && p.outcome != Outcome::Resolved {
                let m = format!("after correcting for {} comparisons", p.comparisons);
                assert!(v.contains(&m), "{v}");
            }
            if p.comparisons > 1 {
                assert!(v.contains(&format!("({} comparisons)", p.comparisons)), "{v}");
            }
            seen.insert(p.outcome);
        }
    }
    assert_eq!(seen.len(), 3, "resolved, within noise and unresolved all occur: {seen:?}");
}

/// A decision of `a` against `b` at look 2 (5 seeds), A − B = +1.25 [0.40, 2.10].
fn decision(a: &str, b: &str, verdict: Verdict) -> PairDecision {
    PairDecision {
        a: a.into(),
        b: b.into(),
        verdict,
        look: Some(2),
        seeds: 5,
        used: 5,
        mean_diff: Some(1.25),
        se: Some(0.3),
        critical_t: Some(2.8),
        rci: Some((0.40, 2.10)),
        rci_confidence: 0.95,
        equivalence_rci: None,
        equivalence_rci_confidence: 0.9,
    }
}

/// A pair of an adaptive experiment is shown as its sequential decision (its repeated
/// interval flipped to the pair's A − B), while the headline keeps the fixed-sample
/// verdict.
#[test]
fn an_adaptive_pair_is_shown_as_its_decision() {
    let (exp, small) = swinging(0.004);
    let small: Vec<(&PlannedRun, RunRecord)> = small.iter().map(|(p, r)| (p, r.clone())).collect();
    let mut s: ExperimentStats = experiment_stats(&exp, &small);
    let fixed = headline(&s);
    s.pairs[0].sequential =
        Some(SequentialPair { decision: decision("b", "a", Verdict::Smaller), delta: 0.5 });
    assert_eq!(
        verdict_of(&s, &s.pairs[0]),
        "b < a at look 2 (5 seeds) (adaptive seeding; repeated CI +1.25 [0.40, 2.10] points \
         (95% repeated CI))"
    );
    assert_eq!(headline(&s), fixed);
    let close = |ci: Option<(f64, f64)>, want: (f64, f64)| {
        ci.is_some_and(|(lo, hi)| (lo - want.0).abs() < 1e-12 && (hi - want.1).abs() < 1e-12)
    };
    let shown = crate::shown_pair(&s.pairs[0]);
    assert!(close(shown.ci_adjusted, (-0.021, -0.004)), "{:?}", shown.ci_adjusted);
    assert!(shown.p_adjusted.is_none() && shown.deciding().is_none());
    assert!(shown.seeds_needed.is_none() && shown.detectable.is_none());
    assert_eq!((shown.outcome, shown.significant), (Outcome::Resolved, true));
    s.pairs[0].sequential =
        Some(SequentialPair { decision: decision("a", "b", Verdict::Continue), delta: 0.5 });
    let shown = crate::shown_pair(&s.pairs[0]);
    assert!(close(shown.ci_adjusted, (0.004, 0.021)), "{:?}", shown.ci_adjusted);
    assert_eq!((shown.outcome, shown.significant), (Outcome::Unresolved, false));
    assert_eq!(
        verdict_of(&s, &s.pairs[0]),
        "a vs b: open (adaptive seeding; repeated CI +1.25 [0.40, 2.10] points (95% repeated CI))"
    );
    s.pairs[0].sequential = None;
    assert!(matches!(crate::shown_pair(&s.pairs[0]), std::borrow::Cow::Borrowed(_)));
}

/// A level is named with its factor in a one-factor experiment only.
#[test]
fn levels_are_named_with_their_factor() {
    let lr = experiment_stats(&experiment(ExperimentKind::Factor, "train_size", &["a"]), &[]);
    assert_eq!(factor_label(&lr, "1000"), "train size 1000");
    let sources =
        experiment_stats(&experiment(ExperimentKind::VarianceSources, "seed source", &["a"]), &[]);
    assert_eq!(factor_label(&sources, "init"), "init");
}

/// The analysis of each experiment of the study in `text`, every run's accuracy from
/// `acc`.
fn study_stats(text: &str, acc: impl Fn(&PlannedRun) -> f64) -> Vec<ExperimentStats> {
    let study = cnnvar_core::study::parse(text, std::path::Path::new("s.toml")).expect("parses");
    let runs = cnnvar_core::study::expand(&study, None);
    let results: Vec<(&PlannedRun, RunRecord)> = runs
        .iter()
        .map(|p| (p, RunRecord { run_id: p.run_id.clone(), ..record(acc(p), false) }))
        .collect();
    study.experiments.iter().map(|e| experiment_stats(e, &results)).collect()
}

/// An ordered factor's headline ends with its trend: per doubling on the log scale, per
/// unit on the linear one, and saying so when the trend is not resolved.
#[test]
fn the_trend_of_an_ordered_factor_is_in_its_headline() {
    let text = "seeds = 3\n[base]\nepochs = 1\n[[experiment]]\nname = \"size\"\n\
                vary = { train_size = [1000, 100, 300, 3000] }\n";
    let size = &study_stats(text, |p| {
        let size = p.spec.train_size.unwrap_or(100) as f64;
        0.6 + 0.05 * size.log2() / 10.0 + 0.002 * p.replicate as f64
    })[0];
    let h = headline(size);
    assert!(
        h.contains("; trend across train size (log scale, 12 runs): +0.50 points per doubling of train size ["),
        "{h}"
    );
    assert!(h.ends_with("], p < 0.001"), "{h}");
    let text = "seeds = 2\n[base]\nepochs = 1\n[[experiment]]\nname = \"drop\"\n\
                vary = { dropout = [0.0, 0.25, 0.5] }\n";
    let drop = &study_stats(text, |p| {
        0.8 - 0.02 * p.spec.dropout.unwrap_or(0.0) + 0.001 * p.replicate as f64
    })[0];
    let t = trend_sentence(drop.trend.as_ref().expect("a trend"));
    assert!(
        t.starts_with("trend across dropout (linear, 6 runs): -2.00 points per unit of dropout ["),
        "{t}"
    );
    assert!(!t.contains("no trend resolved"), "{t}");
    let flat = &study_stats(text, |p| 0.8 + 0.01 * ((p.replicate + p.level_index) % 2) as f64)[0];
    let t = trend_sentence(flat.trend.as_ref().expect("a trend"));
    assert!(t.ends_with(": no trend resolved"), "{t}");
}

/// A variance-sources experiment's headline: each source's spread, whether the single
/// sources differ, then each `rerun` and `nudge` source against new seeds.
#[test]
fn a_variance_sources_headline_names_sources_and_chaos() {
    let labels = ["init", "order", "subset", "all", "rerun"];
    let exp = experiment(ExperimentKind::VarianceSources, "seed source", &labels);
    let runs = runs(&labels, 6);
    let swings = [0.0, 0.01, -0.01, 0.02, -0.02, 0.005];
    let results = results(&runs, |p| match p.level.as_str() {
        "rerun" => (0.85, false),
        "init" => (0.85 + 0.5 * swings[p.replicate], false),
        _ => (0.85 + swings[(p.replicate + p.level.len()) % 6], false),
    });
    let s = experiment_stats(&exp, &results);
    assert_eq!(
        headline(&s),
        "init: sd 0.71 [0.45, 1.75] points, 0.50 [0.20, 1.22] of all seeds' sd; order: sd 1.43 \
         [0.89, 3.50] points, 1.00 [0.39, 2.20] of all seeds' sd; subset: sd 1.43 [0.89, 3.50] \
         points, 1.00 [0.41, 2.57] of all seeds' sd; all: sd 1.43 [0.89, 3.50] points; rerun: sd \
         0.00 [0.00, 0.00] points, 0.00 [0.00, 0.00] of all seeds' sd; spread not shown to \
         differ between init, order and subset (Brown–Forsythe p = 0.336); rerunning the same \
         seeds gave identical accuracy in all 6 runs (deterministic)"
    );
}

/// A protocol experiment's headline is its finding, k-fold against a single split.
#[test]
fn a_protocol_headline_is_its_finding() {
    let spec = |fold: usize| RunSpec {
        evaluate_on: Some(cnnvar_core::EvalSet::Validation),
        folds: Some(3),
        fold: Some(fold),
        ..RunSpec::default()
    };
    let mut exp = experiment(ExperimentKind::Factor, "fold", &["0", "1", "2"]);
    exp.levels.iter_mut().enumerate().for_each(|(f, l)| l.spec = spec(f));
    let table =
        [[0.83, 0.785, 0.785], [0.77, 0.815, 0.815], [0.83, 0.78, 0.79], [0.77, 0.82, 0.81]];
    let runs: Vec<PlannedRun> = (0..4)
        .flat_map(|r| {
            (0..3).map(move |f| PlannedRun {
                level_index: f,
                spec: spec(f),
                ..planned(&f.to_string(), r)
            })
        })
        .collect();
    let results = results(&runs, |p| (table[p.replicate][p.level_index], false));
    let s = experiment_stats(&exp, &results);
    let cv = s.cross_validation.as_ref().expect("a protocol experiment");
    assert_eq!(headline(&s), crate::findings::protocol_sentence(cv));
    assert!(
        headline(&s).starts_with("across 4 replicates, the 3-fold estimate (80.0 ± "),
        "{}",
        headline(&s)
    );
}

/// The seeds a difference would need, and how many levels diverged, in words.
#[test]
fn seeds_needed_and_divergence_in_words() {
    use cnnvar_analysis::power::SeedsNeeded;
    use cnnvar_analysis::rank::DivergedLevel;
    assert_eq!(crate::words::needed_text(&SeedsNeeded::Exactly(2)), "about 2 seeds per level");
    assert_eq!(
        crate::words::needed_text(&SeedsNeeded::MoreThan(10_000)),
        "more than 10000 seeds per level"
    );
    let level = |level: &str, diverged| DivergedLevel { level: level.into(), diverged, runs: 5 };
    assert_eq!(
        crate::words::divergence_text(&[level("10", 5), level("1", 2)]),
        "10 diverged in 5 of 5 seeds, 1 diverged in 2 of 5 seeds"
    );
    assert_eq!(crate::words::divergence_text(&[]), "");
}

/// A claim part in words: its verdict, its reason and test with the numbers; a claim
/// the study does not state is that the factor changes test accuracy.
#[test]
fn claims_in_words() {
    use crate::words::{claim_sentence, claim_text, part_sentence, verdict_words};
    use cnnvar_analysis::claims::{ClaimResult, PartResult, PartTest, Reason, Verdict};
    use cnnvar_core::study::{ClaimCheck, ClaimOutcome, ClaimShape};
    let part = |verdict, why| PartResult {
        check: ClaimCheck {
            says: None,
            shape: ClaimShape::Best { level: "0.01".into() },
            outcome: ClaimOutcome::TestAccuracy,
        },
        verdict,
        test: PartTest::PairedTEach { m: 2 },
        estimate: Some(0.4),
        ci: Some((0.1, 0.7)),
        p: Some(0.02),
        why,
    };
    let best =
        Reason::Extreme { level: "0.01".into(), worst: false, others: 2, closest: "0.1".into() };
    assert_eq!(
        part_sentence(&part(Verdict::Supported, best.clone())),
        "\"0.01 is best\": Supported — 0.01 is best: it differs from each of the 2 others at 5%; \
         closest 0.1 (0.40 points [0.1, 0.7], paired t, each of 2 at 5%, p = 0.020)"
    );
    let claim = ClaimResult {
        experiment: "e".into(),
        title: "Learning rate".into(),
        claim: None,
        parts: vec![
            part(Verdict::Supported, best),
            part(
                Verdict::Contradicted,
                Reason::Beats { winner: "0.1".into(), loser: "0.01".into() },
            ),
        ],
        verdict: Verdict::Contradicted,
    };
    assert_eq!(claim_text(&claim), "Learning rate changes test accuracy");
    assert!(
        claim_sentence(&claim).starts_with("Contradicted (1 of 2 parts): \"Learning rate changes test accuracy\" — \"0.01 is best\": Supported"),
        "{}",
        claim_sentence(&claim)
    );
    let stated = ClaimResult { claim: Some("Small rates win.".into()), ..claim };
    assert_eq!(claim_text(&stated), "Small rates win.");
    assert_eq!(
        [Verdict::Supported, Verdict::Contradicted, Verdict::NotResolved].map(verdict_words),
        ["Supported", "Contradicted", "Not resolved"]
    );
}
