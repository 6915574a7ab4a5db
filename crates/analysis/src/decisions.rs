//! Adaptive seeding's decisions: how many seeds each experiment of a study with
//! `seeds = { min, max, step }` needs now, from the records alone.
//!
//! The sweep runs `min` seeds of every level, then, round after round, asks
//! [`decisions`] what the records say: each experiment's pairs of levels are judged by
//! [`sequential::decide`] on final test accuracy in points (100 × accuracy; a diverged
//! run at chance, as the analysis scores it), and every level of an experiment with a
//! pair still open gets `step` more seeds, up to `max`. Decisions are a pure function
//! of the study and the records (replicate r of an experiment is read only once every
//! level has its first r seeds), so a sweep killed at any moment resumes to the same
//! decisions: nothing about them is kept as state. `decisions.json` and `decisions.csv`
//! in the study directory are reports of them ([`StudyDecisions::to_json`],
//! [`StudyDecisions::to_csv`]), rewritten every round.
//!
//! Each pair's decision comes with its **repeated confidence interval** at the look it
//! was decided at (or the latest look): valid after the data-dependent stopping, unlike
//! a fixed-sample interval or p-value computed from the same seeds
//! ([`fixed_sample_invalid`] says for which experiments those must not be shown).
//!
//! A **variance-sources** experiment asks how much spread each source of seed
//! randomness gives, not whether its levels' means differ, so it has its own rule
//! ([`Rule::SdPrecision`]): it stops at the first look where every source's sd of test
//! accuracy has a 95% chi-square interval whose upper end is at most
//! `resolve.sd_interval_ratio` times its lower end (2 by default), or at `max`. That
//! ratio depends on the degrees of freedom alone, so the rule fixes the seeds in
//! advance ([`SourcesPrecision::seeds_needed`]: 18 at the default, so the look at or
//! after 18) whatever the outcomes, unless outcomes are missing: the seeds never depend
//! on the spread observed, and the sds' intervals are fixed-sample intervals, valid as
//! they stand.

use std::collections::BTreeMap;

use cnnvar_core::study::{AlphaSpending, Experiment, ExperimentKind, PlannedRun, Study};
use cnnvar_core::{Error, Result, RunRecord};
use serde::Serialize;

use crate::sequential::{self, SequentialDesign, Spending, Verdict};

/// The name the decisions' files are encoded under, in errors.
const DECISIONS_JSON: &str = "decisions.json";
/// The same for the CSV.
const DECISIONS_CSV: &str = "decisions.csv";

/// The sequential design of `experiment` in an adaptive `study` (`None`: the study
/// seeds a fixed number, or has no such experiment).
pub fn design(study: &Study, experiment: &str) -> Option<SequentialDesign> {
    let a = study.adaptive.as_ref()?;
    let r = a.resolve.get(experiment)?;
    Some(SequentialDesign {
        min_seeds: a.min,
        max_seeds: a.max,
        step: a.step,
        delta: r.delta,
        alpha: r.alpha,
        spending: match r.spending {
            AlphaSpending::OBrienFleming => Spending::OBrienFleming,
            AlphaSpending::Pocock => Spending::Pocock,
        },
    })
}

/// The precision target of a variance-sources `experiment` in an adaptive `study`: the
/// largest ratio of the upper to the lower end of a source's 95% sd interval
/// (`resolve.sd_interval_ratio`); `None` as for [`design`].
pub fn sd_target(study: &Study, experiment: &str) -> Option<f64> {
    Some(study.adaptive.as_ref()?.resolve.get(experiment)?.sd_interval_ratio)
}

/// Whether the fixed-sample p-values and confidence intervals of `experiment`'s pairs
/// of levels (and any other fixed-sample test of its levels) are invalid and must not be
/// shown: its seeds were added while its pairs were undecided, so how many it has
/// depends on its outcomes. True for a factor experiment of two levels or more in an
/// adaptive study with more than one look; show its sequential decisions and their
/// repeated confidence intervals ([`PairDecision::rci`]) instead. False for a fixed
/// study, a single level, and a variance-sources experiment (its seeds do not depend on
/// its outcomes: see the module docs).
pub fn fixed_sample_invalid(study: &Study, experiment: &str) -> bool {
    let (Some(a), Some(exp)) =
        (&study.adaptive, study.experiments.iter().find(|e| e.name == experiment))
    else {
        return false;
    };
    exp.kind == ExperimentKind::Factor && exp.levels.len() >= 2 && a.looks().len() > 1
}

/// How a design spends its alpha, as a study file writes it (`obrien-fleming`, `pocock`).
pub fn spending_name(spending: Spending) -> &'static str {
    match spending {
        Spending::OBrienFleming => "obrien-fleming",
        Spending::Pocock => "pocock",
    }
}

/// What a run counts for in the decisions, in accuracy points (the units of `delta`):
/// 100 × its final test accuracy; NaN when the run diverged ([`RunRecord::divergence`]:
/// out of every accuracy statistic, as in the analysis) or its accuracy is not a number
/// (the decisions leave such a replicate out of the pair's differences).
pub fn outcome(record: &RunRecord) -> f64 {
    match record.divergence() {
        Some(_) => f64::NAN,
        None => 100.0 * record.test_accuracy,
    }
}

/// One comparison of two levels of an experiment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairDecision {
    /// Level A's label.
    pub a: String,
    /// Level B's label.
    pub b: String,
    /// A against B: larger, smaller, equivalent (within ±delta), continue (open) or
    /// undecided (open at `max` seeds).
    pub verdict: Verdict,
    /// The look it was decided at, 1-based; `None` while open or undecided.
    pub look: Option<usize>,
    /// Seeds per level at that look (or at the latest look taken).
    pub seeds: usize,
    /// Paired differences it was judged on (fewer than `seeds` when outcomes were not
    /// finite).
    pub used: usize,
    /// Mean test accuracy of A − B there, in points.
    pub mean_diff: Option<f64>,
    /// Its standard error there, in points.
    pub se: Option<f64>,
    /// The critical t of the difference boundary there: the multiplier of `rci`.
    pub critical_t: Option<f64>,
    /// The repeated confidence interval of A − B there (`mean_diff ± critical_t · se`,
    /// points): valid after the data-dependent stopping, with confidence
    /// `rci_confidence` over every look; above 0 for larger, below for smaller,
    /// around 0 for open or undecided.
    pub rci: Option<(f64, f64)>,
    /// Confidence of `rci` (`1 − alpha/m` for `m` pairs: every pair's together at
    /// least `1 − alpha`).
    pub rci_confidence: f64,
    /// The equivalence boundary's interval there (points), within ±delta exactly when
    /// the pair is decided equivalent.
    pub equivalence_rci: Option<(f64, f64)>,
    /// Confidence of `equivalence_rci` (`1 − 2·alpha/m`).
    pub equivalence_rci_confidence: f64,
}

impl PairDecision {
    /// `60000 > 1000 at look 2 (5 seeds)`, `a ≈ b (±0.5) at look 1 (3 seeds)`, …
    pub fn describe(&self, delta: f64) -> String {
        let at = |look: Option<usize>| {
            look.map_or(String::new(), |k| format!(" at look {k} ({} seeds)", self.seeds))
        };
        match self.verdict {
            Verdict::Larger => format!("{} > {}{}", self.a, self.b, at(self.look)),
            Verdict::Smaller => format!("{} < {}{}", self.a, self.b, at(self.look)),
            Verdict::Equivalent => {
                format!("{} ≈ {} (within ±{delta} points){}", self.a, self.b, at(self.look))
            }
            Verdict::Continue => format!("{} vs {}: open", self.a, self.b),
            Verdict::Undecided => {
                format!("{} vs {}: undecided at {} seeds", self.a, self.b, self.seeds)
            }
        }
    }

    /// `+1.25 [0.40, 2.10] points (99.2% repeated CI)`: A − B with its repeated
    /// confidence interval; `None` without one.
    pub fn interval_text(&self) -> Option<String> {
        let (m, (lo, hi)) = (self.mean_diff?, self.rci?);
        Some(format!(
            "{m:+.2} [{lo:.2}, {hi:.2}] points ({} repeated CI)",
            confidence_text(self.rci_confidence)
        ))
    }
}

/// `95%`, `99.2%`, `99.17%`: a confidence with the decimals it needs (at most 2).
pub fn confidence_text(c: f64) -> String {
    let pct = 100.0 * c;
    let exact = |d: usize| {
        let scale = 10f64.powi(d as i32);
        ((pct * scale).round() / scale - pct).abs() < 1e-9
    };
    let decimals = (0..=2).find(|&d| exact(d)).unwrap_or(2);
    format!("{pct:.decimals$}%")
}

/// How an adaptive experiment decides that it has seeds enough.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A factor experiment: every pair of levels decided by the group-sequential
    /// t-tests (larger, smaller, equivalent), or `max` seeds.
    SequentialPairs,
    /// A variance-sources experiment: every source's sd precise to the target, or
    /// `max` seeds.
    SdPrecision,
}

/// One source's spread at a variance-sources experiment's look.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourcePrecision {
    /// The source (the level's label: `init`, `order`, `subset`, `all`).
    pub source: String,
    /// Finite outcomes used (the seeds of the look, fewer when some were not finite).
    pub used: usize,
    /// Sd of test accuracy, points.
    pub sd: Option<f64>,
    /// Its 95% chi-square interval, points.
    pub sd_ci: Option<(f64, f64)>,
    /// Upper over lower end of that interval: a function of `used − 1` degrees of
    /// freedom alone.
    pub interval_ratio: Option<f64>,
    /// Whether `interval_ratio` is at most the target.
    pub precise: bool,
}

/// A variance-sources experiment's precision rule and where it stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourcesPrecision {
    /// The target: the largest upper/lower ratio of a source's 95% sd interval.
    pub target: f64,
    /// Seeds at which a 95% chi-square interval first reaches the target, whatever the
    /// outcomes (the rule stops at the first look with at least these many, unless
    /// outcomes are missing); `None` when `max` seeds do not reach it.
    pub seeds_needed: Option<usize>,
    /// The look (1-based) at which every source was precise; `None` while open or when
    /// `max` was reached first.
    pub look: Option<usize>,
    /// Seeds per level at that look (or at the latest look taken; 0 before the first).
    pub seeds: usize,
    /// Each source there, in level order.
    pub sources: Vec<SourcePrecision>,
}

/// Upper over lower end of a 95% chi-square sd interval on `df` degrees of freedom.
pub fn sd_interval_ratio(df: f64) -> Option<f64> {
    let ci = crate::inference::sd_interval_df(1.0, df, 0.05)?.ci;
    (ci.0 > 0.0).then(|| ci.1 / ci.0)
}

/// The fewest seeds from `min` to `max` whose 95% sd interval reaches `target`.
fn seeds_needed(design: &SequentialDesign, target: f64) -> Option<usize> {
    let d = design.normalized();
    (d.min_seeds..=d.max_seeds).find(|&n| sd_interval_ratio(n as f64 - 1.0) <= Some(target))
}

/// Each source's spread from its first `seeds` outcomes.
fn source_precision(
    levels: &[String],
    outcomes: &[Vec<f64>],
    seeds: usize,
    target: f64,
) -> Vec<SourcePrecision> {
    levels
        .iter()
        .zip(outcomes)
        .map(|(source, values)| {
            let used: Vec<f64> =
                values.iter().take(seeds).copied().filter(|x| x.is_finite()).collect();
            let ci = crate::inference::sd_interval(&used, 0.05);
            let interval_ratio =
                (used.len() >= 2).then(|| sd_interval_ratio(used.len() as f64 - 1.0)).flatten();
            SourcePrecision {
                source: source.clone(),
                used: used.len(),
                sd: ci.as_ref().map(|c| c.sd),
                sd_ci: ci.map(|c| c.ci),
                interval_ratio,
                precise: interval_ratio.is_some_and(|r| r <= target),
            }
        })
        .collect()
}

/// An experiment's decisions from the records so far.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExperimentDecisions {
    /// The experiment's name.
    pub experiment: String,
    /// Its title.
    pub title: String,
    /// Its levels, in file order.
    pub levels: Vec<String>,
    /// The rule that decides when it has seeds enough.
    pub rule: Rule,
    /// The design its decisions follow (seeds, delta in points, alpha, spending).
    pub design: SequentialDesign,
    /// Seeds per level at each look the design plans.
    pub looks: Vec<usize>,
    /// Looks taken: those whose seeds every level has complete.
    pub looks_done: usize,
    /// Seeds complete in every level.
    pub seeds_complete: usize,
    /// Seeds per level it needs now: the look it finished at once finished, else the
    /// next look's.
    pub seeds: usize,
    /// Whether it needs no more seeds: every comparison decided, or `max` reached.
    pub finished: bool,
    /// Runs it needs now (levels × `seeds`).
    pub runs: usize,
    /// Runs at `max` seeds of every level: what a fixed design of `max` seeds takes.
    pub runs_at_max: usize,
    /// `runs_at_max − runs`: runs saved against `max` seeds everywhere (so far, while
    /// open).
    pub runs_saved: usize,
    /// Every pair of levels `(a, b)`, a before b in file order (none for a
    /// variance-sources experiment: its levels' means are not compared).
    pub comparisons: Vec<PairDecision>,
    /// A variance-sources experiment's precision rule and its sources' spread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<SourcesPrecision>,
}

impl ExperimentDecisions {
    /// One line: where the experiment stands and what it decided.
    pub fn line(&self) -> String {
        if let Some(sources) = &self.sources {
            return self.sources_line(sources);
        }
        let pairs: Vec<String> =
            self.comparisons.iter().map(|c| c.describe(self.design.delta)).collect();
        let pairs = if pairs.is_empty() {
            "one level, nothing to compare".into()
        } else {
            pairs.join("; ")
        };
        let last = self.looks.len();
        if self.finished {
            format!(
                "{}: finished at {} seeds (look {} of {last}), {} of {} runs saved: {pairs}",
                self.experiment,
                self.seeds,
                self.looks.iter().position(|&n| n == self.seeds).map_or(last, |k| k + 1),
                self.runs_saved,
                self.runs_at_max
            )
        } else {
            let open = self.comparisons.iter().filter(|c| c.verdict == Verdict::Continue).count();
            format!(
                "{}: {open} of {} comparisons open after look {} of {last} ({} seeds); \
                 next look at {} seeds: {pairs}",
                self.experiment,
                self.comparisons.len(),
                self.looks_done,
                self.seeds_complete.min(self.seeds),
                self.seeds
            )
        }
    }
}

impl ExperimentDecisions {
    /// [`ExperimentDecisions::line`] of a variance-sources experiment.
    fn sources_line(&self, p: &SourcesPrecision) -> String {
        let sds: Vec<String> = p
            .sources
            .iter()
            .map(|s| match (s.sd, s.sd_ci) {
                (Some(sd), Some((lo, hi))) => format!("{} sd {sd:.2} [{lo:.2}, {hi:.2}]", s.source),
                _ => format!("{} sd –", s.source),
            })
            .collect();
        let sds =
            if sds.is_empty() { "no sources".into() } else { format!("{} points", sds.join(", ")) };
        let widest = p
            .sources
            .iter()
            .filter_map(|s| s.interval_ratio)
            .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
        let ratio = widest.map_or(String::new(), |r| format!(" (upper/lower {r:.2})"));
        let last = self.looks.len();
        let target = p.target;
        if !self.finished {
            return format!(
                "{}: sd intervals wider than a factor {target}{ratio} after look {} of {last} \
                 ({} seeds); next look at {} seeds: {sds}",
                self.experiment, self.looks_done, p.seeds, self.seeds
            );
        }
        let at = self.looks.iter().position(|&n| n == self.seeds).map_or(last, |k| k + 1);
        let state = if p.look.is_some() {
            format!("every source's 95% sd interval within a factor {target}{ratio}")
        } else {
            format!("the sd intervals still wider than a factor {target} at max{ratio}")
        };
        format!(
            "{}: finished at {} seeds (look {at} of {last}), {} of {} runs saved: {state}: {sds}",
            self.experiment, self.seeds, self.runs_saved, self.runs_at_max
        )
    }
}

/// An adaptive study's decisions from the records so far: what `decisions.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StudyDecisions {
    /// The study's name.
    pub study: String,
    /// Seeds of every level before the first look.
    pub min_seeds: usize,
    /// Most seeds of a level.
    pub max_seeds: usize,
    /// Seeds added per look.
    pub step: usize,
    /// Whether every experiment is finished.
    pub finished: bool,
    /// Runs the experiments need now, summed (a run shared by two experiments counts
    /// in each).
    pub runs: usize,
    /// Runs at `max` seeds of every level, summed.
    pub runs_at_max: usize,
    /// `runs_at_max − runs`.
    pub runs_saved: usize,
    /// Each experiment, in file order.
    pub experiments: Vec<ExperimentDecisions>,
}

impl StudyDecisions {
    /// Seeds per level each experiment needs now, by name (what a plan's `set_seeds`
    /// takes).
    pub fn seeds(&self) -> BTreeMap<String, usize> {
        self.experiments.iter().map(|e| (e.experiment.clone(), e.seeds)).collect()
    }

    /// The experiments still open.
    pub fn open(&self) -> impl Iterator<Item = &ExperimentDecisions> {
        self.experiments.iter().filter(|e| !e.finished)
    }

    /// The decision on levels `a` and `b` of `experiment` (labels, in either order: the
    /// decision is A against B as stored, `a` before `b` in file order), with its
    /// repeated confidence interval: what to show for the pair instead of a
    /// fixed-sample interval when [`fixed_sample_invalid`] says so.
    pub fn pair(&self, experiment: &str, a: &str, b: &str) -> Option<&PairDecision> {
        let e = self.experiments.iter().find(|e| e.experiment == experiment)?;
        e.comparisons.iter().find(|c| (c.a == a && c.b == b) || (c.a == b && c.b == a))
    }
}

/// The decisions of an adaptive `study` from `outcome(experiment, level, replicate)`:
/// a run's [`outcome`] in points, `None` while the run has no record. Each level's
/// outcomes are read in replicate order up to the first missing one, and at most
/// `max`. `None` for a study that seeds a fixed number.
pub fn decide_study(
    study: &Study,
    outcome: impl Fn(&Experiment, usize, usize) -> Option<f64>,
) -> Option<StudyDecisions> {
    let a = study.adaptive.as_ref()?;
    let mut experiments = Vec::new();
    for exp in &study.experiments {
        let design = design(study, &exp.name)?;
        let outcomes: Vec<Vec<f64>> = (0..exp.levels.len())
            .map(|l| (0..a.max).map_while(|r| outcome(exp, l, r)).collect())
            .collect();
        experiments.push(match exp.kind {
            ExperimentKind::Factor => experiment_decisions(exp, design, &outcomes),
            ExperimentKind::VarianceSources => {
                let target = sd_target(study, &exp.name)?;
                sources_decisions(exp, design, target, &outcomes)
            }
        });
    }
    let sum = |f: fn(&ExperimentDecisions) -> usize| experiments.iter().map(f).sum::<usize>();
    let (runs, runs_at_max) = (sum(|e| e.runs), sum(|e| e.runs_at_max));
    Some(StudyDecisions {
        study: study.name.clone(),
        min_seeds: a.min,
        max_seeds: a.max,
        step: a.step,
        finished: experiments.iter().all(|e| e.finished),
        runs,
        runs_at_max,
        runs_saved: runs_at_max.saturating_sub(runs),
        experiments,
    })
}

/// One experiment's decisions from its outcomes per level.
fn experiment_decisions(
    exp: &Experiment,
    design: SequentialDesign,
    outcomes: &[Vec<f64>],
) -> ExperimentDecisions {
    let bounds = design.boundaries(outcomes.len());
    let d = sequential::decide_with(&bounds, outcomes);
    let looks = design.looks();
    let seeds = match d.next_seeds {
        Some(n) => n,
        // Finished: at the look its last open pair was decided (or `max`).
        None => d.pairs.iter().map(|p| p.seeds).max().unwrap_or(looks[0]),
    };
    let levels: Vec<String> = exp.levels.iter().map(|l| l.label.clone()).collect();
    let comparisons = d
        .pairs
        .iter()
        .map(|p| PairDecision {
            a: levels[p.a].clone(),
            b: levels[p.b].clone(),
            verdict: p.verdict,
            look: p.look.map(|k| k + 1),
            seeds: p.seeds,
            used: p.used,
            mean_diff: p.mean_diff,
            se: p.se,
            critical_t: p.critical_t,
            rci: p.rci,
            rci_confidence: bounds.rci_confidence(),
            equivalence_rci: p.equivalence_rci,
            equivalence_rci_confidence: bounds.equivalence_rci_confidence(),
        })
        .collect();
    let runs = levels.len() * seeds;
    let runs_at_max = levels.len() * design.normalized().max_seeds;
    ExperimentDecisions {
        experiment: exp.name.clone(),
        title: exp.title.clone(),
        levels,
        rule: Rule::SequentialPairs,
        design,
        looks,
        looks_done: d.looks_done,
        seeds_complete: d.seeds_complete,
        seeds,
        finished: d.finished(),
        runs,
        runs_at_max,
        runs_saved: runs_at_max.saturating_sub(runs),
        comparisons,
        sources: None,
    }
}

/// A variance-sources experiment's decisions from its outcomes per level (one level per
/// source): at each look taken, in order, every source's sd and its 95% chi-square
/// interval from the look's seeds; finished at the first look where every interval's
/// upper/lower ratio is at most `target`, or at `max`.
fn sources_decisions(
    exp: &Experiment,
    design: SequentialDesign,
    target: f64,
    outcomes: &[Vec<f64>],
) -> ExperimentDecisions {
    let looks = design.looks();
    let levels: Vec<String> = exp.levels.iter().map(|l| l.label.clone()).collect();
    let complete = outcomes.iter().map(Vec::len).min().unwrap_or(0);
    let looks_done = looks.iter().take_while(|&&n| n <= complete).count();
    let mut precise_at = None;
    let mut latest = (0, source_precision(&levels, outcomes, 0, target));
    for (k, &n) in looks.iter().take(looks_done).enumerate() {
        latest = (n, source_precision(&levels, outcomes, n, target));
        if !latest.1.is_empty() && latest.1.iter().all(|s| s.precise) {
            precise_at = Some(k);
            break;
        }
    }
    let finished = precise_at.is_some() || looks_done == looks.len() || levels.is_empty();
    let seeds = match (precise_at, finished) {
        (Some(k), _) => looks[k],
        (None, true) => looks[looks_done.saturating_sub(1)],
        (None, false) => looks[looks_done],
    };
    let runs = levels.len() * seeds;
    let runs_at_max = levels.len() * design.normalized().max_seeds;
    ExperimentDecisions {
        experiment: exp.name.clone(),
        title: exp.title.clone(),
        levels,
        rule: Rule::SdPrecision,
        design,
        looks,
        looks_done,
        seeds_complete: complete,
        seeds,
        finished,
        runs,
        runs_at_max,
        runs_saved: runs_at_max.saturating_sub(runs),
        comparisons: Vec::new(),
        sources: Some(SourcesPrecision {
            target,
            seeds_needed: seeds_needed(&design, target),
            look: precise_at.map(|k| k + 1),
            seeds: latest.0,
            sources: latest.1,
        }),
    }
}

/// The decisions of an adaptive `study` from the records of its runs at `max` seeds
/// (`results`: every planned run of every replicate up to `max` that has a record,
/// whatever the plan holds now); `None` for a study that seeds a fixed number. What
/// the report shows, and what each round of a sweep plans from.
pub fn decisions(study: &Study, results: &[(&PlannedRun, RunRecord)]) -> Option<StudyDecisions> {
    let outcomes: BTreeMap<(&str, usize, usize), f64> = results
        .iter()
        .map(|(r, rec)| ((r.experiment.as_str(), r.level_index, r.replicate), outcome(rec)))
        .collect();
    decide_study(study, |exp, level, replicate| {
        outcomes.get(&(exp.name.as_str(), level, replicate)).copied()
    })
}

impl StudyDecisions {
    /// `decisions.json`: these decisions, pretty-printed, with a final newline.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let json =
            serde_json::to_string_pretty(self).map_err(|e| Error::encode(DECISIONS_JSON, e))?;
        Ok(format!("{json}\n").into_bytes())
    }

    /// `decisions.csv`: one row per comparison (one with empty level cells for an
    /// experiment of a single level), the experiment's columns repeated.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        decisions_csv(self)
    }
}

/// The header of `decisions.csv`: one row per comparison of a factor experiment (the
/// `sd` columns empty), one per source of a variance-sources experiment (`level_a` the
/// source, `verdict` `precise` or `imprecise`, the pair columns empty). Intervals in
/// points.
pub const CSV_HEADER: [&str; 31] = [
    "experiment",
    "rule",
    "level_a",
    "level_b",
    "verdict",
    "look",
    "seeds",
    "used",
    "mean_diff_points",
    "se_points",
    "critical_t",
    "rci_low_points",
    "rci_high_points",
    "rci_confidence",
    "equivalence_rci_low_points",
    "equivalence_rci_high_points",
    "equivalence_rci_confidence",
    "sd_points",
    "sd_low_points",
    "sd_high_points",
    "sd_interval_ratio",
    "sd_interval_ratio_target",
    "delta_points",
    "alpha",
    "experiment_finished",
    "experiment_seeds",
    "looks_done",
    "looks_planned",
    "runs",
    "runs_at_max",
    "runs_saved",
];

/// A number's cell: empty for `None`.
fn cell(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| v.to_string())
}

/// An interval's two cells.
fn cells(ci: Option<(f64, f64)>) -> [String; 2] {
    [cell(ci.map(|c| c.0)), cell(ci.map(|c| c.1))]
}

/// [`StudyDecisions::to_csv`].
fn decisions_csv(d: &StudyDecisions) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| Error::encode(DECISIONS_CSV, e);
    w.write_record(CSV_HEADER).map_err(csv_err)?;
    for e in &d.experiments {
        let rule = serde_json::to_value(e.rule).ok();
        let rule = rule.and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        let target = e.sources.as_ref().map(|s| s.target);
        let tail = [
            cell(target),
            e.design.delta.to_string(),
            e.design.alpha.to_string(),
            e.finished.to_string(),
            e.seeds.to_string(),
            e.looks_done.to_string(),
            e.looks.len().to_string(),
            e.runs.to_string(),
            e.runs_at_max.to_string(),
            e.runs_saved.to_string(),
        ];
        let mut rows: Vec<Vec<String>> = Vec::new();
        for c in &e.comparisons {
            let verdict = serde_json::to_value(c.verdict).ok();
            let mut row = vec![
                e.experiment.clone(),
                rule.clone(),
                c.a.clone(),
                c.b.clone(),
                verdict.and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
                c.look.map_or(String::new(), |k| k.to_string()),
                c.seeds.to_string(),
                c.used.to_string(),
                cell(c.mean_diff),
                cell(c.se),
                cell(c.critical_t),
            ];
            row.extend(cells(c.rci));
            row.push(c.rci_confidence.to_string());
            row.extend(cells(c.equivalence_rci));
            row.push(c.equivalence_rci_confidence.to_string());
            row.extend(vec![String::new(); 4]);
            rows.push(row);
        }
        for (p, s) in e.sources.iter().flat_map(|p| p.sources.iter().map(move |s| (p, s))) {
            let mut row = vec![
                e.experiment.clone(),
                rule.clone(),
                s.source.clone(),
                String::new(),
                if s.precise { "precise" } else { "imprecise" }.into(),
                p.look.map_or(String::new(), |k| k.to_string()),
                p.seeds.to_string(),
                s.used.to_string(),
            ];
            row.extend(vec![String::new(); 9]);
            row.push(cell(s.sd));
            row.extend(cells(s.sd_ci));
            row.push(cell(s.interval_ratio));
            rows.push(row);
        }
        if rows.is_empty() {
            let mut row = vec![e.experiment.clone(), rule.clone()];
            row.extend(vec![String::new(); 4]);
            row.push(e.seeds.to_string());
            row.extend(vec![String::new(); 14]);
            rows.push(row);
        }
        for row in rows {
            w.write_record(row.iter().chain(&tail)).map_err(csv_err)?;
        }
    }
    w.into_inner().map_err(|e| Error::encode(DECISIONS_CSV, e))
}

#[cfg(test)]
#[path = "decisions_tests.rs"]
mod tests;
