//! The report's tables, built once from the analysis and printed by both renderers:
//! `report.html` prints the full table (caption, every column, emphasis as classes),
//! `report.md` the compact one (no caption, short headers, without the columns marked
//! full-only). Every number is formatted here, so the two reports cannot disagree.

use super::{p_text, pct};
use cnnvar_analysis::power::SeedsNeeded;
use cnnvar_analysis::rank::Ranking;
use cnnvar_analysis::{ExperimentStats, StudyStats};
use cnnvar_core::study::ExperimentKind;

/// One table of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// What kind of table it is (`levels`, `pairs`, …): the HTML `class`.
    pub class: &'static str,
    /// The caption, printed above the full table only.
    pub caption: Option<String>,
    /// The columns, left to right.
    pub columns: Vec<Column>,
    /// The rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

/// One column: its header and how it is shown.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The header of the full table.
    pub header: String,
    /// The header of the compact table; `None`: the compact table leaves the column out.
    pub compact: Option<String>,
    /// Text, aligned left (otherwise numbers, aligned right).
    pub left: bool,
}

impl Column {
    /// A right-aligned column of numbers, under the same header in both forms.
    pub fn number(header: &str) -> Self {
        Column { header: header.into(), compact: Some(header.into()), left: false }
    }

    /// A left-aligned column of text, under the same header in both forms.
    pub fn text(header: &str) -> Self {
        Column { left: true, ..Column::number(header) }
    }

    /// The same column under a shorter header in the compact table.
    pub fn compact_as(self, header: &str) -> Self {
        Column { compact: Some(header.into()), ..self }
    }

    /// The same column, left out of the compact table.
    pub fn full_only(self) -> Self {
        Column { compact: None, ..self }
    }
}

/// One cell. Missing values print as `–`.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Text as it is (a label, a count, a sentence).
    Text(String),
    /// A number with `decimals` decimals.
    Number {
        /// The value.
        value: Option<f64>,
        /// Digits after the point.
        decimals: usize,
    },
    /// A proportion in percentage points with 2 decimals: `0.9123` → `91.23`.
    Percent(Option<f64>),
    /// An interval of proportions in points: `[90.10, 92.30]`.
    Interval(Option<(f64, f64)>),
    /// A p-value: `< 0.001`, `0.042`.
    P(Option<f64>),
    /// An identifier, printed as code.
    Code(String),
    /// A verdict, marked by whether its difference is distinguishable from seed noise.
    Verdict {
        /// The sentence.
        text: String,
        /// Distinguishable.
        yes: bool,
    },
}

impl Cell {
    /// The cell's text, the same in both reports (before any escaping or markup).
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Code(s) | Cell::Verdict { text: s, .. } => s.clone(),
            Cell::Number { value, decimals } => {
                value.map_or_else(|| "–".into(), |x| format!("{x:.decimals$}"))
            }
            Cell::Percent(v) => pct(*v),
            Cell::Interval(ci) => ci.map_or_else(
                || "–".into(),
                |(a, b)| format!("[{}, {}]", pct(Some(a)), pct(Some(b))),
            ),
            Cell::P(p) => p_text(*p),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.into())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<usize> for Cell {
    fn from(n: usize) -> Self {
        Cell::Text(n.to_string())
    }
}

/// Every table of one report, built once from the analysis for both renderers.
#[derive(Clone, Debug, PartialEq)]
pub struct Tables {
    /// The factors ranked ([`ranking`]), when the study has factors.
    pub ranking: Option<Table>,
    /// The claims part by part ([`claims`]), when the study states claims.
    pub claims: Option<Table>,
    /// The diverged runs ([`diverged`]), when some diverged.
    pub diverged: Option<Table>,
    /// How much of each level's seed noise is the test set ([`test_set_noise`]), when
    /// some level has runs.
    pub noise: Option<Table>,
    /// The runs without stored predictions ([`without_predictions`]), when some lack
    /// them.
    pub without_predictions: Option<Table>,
    /// Each experiment's tables ([`experiment`]), in experiment order.
    pub experiments: Vec<Vec<Table>>,
    /// The `rerun` and `nudge` sources against new seeds ([`chaos`]), when some
    /// variance-sources experiment lists them.
    pub chaos: Option<Table>,
}

impl Tables {
    /// The tables of the study analysed in `stats`, its factors ranked in `ranking`.
    pub fn new(stats: &StudyStats, ranking: &Ranking) -> Self {
        Tables {
            ranking: (!ranking.factors.is_empty()).then(|| self::ranking(ranking)),
            claims: claims(stats),
            diverged: diverged(stats),
            noise: test_set_noise(stats),
            without_predictions: without_predictions(stats),
            experiments: stats.experiments.iter().map(experiment).collect(),
            chaos: chaos(stats),
        }
    }
}

/// An experiment's tables in report order: its levels, then its pairwise comparisons
/// or its sources of variance, where it has them.
pub fn experiment(exp: &ExperimentStats) -> Vec<Table> {
    std::iter::once(levels(exp)).chain(pairs(exp)).chain(sources(exp)).collect()
}

/// "Factors ranked by effect on test accuracy": one row per factor, largest effect
/// first (the ranking's numbers are in points; cells of proportions take them / 100).
pub fn ranking(r: &Ranking) -> Table {
    let columns = vec![
        Column::number("#"),
        Column::text("factor"),
        Column::text("claim"),
        Column::number("levels"),
        Column::number("runs"),
        Column::number("effect sd (pts)"),
        Column::number("95% CI"),
        Column::number("× seed noise"),
        Column::number("seed sd (pts)"),
        Column::number("test set (pts)"),
        Column::number("training (pts)"),
        Column::text("best"),
        Column::text("worst"),
        Column::number("best − worst (pts)"),
        Column::number("95% CI, all pairs"),
        Column::number("p (Holm)"),
        Column::number("rank test p"),
        Column::number("diverged"),
    ];
    let pts = |v: Option<f64>| Cell::Percent(v.map(|x| x / 100.0));
    let rows = r
        .factors
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let fixed = f.sequential.is_none();
            vec![
                Cell::from(i + 1),
                Cell::from(f.title.as_str()),
                Cell::from(
                    f.claim.as_ref().map_or("–", |c| crate::words::verdict_words(c.verdict)),
                ),
                Cell::from(f.levels),
                Cell::from(f.runs),
                pts(f.effect_sd),
                Cell::Interval(f.effect_ci.map(|(a, b)| (a / 100.0, b / 100.0))),
                Cell::Number { value: f.noise_ratio, decimals: 1 },
                pts(f.noise_sd),
                pts(f.floor_sd),
                pts(f.excess_sd),
                Cell::from(f.best.as_str()),
                Cell::from(f.worst.as_str()),
                pts(f.best_minus_worst),
                Cell::Interval(f.best_worst_ci.map(|(a, b)| (a / 100.0, b / 100.0))),
                Cell::P(f.p_holm.filter(|_| fixed)),
                Cell::P(f.rank_p.filter(|_| fixed)),
                Cell::from(f.diverged.iter().map(|d| d.diverged).sum::<usize>()),
            ]
        })
        .collect();
    Table {
        class: "rank",
        caption: Some("Factors ranked by effect on test accuracy".into()),
        columns,
        rows,
    }
}

/// "Claims, part by part": one row per part of each claim, with its test and verdict.
pub fn claims(stats: &StudyStats) -> Option<Table> {
    let columns = vec![
        Column::text("experiment"),
        Column::text("claim part"),
        Column::text("outcome"),
        Column::text("verdict"),
        Column::number("estimate (pts)"),
        Column::number("95% CI"),
        Column::number("p"),
        Column::text("test"),
        Column::text("why"),
    ];
    let rows: Vec<Vec<Cell>> = stats
        .experiments
        .iter()
        .filter_map(|e| e.claim_result.as_ref())
        .flat_map(|c| {
            c.parts.iter().map(move |p| {
                vec![
                    Cell::from(c.experiment.as_str()),
                    Cell::from(crate::words::part_says(p)),
                    Cell::from(crate::words::outcome_words(p.check.outcome)),
                    Cell::Verdict {
                        text: crate::words::verdict_words(p.verdict).into(),
                        yes: p.verdict == cnnvar_analysis::claims::Verdict::Supported,
                    },
                    Cell::Number { value: p.estimate, decimals: 2 },
                    Cell::Interval(p.ci.map(|(a, b)| (a / 100.0, b / 100.0))),
                    Cell::P(p.p),
                    Cell::from(crate::reasons::test_words(&p.test)),
                    Cell::from(crate::reasons::reason_words(&p.why)),
                ]
            })
        })
        .collect();
    (!rows.is_empty()).then(|| Table {
        class: "claims",
        caption: Some("Claims, part by part".into()),
        columns,
        rows,
    })
}

/// Test accuracy, loss and generalisation gap of each level of `exp`; the gap's
/// interval is in the full table only.
pub fn levels(exp: &ExperimentStats) -> Table {
    let columns = vec![
        Column::text(&exp.factors.join(", ")),
        Column::number("runs"),
        Column::number("diverged"),
        Column::number("mean acc").compact_as("mean acc (%)"),
        Column::number("sd"),
        Column::number("95% CI"),
        Column::number("min"),
        Column::number("max"),
        Column::number("test loss"),
        Column::number("gap (pts)"),
        Column::number("gap 95% CI").full_only(),
    ];
    let rows = exp
        .levels
        .iter()
        .map(|l| {
            let acc = l.test_accuracy.as_ref();
            let gap = l.gap.as_ref();
            vec![
                Cell::from(l.label.as_str()),
                Cell::from(format!("{}/{}", l.complete, l.planned)),
                Cell::from(l.diverged),
                Cell::Percent(acc.map(|s| s.mean)),
                Cell::Percent(acc.and_then(|s| s.sd)),
                Cell::Interval(acc.and_then(|s| s.ci)),
                Cell::Percent(acc.map(|s| s.min)),
                Cell::Percent(acc.map(|s| s.max)),
                Cell::Number { value: l.test_loss.as_ref().map(|s| s.mean), decimals: 4 },
                Cell::Percent(gap.map(|s| s.mean)),
                Cell::Interval(gap.and_then(|s| s.ci)),
            ]
        })
        .collect();
    Table {
        class: "levels",
        caption: Some("Test accuracy (%), loss and generalisation gap by level".into()),
        columns,
        rows,
    }
}

/// `14`, `> 10000`, `–`: seeds per level a difference needs.
fn seeds_cell(n: Option<&SeedsNeeded>) -> Cell {
    match n {
        Some(SeedsNeeded::Exactly(n)) => Cell::from(*n),
        Some(SeedsNeeded::MoreThan(n)) => Cell::from(format!("> {n}")),
        None => Cell::from("–"),
    }
}

/// The pairwise comparisons of a factor experiment's levels; `None` for other kinds
/// and when no pair could be compared. The interval and the adjusted p are those of
/// the test that decides the verdict (paired where seeds are paired), Bonferroni over
/// the experiment's comparisons, so the verdict agrees with the interval shown.
pub fn pairs(exp: &ExperimentStats) -> Option<Table> {
    if exp.kind != ExperimentKind::Factor || exp.pairs.is_empty() {
        return None;
    }
    let m = exp.pairs.first().map_or(0, |p| p.comparisons);
    let columns = vec![
        Column::text("A"),
        Column::text("B"),
        Column::number("diff (pts)"),
        Column::number(&format!("adjusted CI (Bonferroni, m = {m})")).compact_as("adj. CI"),
        Column::number("Welch p"),
        Column::number("paired p"),
        Column::number("adjusted p").compact_as("adj. p"),
        Column::number("P(A beats B) [95% CI]").full_only(),
        Column::number("Cohen's d").compact_as("d"),
        Column::number("detectable (pts)").compact_as("detectable"),
        Column::number("seeds needed").compact_as("seeds"),
        Column::text("verdict"),
    ];
    let rows = exp
        .pairs
        .iter()
        .map(|p| {
            let verdict = crate::verdicts::verdict_of(exp, p);
            let p = crate::shown_pair(p);
            let c = &p.comparison;
            vec![
                Cell::from(p.a.as_str()),
                Cell::from(p.b.as_str()),
                Cell::Percent(Some(p.diff)),
                Cell::Interval(p.ci_adjusted),
                Cell::P(p.welch.as_ref().map(|t| t.p)),
                Cell::P(p.paired.as_ref().map(|t| t.p)),
                Cell::P(p.p_adjusted),
                Cell::from(format!(
                    "{:.2} [{:.2}, {:.2}]",
                    c.prob_a_beats_b, c.prob_ci.0, c.prob_ci.1
                )),
                Cell::Number { value: c.cohen_d, decimals: 2 },
                Cell::Percent(p.detectable),
                seeds_cell(p.seeds_needed.as_ref()),
                Cell::Verdict { text: verdict, yes: p.significant },
            ]
        })
        .collect();
    let which = if exp.ordered_factor.is_some() { "neighbouring levels" } else { "levels" };
    Some(Table {
        class: "pairs",
        caption: Some(format!(
            "Comparisons of {which}' test accuracy (A − B): intervals and adjusted p of the \
             deciding test (paired where seeds are paired, else Welch), Bonferroni over {m} \
             comparisons; detectable difference and seeds needed at 80% power"
        )),
        columns,
        rows,
    })
}

/// The spread of test accuracy per source of randomness; `None` when `exp` is not a
/// variance-sources experiment.
pub fn sources(exp: &ExperimentStats) -> Option<Table> {
    if exp.sources.is_empty() {
        return None;
    }
    let columns = vec![
        Column::text("source varied"),
        Column::number("runs"),
        Column::number("sd (pts)"),
        Column::number("95% CI"),
        Column::number("bootstrap 95% CI").full_only(),
        Column::number("sd / all seeds' sd").compact_as("× all"),
        Column::number("its 95% CI").compact_as("× all CI"),
    ];
    let ratio = |r: Option<f64>| Cell::Number { value: r, decimals: 2 };
    let rows = exp
        .sources
        .iter()
        .map(|s| {
            vec![
                Cell::from(if s.ignored {
                    format!("{} (ignored: identical predictions)", s.source)
                } else {
                    s.source.clone()
                }),
                Cell::from(s.n),
                Cell::Percent(s.sd),
                Cell::Interval(s.sd_ci),
                Cell::Interval(s.sd_ci_bootstrap),
                ratio(s.ratio_to_all),
                Cell::from(
                    s.ratio_to_all_ci
                        .map_or("–".into(), |(lo, hi)| format!("[{lo:.2}, {hi:.2}]")),
                ),
            ]
        })
        .collect();
    let test = cnnvar_analysis::sources::equal_spread(&exp.levels).map_or(String::new(), |e| {
        let p = e.test.p;
        let p = if p < 0.001 { "p < 0.001".into() } else { format!("p = {p:.3}") };
        format!("; equal spread across {} (Brown–Forsythe): {p}", e.sources.join(", "))
    });
    Some(Table {
        class: "sources",
        caption: Some(format!(
            "Standard deviation of test accuracy when one source of randomness varies, with its \
             95% chi-square and bootstrap intervals, and its ratio to the sd when every seed \
             varies (bootstrap over replicates){test}"
        )),
        columns,
        rows,
    })
}

/// "Chance or chaos?": per `rerun`, `nudge` and `nudge@E` level of the study's
/// variance-sources experiments, its sd with its interval, its share of the all-seeds sd
/// with its F interval and a nudge's disagreement with its un-nudged twins
/// ([`cnnvar_analysis::sources::chaos`]); `None` when no experiment has one.
pub fn chaos(stats: &StudyStats) -> Option<Table> {
    let rows: Vec<Vec<Cell>> = stats
        .experiments
        .iter()
        .flat_map(|e| cnnvar_analysis::sources::chaos(&e.levels).into_iter().map(move |c| (e, c)))
        .map(|(e, c)| {
            let share = |x: f64| format!("{:.0}", 100.0 * x);
            vec![
                Cell::from(e.name.as_str()),
                Cell::from(c.source.as_str()),
                Cell::from(c.n),
                Cell::Percent(c.sd),
                Cell::Interval(c.sd_ci),
                Cell::from(c.ratio.map_or("–".into(), share)),
                Cell::from(
                    c.ratio_ci
                        .map_or("–".into(), |(lo, hi)| format!("[{}, {}]", share(lo), share(hi))),
                ),
                Cell::from(c.twin_disagreement.as_ref().map_or("–".into(), |d| {
                    use crate::findings::pct_short;
                    format!("{} ({}–{})", pct_short(d.mean), pct_short(d.min), pct_short(d.max))
                })),
            ]
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let columns = vec![
        Column::text("experiment"),
        Column::text("source"),
        Column::number("runs"),
        Column::number("sd (pts)"),
        Column::number("95% CI"),
        Column::number("% of all seeds' sd").compact_as("% of all"),
        Column::number("its 95% CI").compact_as("% CI"),
        Column::number("predictions unlike its un-nudged twin's (range)").compact_as("vs twin"),
    ];
    Some(Table {
        class: "chaos",
        caption: Some(
            "Standard deviation of test accuracy when the seeds every single-source arm holds \
             fixed are run again (rerun), run with 1, 2, 3 or 4 threads in turn (threads), \
             scored on a bootstrap resample of the test set (split), trained from the same \
             initial weights on flex, ndarray and LibTorch in turn (backend) or \
             run with one weight moved by one unit in the last place (nudge: before training; \
             nudge@E: after epoch E), with its 95% chi-square \
             interval, and as a share of the sd when every seed varies, with the 95% F \
             interval of the ratio of two independent sds; for a nudge, the share of test \
             images its runs predict differently from the rerun of the same replicate (its \
             un-nudged twin), mean and range over replicates"
                .into(),
        ),
        columns,
        rows,
    })
}

/// "How much of the seed noise is the test set?": per level with runs, the observed sd
/// of the runs with predictions against the floor a test set of that size alone
/// produces, the excess (training), how often runs disagree and what their majority
/// vote scores; a level without test-set noise says why. `None` when no level has runs.
pub fn test_set_noise(stats: &StudyStats) -> Option<Table> {
    let columns = vec![
        Column::text("experiment"),
        Column::text("level"),
        Column::number("runs with predictions").compact_as("runs"),
        Column::number("test images").compact_as("images"),
        Column::number("observed sd (pts)").compact_as("observed sd"),
        Column::number("floor (pts)").compact_as("floor"),
        Column::number("floor 95% CI"),
        Column::number("excess (pts)").compact_as("excess"),
        Column::number("disagreement (%)").compact_as("disagree (%)"),
        Column::number("disagreement range").full_only(),
        Column::number("ensemble acc (%)").compact_as("ensemble"),
        Column::number("ensemble gain (pts)").compact_as("gain"),
        Column::number("tied votes").compact_as("ties"),
        Column::text("note"),
    ];
    let rows: Vec<Vec<Cell>> = stats
        .experiments
        .iter()
        .flat_map(|e| e.levels.iter().filter(|l| l.complete > 0).map(move |l| (e, l)))
        .map(|(e, l)| {
            let n = l.test_set_noise.as_ref();
            let note = match (n, &l.noise_missing) {
                (Some(n), _) if n.within_floor => "within the floor".to_string(),
                (Some(_), _) => String::new(),
                (None, Some(why)) => crate::findings::missing_noise_text(why),
                (None, None) => String::new(),
            };
            vec![
                Cell::from(e.name.as_str()),
                Cell::from(l.label.as_str()),
                Cell::from(format!("{}/{}", l.runs_with_predictions, l.complete)),
                n.map_or_else(|| Cell::from("–"), |n| Cell::from(n.examples)),
                Cell::Percent(n.map(|n| n.observed_sd)),
                Cell::Percent(n.map(|n| n.floor_sd)),
                Cell::Interval(n.and_then(|n| n.floor_ci)),
                Cell::Percent(n.map(|n| n.excess_sd)),
                Cell::Percent(n.map(|n| n.disagreement.mean)),
                Cell::Interval(n.map(|n| (n.disagreement.min, n.disagreement.max))),
                Cell::Percent(n.map(|n| n.ensemble_accuracy)),
                Cell::Percent(n.map(|n| n.ensemble_gain)),
                n.map_or_else(|| Cell::from("–"), |n| Cell::from(n.ensemble_ties)),
                Cell::from(note),
            ]
        })
        .collect();
    (!rows.is_empty()).then(|| Table {
        class: "noise",
        caption: Some(
            "Seed noise against the test set's own noise, per level: observed sd of test \
             accuracy, the floor that independent errors on the test set give (95% bootstrap \
             interval), the excess from training, disagreement between runs, majority-vote \
             ensemble (tied votes: examples where two classes or more had the most runs, given \
             to the lowest class)"
                .into(),
        ),
        columns,
        rows,
    })
}

/// The complete runs without stored predictions, per level; `None` when every run has
/// them.
pub fn without_predictions(stats: &StudyStats) -> Option<Table> {
    let levels = stats.runs_without_predictions();
    if levels.is_empty() {
        return None;
    }
    let columns = vec![
        Column::text("experiment"),
        Column::text("level"),
        Column::number("runs"),
        Column::text("run ids"),
    ];
    let rows = levels
        .into_iter()
        .map(|(exp, level, ids)| {
            vec![
                Cell::from(exp),
                Cell::from(level),
                Cell::from(ids.len()),
                Cell::from(ids.join(", ")),
            ]
        })
        .collect();
    Some(Table { class: "without-predictions", caption: None, columns, rows })
}

/// Every diverged run of the study with its reason; `None` when none diverged.
pub fn diverged(stats: &StudyStats) -> Option<Table> {
    let runs = stats.diverged_runs();
    if runs.is_empty() {
        return None;
    }
    let columns = vec![
        Column::text("experiment"),
        Column::text("level"),
        Column::number("seed"),
        Column::text("run"),
        Column::text("reason"),
    ];
    let rows = runs
        .into_iter()
        .map(|(exp, level, run)| {
            vec![
                Cell::from(exp),
                Cell::from(level),
                Cell::from(run.replicate + 1),
                Cell::Code(run.run_id.clone()),
                Cell::from(run.reason.as_str()),
            ]
        })
        .collect();
    Some(Table { class: "diverged", caption: None, columns, rows })
}

#[cfg(test)]
mod tests {
    use super::super::{html, markdown};
    use super::*;

    fn sample() -> Table {
        Table {
            class: "t",
            caption: Some("A <caption>".into()),
            columns: vec![
                Column::text("name"),
                Column::number("acc"),
                Column::number("95% CI (Welch)").compact_as("95% CI"),
                Column::number("p"),
                Column::text("run"),
                Column::text("verdict"),
                Column::number("detail").full_only(),
            ],
            rows: vec![vec![
                Cell::from("a"),
                Cell::Percent(Some(0.9123)),
                Cell::Interval(Some((0.901, 0.923))),
                Cell::P(Some(0.0421)),
                Cell::Code("7b59f02f".into()),
                Cell::Verdict { text: "a beats b".into(), yes: true },
                Cell::Number { value: None, decimals: 2 },
            ]],
        }
    }

    /// Both renderers print the same cell texts, in the same order; the compact one
    /// leaves out the full-only column and uses the short headers.
    #[test]
    fn a_table_renders_the_same_cells_in_both_formats() {
        let t = sample();
        let page = html::table(&t);
        let md = markdown::table(&t);
        assert_eq!(
            page,
            "<div class=\"scroll\"><table class=\"t\"><caption>A &lt;caption&gt;</caption>\
             <tr><th class=\"l\">name</th><th>acc</th><th>95% CI (Welch)</th><th>p</th><th class=\"l\">run</th>\
             <th class=\"l\">verdict</th><th>detail</th></tr>\n<tr><td class=\"l\">a</td>\
             <td>91.23</td><td>[90.10, 92.30]</td><td>0.042</td>\
             <td class=\"l\"><code>7b59f02f</code></td><td class=\"l yes\">a beats b</td>\
             <td>–</td></tr>\n</table></div>"
        );
        assert_eq!(
            md,
            "| name | acc | 95% CI | p | run | verdict |\n|---|---|---|---|---|---|\n\
             | a | 91.23 | [90.10, 92.30] | 0.042 | `7b59f02f` | a beats b |\n"
        );
        for cell in &t.rows[0][..6] {
            assert!(page.contains(&cell.text()) && md.contains(&cell.text()), "{cell:?}");
        }
    }

    /// A `|` in a cell or header would end the Markdown cell; `<`, `&` and `>` in HTML
    /// would be read as markup.
    #[test]
    fn cells_are_escaped_for_each_format() {
        let t = Table {
            class: "t",
            caption: None,
            columns: vec![Column::text("a|b"), Column::number("p")],
            rows: vec![vec![Cell::from("x | <y> & z"), Cell::P(Some(1e-5))]],
        };
        let md = markdown::table(&t);
        assert!(md.starts_with("| a\\|b | p |\n"), "{md}");
        assert!(md.contains("| x \\| <y> & z | < 0.001 |"), "{md}");
        let page = html::table(&t);
        assert!(page.contains("<th class=\"l\">a|b</th>"), "{page}");
        assert!(page.contains("<td class=\"l\">x | &lt;y&gt; &amp; z</td><td>&lt; 0.001</td>"));
        assert!(!page.contains("<caption>"), "no caption: {page}");
    }

    #[test]
    fn missing_values_print_as_a_dash() {
        for cell in [
            Cell::Percent(None),
            Cell::Interval(None),
            Cell::P(None),
            Cell::Number { value: None, decimals: 3 },
        ] {
            assert_eq!(cell.text(), "–");
        }
        assert_eq!(Cell::Number { value: Some(0.123456), decimals: 4 }.text(), "0.1235");
    }
}
