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

use std::collections::BTreeMap;

use cnnvar_core::study::{AlphaSpending, Experiment, PlannedRun, Study};
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

/// How a design spends its alpha, as a study file writes it (`obrien-fleming`, `pocock`).
pub fn spending_name(spending: Spending) -> &'static str {
    match spending {
        Spending::OBrienFleming => "obrien-fleming",
        Spending::Pocock => "pocock",
    }
}

/// What a run counts for in the decisions, in accuracy points (the units of `delta`):
/// 100 × its final test accuracy, or 100 × chance when the run diverged
/// ([`RunRecord::divergence`], as the analysis scores it); NaN when its accuracy is not
/// a number (the decisions leave such a replicate out).
pub fn outcome(record: &RunRecord) -> f64 {
    let accuracy = match record.divergence() {
        Some(_) => record.chance_accuracy(),
        None => record.test_accuracy,
    };
    100.0 * accuracy
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
    /// Every pair of levels `(a, b)`, a before b in file order.
    pub comparisons: Vec<PairDecision>,
}

impl ExperimentDecisions {
    /// One line: where the experiment stands and what it decided.
    pub fn line(&self) -> String {
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
        experiments.push(experiment_decisions(exp, design, &outcomes));
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
    let d = sequential::decide(&design, outcomes);
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
        })
        .collect();
    let runs = levels.len() * seeds;
    let runs_at_max = levels.len() * design.normalized().max_seeds;
    ExperimentDecisions {
        experiment: exp.name.clone(),
        title: exp.title.clone(),
        levels,
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

/// The header of `decisions.csv`.
pub const CSV_HEADER: [&str; 17] = [
    "experiment",
    "level_a",
    "level_b",
    "verdict",
    "look",
    "seeds",
    "used",
    "mean_diff_points",
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

/// [`StudyDecisions::to_csv`].
fn decisions_csv(d: &StudyDecisions) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| Error::encode(DECISIONS_CSV, e);
    w.write_record(CSV_HEADER).map_err(csv_err)?;
    for e in &d.experiments {
        let tail = [
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
        let rows: Vec<[String; 8]> = if e.comparisons.is_empty() {
            vec![[
                e.experiment.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                e.seeds.to_string(),
                String::new(),
                String::new(),
            ]]
        } else {
            e.comparisons
                .iter()
                .map(|c| {
                    let verdict = serde_json::to_value(c.verdict).ok();
                    [
                        e.experiment.clone(),
                        c.a.clone(),
                        c.b.clone(),
                        verdict.and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
                        c.look.map_or(String::new(), |k| k.to_string()),
                        c.seeds.to_string(),
                        c.used.to_string(),
                        c.mean_diff.map_or(String::new(), |m| m.to_string()),
                    ]
                })
                .collect()
        };
        for row in rows {
            w.write_record(row.iter().chain(&tail)).map_err(csv_err)?;
        }
    }
    w.into_inner().map_err(|e| Error::encode(DECISIONS_CSV, e))
}

#[cfg(test)]
pub(crate) mod tests {
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

    /// A diverged run counts at chance, in points.
    #[test]
    fn outcomes_are_in_points_with_diverged_runs_at_chance() {
        let spec = RunSpec::default();
        let mut rec = cnnvar_core::testing::record_of(&spec);
        assert!((outcome(&rec) - 80.0).abs() < 1e-9);
        rec.test_accuracy = 0.05;
        assert!((outcome(&rec) - 10.0).abs() < 1e-9, "{}", outcome(&rec));
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

    /// The CSV has a row per comparison and one for a single-level experiment.
    #[test]
    fn decisions_are_written_as_json_and_csv() {
        let s = study(&[("a", 3), ("alone", 1)]);
        let d = decide_study(&s, |_, l, r| (r < 3).then_some(70.0 + l as f64 * 10.0))
            .expect("adaptive");
        let text = String::from_utf8(d.to_csv().expect("csv")).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 3 + 1, "{text}");
        assert!(lines[0].starts_with("experiment,level_a,level_b,verdict,look"), "{text}");
        assert!(lines[1].starts_with("a,l0,l1,"), "{text}");
        assert!(lines[4].starts_with("alone,,,,,3,"), "{text}");
        let v: serde_json::Value =
            serde_json::from_slice(&d.to_json().expect("json")).expect("parses");
        assert_eq!(v["experiments"][0]["comparisons"][0]["a"], "l0");
        assert_eq!(v["min_seeds"], 3);
    }
}
