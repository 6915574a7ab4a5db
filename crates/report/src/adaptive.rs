//! The report's "Adaptive seeding" section: in a study with `seeds = { min, max, step }`,
//! what each comparison was decided (different, equivalent within ±delta, undecided at
//! `max`, or still open), at which look and with how many seeds, its repeated confidence
//! interval (valid after the data-dependent stopping), each variance-sources
//! experiment's sds and their precision ([`sources_table`]), and the runs saved against
//! `max` seeds everywhere; and the decisions as the ranking's verdicts ([`sequential`]).
//! From [`cnnvar_analysis::decisions::decisions`], a pure function of the plan and the
//! records.

use std::collections::BTreeMap;

use super::table::{Cell, Column, Table};
use cnnvar_analysis::decisions::{
    ExperimentDecisions, PairDecision, Rule, StudyDecisions, confidence_text, spending_name,
};
use cnnvar_analysis::rank::{Sequential, SequentialOutcome};
use cnnvar_analysis::sequential::Verdict;

/// The section's opening paragraph: how seeds were added, how comparisons are
/// decided, and the runs used against `max` seeds everywhere.
pub fn intro(d: &StudyDecisions) -> String {
    let saved = if d.runs_at_max == 0 {
        String::new()
    } else {
        format!(" ({:.0}%)", 100.0 * d.runs_saved as f64 / d.runs_at_max as f64)
    };
    let open: Vec<&str> = d.open().map(|e| e.experiment.as_str()).collect();
    let state = if open.is_empty() {
        "Every experiment is finished.".to_string()
    } else {
        format!(
            "Not finished: {} still {} open comparisons, and the next sweep takes their next look.",
            open.join(", "),
            if open.len() == 1 { "has" } else { "have" }
        )
    };
    let sources: Vec<String> = d
        .experiments
        .iter()
        .filter_map(|e| Some((e, e.sources.as_ref()?)))
        .map(|(e, p)| {
            let look = p.seeds_needed.and_then(|n| e.looks.iter().find(|&&l| l >= n));
            let seeds = match (p.seeds_needed, look) {
                (Some(n), Some(l)) if *l == n => format!("{n} seeds, fixed in advance"),
                (Some(n), Some(l)) => {
                    format!(
                        "the look at {l} seeds, the first with the {n} it takes, fixed in advance"
                    )
                }
                _ => format!("not within {} seeds", d.max_seeds),
            };
            format!("{} (a factor {}: {seeds})", e.experiment, p.target)
        })
        .collect();
    let sources = if sources.is_empty() {
        String::new()
    } else {
        format!(
            " A variance-sources experiment estimates how much spread each source of seed \
             randomness gives rather than comparing its levels' means: it stops once every \
             source's 95% sd interval (chi-square) has an upper end within a given factor of \
             its lower end, which takes a number of seeds that does not depend on the \
             outcomes, or at {max}: {}.",
            sources.join(", "),
            max = d.max_seeds
        )
    };
    format!(
        "Every level started with {min} seeds and got {step} more at each look while its \
         experiment had a comparison open, up to {max}. Each pair of levels is judged by a \
         group-sequential paired t-test on final test accuracy in points (diverged runs at \
         chance): decided different, or equivalent within ±delta (two one-sided tests), or \
         undecided at {max} seeds; each experiment's alpha is spent over its looks and split \
         over its pairs (Bonferroni). Each pair's interval is its repeated confidence interval \
         at the look it stopped at (Jennison and Turnbull): valid after stopping on the data, \
         which the fixed-sample p-values and intervals of the same seeds are not; the \
         intervals of an experiment's pairs cover their true differences together with \
         probability at least 1 − alpha.{sources} The study used {runs} runs where {max} seeds \
         of every level would take {at_max}: {saved_runs} runs saved{saved}. {state}",
        min = d.min_seeds,
        step = d.step,
        max = d.max_seeds,
        runs = d.runs,
        at_max = d.runs_at_max,
        saved_runs = d.runs_saved,
    )
}

/// `different: a > b`, `equivalent within ±0.5 points`, `undecided at 20 seeds`, `open`.
pub fn decision_text(c: &PairDecision, delta: f64) -> String {
    match c.verdict {
        Verdict::Larger => format!("different: {} > {}", c.a, c.b),
        Verdict::Smaller => format!("different: {} < {}", c.a, c.b),
        Verdict::Equivalent => format!("equivalent within ±{delta} points"),
        Verdict::Undecided => format!("undecided at {} seeds", c.seeds),
        Verdict::Continue => "open".into(),
    }
}

/// One row per experiment: its design, where it stands, and its runs against `max`.
pub fn experiments_table(d: &StudyDecisions) -> Table {
    let columns = vec![
        Column::text("experiment"),
        Column::number("levels"),
        Column::number("delta (pts)").compact_as("delta"),
        Column::number("alpha"),
        Column::text("spending").full_only(),
        Column::text("stopping rule").compact_as("rule"),
        Column::number("looks taken").compact_as("looks"),
        Column::number("seeds per level").compact_as("seeds"),
        Column::number("runs"),
        Column::number("runs at max").compact_as("at max"),
        Column::number("runs saved").compact_as("saved"),
        Column::text("status"),
    ];
    let rows = d
        .experiments
        .iter()
        .map(|e| {
            let pairs = e.rule == Rule::SequentialPairs;
            let rule = match &e.sources {
                Some(p) => format!("sd intervals within ×{}", p.target),
                None => "sequential pairs".into(),
            };
            vec![
                Cell::from(e.experiment.as_str()),
                Cell::from(e.levels.len()),
                Cell::Number { value: pairs.then_some(e.design.delta), decimals: 2 },
                Cell::Number { value: pairs.then_some(e.design.alpha), decimals: 3 },
                Cell::from(if pairs { spending_name(e.design.spending) } else { "–" }),
                Cell::from(rule),
                Cell::from(format!("{} of {}", e.looks_done, e.looks.len())),
                Cell::from(e.seeds),
                Cell::from(e.runs),
                Cell::from(e.runs_at_max),
                Cell::from(e.runs_saved),
                Cell::Verdict {
                    text: if e.finished { "finished" } else { "open" }.into(),
                    yes: e.finished,
                },
            ]
        })
        .collect();
    Table {
        class: "adaptive",
        caption: Some(format!(
            "Adaptive seeding per experiment: {} to {} seeds per level, {} more per look; runs \
             used against {} seeds of every level",
            d.min_seeds, d.max_seeds, d.step, d.max_seeds
        )),
        columns,
        rows,
    }
}

/// One row per comparison: its decision, the look it was made at and the seeds then.
pub fn comparisons_table(d: &StudyDecisions) -> Option<Table> {
    let columns = vec![
        Column::text("experiment"),
        Column::text("A"),
        Column::text("B"),
        Column::text("decision"),
        Column::number("look"),
        Column::number("seeds per level").compact_as("seeds"),
        Column::number("mean A − B (pts)").compact_as("A − B"),
        Column::number("repeated CI (pts)").compact_as("repeated CI"),
        Column::number("confidence").compact_as("conf."),
        Column::number("pairs used").full_only(),
    ];
    let rows: Vec<Vec<Cell>> = d
        .experiments
        .iter()
        .flat_map(|e| e.comparisons.iter().map(move |c| (e, c)))
        .map(|(e, c)| {
            vec![
                Cell::from(e.experiment.as_str()),
                Cell::from(c.a.as_str()),
                Cell::from(c.b.as_str()),
                Cell::Verdict {
                    text: decision_text(c, e.design.delta),
                    yes: matches!(c.verdict, Verdict::Larger | Verdict::Smaller),
                },
                c.look.map_or_else(|| Cell::from("–"), Cell::from),
                Cell::from(c.seeds),
                Cell::Number { value: c.mean_diff, decimals: 2 },
                Cell::from(points_interval(c.rci)),
                Cell::from(confidence_text(c.rci_confidence)),
                Cell::from(c.used),
            ]
        })
        .collect();
    (!rows.is_empty()).then(|| Table {
        class: "decisions",
        caption: Some(
            "Sequential decisions per comparison (A against B, final test accuracy in points): \
             the look each was decided at, the seeds per level then, and the repeated \
             confidence interval there (valid after the data-dependent stopping; an \
             experiment's intervals cover together with probability at least 1 − alpha)"
                .into(),
        ),
        columns,
        rows,
    })
}

/// `[0.40, 2.10]` from an interval in points; `–` without one.
fn points_interval(ci: Option<(f64, f64)>) -> String {
    ci.map_or_else(|| "–".into(), |(lo, hi)| format!("[{lo:.2}, {hi:.2}]"))
}

/// One row per source of each variance-sources experiment: its sd of final test
/// accuracy at the look the experiment stopped at (or the latest), the 95% chi-square
/// interval, how wide that is (upper over lower end) against the target, and whether it
/// is precise enough; `None` without such experiments.
pub fn sources_table(d: &StudyDecisions) -> Option<Table> {
    let columns = vec![
        Column::text("experiment"),
        Column::text("source varied").compact_as("source"),
        Column::number("seeds"),
        Column::number("sd (pts)"),
        Column::number("95% CI (pts)").compact_as("95% CI"),
        Column::number("upper / lower"),
        Column::number("target"),
        Column::text("precision"),
    ];
    let rows: Vec<Vec<Cell>> = d
        .experiments
        .iter()
        .filter_map(|e| Some((e, e.sources.as_ref()?)))
        .flat_map(|(e, p)| p.sources.iter().map(move |s| (e, p, s)))
        .map(|(e, p, s)| {
            vec![
                Cell::from(e.experiment.as_str()),
                Cell::from(s.source.as_str()),
                Cell::from(s.used),
                Cell::Number { value: s.sd, decimals: 2 },
                Cell::from(points_interval(s.sd_ci)),
                Cell::Number { value: s.interval_ratio, decimals: 2 },
                Cell::Number { value: Some(p.target), decimals: 2 },
                Cell::Verdict {
                    text: if s.precise { "precise" } else { "not yet" }.into(),
                    yes: s.precise,
                },
            ]
        })
        .collect();
    (!rows.is_empty()).then(|| Table {
        class: "decisions",
        caption: Some(
            "Variance sources: each source's sd of final test accuracy (points) with its 95% \
             chi-square interval at the look its experiment stopped at; it stops when every \
             interval's upper end is within the target factor of its lower end"
                .into(),
        ),
        columns,
        rows,
    })
}

/// What each experiment's decisions make of its factor, by experiment name, for
/// [`cnnvar_analysis::rank::apply_sequential`]; experiments without comparisons are
/// left out.
pub fn sequential(d: &StudyDecisions) -> BTreeMap<String, Sequential> {
    d.experiments
        .iter()
        .filter_map(|e| Some((e.experiment.clone(), experiment_sequential(e)?)))
        .collect()
}

/// [`sequential`] of one experiment.
fn experiment_sequential(e: &ExperimentDecisions) -> Option<Sequential> {
    let outcome = SequentialOutcome::of(e.comparisons.iter().map(|c| {
        (
            matches!(c.verdict, Verdict::Larger | Verdict::Smaller),
            c.verdict == Verdict::Equivalent,
            c.verdict == Verdict::Continue,
        )
    }))?;
    let decisions: Vec<String> = e.comparisons.iter().map(|c| c.describe(e.design.delta)).collect();
    Some(Sequential {
        outcome,
        delta: e.design.delta,
        seeds: e.seeds,
        decisions: decisions.join("; "),
    })
}

/// `3 to 20 seeds per level (adaptive)` for an adaptive study, else `5 seeds per level`.
pub fn seeds_text(decisions: Option<&StudyDecisions>, seeds: usize) -> String {
    match decisions {
        Some(d) => format!(
            "{} to {} seeds per level (adaptive seeding, see below)",
            d.min_seeds, d.max_seeds
        ),
        None => format!("{seeds} seeds per level"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use cnnvar_analysis::sequential::{SequentialDesign, Spending};

    fn comparison(
        a: &str,
        b: &str,
        verdict: Verdict,
        look: Option<usize>,
        seeds: usize,
    ) -> PairDecision {
        PairDecision {
            a: a.into(),
            b: b.into(),
            verdict,
            look,
            seeds,
            used: seeds,
            mean_diff: Some(1.25),
            se: Some(0.25),
            critical_t: Some(3.0),
            rci: Some((0.5, 2.0)),
            rci_confidence: 0.95,
            equivalence_rci: Some((0.75, 1.75)),
            equivalence_rci_confidence: 0.9,
        }
    }

    fn experiment(
        name: &str,
        comparisons: Vec<PairDecision>,
        seeds: usize,
        finished: bool,
    ) -> ExperimentDecisions {
        let design = SequentialDesign {
            min_seeds: 3,
            max_seeds: 7,
            step: 2,
            delta: 0.5,
            alpha: 0.05,
            spending: Spending::OBrienFleming,
        };
        ExperimentDecisions {
            experiment: name.into(),
            title: name.to_uppercase(),
            levels: vec!["x".into(), "y".into()],
            rule: Rule::SequentialPairs,
            design,
            looks: vec![3, 5, 7],
            looks_done: (seeds - 1) / 2,
            seeds_complete: seeds,
            seeds,
            finished,
            runs: 2 * seeds,
            runs_at_max: 14,
            runs_saved: 14 - 2 * seeds,
            comparisons,
            sources: None,
        }
    }

    /// A study of three experiments: one decided different at look 2, one equivalent
    /// at look 1, one undecided at `max`.
    pub(crate) fn decisions() -> StudyDecisions {
        let experiments = vec![
            experiment(
                "size",
                vec![comparison("1000", "60000", Verdict::Smaller, Some(2), 5)],
                5,
                true,
            ),
            experiment(
                "lr",
                vec![comparison("0.1", "0.01", Verdict::Equivalent, Some(1), 3)],
                3,
                true,
            ),
            experiment("model", vec![comparison("a", "b", Verdict::Undecided, None, 7)], 7, true),
        ];
        StudyDecisions {
            study: "t".into(),
            min_seeds: 3,
            max_seeds: 7,
            step: 2,
            finished: true,
            runs: 30,
            runs_at_max: 42,
            runs_saved: 12,
            experiments,
        }
    }

    /// Each comparison's decision, look and seeds; each experiment's runs against
    /// `max`; the study's saving in the paragraph.
    #[test]
    fn tables_say_each_decision_its_look_and_the_saving() {
        let d = decisions();
        let t = comparisons_table(&d).expect("comparisons");
        let texts: Vec<Vec<String>> =
            t.rows.iter().map(|r| r.iter().map(Cell::text).collect()).collect();
        assert_eq!(texts[0][..6], ["size", "1000", "60000", "different: 1000 < 60000", "2", "5"]);
        assert_eq!(texts[1][3..6], ["equivalent within ±0.5 points", "1", "3"]);
        assert_eq!(texts[2][3..6], ["undecided at 7 seeds", "–", "7"]);
        assert_eq!(texts[0][6..9], ["1.25", "[0.50, 2.00]", "95%"]);
        let yes: Vec<bool> =
            t.rows.iter().map(|r| matches!(r[3], Cell::Verdict { yes: true, .. })).collect();
        assert_eq!(yes, [true, false, false]);

        let e = experiments_table(&d);
        let first: Vec<String> = e.rows[0].iter().map(Cell::text).collect();
        assert_eq!(
            first,
            [
                "size",
                "2",
                "0.50",
                "0.050",
                "obrien-fleming",
                "sequential pairs",
                "2 of 3",
                "5",
                "10",
                "14",
                "4",
                "finished"
            ]
        );
        let intro = intro(&d);
        assert!(
            intro.contains(
                "used 30 runs where 7 seeds of every level would take 42: 12 runs saved (29%)"
            ),
            "{intro}"
        );
        assert!(intro.contains("Every experiment is finished."), "{intro}");
        let mut open = d.clone();
        open.experiments[2].finished = false;
        open.experiments[2].comparisons[0].verdict = Verdict::Continue;
        assert!(super::intro(&open).contains("Not finished: model still has open comparisons"));
        assert_eq!(comparisons_table(&open).expect("rows").rows[2][3].text(), "open");
    }

    /// A variance-sources experiment: its sources' sds and their precision in a table of
    /// their own, no comparisons, no delta or alpha, and the intro says its rule.
    #[test]
    fn variance_sources_have_their_own_table() {
        use cnnvar_analysis::decisions::{SourcePrecision, SourcesPrecision};
        let mut d = decisions();
        assert!(sources_table(&d).is_none());
        let source = |name: &str, sd: f64| SourcePrecision {
            source: name.into(),
            used: 7,
            sd: Some(sd),
            sd_ci: Some((0.6 * sd, 2.1 * sd)),
            interval_ratio: Some(3.5),
            precise: true,
        };
        let mut v = experiment("exp0", Vec::new(), 7, true);
        v.rule = Rule::SdPrecision;
        v.sources = Some(SourcesPrecision {
            target: 3.5,
            seeds_needed: Some(7),
            look: Some(3),
            seeds: 7,
            sources: vec![source("init", 0.4), source("all", 1.0)],
        });
        d.experiments.push(v);
        let t = sources_table(&d).expect("a sources table");
        let texts: Vec<Vec<String>> =
            t.rows.iter().map(|r| r.iter().map(Cell::text).collect()).collect();
        assert_eq!(
            texts[0],
            ["exp0", "init", "7", "0.40", "[0.24, 0.84]", "3.50", "3.50", "precise"]
        );
        assert_eq!(texts.len(), 2);
        let e = experiments_table(&d);
        let row: Vec<String> = e.rows[3].iter().map(Cell::text).collect();
        assert_eq!(row[2..6], ["–", "–", "–", "sd intervals within ×3.5"]);
        let intro = intro(&d);
        assert!(intro.contains("exp0 (a factor 3.5: 7 seeds, fixed in advance)"), "{intro}");
        assert!(intro.contains("repeated confidence interval"), "{intro}");
        assert!(!sequential(&d).contains_key("exp0"), "no comparisons, no verdict");
    }

    /// The ranking's view of the decisions: one outcome per experiment with the
    /// comparisons described.
    #[test]
    fn decisions_become_the_rankings_verdicts() {
        let s = sequential(&decisions());
        let outcomes: Vec<(&str, SequentialOutcome)> =
            s.iter().map(|(k, v)| (k.as_str(), v.outcome)).collect();
        assert_eq!(
            outcomes,
            [
                ("lr", SequentialOutcome::Equivalent),
                ("model", SequentialOutcome::Undecided),
                ("size", SequentialOutcome::Different)
            ]
        );
        assert_eq!(s["size"].decisions, "1000 < 60000 at look 2 (5 seeds)");
        assert_eq!((s["size"].seeds, s["size"].delta), (5, 0.5));
        let mut none = decisions();
        none.experiments[0].comparisons.clear();
        assert!(!sequential(&none).contains_key("size"), "nothing to compare, no verdict");
    }
}
