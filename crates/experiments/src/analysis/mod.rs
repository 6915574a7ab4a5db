//! Analysis of a study's records and stored predictions: per-level summaries, how much
//! of each level's seed noise is the test set alone ([`noise`]), pairwise comparisons
//! with verdicts that agree with the intervals they show ([`power`]), trends over
//! ordered numeric factors, and sources of seed variance. A run is diverged by the rule of
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
mod splitmix;
pub mod stats;

use std::collections::HashMap;
use std::path::Path;

use cnnvar_core::RunRecord;
use serde::Serialize;

use crate::store::{Predictions, RunDir};
use crate::study::{ExperimentKind, PlannedRun};
use crate::sweep::{Plan, load_results};
use noise::NoiseSummary;
use power::{Design, PowerTarget, Scale, SeedsNeeded, TTest, Trend};
use stats::{Comparison, Summary, compare, sd_interval, summarize};

/// Family-wise significance level of verdicts (Bonferroni over an experiment's
/// comparisons).
pub const ALPHA: f64 = 0.05;

/// Examples the runs of a level disagree on most, kept per level (for drawing them).
pub const MOST_CONTESTED: usize = 16;

/// The factors whose levels are ordered numbers (each level sets the one spec field to
/// a number), with the scale of their trend test: levels swept in multiples (sizes,
/// rates) on a log scale, fractions on a linear one. Such experiments compare
/// neighbouring levels only.
pub const ORDERED_FACTORS: [(&str, Scale); 8] = [
    ("train_size", Scale::Log),
    ("lr", Scale::Log),
    ("batch_size", Scale::Log),
    ("width", Scale::Log),
    ("label_noise", Scale::Linear),
    ("dropout", Scale::Linear),
    ("weight_decay", Scale::Linear),
    ("imbalance", Scale::Linear),
];

/// How comparisons are decided, in words, for the report.
pub const COMPARISON_METHOD: &str = "Each comparison is decided by one t-test: the paired \
    t-test over replicates when the study pairs seeds (replicate r shares its seeds across \
    levels, the default), else Welch's t-test; both p-values are shown. Its interval and p \
    are Bonferroni-adjusted over the experiment's m comparisons (every pair of levels, or, \
    for an ordered numeric factor, neighbouring levels only, m = levels − 1), so the \
    interval excludes 0 exactly when the adjusted p is below 0.05: a difference is \
    resolved (\"A beats B\") then and only then. The detectable difference is the smallest \
    true difference the test resolves with 80% power at that adjusted level, with the \
    observed sds; seeds needed is how many seeds per level would resolve the observed \
    difference with 80% power. An unresolved difference is \"within seed noise\" only when \
    its whole adjusted interval lies inside ± the detectable difference (any real \
    difference is smaller than this design detects); otherwise it is \"not resolved\", \
    with the seeds it would need. Ordered numeric factors also get a least-squares trend \
    of accuracy over all runs (log scale for train_size, lr, batch_size and width; \
    linear otherwise). Diverged runs count at chance accuracy.";

/// What the floor and excess are, in words, for the report.
pub const NOISE_METHOD: &str = "From the stored predictions of a level's runs (non-diverged, \
    evaluated on the same examples): the floor is the sd of accuracy the runs would show if \
    each test example flipped between right and wrong independently, with its own \
    difficulty (sqrt of the sum over examples of p(1 − p)·k/(k − 1), over n, where p is the \
    share of the k runs right on it): the test set's own sampling noise, which more seeds \
    do not remove. Its interval is a 95% bootstrap over runs. The excess, \
    sqrt(max(0, observed² − floor²)), is the sd of the runs' true accuracies: the part of \
    the seed noise that comes from training. Disagreement is the share of examples on \
    which two runs predict different classes; the ensemble is the majority vote of the \
    runs. sds combine in quadrature: observed² ≈ floor² + excess².";

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
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
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
    /// The 0-based replicate (seed) of each of `scored_accuracies`: paired tests pair
    /// the runs of two levels that share a replicate.
    pub scored_replicates: Vec<usize>,
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
    /// Complete runs with stored predictions.
    pub runs_with_predictions: usize,
    /// The complete runs without stored predictions (records made before runs stored
    /// them, or whose predictions are damaged), by run id.
    pub without_predictions: Vec<String>,
    /// How much of the level's seed noise is the test set, from the predictions of its
    /// non-diverged runs; `None` when fewer than 2 have them or they were evaluated on
    /// different examples (`noise_note` says which).
    pub test_set_noise: Option<NoiseSummary>,
    /// Why `test_set_noise` is absent, when the level has runs.
    pub noise_note: Option<String>,
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

/// What a comparison's verdict says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The adjusted interval excludes 0: one level beats the other.
    Resolved,
    /// Not resolved, and the adjusted interval lies inside ± the detectable difference:
    /// any real difference is smaller than the design detects.
    WithinNoise,
    /// Not resolved, and differences this design would detect are not ruled out: more
    /// seeds are needed.
    Unresolved,
    /// Too few runs for a test.
    Untested,
}

impl Outcome {
    /// `resolved`, `within_noise`, `unresolved`, `untested`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::WithinNoise => "within_noise",
            Outcome::Unresolved => "unresolved",
            Outcome::Untested => "untested",
        }
    }
}

/// Two levels compared on test accuracy (A − B; diverged runs at chance).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairStats {
    /// Level A.
    pub a: String,
    /// Level B.
    pub b: String,
    /// A minus B: the difference of the means with its 95% Welch interval and p, the
    /// probability that a run of A beats a run of B, and Cohen's d.
    pub comparison: Comparison,
    /// Welch's t-test.
    pub welch: Option<TTest>,
    /// The paired t-test over the replicates both levels have (paired seeds only).
    pub paired: Option<TTest>,
    /// The test that decides the verdict: paired where there is one, else Welch.
    pub test: Option<Design>,
    /// Comparisons in the experiment (the Bonferroni m).
    pub comparisons: usize,
    /// The difference the deciding test estimates (paired: the mean difference over
    /// shared replicates); the difference of the means without a test.
    pub diff: f64,
    /// The deciding test's interval, Bonferroni-adjusted over `comparisons`.
    pub ci_adjusted: Option<(f64, f64)>,
    /// The deciding test's p-value, Bonferroni-adjusted over `comparisons`.
    pub p_adjusted: Option<f64>,
    /// The smallest true difference the deciding test resolves with 80% power at the
    /// adjusted level, with the observed sds.
    pub detectable: Option<f64>,
    /// Seeds per level that would resolve the observed difference with 80% power at the
    /// adjusted level.
    pub seeds_needed: Option<SeedsNeeded>,
    /// What the verdict says.
    pub outcome: Outcome,
    /// Whether the difference is resolved (the adjusted interval excludes 0).
    pub significant: bool,
    /// One sentence, agreeing with `ci_adjusted`.
    pub verdict: String,
}

impl PairStats {
    /// The deciding test.
    pub fn deciding(&self) -> Option<&TTest> {
        match self.test? {
            Design::Paired => self.paired.as_ref(),
            Design::Welch => self.welch.as_ref(),
        }
    }
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
    /// The pairs of levels compared: every pair, or neighbouring levels of an ordered
    /// numeric factor.
    pub pairs: Vec<PairStats>,
    /// Whether the study pairs seeds across levels (paired tests).
    pub paired_seeds: bool,
    /// The ordered numeric factor the levels vary, if they vary one
    /// ([`ORDERED_FACTORS`]): only neighbouring levels are compared.
    pub ordered_factor: Option<String>,
    /// The trend of accuracy across the levels of an ordered numeric factor.
    pub trend: Option<TrendStats>,
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

/// A least-squares trend of test accuracy over an ordered numeric factor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrendStats {
    /// The factor.
    pub factor: String,
    /// The fit (slope per unit of x; x the level or its natural logarithm).
    pub trend: Trend,
    /// What one step of the factor is: `doubling` (log scale) or `unit` of the level.
    pub step: String,
    /// The slope per step (points of accuracy as a fraction).
    pub per_step: f64,
    /// Its 95% interval.
    pub per_step_ci: (f64, f64),
    /// The finding in words.
    pub sentence: String,
}

/// How much of a study's seed noise is the test set, pooled over its levels with
/// test-set noise.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StudyNoise {
    /// Levels pooled.
    pub levels: usize,
    /// Runs pooled.
    pub runs: usize,
    /// Fewest and most test examples of a pooled level.
    pub examples: (usize, usize),
    /// Pooled observed sd within levels: `√(Σ(k − 1)·sd² / Σ(k − 1))`.
    pub observed_sd: f64,
    /// The floor pooled alike.
    pub floor_sd: f64,
    /// `√max(0, observed² − floor²)`.
    pub excess_sd: f64,
    /// Mean gain of the majority vote over the mean run.
    pub ensemble_gain: f64,
    /// The finding in one sentence.
    pub sentence: String,
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
    /// How much of the seed noise is the test set, over every level that says.
    pub test_set_noise: Option<StudyNoise>,
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

    /// Every level's complete runs without stored predictions as (experiment, level,
    /// run ids), in report order; levels with all their predictions are left out.
    pub fn runs_without_predictions(&self) -> Vec<(&str, &str, &[String])> {
        self.experiments
            .iter()
            .flat_map(|e| {
                e.levels.iter().filter(|l| !l.without_predictions.is_empty()).map(move |l| {
                    (e.name.as_str(), l.label.as_str(), l.without_predictions.as_slice())
                })
            })
            .collect()
    }
}

/// What the analysis reads besides the records.
#[derive(Clone, Debug)]
pub struct AnalysisInputs {
    /// The stored predictions of each run that has them, by run id.
    pub predictions: HashMap<String, Predictions>,
    /// Whether replicate r shares its seeds across levels (the study's
    /// `paired_seeds`): comparisons are then paired.
    pub paired_seeds: bool,
}

impl Default for AnalysisInputs {
    /// No predictions; seeds paired (a study's default).
    fn default() -> Self {
        AnalysisInputs { predictions: HashMap::new(), paired_seeds: true }
    }
}

/// The stored predictions of each of `results` that has them, by run id. Runs without a
/// `predictions.u8` (records made before runs stored them) are absent; so are runs
/// whose file is damaged, which the report names as damaged.
pub fn load_predictions(
    study_dir: &Path,
    results: &[(&PlannedRun, RunRecord)],
) -> HashMap<String, Predictions> {
    results
        .iter()
        .filter_map(|(run, rec)| {
            let dir = RunDir::open(study_dir.join(&run.run_id));
            Some((run.run_id.clone(), dir.read_predictions(rec).ok().flatten()?))
        })
        .collect()
}

fn finite(xs: impl Iterator<Item = f64>) -> Vec<f64> {
    xs.filter(|x| x.is_finite()).collect()
}

/// A level's runs with a record: the diverged ones, and every run's accuracy with the
/// diverged ones at chance, with its replicate.
fn score_runs(runs: &[(&PlannedRun, &RunRecord)]) -> (Vec<DivergedRun>, Vec<(usize, f64)>) {
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
                scored.push((run.replicate, rec.chance_accuracy()));
            }
            None if rec.test_accuracy.is_finite() => {
                scored.push((run.replicate, rec.test_accuracy))
            }
            None => {}
        }
    }
    (diverged, scored)
}

/// The test-set noise of a level's runs: their [`NoiseSummary`] (or why there is none)
/// and the runs without predictions. Diverged runs are left out, as from the level's
/// accuracies; runs evaluated on other examples than the first (their labels differ)
/// cannot be pooled, and the level then has no summary.
fn level_noise(
    runs: &[(&PlannedRun, &RunRecord)],
    predictions: &HashMap<String, Predictions>,
) -> (Option<NoiseSummary>, Option<String>, Vec<String>) {
    let mut without = Vec::new();
    let mut with: Vec<(&str, &Predictions)> = Vec::new();
    for (run, rec) in runs {
        match predictions.get(&run.run_id) {
            None => without.push(run.run_id.clone()),
            Some(p) if rec.divergence().is_none() && rec.test_accuracy.is_finite() => {
                with.push((&run.run_id, p))
            }
            Some(_) => {}
        }
    }
    if runs.is_empty() {
        return (None, None, without);
    }
    let Some(&(first_id, first)) = with.first() else {
        let note = "no run of this level has stored predictions".to_string();
        return (None, Some(note), without);
    };
    if with.len() < 2 {
        let note = format!(
            "only run {first_id} has stored predictions (of the level's non-diverged runs); \
             test-set noise needs 2"
        );
        return (None, Some(note), without);
    }
    if let Some((other, _)) = with.iter().find(|(_, p)| p.labels != first.labels) {
        let note = format!(
            "runs {first_id} and {other} were evaluated on different examples (their labels \
             differ), so their predictions cannot be pooled"
        );
        return (None, Some(note), without);
    }
    let preds: Vec<&[u8]> = with.iter().map(|(_, p)| p.predicted.as_slice()).collect();
    match noise::test_set_noise(&preds, &first.labels) {
        Ok(n) => (Some(n.summary(MOST_CONTESTED)), None, without),
        Err(e) => (None, Some(e.to_string()), without),
    }
}

fn level_stats(
    label: &str,
    planned: usize,
    runs: &[(&PlannedRun, &RunRecord)],
    predictions: &HashMap<String, Predictions>,
) -> LevelStats {
    let (diverged_runs, scored) = score_runs(runs);
    let (test_set_noise, noise_note, without_predictions) = level_noise(runs, predictions);
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
        scored_accuracies: scored.iter().map(|&(_, a)| a).collect(),
        scored_replicates: scored.iter().map(|&(r, _)| r).collect(),
        test_accuracy: summarize(&accuracies),
        test_loss: summarize(&finite(ok.iter().map(|r| r.test_loss))),
        gap: summarize(&finite(ok.iter().map(|r| r.train_accuracy - r.test_accuracy))),
        gaps: finite(ok.iter().map(|r| r.train_accuracy - r.test_accuracy)),
        accuracies,
        per_class,
        curve,
        runs_with_predictions: runs.len() - without_predictions.len(),
        without_predictions,
        test_set_noise,
        noise_note,
    }
}

/// `0.912` as `91.2`.
pub(crate) fn pts(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

/// `0.004` as `0.40` (points, two decimals: for sds and small differences).
pub(crate) fn pts2(x: f64) -> String {
    format!("{:.2}", 100.0 * x)
}

/// `p = 0.042`, `p < 0.001`.
fn p_words(p: f64) -> String {
    if p < 0.001 { "p < 0.001".to_string() } else { format!("p = {p:.3}") }
}

/// `3 seeds per level`, or `3 and 5 seeds` when the levels differ.
fn seeds_text(t: &TTest) -> String {
    if t.n_a == t.n_b {
        format!("{} seeds per level", t.n_a)
    } else {
        format!("{} and {} seeds", t.n_a, t.n_b)
    }
}

/// ` after correcting for 36 comparisons`, or nothing for one comparison.
fn correction_text(m: usize) -> String {
    if m > 1 { format!(" after correcting for {m} comparisons") } else { String::new() }
}

/// `about 14 seeds per level`, `more than 10000 seeds per level`.
fn needed_text(n: &SeedsNeeded) -> String {
    match n {
        SeedsNeeded::Exactly(n) => format!("about {n} seeds per level"),
        SeedsNeeded::MoreThan(n) => format!("more than {n} seeds per level"),
    }
}

/// ` [lo, hi]` of `ci` in points (one decimal), flipped to B − A when `flip`.
fn interval_text(ci: Option<(f64, f64)>, flip: bool) -> String {
    ci.map(|(lo, hi)| if flip { (-hi, -lo) } else { (lo, hi) })
        .map(|(lo, hi)| format!(" [{}, {}]", pts(lo), pts(hi)))
        .unwrap_or_default()
}

/// The verdict sentence for A against B (labels `a`, `b`), from the pair's outcome: it
/// states the Bonferroni-adjusted interval the outcome is read from.
fn verdict(a: &str, b: &str, pair: &PairStats) -> String {
    let Some(t) = pair.deciding() else {
        return format!("{a} vs {b}: too few runs for a test ({} points)", pts(pair.diff));
    };
    let m = pair.comparisons;
    let name = match t.design {
        Design::Paired => "paired",
        Design::Welch => "Welch",
    };
    let p_text = match (m, pair.p_adjusted) {
        (1, _) | (_, None) => format!("{name} {}", p_words(t.p)),
        (_, Some(adj)) => {
            format!("{name} {}, Bonferroni {} ({m} comparisons)", p_words(t.p), p_words(adj))
        }
    };
    match pair.outcome {
        Outcome::Resolved => {
            // The interval is of the winner minus the loser, like the difference stated.
            let (win, lose) = if pair.diff >= 0.0 { (a, b) } else { (b, a) };
            let interval = interval_text(pair.ci_adjusted, pair.diff < 0.0);
            format!("{win} beats {lose} by {} points{interval}, {p_text}", pts(pair.diff.abs()))
        }
        Outcome::WithinNoise => format!(
            "{a} vs {b}: within seed noise ({} points{}, inside ±{} points, the smallest \
             difference {} detect at 80% power{}; {p_text})",
            pts(pair.diff),
            interval_text(pair.ci_adjusted, false),
            pts2(pair.detectable.unwrap_or(0.0)),
            seeds_text(t),
            correction_text(m),
        ),
        Outcome::Unresolved | Outcome::Untested => {
            let needed = match (&pair.seeds_needed, pair.diff == 0.0) {
                (_, true) => String::new(),
                (Some(n), false) => format!(
                    "; to tell {} points apart at 80% power needs {}",
                    pts2(pair.diff.abs()),
                    needed_text(n)
                ),
                (None, false) => String::new(),
            };
            format!(
                "{a} vs {b}: not resolved with {}{} ({} points{}, {p_text}){needed}",
                seeds_text(t),
                correction_text(m),
                pts(pair.diff),
                interval_text(pair.ci_adjusted, false),
            )
        }
    }
}

/// The class names of the experiment's data set, if all its levels share one: the data
/// set's own, or for an image folder the class folders' names its records carry
/// (`Provenance::class_names`; none before a run is complete, or when the levels are on
/// folders with other classes).
fn class_names(exp: &crate::study::Experiment, mine: &[&(&PlannedRun, RunRecord)]) -> Vec<String> {
    let mut datasets = exp.levels.iter().map(|l| l.spec.dataset);
    match datasets.next() {
        Some(cnnvar_core::DatasetName::Folder)
            if exp.levels.iter().all(|l| l.spec.dataset == cnnvar_core::DatasetName::Folder) =>
        {
            let mut names = mine.iter().map(|(_, r)| &r.provenance.class_names);
            match names.next() {
                Some(first) if names.all(|n| n == first) => first.clone(),
                _ => Vec::new(),
            }
        }
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

/// Analyses one experiment from its planned runs and their records, with paired seeds
/// and without predictions ([`experiment_stats_with`]).
pub fn experiment_stats(
    exp: &crate::study::Experiment,
    results: &[(&PlannedRun, RunRecord)],
) -> ExperimentStats {
    experiment_stats_with(exp, results, &AnalysisInputs::default())
}

/// Analyses one experiment from its planned runs, their records and what else
/// `inputs` holds (stored predictions, whether seeds are paired).
pub fn experiment_stats_with(
    exp: &crate::study::Experiment,
    results: &[(&PlannedRun, RunRecord)],
    inputs: &AnalysisInputs,
) -> ExperimentStats {
    let mine: Vec<&(&PlannedRun, RunRecord)> =
        results.iter().filter(|(r, _)| r.experiment == exp.name).collect();
    let levels = experiment_levels(exp, &mine, &inputs.predictions);
    let ordered = ordered_factor(exp);
    let (pairs, sources, trend, headline) = match exp.kind {
        ExperimentKind::Factor => {
            let pairs = pairwise(exp, &levels, ordered.as_ref(), inputs.paired_seeds);
            let trend = ordered.as_ref().and_then(|o| trend_stats(o, &levels));
            let mut headline = factor_headline(exp, &pairs);
            if let Some(t) = &trend {
                headline = format!("{headline}; {}", t.sentence);
            }
            (pairs, Vec::new(), trend, headline)
        }
        ExperimentKind::VarianceSources => {
            let sources = variance_sources(&levels);
            let headline = sources_headline(&sources);
            (Vec::new(), sources, None, headline)
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
        paired_seeds: inputs.paired_seeds,
        ordered_factor: ordered.filter(|_| exp.kind == ExperimentKind::Factor).map(|o| o.field),
        trend,
        sources,
        headline,
        learning_curve: None,
        cross_validation: cv::protocol_stats(exp, &mine),
        class_names: class_names(exp, &mine),
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
    predictions: &HashMap<String, Predictions>,
) -> Vec<LevelStats> {
    exp.levels
        .iter()
        .map(|level| {
            let runs: Vec<(&PlannedRun, &RunRecord)> = mine
                .iter()
                .filter(|(r, _)| r.level == level.label)
                .map(|(r, rec)| (*r, rec))
                .collect();
            level_stats(&level.label, 0, &runs, predictions)
        })
        .collect()
}

/// An ordered numeric factor: its field, the scale of its trend, and each level's value
/// (in the experiment's level order).
#[derive(Clone, Debug, PartialEq)]
struct Ordered {
    field: String,
    scale: Scale,
    values: Vec<f64>,
}

/// The ordered numeric factor `exp` varies: a factor experiment whose one field is one
/// of [`ORDERED_FACTORS`], set by every level to a different number; `None` otherwise.
fn ordered_factor(exp: &crate::study::Experiment) -> Option<Ordered> {
    let [field] = exp.factors.as_slice() else { return None };
    let &(_, scale) = ORDERED_FACTORS.iter().find(|(f, _)| f == field)?;
    if exp.kind != ExperimentKind::Factor || exp.levels.len() < 2 {
        return None;
    }
    let values: Vec<f64> = exp
        .levels
        .iter()
        .map(|l| l.values.get(field).and_then(serde_json::Value::as_f64))
        .collect::<Option<_>>()?;
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    if sorted.windows(2).any(|w| w[0] == w[1]) || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    Some(Ordered { field: field.clone(), scale, values })
}

/// The pairs of levels to compare, as indices (A, B): every pair of levels with runs,
/// in level order, or for an ordered factor each level with runs and the next larger.
fn pair_indices(levels: &[LevelStats], ordered: Option<&Ordered>) -> Vec<(usize, usize)> {
    let mut with_runs: Vec<usize> =
        (0..levels.len()).filter(|&i| !levels[i].scored_accuracies.is_empty()).collect();
    match ordered {
        Some(o) => {
            with_runs.sort_by(|&i, &j| o.values[i].total_cmp(&o.values[j]));
            with_runs.windows(2).map(|w| (w[0], w[1])).collect()
        }
        None => with_runs
            .iter()
            .enumerate()
            .flat_map(|(k, &i)| with_runs[k + 1..].iter().map(move |&j| (i, j)))
            .collect(),
    }
}

/// The scored accuracies of the replicates both levels have, in A's order.
fn shared_replicates(a: &LevelStats, b: &LevelStats) -> (Vec<f64>, Vec<f64>) {
    a.scored_replicates
        .iter()
        .zip(&a.scored_accuracies)
        .filter_map(|(r, &x)| {
            let j = b.scored_replicates.iter().position(|s| s == r)?;
            Some((x, b.scored_accuracies[j]))
        })
        .unzip()
}

/// The pairs of levels of `exp` compared on their scored accuracies (every pair, or
/// neighbours of an ordered factor), each decided by its paired (with `paired_seeds`)
/// or Welch t-test with Bonferroni's correction over the pairs.
fn pairwise(
    exp: &crate::study::Experiment,
    levels: &[LevelStats],
    ordered: Option<&Ordered>,
    paired_seeds: bool,
) -> Vec<PairStats> {
    let indices = pair_indices(levels, ordered);
    let m = indices.len();
    indices
        .into_iter()
        .filter_map(|(i, j)| {
            let (a, b) = (&levels[i], &levels[j]);
            let comparison = compare(&a.scored_accuracies, &b.scored_accuracies)?;
            let mut pair = compare_pair(a, b, comparison, m, paired_seeds);
            pair.verdict = verdict(&exp.factor_label(&a.label), &exp.factor_label(&b.label), &pair);
            Some(pair)
        })
        .collect()
}

/// Levels `a` and `b` compared: the tests, the deciding test's adjusted interval and p
/// over `m` comparisons, its power answers, and the outcome (the verdict is left empty).
fn compare_pair(
    a: &LevelStats,
    b: &LevelStats,
    comparison: Comparison,
    m: usize,
    paired_seeds: bool,
) -> PairStats {
    let welch = power::welch(&a.scored_accuracies, &b.scored_accuracies).ok();
    let paired =
        paired_seeds.then(|| shared_replicates(a, b)).and_then(|(x, y)| power::paired(&x, &y).ok());
    let test = match (&paired, &welch) {
        (Some(_), _) => Some(Design::Paired),
        (None, Some(_)) => Some(Design::Welch),
        (None, None) => None,
    };
    let deciding = paired.as_ref().or(welch.as_ref());
    let target = PowerTarget { alpha: ALPHA / m.max(1) as f64, ..PowerTarget::default() };
    let ci_adjusted = deciding.map(|t| t.ci_adjusted(ALPHA, m));
    let detectable = deciding.and_then(|t| t.detectable(&target));
    let significant = deciding.is_some_and(|t| t.significant_bonferroni(ALPHA, m));
    let outcome = match (deciding, ci_adjusted, detectable) {
        (None, _, _) => Outcome::Untested,
        _ if significant => Outcome::Resolved,
        (Some(_), Some((lo, hi)), Some(d)) if -d <= lo && hi <= d => Outcome::WithinNoise,
        _ => Outcome::Unresolved,
    };
    PairStats {
        a: a.label.clone(),
        b: b.label.clone(),
        diff: deciding.map_or(comparison.diff, |t| t.diff),
        comparison,
        test,
        comparisons: m,
        ci_adjusted,
        p_adjusted: deciding.map(|t| t.p_bonferroni(m)),
        detectable,
        seeds_needed: deciding.and_then(|t| t.seeds_needed(&target)),
        outcome,
        significant,
        welch,
        paired,
        verdict: String::new(),
    }
}

/// A factor experiment's verdict: that of its largest resolved difference; else, when
/// some difference is not resolved, what the largest of those would need; else that
/// every pair is within seed noise.
fn factor_headline(exp: &crate::study::Experiment, pairs: &[PairStats]) -> String {
    let largest = |outcome: Outcome| {
        pairs
            .iter()
            .filter(|p| p.outcome == outcome)
            .max_by(|x, y| x.diff.abs().total_cmp(&y.diff.abs()))
    };
    if let Some(best) = largest(Outcome::Resolved) {
        return best.verdict.clone();
    }
    let within = pairs.iter().filter(|p| p.outcome == Outcome::WithinNoise).count();
    let n = pairs.len();
    let pairs_text = if n == 1 { "the pair".to_string() } else { format!("{n} pairs") };
    if let Some(open) = largest(Outcome::Unresolved) {
        let t = open.deciding().expect("an unresolved pair has a test");
        let needed = match (&open.seeds_needed, open.diff == 0.0) {
            (Some(s), false) => format!(", would need {} at 80% power", needed_text(s)),
            _ => String::new(),
        };
        return format!(
            "no difference between levels is resolved with {}{}: the largest, {} vs {} ({} \
             points){needed}; {within} of {pairs_text} within seed noise",
            seeds_text(t),
            correction_text(open.comparisons),
            exp.factor_label(&open.a),
            exp.factor_label(&open.b),
            pts(open.diff),
        );
    }
    match (n, within) {
        (0, _) => "not enough runs to compare levels".into(),
        (_, 0) => format!("too few runs per level to test {pairs_text}"),
        (_, w) if w == n && n == 1 => "no difference between levels: within seed noise".into(),
        (_, w) if w == n => {
            format!("no difference between levels: all {n} pairs within seed noise")
        }
        (_, w) => format!(
            "no difference between levels: {w} of {n} pairs within seed noise, the rest too few \
             runs to test"
        ),
    }
}

/// The trend of scored accuracy over the levels of an ordered factor, per doubling of
/// the level (log scale) or per unit of it (linear); `None` when it cannot be fitted.
fn trend_stats(o: &Ordered, levels: &[LevelStats]) -> Option<TrendStats> {
    let points: Vec<(f64, &[f64])> =
        o.values.iter().zip(levels).map(|(&v, l)| (v, l.scored_accuracies.as_slice())).collect();
    let trend = power::trend(&points, o.scale).ok()?;
    let (step, factor) = match o.scale {
        Scale::Log => ("doubling", std::f64::consts::LN_2),
        Scale::Linear => ("unit", 1.0),
    };
    let per_step = trend.slope * factor;
    let per_step_ci = (trend.slope_ci.0 * factor, trend.slope_ci.1 * factor);
    let name = o.field.replace('_', " ");
    let scale = match o.scale {
        Scale::Log => "log scale",
        Scale::Linear => "linear",
    };
    let per = match o.scale {
        Scale::Log => format!("per doubling of {name}"),
        Scale::Linear => format!("per unit of {name}"),
    };
    let verdict = if trend.p < ALPHA { "" } else { ": no trend resolved" };
    let sentence = format!(
        "trend across {name} ({scale}, {} runs): {:+.2} points {per} [{:.2}, {:.2}], {}{verdict}",
        trend.n,
        100.0 * per_step,
        100.0 * per_step_ci.0,
        100.0 * per_step_ci.1,
        p_words(trend.p)
    );
    Some(TrendStats {
        factor: o.field.clone(),
        trend,
        step: step.into(),
        per_step,
        per_step_ci,
        sentence,
    })
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

/// `10000` as `10 000`.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The study's test-set noise, pooled over every level that has it (each level's
/// variance weighted by its runs − 1); `None` when no level has it.
pub fn study_noise(experiments: &[ExperimentStats]) -> Option<StudyNoise> {
    let noises: Vec<&NoiseSummary> = experiments
        .iter()
        .flat_map(|e| e.levels.iter().filter_map(|l| l.test_set_noise.as_ref()))
        .collect();
    if noises.is_empty() {
        return None;
    }
    let df: f64 = noises.iter().map(|n| n.runs as f64 - 1.0).sum();
    let pool = |f: fn(&NoiseSummary) -> f64| {
        (noises.iter().map(|n| (n.runs as f64 - 1.0) * f(n).powi(2)).sum::<f64>() / df).sqrt()
    };
    let observed_sd = pool(|n| n.observed_sd);
    let floor_sd = pool(|n| n.floor_sd);
    let excess_sd = (observed_sd.powi(2) - floor_sd.powi(2)).max(0.0).sqrt();
    let lo = noises.iter().map(|n| n.examples).min().unwrap_or(0);
    let hi = noises.iter().map(|n| n.examples).max().unwrap_or(0);
    let test_set = if lo == hi {
        format!("a {}-image test set", grouped(lo))
    } else {
        format!("test sets of {} to {} images", grouped(lo), grouped(hi))
    };
    let runs = noises.iter().map(|n| n.runs).sum();
    let ensemble_gain = noises.iter().map(|n| n.ensemble_gain).sum::<f64>() / noises.len() as f64;
    let levels = noises.len();
    let over = format!("sd within a level, pooled over {levels} levels and {runs} runs");
    let sentence = if floor_sd >= observed_sd {
        format!(
            "Of the {} points of test accuracy between seeds ({over}), all is what {test_set} \
             alone produces (a floor of {} points): on this test set the seeds cannot be told \
             apart in accuracy.",
            pts2(observed_sd),
            pts2(floor_sd)
        )
    } else {
        format!(
            "Of the {} points of test accuracy between seeds ({over}), {} is what {test_set} \
             alone produces; the rest, {} points (in quadrature), is a real difference between \
             the trained models.",
            pts2(observed_sd),
            pts2(floor_sd),
            pts2(excess_sd)
        )
    };
    Some(StudyNoise {
        levels,
        runs,
        examples: (lo, hi),
        observed_sd,
        floor_sd,
        excess_sd,
        ensemble_gain,
        sentence,
    })
}

/// Analyses a study from its run directory alone: the records and stored predictions
/// of its planned runs, the plan's pairing of seeds.
pub fn analyze(plan: &Plan, study_dir: &Path) -> StudyStats {
    let results = load_results(plan, study_dir);
    let inputs = AnalysisInputs {
        predictions: load_predictions(study_dir, &results),
        paired_seeds: plan.study.paired_seeds,
    };
    let mut experiments = Vec::new();
    for exp in &plan.study.experiments {
        let mut stats = experiment_stats_with(exp, &results, &inputs);
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
        test_set_noise: study_noise(&experiments),
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
            test_set_noise: None,
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
        assert!(s.pairs[0].p_adjusted.is_none() && !s.pairs[0].significant);
        assert_eq!(s.pairs[0].outcome, Outcome::Untested);
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

#[cfg(test)]
mod noise_and_power_tests {
    use super::*;
    use crate::study::{Experiment, Level};
    use cnnvar_core::{Provenance, RunSpec};

    fn record(run: &PlannedRun, acc: f64) -> RunRecord {
        RunRecord {
            run_id: run.run_id.clone(),
            test_accuracy: acc,
            test_loss: 0.5,
            train_accuracy: acc + 0.05,
            train_loss: 0.3,
            per_class_accuracy: vec![acc; 10],
            epochs: vec![],
            diverged: false,
            error: None,
            train_examples: 1,
            test_examples: 100,
            params: 1,
            flops: 1,
            seconds: 1.0,
            spec: run.spec.clone(),
            provenance: Provenance::default(),
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
        let inputs = AnalysisInputs { predictions, paired_seeds: true };
        let s = experiment_stats_with(&exp, &results, &inputs);
        let (a, b, c) = (&s.levels[0], &s.levels[1], &s.levels[2]);
        let noise = a.test_set_noise.as_ref().expect("every run has predictions");
        assert_eq!((noise.runs, noise.examples, a.runs_with_predictions), (3, 100, 3));
        // Accuracies 0.95, 0.92, 0.89 from the predictions.
        assert!((noise.observed_sd - 0.03).abs() < 1e-12, "{}", noise.observed_sd);
        assert!(noise.floor_sd > 0.0 && noise.floor_ci.is_some());
        assert!(!noise.most_contested.is_empty() && noise.most_contested.len() <= MOST_CONTESTED);
        assert!(a.without_predictions.is_empty() && a.noise_note.is_none());
        assert!(b.test_set_noise.is_none());
        assert_eq!(b.without_predictions, ["b-1", "b-2"]);
        assert!(b.noise_note.as_deref().is_some_and(|n| n.contains("only run b-0")), "{b:?}");
        assert!(c.test_set_noise.is_none() && c.without_predictions.is_empty());
        let note = c.noise_note.as_deref().unwrap_or_default();
        assert!(note.contains("c-0") && note.contains("c-2") && note.contains("labels differ"));
        // The study's pooled sentence comes from level a alone.
        let study = study_noise(std::slice::from_ref(&s)).expect("one level");
        assert_eq!((study.levels, study.runs, study.examples), (1, 3, (100, 100)));
        assert!(study.sentence.contains("a 100-image test set"), "{}", study.sentence);
        assert!(study.sentence.contains("3.00 points"), "{}", study.sentence);
        // Serialised without the per-example votes, and without NaN.
        let json = serde_json::to_string(&s).expect("serialises");
        assert!(!json.contains("per_example") && !json.contains("NaN"));
        // Without predictions at all, nothing breaks and every run is listed.
        let bare = experiment_stats(&exp, &results);
        assert!(bare.levels.iter().all(|l| l.test_set_noise.is_none()));
        assert_eq!(bare.levels[0].without_predictions.len(), 3);
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
        let v = &pair.verdict;
        assert!(v.starts_with("model a beats model b by 0.4 points ["), "{v}");
        assert!(v.contains("paired p < 0.001"), "{v}");
        let s = experiment_stats_with(&exp, &small, &unpaired);
        let pair = &s.pairs[0];
        assert_eq!((pair.test, pair.paired.is_none()), (Some(Design::Welch), true));
        assert_eq!(pair.outcome, Outcome::WithinNoise);
        assert!(pair.verdict.contains("within seed noise"), "{}", pair.verdict);
        assert!(s.headline.contains("within seed noise"), "{}", s.headline);

        let large = results(0.03);
        let s = experiment_stats_with(&exp, &large, &unpaired);
        let pair = &s.pairs[0];
        assert_eq!(pair.outcome, Outcome::Unresolved);
        let v = &pair.verdict;
        assert!(v.starts_with("model a vs model b: not resolved with 5 seeds per level ("), "{v}");
        assert!(v.contains("to tell 3.01 points apart at 80% power needs about"), "{v}");
        assert!(matches!(pair.seeds_needed, Some(SeedsNeeded::Exactly(n)) if n > 5));
        let h = &s.headline;
        assert!(h.starts_with("no difference between levels is resolved with 5 seeds"), "{h}");
        let s = experiment_stats_with(&exp, &large, &paired);
        assert_eq!(s.pairs[0].outcome, Outcome::Resolved);
        // Paired over the replicates both levels have: one missing run drops its pair.
        let fewer: Vec<(&PlannedRun, RunRecord)> =
            large.iter().filter(|(p, _)| !(p.level == "b" && p.replicate == 4)).cloned().collect();
        let s = experiment_stats_with(&exp, &fewer, &paired);
        let t = s.pairs[0].paired.as_ref().expect("4 shared replicates");
        assert_eq!((t.n_a, s.pairs[0].welch.as_ref().unwrap().n_b), (4, 4));
    }

    /// Whatever the data, the verdict agrees with the adjusted interval it shows: "beats"
    /// exactly when the interval excludes 0, "within seed noise" only when it lies inside
    /// ± the detectable difference, and "not resolved" otherwise, naming the seeds.
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
                let shown = interval_text(Some((lo, hi)), p.diff < 0.0 && p.significant);
                assert!(p.verdict.contains(&shown), "{shown} not in {}", p.verdict);
                let excludes = lo > 0.0 || hi < 0.0;
                if (t.p_bonferroni(p.comparisons) / ALPHA - 1.0).abs() > 1e-9 {
                    assert_eq!(excludes, p.significant, "{p:?}");
                }
                let d = p.detectable.expect("solvable");
                match p.outcome {
                    Outcome::Resolved => assert!(p.verdict.contains(" beats "), "{}", p.verdict),
                    Outcome::WithinNoise => {
                        assert!(!p.significant && -d <= lo && hi <= d);
                        assert!(p.verdict.contains("within seed noise"), "{}", p.verdict);
                        assert!(p.diff.abs() < d);
                    }
                    Outcome::Unresolved => {
                        assert!(!p.significant && (lo < -d || hi > d));
                        assert!(p.verdict.contains("not resolved with"), "{}", p.verdict);
                        assert!(!p.verdict.contains("seed noise"), "{}", p.verdict);
                    }
                    Outcome::Untested => panic!("every pair has runs"),
                }
                if p.comparisons > 1 && p.outcome == Outcome::Unresolved {
                    let m = format!("after correcting for {} comparisons", p.comparisons);
                    assert!(p.verdict.contains(&m), "{}", p.verdict);
                }
                seen.insert(p.outcome);
            }
        }
        assert_eq!(seen.len(), 3, "resolved, within noise and unresolved all occur: {seen:?}");
    }

    /// An ordered numeric factor compares neighbouring levels only (in numeric order,
    /// whatever the file order), corrects for levels − 1 comparisons, and reports a
    /// trend on the log scale in its headline; an unordered factor compares every pair.
    #[test]
    fn ordered_factors_compare_neighbours_and_fit_a_trend() {
        let text = "seeds = 3\n[base]\nepochs = 1\n[[experiment]]\nname = \"size\"\n\
                    vary = { train_size = [1000, 100, 300, 3000] }\n[[experiment]]\n\
                    name = \"model\"\nvary = { model = [\"simple\", \"cnn\", \"complex\"] }\n";
        let study = crate::study::parse(text, Path::new("s.toml")).expect("parses");
        let plan = Plan::new(study, false);
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
        assert!(
            size.headline.contains(
                "trend across train size (log scale, 12 runs): +0.50 points per doubling"
            ),
            "{}",
            size.headline
        );
        let model = experiment_stats(&plan.study.experiments[1], &results);
        assert_eq!((model.ordered_factor.as_ref(), model.trend.as_ref()), (None, None));
        assert_eq!(model.pairs.len(), 3);
        // A linear factor: dropout.
        let text = "seeds = 2\n[base]\nepochs = 1\n[[experiment]]\nname = \"drop\"\n\
                    vary = { dropout = [0.0, 0.25, 0.5] }\n";
        let plan =
            Plan::new(crate::study::parse(text, Path::new("d.toml")).expect("parses"), false);
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
