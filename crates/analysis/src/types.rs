//! What the analysis returns: per level, per pair, per experiment, per study.

#![allow(unused_imports)]
use std::collections::HashMap;

use cnnvar_core::study::{Experiment, ExperimentKind, Level, PlannedRun};
use cnnvar_core::{Predictions, RunRecord};
use serde::Serialize;

use crate::noise::NoiseSummary;
use crate::power::{Design, PowerTarget, Scale, SeedsNeeded, TTest, Trend};
use crate::stats::{Comparison, Summary, compare, sd_interval, summarize};
use crate::*;

/// Mean and 95% interval of a metric at each epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    /// 1-based epoch.
    pub epoch: usize,
    /// Training accuracy (running, as reported during the epoch).
    pub train: Summary,
    /// Test accuracy after the epoch; `None` where no run reported one (a user's script
    /// need not evaluate during training).
    pub test: Option<Summary>,
}

/// One run of a level, as the outcomes a claim can be tested on see it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunOutcome {
    /// 0-based replicate (seed).
    pub replicate: usize,
    /// Whether the run diverged ([`RunRecord::divergence`]).
    pub diverged: bool,
    /// Whether it is at chance but still learning ([`RunRecord::not_learned_yet`]).
    pub not_learned_yet: bool,
    /// Final test accuracy.
    pub test_accuracy: f64,
    /// Train accuracy minus test accuracy.
    pub gap: f64,
    /// Test accuracy of each class.
    pub per_class: Vec<f64>,
    /// The classes its spec made rare (empty without class imbalance).
    pub minority: Vec<usize>,
    /// Its training and evaluation time, seconds.
    pub seconds: f64,
}

/// One level of an experiment.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LevelStats {
    /// Level label.
    pub label: String,
    /// Every run with a record, in replicate order.
    #[serde(skip)]
    pub outcomes: Vec<RunOutcome>,
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
    /// Final test accuracy of every run that did not diverge, in replicate order: what
    /// comparisons and the ranking use (divergence is an outcome of its own).
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
    /// different examples (`noise_missing` says which).
    pub test_set_noise: Option<NoiseSummary>,
    /// Why `test_set_noise` is absent, when the level has runs.
    pub noise_missing: Option<MissingNoise>,
    /// A variance-sources experiment's `nudge` and `nudge@E` levels: how often each
    /// run's predictions differ from those of its un-nudged twin, the `rerun` run of the
    /// same replicate (the same seeds, no weight moved); `None` for other levels and
    /// without `rerun` runs or predictions ([`crate::sources::twin_disagreement`]).
    pub twin_disagreement: Option<crate::noise::Disagreement>,
}

/// Why a level with runs has no test-set noise.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingNoise {
    /// No run of the level has stored predictions.
    NoPredictions,
    /// Only this run, of the level's non-diverged runs, has them: the noise needs 2.
    OneRun {
        /// Its run id.
        run: String,
    },
    /// Two runs were evaluated on different examples (their labels differ), so their
    /// predictions cannot be pooled.
    DifferentExamples {
        /// The first run with predictions.
        first: String,
        /// The first whose labels differ from its.
        other: String,
    },
    /// The predictions were refused.
    Invalid(crate::noise::NoiseError),
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
    /// The adjusted test rejects: one level beats the other.
    Resolved,
    /// The equivalence test (TOST at the adjusted level) puts the difference inside
    /// ± the study's margin: the levels are the same within seed noise.
    WithinNoise,
    /// Neither: more seeds are needed (or, with fewer than 3 differences that do not
    /// vary, there is no evidence either way).
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
    /// Whether the differences do not vary and are fewer than 3: no evidence.
    pub no_spread: bool,
    /// The equivalence margin, in accuracy points.
    pub margin: f64,
    /// The paired equivalence test (TOST) within ±`margin` at the adjusted level.
    pub equivalence: Option<crate::inference::equivalence::Equivalence>,
    /// The sequential decision of an adaptive experiment whose fixed-sample numbers
    /// above are not valid after its data-dependent stopping
    /// ([`crate::decisions::fixed_sample_invalid`]): the report shows it in their place.
    /// `None` from the analysis, which knows no decisions.
    pub sequential: Option<SequentialPair>,
}

/// A pair's sequential decision, with what it was decided against.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SequentialPair {
    /// The decision (its A and B may be the pair's B and A).
    pub decision: crate::decisions::PairDecision,
    /// The experiment's equivalence margin, in accuracy points.
    pub delta: f64,
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
    /// Its 95% chi-square interval (normal outcomes).
    pub sd_ci: Option<(f64, f64)>,
    /// Its 95% percentile-bootstrap interval over the replicates (no shape assumed; too
    /// narrow with few seeds).
    pub sd_ci_bootstrap: Option<(f64, f64)>,
    /// `sd / sd(all)` over the replicates both levels have; `None` for `all` itself or
    /// without an `all` level.
    pub ratio_to_all: Option<f64>,
    /// Its 95% bootstrap interval, resampling replicates jointly
    /// ([`crate::sources`]).
    pub ratio_to_all_ci: Option<(f64, f64)>,
    /// The source varies a seed, yet every replicate predicted every test example
    /// alike (two runs or more): the training ignores that seed (a user's script that
    /// does not use it), so its spread is no component of seed noise, not a zero one.
    #[serde(default)]
    pub ignored: bool,
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
    /// Power-law fit of test error against training-set size (size experiments only).
    pub learning_curve: Option<powerlaw::PowerLaw>,
    /// k-fold cross-validation against a single split (protocol experiments only).
    pub cross_validation: Option<cv::ProtocolStats>,
    /// The name of each class, by label, when every level uses the same data set;
    /// empty when levels differ in data set (figures then number the classes).
    pub class_names: Vec<String>,
    /// The factor test that matches the design (factor experiments with two or more
    /// levels with runs).
    pub factor: Option<crate::factor::FactorTest>,
    /// How often each level diverged, with the exact test of equal rates.
    pub divergence: crate::factor::DivergenceTest,
    /// The claim, tested part by part (set by [`crate::analyze`]).
    pub claim_result: Option<crate::claims::ClaimResult>,
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
    /// The study's wall and compute time, from its records ([`timing::study_time`]);
    /// `None` without a record that says.
    pub time: Option<timing::StudyTime>,
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
    /// The study's equivalence margin, in accuracy points.
    pub margin: f64,
}

impl Default for AnalysisInputs {
    /// No predictions; seeds paired (a study's default).
    fn default() -> Self {
        AnalysisInputs {
            predictions: HashMap::new(),
            paired_seeds: true,
            margin: cnnvar_core::study::DEFAULT_MARGIN,
        }
    }
}
