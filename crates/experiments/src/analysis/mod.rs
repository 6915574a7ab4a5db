//! Analysis of a study's records: per-level summaries, pairwise comparisons with
//! verdicts, and sources of seed variance. A run is diverged by the rule of
//! [`RunRecord::divergence`] (judged here, so old records are judged alike): diverged
//! runs are listed with their reason and left out of the level summaries (means,
//! losses, curves), but count at chance accuracy in the comparisons and the ranking,
//! so a setting that wrecks training shows as the effect it is.

pub mod cv;
pub mod noise;
pub mod power;
pub mod powerlaw;
pub mod rank;
pub mod sequential;
pub mod stats;

use std::path::Path;

use cnnvar_core::RunRecord;
use serde::Serialize;

use crate::study::{ExperimentKind, PlannedRun};
use crate::sweep::{Plan, load_results};
use stats::{Comparison, Summary, compare, holm, sd_interval, summarize};

/// Significance level of verdicts (after Holm's correction within an experiment).
pub const ALPHA: f64 = 0.05;

/// The divergence rule of [`RunRecord::divergence`] in words, for the report.
pub const DIVERGENCE_RULE: &str = "A run counts as diverged when its loss became NaN or \
    infinite, when its final test accuracy is not above chance (1 / classes) by more than \
    2 points, or when its last epoch's training loss is above its first epoch's. Diverged \
    runs are left out of the level means and counted at chance accuracy in the \
    comparisons and the ranking.";

/// Mean and 95% interval of a metric at each epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    /// 1-based epoch.
    pub epoch: usize,
    /// Training accuracy (running, as reported during the epoch).
    pub train: Summary,
    /// Test accuracy after the epoch.
    pub test: Summary,
}

/// One level of an experiment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelStats {
    /// Level label.
    pub label: String,
    /// Planned runs.
    pub planned: usize,
    /// Runs with a record.
    pub complete: usize,
    /// Runs that diverged (excluded from the summaries, at chance in comparisons).
    pub diverged: usize,
    /// Each diverged run with the reason.
    pub diverged_runs: Vec<DivergedRun>,
    /// Final test accuracy of each non-diverged run, in replicate order.
    pub accuracies: Vec<f64>,
    /// Final test accuracy of every complete run, in replicate order, diverged runs
    /// counted at chance (1 / classes): what comparisons and the ranking use.
    pub scored_accuracies: Vec<f64>,
    /// Test accuracy.
    pub test_accuracy: Option<Summary>,
    /// Test loss.
    pub test_loss: Option<Summary>,
    /// Generalisation gap: train accuracy minus test accuracy.
    pub gap: Option<Summary>,
    /// The gap of each non-diverged run.
    pub gaps: Vec<f64>,
    /// Mean test accuracy of each class.
    pub per_class: Vec<f64>,
    /// Mean learning curve.
    pub curve: Vec<CurvePoint>,
}

/// A run the divergence rule calls diverged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DivergedRun {
    /// Run id.
    pub run_id: String,
    /// 0-based replicate (seed) of its level.
    pub replicate: usize,
    /// Why, from [`RunRecord::divergence`].
    pub reason: String,
}

/// Two levels compared on test accuracy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairStats {
    /// Level A.
    pub a: String,
    /// Level B.
    pub b: String,
    /// A minus B.
    pub comparison: Comparison,
    /// Welch p-value after Holm's correction over the experiment's pairs.
    pub p_holm: Option<f64>,
    /// Whether the difference is distinguishable from seed noise.
    pub significant: bool,
    /// One sentence.
    pub verdict: String,
}

/// The spread contributed by one source of randomness.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceStats {
    /// `init`, `order`, `subset` or `all`.
    pub source: String,
    /// Runs.
    pub n: usize,
    /// Standard deviation of test accuracy.
    pub sd: Option<f64>,
    /// Its 95% interval.
    pub sd_ci: Option<(f64, f64)>,
}

/// One experiment's analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExperimentStats {
    /// Name.
    pub name: String,
    /// Title.
    pub title: String,
    /// The claim under test.
    pub claim: Option<String>,
    /// The level the claim expects to be best.
    pub expect_best: Option<String>,
    /// Kind.
    pub kind: ExperimentKind,
    /// Fields varied.
    pub factors: Vec<String>,
    /// Per level.
    pub levels: Vec<LevelStats>,
    /// Every pair of levels.
    pub pairs: Vec<PairStats>,
    /// Variance sources (variance-sources experiments only).
    pub sources: Vec<SourceStats>,
    /// The experiment's verdict in one sentence.
    pub headline: String,
    /// Power-law fit of test error against training-set size (size experiments only).
    pub learning_curve: Option<powerlaw::PowerLaw>,
    /// k-fold cross-validation against a single split (protocol experiments only).
    pub cross_validation: Option<cv::ProtocolStats>,
    /// The name of each class, by label, when every level uses the same data set;
    /// empty when levels differ in data set (figures then number the classes).
    pub class_names: Vec<String>,
}

/// A whole study's analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StudyStats {
    /// Study name.
    pub study: String,
    /// Planned runs (experiments × levels × seeds).
    pub planned: usize,
    /// Runs with a record.
    pub complete: usize,
    /// Diverged runs (by [`RunRecord::divergence`]).
    pub diverged: usize,
    /// Seeds per level.
    pub seeds: usize,
    /// Per experiment.
    pub experiments: Vec<ExperimentStats>,
}

impl StudyStats {
    /// Every diverged run as (experiment, level, run), in report order.
    pub fn diverged_runs(&self) -> Vec<(&str, &str, &DivergedRun)> {
        self.experiments
            .iter()
            .flat_map(|e| {
                e.levels.iter().flat_map(move |l| {
                    l.diverged_runs.iter().map(move |r| (e.name.as_str(), l.label.as_str(), r))
                })
            })
            .collect()
    }
}

fn finite(xs: impl Iterator<Item = f64>) -> Vec<f64> {
    xs.filter(|x| x.is_finite()).collect()
}

/// A level's runs with a record: the diverged ones, and every run's accuracy with the
/// diverged ones at chance.
fn score_runs(runs: &[(&PlannedRun, &RunRecord)]) -> (Vec<DivergedRun>, Vec<f64>) {
    let mut diverged = Vec::new();
    let mut scored = Vec::new();
    for (run, rec) in runs {
        match rec.divergence() {
            Some(reason) => {
                diverged.push(DivergedRun {
                    run_id: run.run_id.clone(),
                    replicate: run.replicate,
                    reason,
                });
                scored.push(rec.chance_accuracy());
            }
            None if rec.test_accuracy.is_finite() => scored.push(rec.test_accuracy),
            None => {}
        }
    }
    (diverged, scored)
}

fn level_stats(label: &str, planned: usize, runs: &[(&PlannedRun, &RunRecord)]) -> LevelStats {
    let (diverged_runs, scored_accuracies) = score_runs(runs);
    let ok: Vec<&RunRecord> =
        runs.iter().map(|(_, rec)| *rec).filter(|r| r.divergence().is_none()).collect();
    let accuracies = finite(ok.iter().map(|r| r.test_accuracy));
    let classes = ok.iter().map(|r| r.per_class_accuracy.len()).max().unwrap_or(0);
    let per_class = (0..classes)
        .map(|c| {
            let v = finite(ok.iter().filter_map(|r| r.per_class_accuracy.get(c).copied()));
            if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 }
        })
        .collect();
    let epochs = ok.iter().map(|r| r.epochs.len()).min().unwrap_or(0);
    let curve = (0..epochs)
        .filter_map(|e| {
            let train = summarize(&finite(ok.iter().map(|r| r.epochs[e].train_accuracy)))?;
            let test = summarize(&finite(ok.iter().map(|r| r.epochs[e].test_accuracy)))?;
            Some(CurvePoint { epoch: e + 1, train, test })
        })
        .collect();
    LevelStats {
        label: label.to_string(),
        planned,
        complete: runs.len(),
        diverged: diverged_runs.len(),
        diverged_runs,
        scored_accuracies,
        test_accuracy: summarize(&accuracies),
        test_loss: summarize(&finite(ok.iter().map(|r| r.test_loss))),
        gap: summarize(&finite(ok.iter().map(|r| r.train_accuracy - r.test_accuracy))),
        gaps: finite(ok.iter().map(|r| r.train_accuracy - r.test_accuracy)),
        accuracies,
        per_class,
        curve,
    }
}

/// `0.912` as `91.2`.
pub(crate) fn pts(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

/// The verdict sentence for A against B.
fn verdict(a: &str, b: &str, c: &Comparison, p: Option<f64>, significant: bool) -> String {
    let interval = |flip: bool| {
        c.ci.map(|(lo, hi)| if flip { (-hi, -lo) } else { (lo, hi) })
            .map(|(lo, hi)| format!(" [{}, {}]", pts(lo), pts(hi)))
            .unwrap_or_default()
    };
    let p_text = match p {
        Some(p) if p < 0.001 => "p < 0.001".to_string(),
        Some(p) => format!("p = {p:.3}"),
        None => "too few runs for a test".to_string(),
    };
    if significant {
        // The interval is of the winner minus the loser, like the difference stated.
        let (win, lose) = if c.diff >= 0.0 { (a, b) } else { (b, a) };
        let interval = interval(c.diff < 0.0);
        format!("{win} beats {lose} by {} points{interval}, {p_text}", pts(c.diff.abs()))
    } else {
        let interval = interval(false);
        format!("{a} vs {b}: within seed noise ({} points{interval}, {p_text})", pts(c.diff))
    }
}

/// The class names of the experiment's data set, if all its levels share one.
fn class_names(exp: &crate::study::Experiment) -> Vec<String> {
    let mut datasets = exp.levels.iter().map(|l| l.spec.dataset);
    match datasets.next() {
        Some(first) if datasets.all(|d| d == first) => {
            first.class_names().iter().map(|c| c.to_string()).collect()
        }
        _ => Vec::new(),
    }
}

/// `lr 10 diverged in 5 of 5 seeds, lr 1 diverged in 2 of 5 seeds (counted at chance
/// accuracy)`, or `None` when no run of the experiment diverged.
fn divergence_note(exp: &crate::study::Experiment, levels: &[LevelStats]) -> Option<String> {
    let parts: Vec<String> = levels
        .iter()
        .filter(|l| l.diverged > 0)
        .map(|l| {
            let label = exp.factor_label(&l.label);
            format!("{label} diverged in {} of {} seeds", l.diverged, l.complete)
        })
        .collect();
    (!parts.is_empty()).then(|| format!("{} (counted at chance accuracy)", parts.join(", ")))
}

/// Analyses one experiment from its planned runs and their records.
pub fn experiment_stats(
    exp: &crate::study::Experiment,
    results: &[(&PlannedRun, RunRecord)],
) -> ExperimentStats {
    let mine: Vec<&(&PlannedRun, RunRecord)> =
        results.iter().filter(|(r, _)| r.experiment == exp.name).collect();
    let levels = experiment_levels(exp, &mine);
    let (pairs, sources, headline) = match exp.kind {
        ExperimentKind::Factor => {
            let pairs = pairwise(exp, &levels);
            let headline = factor_headline(&pairs);
            (pairs, Vec::new(), headline)
        }
        ExperimentKind::VarianceSources => {
            let sources = variance_sources(&levels);
            let headline = sources_headline(&sources);
            (Vec::new(), sources, headline)
        }
    };
    let mut stats = ExperimentStats {
        name: exp.name.clone(),
        title: exp.title.clone(),
        claim: exp.claim.clone(),
        expect_best: exp.expect_best.clone(),
        kind: exp.kind,
        factors: exp.factors.clone(),
        levels,
        pairs,
        sources,
        headline,
        learning_curve: None,
        cross_validation: cv::protocol_stats(exp, &mine),
        class_names: class_names(exp),
    };
    if let Some(cv) = &stats.cross_validation {
        stats.headline = cv.sentence.clone();
    }
    if let Some(note) = divergence_note(exp, &stats.levels) {
        stats.headline = format!("{}; {note}", stats.headline);
    }
    stats.learning_curve = powerlaw::learning_curve(&stats);
    stats
}

/// The statistics of each level of `exp`, in the experiment's level order, from the
/// experiment's own runs (`mine`). `planned` is left at 0 (the plan fills it in).
fn experiment_levels(
    exp: &crate::study::Experiment,
    mine: &[&(&PlannedRun, RunRecord)],
) -> Vec<LevelStats> {
    exp.levels
        .iter()
        .map(|level| {
            let runs: Vec<(&PlannedRun, &RunRecord)> = mine
                .iter()
                .filter(|(r, _)| r.level == level.label)
                .map(|(r, rec)| (*r, rec))
                .collect();
            level_stats(&level.label, 0, &runs)
        })
        .collect()
}

/// Every pair of levels (in level order, A before B) compared on their scored
/// accuracies, with Holm's correction over the experiment's pairs; a pair with too few
/// runs to compare is left out.
fn pairwise(exp: &crate::study::Experiment, levels: &[LevelStats]) -> Vec<PairStats> {
    let mut raw = Vec::new();
    for i in 0..levels.len() {
        for j in i + 1..levels.len() {
            let (a, b) = (&levels[i].scored_accuracies, &levels[j].scored_accuracies);
            if let Some(c) = compare(a, b) {
                raw.push((i, j, c));
            }
        }
    }
    let ps: Vec<f64> = raw.iter().map(|(_, _, c)| c.p.unwrap_or(1.0)).collect();
    let adjusted = holm(&ps);
    raw.into_iter()
        .zip(adjusted)
        .map(|((i, j, c), p_adj)| {
            let p_holm = c.p.map(|_| p_adj);
            let significant = p_holm.is_some_and(|p| p < ALPHA);
            let (a, b) = (exp.factor_label(&levels[i].label), exp.factor_label(&levels[j].label));
            let verdict = verdict(&a, &b, &c, p_holm, significant);
            PairStats {
                a: levels[i].label.clone(),
                b: levels[j].label.clone(),
                comparison: c,
                p_holm,
                significant,
                verdict,
            }
        })
        .collect()
}

/// A factor experiment's verdict: that of its largest significant difference, else
/// that none is distinguishable from seed noise.
fn factor_headline(pairs: &[PairStats]) -> String {
    match pairs
        .iter()
        .filter(|p| p.significant)
        .max_by(|x, y| x.comparison.diff.abs().total_cmp(&y.comparison.diff.abs()))
    {
        Some(best) => best.verdict.clone(),
        None if pairs.is_empty() => "not enough runs to compare levels".into(),
        None => format!(
            "no difference between levels is distinguishable from seed noise ({} pairs tested)",
            pairs.len()
        ),
    }
}

/// The spread of test accuracy at each level of a variance-sources experiment (one
/// level per source of randomness).
fn variance_sources(levels: &[LevelStats]) -> Vec<SourceStats> {
    levels
        .iter()
        .map(|level| SourceStats {
            source: level.label.clone(),
            n: level.accuracies.len(),
            sd: level.test_accuracy.as_ref().and_then(|s| s.sd),
            sd_ci: sd_interval(&level.accuracies),
        })
        .collect()
}

/// A variance-sources experiment's verdict: `init: sd 1.2 points; order: …`.
fn sources_headline(sources: &[SourceStats]) -> String {
    sources
        .iter()
        .filter_map(|s| s.sd.map(|sd| format!("{}: sd {} points", s.source, pts(sd))))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Analyses a study from its run directory alone.
pub fn analyze(plan: &Plan, study_dir: &Path) -> StudyStats {
    let results = load_results(plan, study_dir);
    let mut experiments = Vec::new();
    for exp in &plan.study.experiments {
        let mut stats = experiment_stats(exp, &results);
        for level in &mut stats.levels {
            level.planned = plan
                .runs
                .iter()
                .filter(|r| r.experiment == exp.name && r.level == level.label)
                .count();
        }
        experiments.push(stats);
    }
    StudyStats {
        study: plan.study.name.clone(),
        planned: plan.runs.len(),
        complete: results.len(),
        diverged: results.iter().filter(|(_, r)| r.divergence().is_some()).count(),
        seeds: plan.study.seeds,
        experiments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::{Experiment, Level};
    use cnnvar_core::{EpochRecord, Provenance, RunSpec};

    fn record(acc: f64, diverged: bool) -> RunRecord {
        let spec = RunSpec::default();
        RunRecord {
            run_id: spec.run_id(),
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
            error: None,
            train_examples: 1,
            test_examples: 1,
            params: 1,
            flops: 1,
            seconds: 1.0,
            spec,
            provenance: Provenance::default(),
        }
    }

    fn experiment(kind: ExperimentKind, labels: &[&str]) -> Experiment {
        Experiment {
            name: "e".into(),
            title: "E".into(),
            claim: None,
            expect_best: None,
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
        assert!(s.pairs[0].significant);
        assert!(
            s.headline.starts_with("lr 0.0001 beats lr 0.01 by 10.0 points ["),
            "{}",
            s.headline
        );
        // The interval is of the winner minus the loser, like the stated difference.
        assert!(!s.headline.contains("[-"), "{}", s.headline);
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
        assert!(s.headline.contains("seed noise"), "{}", s.headline);
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
        // In comparisons the diverged run counts at chance.
        assert_eq!(a.scored_accuracies, [0.1, 0.51, 0.52]);
        assert_eq!(a.diverged_runs.len(), 1);
        assert_eq!((a.diverged_runs[0].run_id.as_str(), a.diverged_runs[0].replicate), ("a0", 0));
        assert!(a.diverged_runs[0].reason.starts_with("non-finite"), "{:?}", a.diverged_runs);
        assert!(s.headline.contains("lr a diverged in 1 of 3 seeds"), "{}", s.headline);
        let acc = a.test_accuracy.as_ref().unwrap();
        assert!(acc.mean.is_finite() && acc.sd.is_some_and(f64::is_finite));
        assert!(a.test_loss.as_ref().unwrap().mean.is_finite());
        assert!(a.curve.iter().all(|p| p.train.mean.is_finite()));
        // Everything serialises to JSON (no NaN; the reasons may say "NaN" in words).
        let mut numbers = s.clone();
        numbers.levels.iter_mut().for_each(|l| l.diverged_runs.clear());
        numbers.headline.clear();
        assert!(serde_json::to_string(&numbers).unwrap().find("NaN").is_none());
    }

    /// A learning rate at which every seed diverges (three with a NaN loss, two
    /// stuck at chance with a finite loss, like Adam at lr 10) is the largest effect,
    /// ranked above a factor without one, and its verdict says so.
    #[test]
    fn a_level_that_always_diverges_is_an_effect() {
        let exp = experiment(ExperimentKind::Factor, &["0.001", "10"]);
        let runs: Vec<PlannedRun> =
            (0..5).flat_map(|r| [planned("0.001", r), planned("10", r)]).collect();
        let results: Vec<(&PlannedRun, RunRecord)> = runs
            .iter()
            .map(|p| match p.level.as_str() {
                "10" => (p, record(0.1, p.replicate < 3)),
                _ => (p, record(0.85 + 0.002 * p.replicate as f64, false)),
            })
            .collect();
        let lr = experiment_stats(&exp, &results);
        let wild = &lr.levels[1];
        assert_eq!((wild.complete, wild.diverged, wild.accuracies.len()), (5, 5, 0));
        assert!(wild.diverged_runs[3].reason.contains("at chance"), "{:?}", wild.diverged_runs);
        for bad in ["not enough runs", "seed noise"] {
            assert!(!lr.headline.contains(bad), "{}", lr.headline);
        }
        assert!(lr.headline.starts_with("lr 0.001 beats lr 10 by 75.4 points"), "{}", lr.headline);
        assert!(lr.headline.contains("lr 10 diverged in 5 of 5 seeds"), "{}", lr.headline);

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
            experiments: vec![null, lr],
        };
        let ranking = rank::rank(&study);
        let top = &ranking.factors[0];
        assert_eq!(top.experiment, "e");
        assert!(top.distinguishable && (top.range - 0.754).abs() < 1e-9, "{top:?}");
        assert_eq!((top.best.as_str(), top.worst.as_str()), ("0.001", "10"));
        let line = rank::describe(1, top);
        assert!(line.contains("10 diverged in 5 of 5 seeds"), "{line}");
        assert!(!line.contains("not distinguishable") && !line.contains("0.0 points"), "{line}");
        assert!(top.finding.starts_with("Supported"), "{}", top.finding);
        assert!(!ranking.factors[1].distinguishable);
    }

    #[test]
    fn single_runs_have_no_test() {
        let exp = experiment(ExperimentKind::Factor, &["a", "b"]);
        let runs = [planned("a", 0), planned("b", 0)];
        let results: Vec<(&PlannedRun, RunRecord)> =
            runs.iter().map(|p| (p, record(0.8, false))).collect();
        let s = experiment_stats(&exp, &results);
        assert!(s.pairs[0].p_holm.is_none() && !s.pairs[0].significant);
        assert!(s.pairs[0].verdict.contains("too few runs"));
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
    use super::*;
    use crate::study::{Experiment, Level};
    use cnnvar_core::{EvalSet, Provenance, RunSpec};

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
                    test_loss: 0.5,
                    train_accuracy: 0.9,
                    train_loss: 0.3,
                    per_class_accuracy: vec![],
                    epochs: vec![],
                    diverged: false,
                    error: None,
                    train_examples: 1,
                    test_examples: 1,
                    params: 1,
                    flops: 1,
                    seconds: 1.0,
                    spec,
                    provenance: Provenance::default(),
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
        assert!(s.headline.contains("3-fold estimate"), "{}", s.headline);
        // A diverged fold drops its replicate from both estimators.
        let mut broken = results.clone();
        broken[4].1.diverged = true;
        let cv = experiment_stats(&exp, &broken).cross_validation.expect("still enough");
        assert_eq!(cv.replicates, 3);
    }
}
