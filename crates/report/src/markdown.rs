//! report.md: the same content for terminals and code hosts (figures as PNG links).

use std::fmt::Write;

use super::ReportInput;
use super::table::{Cell, Table};
use cnnvar_analysis::ExperimentStats;

/// The Markdown report.
pub fn render(input: &ReportInput<'_>) -> String {
    let prov = input.provenance();
    let mut m = String::new();
    intro(&mut m, input);
    answer(&mut m, input, &prov);
    let _ = writeln!(m, "{}\n", super::about_line(input));
    m += &super::integrity::markdown(input);
    ranking_section(&mut m, input, &prov);
    noise_section(&mut m, input, &prov);
    chaos_section(&mut m, input, &prov);
    if let Some(lines) = super::probe_lines(input) {
        m += "## Does the training honour its seeds?\n\n";
        for line in lines {
            let _ = writeln!(m, "- {line}");
        }
        let _ = writeln!(m, "\n{}\n", super::PROBE_METHOD);
    }
    m += "## Verdicts\n\n";
    for exp in &input.stats.experiments {
        let _ =
            writeln!(m, "- **{}** ({}): {}", exp.name, exp.title, crate::verdicts::headline(exp));
    }
    let _ = writeln!(m, "\n_{prov}_\n");
    adaptive_section(&mut m, input, &prov);
    let _ =
        writeln!(m, "## How comparisons are decided\n\n{}\n", crate::methods::COMPARISON_METHOD);
    diverged_runs(&mut m, input);
    let experiments = input.stats.experiments.iter().zip(input.figures);
    for (i, ((exp, figs), tables)) in experiments.zip(&input.tables.experiments).enumerate() {
        section(&mut m, input, exp, tables, figs, input.contested_notes(i));
    }
    m
}

/// "Adaptive seeding": how seeds were added, each experiment's runs against `max`
/// seeds everywhere, and each comparison's decision; absent for a fixed study.
fn adaptive_section(m: &mut String, input: &ReportInput<'_>, prov: &str) {
    let Some(d) = input.decisions else { return };
    let _ = writeln!(m, "## Adaptive seeding\n\n{}\n", super::adaptive::intro(d));
    *m += &table(&super::adaptive::experiments_table(d));
    let _ = writeln!(m, "\n_{prov}_\n");
    let tables = [super::adaptive::comparisons_table(d), super::adaptive::sources_table(d)];
    for t in tables.iter().flatten() {
        *m += &table(t);
        let _ = writeln!(m, "\n_{prov}_\n");
    }
}

/// A table in the compact form: the columns it keeps under their compact headers, no
/// caption; `|` in a cell is escaped so that it stays one cell.
pub(super) fn table(t: &Table) -> String {
    let kept: Vec<(usize, &str)> = t
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.compact.as_deref().map(|h| (i, h)))
        .collect();
    let headers: Vec<String> = kept.iter().map(|(_, h)| esc(h)).collect();
    let mut m = format!("| {} |\n|{}\n", headers.join(" | "), "---|".repeat(kept.len()));
    for row in &t.rows {
        let cells: Vec<String> = kept.iter().filter_map(|(i, _)| row.get(*i)).map(cell).collect();
        let _ = writeln!(m, "| {} |", cells.join(" | "));
    }
    m
}

/// One cell's text; code in backticks.
fn cell(c: &Cell) -> String {
    match c {
        Cell::Code(s) => format!("`{}`", esc(s)),
        other => esc(&other.text()),
    }
}

/// `|` would end a table cell.
fn esc(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The title, the study's description and the paragraph on what the numbers are.
fn intro(m: &mut String, input: &ReportInput<'_>) {
    let stats = input.stats;
    let _ = writeln!(m, "# Why does accuracy vary? Study `{}`\n", stats.study);
    if !input.plan.study.description.is_empty() {
        let _ = writeln!(m, "{}\n", input.plan.study.description);
    }
}

/// "How much of the seed noise is the test set?": the study's sentence, the per-level
/// table, which runs lack predictions, and what the floor and the excess are.
fn noise_section(m: &mut String, input: &ReportInput<'_>, prov: &str) {
    *m += "## How much of the seed noise is the test set?\n\n";
    let _ = writeln!(m, "{}\n", super::noise_sentence(input.stats));
    if let Some(t) = &input.tables.noise {
        *m += &table(t);
        let _ = writeln!(m, "\n_{prov}_\n");
    }
    let _ = writeln!(m, "{}\n", crate::methods::NOISE_METHOD);
    if let Some(t) = &input.tables.without_predictions {
        let _ = writeln!(m, "### Runs without predictions\n\n{}\n", super::WITHOUT_PREDICTIONS);
        *m += &table(t);
        let _ = writeln!(m, "\n_{prov}_\n");
    }
}

/// "Chance or chaos?": one sentence per `rerun`, `threads`, `split`, `backend` and nudge source, the
/// table, and how they are judged; absent when no experiment lists them.
fn chaos_section(m: &mut String, input: &ReportInput<'_>, prov: &str) {
    let Some(t) = &input.tables.chaos else { return };
    *m += "## Chance or chaos?\n\n";
    for (exp, sentence) in super::chaos_sentences(input.stats) {
        let _ = writeln!(m, "- **{exp}**: {sentence}.");
    }
    *m += "\n";
    *m += &table(t);
    let _ = writeln!(m, "\n_{prov}_\n\n{}\n", super::CHAOS_METHOD);
}

/// "The answer": the ranking figure, one plain sentence per factor with its claim, the
/// seed noise; absent when the study has no factors.
fn answer(m: &mut String, input: &ReportInput<'_>, prov: &str) {
    if input.ranking.factors.is_empty() {
        return;
    }
    *m += "## The answer\n\n";
    if input.ranking_figure.is_some() {
        *m += "![Effect of each factor](figures/ranking.png)\n\n";
    }
    for (i, f) in input.ranking.factors.iter().enumerate() {
        let _ = writeln!(m, "{}. {}", i + 1, super::words::factor_sentence(f));
        if let Some(c) = &f.claim {
            let _ = writeln!(m, "   _Claim {}_", super::words::claim_sentence(c));
        }
    }
    if let Some(line) = super::words::noise_line(input.ranking) {
        let _ = writeln!(m, "\n{line}");
    }
    let _ = writeln!(m, "\n_{prov}_\n");
}

/// "Factors and claims in numbers": the claims part by part and the ranking table.
fn ranking_section(m: &mut String, input: &ReportInput<'_>, prov: &str) {
    let Some(ranking_table) = &input.tables.ranking else { return };
    *m += "## Factors and claims in numbers\n\n";
    if let Some(t) = &input.tables.claims {
        *m += &table(t);
        let _ = writeln!(m, "\n_{prov}_\n");
    }
    *m += &table(ranking_table);
    let _ = writeln!(m, "\n_{prov}_\n\n{}\n", crate::methods::FACTOR_METHOD);
}

/// One experiment's section: what it tests and found (and, in an adaptive study, where
/// its decisions stand), its tables, each followed by the provenance line, and links
/// to its figures, with the notes on contested test images not drawn after its
/// test-set-noise figure.
fn section(
    m: &mut String,
    input: &ReportInput<'_>,
    exp: &ExperimentStats,
    tables: &[Table],
    figs: &[super::Figure],
    notes: &[String],
) {
    let prov = input.provenance();
    let _ = writeln!(m, "## {}: {}\n", exp.name, exp.title);
    if let Some(c) = &exp.claim {
        let _ = writeln!(m, "Claim: _{c}_\n");
    }
    let _ = writeln!(m, "**Verdict:** {}\n", crate::verdicts::headline(exp));
    if let Some(d) =
        input.decisions.and_then(|d| d.experiments.iter().find(|e| e.experiment == exp.name))
    {
        let _ = writeln!(m, "**Adaptive seeding:** {}\n", d.line());
    }
    if let Some(f) = &exp.learning_curve {
        let _ = writeln!(
            m,
            "**Learning curve:** test error ≈ {:.3} · n^−{:.3} (exponent 95% CI [{:.3}, {:.3}], R² = {:.3}, {} runs).\n",
            f.scale, f.exponent, f.exponent_ci.0, f.exponent_ci.1, f.r_squared, f.n
        );
    }
    if let Some(cv) = &exp.cross_validation {
        let _ = writeln!(m, "**Protocol:** {}\n", crate::findings::protocol_line(cv));
    }
    for t in tables {
        *m += &table(t);
        let _ = writeln!(m, "\n_{prov}_\n");
    }
    let notes_at = super::noise_figure_at(figs, &exp.name);
    for (i, f) in figs.iter().enumerate() {
        let _ = writeln!(m, "![{}](figures/{}.png)\n", f.caption, f.name);
        if Some(i) == notes_at {
            contested_notes(m, notes);
        }
    }
    if notes_at.is_none() {
        contested_notes(m, notes);
    }
}

/// The notes on an experiment's contested test images not drawn, one paragraph each.
fn contested_notes(m: &mut String, notes: &[String]) {
    for n in notes {
        let _ = writeln!(m, "**Contested test images:** {n}\n");
    }
}

/// "Diverged runs": each run the divergence rule caught, with its reason.
fn diverged_runs(m: &mut String, input: &ReportInput<'_>) {
    let Some(t) = &input.tables.diverged else { return };
    let _ = writeln!(m, "## Diverged runs\n\n{}\n", crate::methods::DIVERGENCE_RULE);
    *m += &table(t);
    let _ = writeln!(m, "\n_{}_\n", input.provenance());
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use cnnvar_core::RunRecord;

    use super::super::table::Tables;
    use super::super::{ReportInput, html};
    use cnnvar_analysis::{StudyStats, experiment_stats, rank::rank};
    use cnnvar_store::Plan;

    fn record(run: &cnnvar_core::study::PlannedRun, diverged: bool) -> RunRecord {
        RunRecord {
            run_id: run.run_id.clone(),
            test_accuracy: if diverged { 0.1 } else { 0.85 + 0.01 * run.replicate as f64 },
            test_loss: if diverged { f64::NAN } else { 0.4 },
            per_class_accuracy: vec![0.85; 10],
            diverged,
            error: diverged.then(|| "loss became NaN at epoch 1, batch 2 of 4".to_string()),
            ..cnnvar_core::testing::record_of(&run.spec)
        }
    }

    /// The Markdown and HTML reports of `plan`'s one experiment from `results`.
    fn render_both(
        plan: &Plan,
        results: &[(&cnnvar_core::study::PlannedRun, RunRecord)],
        diverged: usize,
        seeds: usize,
    ) -> (String, String) {
        let exp = experiment_stats(&plan.study.experiments[0], results);
        let stats = StudyStats {
            study: "s".into(),
            planned: results.len(),
            complete: results.len(),
            diverged,
            seeds,
            test_set_noise: None,
            time: None,
            experiments: vec![exp],
        };
        let ranking = rank(&stats);
        let tmp = tempfile::tempdir().expect("tempdir");
        let tables = Tables::new(&stats, &ranking);
        let input = ReportInput {
            plan,
            stats: &stats,
            figures: &[],
            ranking: &ranking,
            ranking_figure: None,
            tables: &tables,
            study: &cnnvar_store::StudyDir::open(tmp.path()),
            decisions: None,
            contested_notes: &[],
        };
        (super::render(&input), html::render(&input))
    }

    /// Both reports list each diverged run with its id and reason, and say how
    /// diverged runs are counted.
    #[test]
    fn reports_list_each_diverged_run_with_its_reason() {
        let text = "seeds = 3\n[base]\nepochs = 1\n[[experiment]]\nname = \"lr\"\n\
                    vary = { lr = [0.001, 10.0] }\n";
        let study = cnnvar_core::study::parse(text, Path::new("s.toml")).expect("parses");
        let plan = Plan::new(study, false);
        let wild = &plan.study.experiments[0].levels[1].label;
        let results: Vec<_> = plan.runs.iter().map(|r| (r, record(r, &r.level == wild))).collect();
        let (md, page) = render_both(&plan, &results, 3, 3);
        for report in [&md, &page] {
            assert!(report.contains("Diverged runs"), "{report}");
            assert!(report.contains("counted at chance accuracy"));
            for (run, _) in results.iter().filter(|(r, _)| &r.level == wild) {
                assert!(report.contains(&run.run_id), "{} not listed", run.run_id);
            }
            let reason = "non-finite training loss (loss became NaN at epoch 1, batch 2 of 4)";
            assert_eq!(report.matches(reason).count(), 3, "{report}");
            assert!(report.contains("diverged in 3 of 3 seeds"));
        }
        assert!(page.contains("<section id=\"diverged\">"));
    }

    /// Both reports of a study with `rerun` and `nudge` sources have a "Chance or
    /// chaos?" section before the verdicts, with one sentence per source and the table;
    /// a study without them has none.
    #[test]
    fn reports_say_whether_it_is_chance_or_chaos() {
        let render = |sources: &str| {
            let text = format!(
                "seeds = 10\n[base]\nepochs = 1\ntrain_size = 100\nsubset = \"stratified\"\n\
                 [[experiment]]\nname = \"v\"\nkind = \"variance-sources\"\n{sources}"
            );
            let study = cnnvar_core::study::parse(&text, Path::new("s.toml")).expect("parses");
            let plan = Plan::new(study, false);
            let spread = [3.0, -1.0, 4.0, -1.5, 5.0, -9.0, 2.0, 6.0, -5.0, 3.5];
            let results: Vec<_> = plan
                .runs
                .iter()
                .map(|r| {
                    let z = match r.level.as_str() {
                        "rerun" => 0.5,
                        "nudge" => 1.2 * spread[9 - r.replicate],
                        _ => spread[r.replicate],
                    };
                    (r, RunRecord { test_accuracy: 0.85 + 0.002 * z, ..record(r, false) })
                })
                .collect();
            render_both(&plan, &results, 0, 10)
        };
        let (md, page) = render("sources = [\"init\", \"all\", \"rerun\", \"nudge\"]\n");
        let rerun =
            "Rerunning the same seeds gave identical accuracy in all 10 runs (deterministic)";
        assert!(md.contains(&format!("## Chance or chaos?\n\n- **v**: {rerun}.\n")), "{md}");
        let chaos = md.find("## Chance or chaos?").expect("the section");
        assert!(chaos < md.find("## Verdicts").expect("verdicts"));
        let nudge = "- **v**: Changing one weight by one ulp gives 120% [60, 241] of the spread";
        assert!(md.contains(nudge), "{md}");
        assert!(md.contains(
            "of the spread of fully new seeds: the variation is chaos, not bad luck with seeds.\n"
        ));
        assert!(md.contains("| v | nudge | 10 | "), "{md}");
        assert!(page.contains("<section id=\"chaos\"><h2>Chance or chaos?</h2>"));
        assert!(page.contains(&format!("<li><b>v</b>: {rerun}.</li>")), "{page}");
        // The experiment's verdict says it too, and the old sources' numbers are there.
        assert!(md.contains("the variation is chaos, not bad luck with seeds\n"), "{md}");
        let (md, page) = render("");
        assert!(!md.contains("Chance or chaos") && !page.contains("Chance or chaos"));
        assert!(!md.contains("ulp") && md.contains("| subset |"), "{md}");
    }

    /// An adaptive study's reports state each comparison's decision, its look and
    /// seeds, and the runs saved, after the verdicts; each experiment's section says
    /// where its decisions stand; the notes on contested images not drawn are printed.
    #[test]
    fn reports_state_the_adaptive_decisions() {
        let text = "seeds = 3\n[base]\nepochs = 1\n[[experiment]]\nname = \"lr\"\n\
                    vary = { lr = [0.1, 0.01] }\n";
        let study = cnnvar_core::study::parse(text, Path::new("s.toml")).expect("parses");
        let plan = Plan::new(study, false);
        let results: Vec<_> = plan.runs.iter().map(|r| (r, record(r, false))).collect();
        let exp = experiment_stats(&plan.study.experiments[0], &results);
        let stats = StudyStats {
            study: "s".into(),
            planned: 6,
            complete: 6,
            diverged: 0,
            seeds: 3,
            test_set_noise: None,
            time: None,
            experiments: vec![exp],
        };
        let decisions = super::super::adaptive::tests::decisions();
        let mut ranking = rank(&stats);
        cnnvar_analysis::rank::apply_sequential(
            &mut ranking,
            &super::super::adaptive::sequential(&decisions),
        );
        let tmp = tempfile::tempdir().expect("tempdir");
        let tables = Tables::new(&stats, &ranking);
        let notes = vec![vec!["The contested images need data set `x` (sha256 ab).".to_string()]];
        let input = ReportInput {
            plan: &plan,
            stats: &stats,
            figures: &[vec![]],
            ranking: &ranking,
            ranking_figure: None,
            tables: &tables,
            study: &cnnvar_store::StudyDir::open(tmp.path()),
            decisions: Some(&decisions),
            contested_notes: &notes,
        };
        let md = super::render(&input);
        let page = html::render(&input);
        for report in [&md, &page] {
            assert!(report.contains("3 to 7 seeds per level (adaptive seeding"), "{report}");
            assert!(report.contains("12 runs saved (29%)"), "{report}");
            assert!(
                report.contains("different: 1000 &lt; 60000")
                    || report.contains("different: 1000 < 60000")
            );
            assert!(report.contains("equivalent within ±0.5 points"));
            assert!(report.contains("undecided at 7 seeds"));
            assert!(
                report.contains("lr: finished at 3 seeds (look 1 of 3), 8 of 14 runs saved"),
                "{report}"
            );
            assert!(
                report.contains("no effect beyond ±0.5 points (adaptive seeding)"),
                "the ranking follows: {report}"
            );
            assert!(!report.contains("not distinguishable from seed noise"), "{report}");
            assert!(
                report.contains(
                    "Contested test images:</b> The contested images need data set `x` (sha256 ab)."
                ) || report.contains(
                    "**Contested test images:** The contested images need data set `x` (sha256 ab)."
                )
            );
        }
        let verdicts = md.find("## Verdicts").expect("verdicts");
        let adaptive = md.find("## Adaptive seeding").expect("the section");
        assert!(verdicts < adaptive && adaptive < md.find("## lr:").expect("lr's section"));
        assert!(page.contains("<section id=\"adaptive\">"));
        assert!(page.find("id=\"verdicts\"") < page.find("id=\"adaptive\""));
    }
}
