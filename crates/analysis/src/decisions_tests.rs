//! Unit tests of adaptive seeding's decisions.

use super::*;
use cnnvar_core::RunSpec;

use cnnvar_core::testing::adaptive_study as study;

/// A fake outcome source: per experiment, level and replicate, in points, with a
/// deterministic wobble of ±`noise` around `mean(level)`.
fn source(mean: impl Fn(&str, usize) -> f64, noise: f64) -> impl Fn(&str, usize, usize) -> f64 {
    move |e, l, r| {
        let wobble = [0.3, -0.9, 0.6, -0.2, 0.8, -0.7, 0.1, -0.4, 0.5][r % 9];
        mean(e, l) + noise * wobble + 0.05 * (l as f64) * wobble
    }
}

/// Rounds as a sweep takes them, on a fake source: each round "runs" the seeds the
/// decisions ask for, until none asks for more; returns each round's seeds.
fn rounds(
    study: &Study,
    source: &impl Fn(&str, usize, usize) -> f64,
) -> (Vec<BTreeMap<String, usize>>, StudyDecisions) {
    let mut done: BTreeMap<String, usize> = BTreeMap::new();
    let mut history = Vec::new();
    loop {
        let d = decide_study(study, |e, l, r| {
            (r < done.get(&e.name).copied().unwrap_or(0)).then(|| source(&e.name, l, r))
        })
        .expect("adaptive");
        let seeds = d.seeds();
        if seeds == done {
            return (history, d);
        }
        history.push(seeds.clone());
        done = seeds;
    }
}

/// A clear difference is decided at the first look and gets no more seeds; equal
/// levels with no equivalence margin run to `max` and stop there; a single level
/// stops at `min`; tied levels are decided equivalent.
#[test]
fn only_open_experiments_get_more_seeds_and_none_past_max() {
    let mut s = study(&[("clear", 2), ("close", 3), ("alone", 1), ("tied", 2)]);
    let a = s.adaptive.as_mut().expect("adaptive");
    a.resolve.get_mut("close").expect("close").delta = 0.0;
    let src = source(
        |e, l| match e {
            "clear" => 90.0 - 20.0 * l as f64,
            "close" => 80.0,
            _ => 70.0,
        },
        0.5,
    );
    let tied = |e: &str, l: usize, r: usize| if e == "tied" { 70.0 } else { src(e, l, r) };
    let (history, d) = rounds(&s, &tied);
    let of = |round: &BTreeMap<String, usize>, e: &str| round[e];
    assert_eq!(history.len(), 4, "looks at 3, 5, 7, 9: {history:?}");
    for (k, round) in history.iter().enumerate() {
        assert_eq!(of(round, "clear"), 3, "round {k}");
        assert_eq!(of(round, "alone"), 3, "round {k}");
        assert_eq!(of(round, "tied"), 3, "round {k}");
        assert_eq!(of(round, "close"), [3, 5, 7, 9][k], "round {k}");
    }
    assert!(d.finished);
    let e = |name: &str| d.experiments.iter().find(|x| x.experiment == name).expect(name);
    assert_eq!(e("clear").comparisons[0].verdict, Verdict::Larger);
    assert_eq!(e("clear").comparisons[0].look, Some(1));
    assert_eq!((e("clear").runs, e("clear").runs_at_max, e("clear").runs_saved), (6, 18, 12));
    assert!(e("close").comparisons.iter().all(|c| c.verdict == Verdict::Undecided));
    assert_eq!((e("close").seeds, e("close").runs_saved), (9, 0));
    assert_eq!(e("tied").comparisons[0].verdict, Verdict::Equivalent);
    assert!(e("alone").comparisons.is_empty() && e("alone").finished);
    assert_eq!(d.runs, 6 + 27 + 3 + 6);
    assert_eq!(d.runs_saved, d.runs_at_max - d.runs);
    // More outcomes than asked for change nothing already decided.
    let again = decide_study(&s, |e, l, r| Some(tied(&e.name, l, r))).expect("adaptive");
    assert_eq!(again.seeds(), d.seeds());
    assert_eq!(again.experiments[0].comparisons, d.experiments[0].comparisons);
}

/// Replicates are read up to the first missing one in each level, and the seeds
/// asked for stay those of the look not yet complete.
#[test]
fn an_incomplete_look_asks_for_its_seeds_again() {
    let s = study(&[("close", 2)]);
    let src = source(|_, _| 80.0, 0.5);
    let d = decide_study(&s, |e, l, r| (r != 1 || l == 0).then(|| src(&e.name, l, r)))
        .expect("adaptive");
    let e = &d.experiments[0];
    assert_eq!((e.looks_done, e.seeds_complete, e.seeds, e.finished), (0, 1, 3, false));
    assert_eq!(e.comparisons[0].verdict, Verdict::Continue);
    assert!(e.line().contains("next look at 3 seeds"), "{}", e.line());
}

/// A run counts in points; a diverged one not at all.
#[test]
fn outcomes_are_in_points_with_diverged_runs_left_out() {
    let spec = RunSpec::default();
    let mut rec = cnnvar_core::testing::record_of(&spec);
    assert!((outcome(&rec) - 80.0).abs() < 1e-9);
    rec.test_accuracy = 0.05;
    assert!((outcome(&rec) - 5.0).abs() < 1e-9, "no epochs: not learned yet, not diverged");
    rec.train_loss = 22.0;
    rec.epochs = [22.0, 23.0].iter().enumerate().map(|(i, &l)| epoch(i + 1, l)).collect();
    assert!(outcome(&rec).is_nan(), "{}", outcome(&rec));
}

/// The core crate's limits on a design are the statistics'.
#[test]
fn the_study_limits_are_the_designs() {
    assert_eq!(cnnvar_core::study::MAX_ADAPTIVE_SEEDS, sequential::MAX_SEEDS);
    assert_eq!(cnnvar_core::study::MAX_LOOKS, sequential::MAX_LOOKS);
    assert_eq!(cnnvar_core::study::DEFAULT_ALPHA, crate::ALPHA);
    let s = study(&[("a", 2)]);
    assert_eq!(s.adaptive.as_ref().map(|a| a.looks()), Some(design(&s, "a").unwrap().looks()));
}

/// The CSV has a row per comparison, one per source of a variance-sources
/// experiment and one for a single-level experiment, every row as long as the
/// header; the JSON has each pair's repeated confidence interval.
#[test]
fn decisions_are_written_as_json_and_csv() {
    let mut s = study(&[("a", 3), ("alone", 1), ("v", 4)]);
    sources_experiment(&mut s, "v", 3.5);
    let src = source(|_, l| 70.0 + l as f64 * 10.0, 0.5);
    let d = decide_study(&s, |e, l, r| (r < 3).then(|| src(&e.name, l, r))).expect("adaptive");
    let text = String::from_utf8(d.to_csv().expect("csv")).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 3 + 1 + 4, "{text}");
    assert_eq!(lines[0], CSV_HEADER.join(","));
    assert!(lines[1].starts_with("a,sequential-pairs,l0,l1,smaller,1,3,3,-10"), "{text}");
    assert!(lines[4].starts_with("alone,sequential-pairs,,,,,3,"), "{text}");
    assert!(lines[5].starts_with("v,sd-precision,init,,imprecise,,3,3,,"), "{text}");
    let rows: Vec<Vec<String>> =
        lines.iter().map(|l| l.split(',').map(String::from).collect()).collect();
    assert!(rows.iter().all(|r| r.len() == CSV_HEADER.len()), "{text}");
    let col = |name: &str| CSV_HEADER.iter().position(|h| *h == name).expect(name);
    let (lo, hi) = (col("rci_low_points"), col("rci_high_points"));
    let rci: (f64, f64) = (rows[1][lo].parse().unwrap(), rows[1][hi].parse().unwrap());
    assert!(rci.1 < 0.0, "a smaller pair's interval is below 0: {rci:?}");
    assert_eq!(rows[1][col("rci_confidence")], (1.0 - 0.05 / 3.0).to_string());
    assert!(rows[5][col("sd_points")].parse::<f64>().is_ok() && rows[5][lo].is_empty());
    assert_eq!(rows[5][col("sd_interval_ratio_target")], "3.5");
    let v: serde_json::Value = serde_json::from_slice(&d.to_json().expect("json")).expect("parses");
    let pair = &v["experiments"][0]["comparisons"][0];
    assert_eq!(pair["a"], "l0");
    assert_eq!(pair["rci"][1].as_f64(), Some(rci.1));
    assert_eq!(v["min_seeds"], 3);
    assert_eq!(v["experiments"][0]["rule"], "sequential-pairs");
    assert!(v["experiments"][0].get("sources").is_none());
    let sources = &v["experiments"][2];
    assert_eq!(
        (&sources["rule"], &sources["sources"]["target"]),
        (&"sd-precision".into(), &3.5.into())
    );
    assert_eq!(sources["comparisons"], serde_json::json!([]));
}

/// Makes `name` a variance-sources experiment (levels init, order, subset, all) with
/// the precision target `target`.
fn sources_experiment(s: &mut Study, name: &str, target: f64) {
    let exp = s.experiments.iter_mut().find(|e| e.name == name).expect(name);
    exp.kind = ExperimentKind::VarianceSources;
    for (level, label) in exp.levels.iter_mut().zip(cnnvar_core::study::VARIANCE_SOURCES) {
        level.label = label.into();
    }
    let a = s.adaptive.as_mut().expect("adaptive");
    a.resolve.get_mut(name).expect(name).sd_interval_ratio = target;
}

/// A variance-sources experiment stops at the first look where every source's sd
/// interval is within the target (7 seeds for a ratio of 3.5: 3.42 on 6 degrees of
/// freedom, 3.82 on 5), whatever the outcomes, however different the sources'
/// means: its pairs are never compared. A target out of reach runs to `max`; a
/// missing outcome makes the rule wait for a later look. The decisions of a sweep in
/// rounds are those of all the outcomes at once.
#[test]
fn variance_sources_stop_when_their_sds_are_precise() {
    let mut s = study(&[("v", 4), ("far", 4)]);
    sources_experiment(&mut s, "v", 3.5);
    sources_experiment(&mut s, "far", 1.5);
    let src = source(|_, l| 60.0 + 10.0 * l as f64, 0.8);
    let (history, d) = rounds(&s, &src);
    let seeds: Vec<(usize, usize)> = history.iter().map(|r| (r["v"], r["far"])).collect();
    assert_eq!(seeds, [(3, 3), (5, 5), (7, 7), (7, 9)]);
    let e = |name: &str| d.experiments.iter().find(|x| x.experiment == name).expect(name);
    let (v, far) = (e("v"), e("far"));
    assert!(v.finished && v.comparisons.is_empty() && v.rule == Rule::SdPrecision);
    let p = v.sources.as_ref().expect("sources");
    assert_eq!((p.look, p.seeds, p.seeds_needed, v.seeds), (Some(3), 7, Some(7), 7));
    assert_eq!((v.runs, v.runs_at_max, v.runs_saved), (28, 36, 8));
    let labels: Vec<&str> = p.sources.iter().map(|x| x.source.as_str()).collect();
    assert_eq!(labels, ["init", "order", "subset", "all"]);
    for (l, x) in p.sources.iter().enumerate() {
        let values: Vec<f64> = (0..7).map(|r| src("v", l, r)).collect();
        let want = crate::inference::sd_interval(&values, 0.05).expect("7 values");
        // scipy: sqrt(chi2.ppf(0.975, 6) / chi2.ppf(0.025, 6)).
        let ratio = x.interval_ratio.expect("a ratio");
        assert!(x.precise && (ratio - 3.417_269_8).abs() < 1e-6, "{x:?}");
        assert_eq!((x.used, x.sd, x.sd_ci), (7, Some(want.sd), Some(want.ci)));
    }
    assert!(v.line().starts_with("v: finished at 7 seeds (look 3 of 4), 8 of 36 runs saved: every source's 95% sd interval within a factor 3.5 (upper/lower 3.42): init sd "), "{}", v.line());
    let fp = far.sources.as_ref().expect("sources");
    assert!(far.finished && fp.look.is_none() && fp.seeds_needed.is_none() && far.seeds == 9);
    assert!(far.line().contains("still wider than a factor 1.5 at max"), "{}", far.line());
    // All the outcomes at once decide the same (more seeds than needed are ignored).
    let at_once = decide_study(&s, |e, l, r| Some(src(&e.name, l, r))).expect("adaptive");
    for (a, b) in at_once.experiments.iter().zip(&d.experiments) {
        assert_eq!((a.seeds, a.finished, &a.sources), (b.seeds, b.finished, &b.sources));
    }
    // A missing outcome: the look at 7 seeds has 6 for that source, not enough.
    let gap = decide_study(&s, |e, l, r| {
        (r < 9).then(|| if (l, r) == (2, 4) { f64::NAN } else { src(&e.name, l, r) })
    })
    .expect("adaptive");
    let g = &gap.experiments[0];
    assert_eq!((g.seeds, g.sources.as_ref().unwrap().look), (9, Some(4)));
    // Open: where it stands and what it needs next.
    let open = decide_study(&s, |e, l, r| (r < 5).then(|| src(&e.name, l, r))).expect("adaptive");
    let o = &open.experiments[0];
    assert!(!o.finished && o.seeds == 7, "{o:?}");
    assert!(o.line().starts_with("v: sd intervals wider than a factor 3.5 (upper/lower 4.80) after look 2 of 4 (5 seeds); next look at 7 seeds"), "{}", o.line());
}

/// Pairs carry their repeated confidence intervals; only an adaptive factor
/// experiment with pairs and more than one look makes fixed-sample p-values and
/// intervals invalid.
#[test]
fn pairs_carry_intervals_and_say_when_fixed_sample_inference_is_invalid() {
    let mut s = study(&[("clear", 2), ("alone", 1), ("v", 4)]);
    sources_experiment(&mut s, "v", 2.0);
    let src = source(|_, l| 90.0 - 20.0 * l as f64, 0.5);
    let d = decide_study(&s, |e, l, r| Some(src(&e.name, l, r))).expect("adaptive");
    let c = &d.experiments[0].comparisons[0];
    let (lo, hi) = c.rci.expect("an interval");
    let (m, se, t) = (c.mean_diff.unwrap(), c.se.unwrap(), c.critical_t.unwrap());
    assert!((lo - (m - t * se)).abs() < 1e-9 && (hi - (m + t * se)).abs() < 1e-9);
    assert!(lo > 0.0 && c.verdict == Verdict::Larger);
    assert_eq!((c.rci_confidence, c.equivalence_rci_confidence), (0.95, 0.9));
    let text = c.interval_text().expect("text");
    assert!(text.starts_with("+20.") && text.ends_with(" points (95% repeated CI)"), "{text}");
    assert_eq!(confidence_text(1.0 - 0.05 / 6.0), "99.17%");
    assert_eq!(confidence_text(0.995), "99.5%");
    assert_eq!(d.pair("clear", "l1", "l0"), Some(c));
    assert_eq!(d.pair("clear", "l0", "l1"), Some(c));
    assert!(d.pair("clear", "l0", "l2").is_none() && d.pair("v", "init", "all").is_none());
    assert!(fixed_sample_invalid(&s, "clear"));
    assert!(!fixed_sample_invalid(&s, "alone"));
    assert!(!fixed_sample_invalid(&s, "v"));
    assert!(!fixed_sample_invalid(&s, "nope"));
    let mut one_look = s.clone();
    one_look.adaptive.as_mut().unwrap().max = 3;
    assert!(!fixed_sample_invalid(&one_look, "clear"));
    let mut fixed = s.clone();
    fixed.adaptive = None;
    assert!(!fixed_sample_invalid(&fixed, "clear"));
    assert_eq!(sd_target(&s, "v"), Some(2.0));
    assert!((sd_interval_ratio(17.0).unwrap() - 1.998).abs() < 1e-3);
}

fn epoch(n: usize, train_loss: f64) -> cnnvar_core::EpochRecord {
    cnnvar_core::EpochRecord {
        epoch: n,
        train_loss,
        train_accuracy: 0.05,
        test_loss: 2.3,
        test_accuracy: 0.05,
        seconds: 1.0,
        train_samples_per_sec: 1.0,
        eval_samples_per_sec: 1.0,
    }
}
