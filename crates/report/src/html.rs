//! report.html: one self-contained page, readable at a glance.

use std::fmt::Write;

use super::ReportInput;
use super::table::{Cell, Column, Table};
use crate::findings::protocol_line;
use cnnvar_analysis::ExperimentStats;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:2px solid #ddd;padding-bottom:.2em}\
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}\
th{background:#f3f3f3}td.l,th.l{text-align:left}.yes{color:#0a6b0a;font-weight:600}.no{color:#777}\
.verdicts li{margin:.35em 0}.claim{font-style:italic;color:#444}.prov{font-size:.8em;color:#777;margin:.2em 0 1.2em}\
.scroll{overflow-x:auto}figure{margin:1em 0}figcaption{font-size:.85em;color:#555}svg{max-width:100%;height:auto}code{background:#f5f5f5;padding:0 .2em}";

/// The page.
pub fn render(input: &ReportInput<'_>) -> String {
    let mut h = String::new();
    head(&mut h, input);
    answer(&mut h, input);
    about(&mut h, input);
    h += &super::integrity::html(input);
    ranking_section(&mut h, input);
    noise_section(&mut h, input);
    chaos_section(&mut h, input);
    if let Some(lines) = super::probe_lines(input) {
        h.push_str("<section id=\"probe\"><h2>Does the training honour its seeds?</h2>\n<ul>\n");
        for line in lines {
            let _ = writeln!(h, "<li>{}</li>", esc(&line));
        }
        let _ = writeln!(h, "</ul><p>{}</p></section>", esc(super::PROBE_METHOD));
    }
    verdicts(&mut h, input);
    adaptive_section(&mut h, input);
    let _ = writeln!(
        h,
        "<section id=\"method\"><h2>How comparisons are decided</h2><p>{}</p></section>",
        esc(crate::methods::COMPARISON_METHOD)
    );
    diverged_runs(&mut h, input);
    let experiments = input.stats.experiments.iter().zip(input.figures);
    for (i, ((exp, figs), tables)) in experiments.zip(&input.tables.experiments).enumerate() {
        section(&mut h, input, exp, tables, figs, input.contested_notes(i));
    }
    h += "</body></html>\n";
    h
}

/// A table as HTML, in a `<div class="scroll">` that scrolls sideways when the table is
/// wider than the page: text columns get class `l` (left-aligned), verdicts `yes` or `no`.
pub(super) fn table(t: &Table) -> String {
    let mut h = format!("<div class=\"scroll\"><table class=\"{}\">", t.class);
    if let Some(caption) = &t.caption {
        let _ = write!(h, "<caption>{}</caption>", esc(caption));
    }
    h += "<tr>";
    for c in &t.columns {
        let _ = write!(h, "<th{}>{}</th>", class_attr(&[c.left.then_some("l")]), esc(&c.header));
    }
    h += "</tr>\n";
    for row in &t.rows {
        h += "<tr>";
        for (column, cell) in t.columns.iter().zip(row) {
            h += &td(column, cell);
        }
        h += "</tr>\n";
    }
    h += "</table></div>";
    h
}

/// One cell of a table row.
fn td(column: &Column, cell: &Cell) -> String {
    let verdict = match cell {
        Cell::Verdict { yes, .. } => Some(if *yes { "yes" } else { "no" }),
        _ => None,
    };
    let text = esc(&cell.text());
    let content = match cell {
        Cell::Code(_) => format!("<code>{text}</code>"),
        _ => text,
    };
    format!("<td{}>{content}</td>", class_attr(&[column.left.then_some("l"), verdict]))
}

/// ` class="a b"` of the classes given, or nothing when there are none.
fn class_attr(classes: &[Option<&str>]) -> String {
    let classes: Vec<&str> = classes.iter().flatten().copied().collect();
    if classes.is_empty() { String::new() } else { format!(" class=\"{}\"", classes.join(" ")) }
}

/// The document's head: the title and what the study is.
fn head(h: &mut String, input: &ReportInput<'_>) {
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>cnnvar report: {name}</title><style>{STYLE}</style></head><body>\n\
         <h1>Why does accuracy vary? Study <code>{name}</code></h1>\n<p>{desc}</p>",
        name = esc(&input.stats.study),
        desc = esc(&input.plan.study.description),
    );
}

/// The answer a reader acts on, first: the ranking figure (each factor's effect with its
/// interval, coloured by its claim's verdict), then one plain sentence per factor and
/// its claim, then the seed noise they are measured against.
fn answer(h: &mut String, input: &ReportInput<'_>) {
    if input.ranking.factors.is_empty() {
        return;
    }
    h.push_str("<section id=\"answer\"><h2>The answer</h2>\n");
    if let Some(fig) = input.ranking_figure {
        let _ = writeln!(
            h,
            "<figure id=\"fig-ranking\">{}<figcaption>{}</figcaption></figure>",
            strip_xml_header(&fig.svg),
            esc(&fig.caption),
        );
    }
    h.push_str("<ol class=\"ranking\">\n");
    for f in &input.ranking.factors {
        let claim = f
            .claim
            .as_ref()
            .map(|c| {
                format!(
                    "<br><span class=\"claim\">Claim {}</span>",
                    esc(&super::words::claim_sentence(c))
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<li class=\"{}\">{}{claim}</li>",
            if f.distinguishable { "yes" } else { "no" },
            esc(&super::words::factor_sentence(f))
        );
    }
    h.push_str("</ol>\n");
    if let Some(line) = super::words::noise_line(input.ranking) {
        let _ = writeln!(h, "<p>{}</p>", esc(&line));
    }
    let _ = writeln!(h, "<p class=\"prov\">{}</p></section>", esc(&input.provenance()));
}

/// What the numbers are: runs, divergence, seeds, how intervals and tests are made, the
/// study's wall and compute time.
fn about(h: &mut String, input: &ReportInput<'_>) {
    let _ = writeln!(h, "<p>{}</p>", esc(&super::about_line(input)));
}

/// "How much of the seed noise is the test set?": the study's sentence, the per-level
/// table, what the floor and the excess are, and which runs lack predictions.
fn noise_section(h: &mut String, input: &ReportInput<'_>) {
    let prov = esc(&input.provenance());
    let _ = writeln!(
        h,
        "<section id=\"test-set-noise\"><h2>How much of the seed noise is the test set?</h2>\n<p>{}</p>",
        esc(&super::noise_sentence(input.stats))
    );
    if let Some(t) = &input.tables.noise {
        let _ = writeln!(h, "{}<p class=\"prov\">{prov}</p>", table(t));
    }
    let _ = writeln!(h, "<p>{}</p>", esc(crate::methods::NOISE_METHOD));
    if let Some(t) = &input.tables.without_predictions {
        let _ = writeln!(
            h,
            "<h3>Runs without predictions</h3><p>{}</p>\n{}<p class=\"prov\">{prov}</p>",
            esc(super::WITHOUT_PREDICTIONS),
            table(t)
        );
    }
    h.push_str("</section>\n");
}

/// "Chance or chaos?": one sentence per `rerun`, `threads`, `split`, `backend` and nudge source, the
/// table, and how they are judged; absent when no experiment lists them.
fn chaos_section(h: &mut String, input: &ReportInput<'_>) {
    let Some(t) = &input.tables.chaos else { return };
    h.push_str("<section id=\"chaos\"><h2>Chance or chaos?</h2>\n<ul>\n");
    for (exp, sentence) in super::chaos_sentences(input.stats) {
        let _ = writeln!(h, "<li><b>{}</b>: {}.</li>", esc(&exp), esc(&sentence));
    }
    let _ = writeln!(
        h,
        "</ul>\n{}<p class=\"prov\">{}</p><p>{}</p></section>",
        table(t),
        esc(&input.provenance()),
        esc(super::CHAOS_METHOD)
    );
}

/// "Verdicts": each experiment's headline, linking to its section.
fn verdicts(h: &mut String, input: &ReportInput<'_>) {
    h.push_str("<section id=\"verdicts\"><h2>Verdicts</h2><ul class=\"verdicts\">\n");
    for exp in &input.stats.experiments {
        let _ = writeln!(
            h,
            "<li><a href=\"#{}\"><b>{}</b> — {}</a>: {}</li>",
            esc(&exp.name),
            esc(&exp.name),
            esc(&exp.title),
            esc(&crate::verdicts::headline(exp))
        );
    }
    let _ = writeln!(h, "</ul><p class=\"prov\">{}</p></section>", esc(&input.provenance()));
}

/// "Adaptive seeding": how seeds were added, each experiment's runs against `max`
/// seeds everywhere, and each comparison's decision; absent for a fixed study.
fn adaptive_section(h: &mut String, input: &ReportInput<'_>) {
    let Some(d) = input.decisions else { return };
    let prov = esc(&input.provenance());
    let _ = writeln!(
        h,
        "<section id=\"adaptive\"><h2>Adaptive seeding</h2>\n<p>{}</p>\n{}<p class=\"prov\">{prov}</p>",
        esc(&super::adaptive::intro(d)),
        table(&super::adaptive::experiments_table(d))
    );
    let tables = [super::adaptive::comparisons_table(d), super::adaptive::sources_table(d)];
    for t in tables.iter().flatten() {
        let _ = writeln!(h, "{}<p class=\"prov\">{prov}</p>", table(t));
    }
    h.push_str("</section>\n");
}

/// "Factors and claims in numbers": the claims part by part and the ranking table;
/// absent when the study has no factors.
fn ranking_section(h: &mut String, input: &ReportInput<'_>) {
    let Some(ranking_table) = &input.tables.ranking else { return };
    let prov = esc(&input.provenance());
    h.push_str("<section id=\"ranking\"><h2>Factors and claims in numbers</h2>\n");
    if let Some(t) = &input.tables.claims {
        let _ = writeln!(h, "{}<p class=\"prov\">{prov}</p>", table(t));
    }
    let _ = writeln!(h, "{}<p class=\"prov\">{prov}</p>", table(ranking_table));
    let _ = writeln!(h, "<p>{}</p>", esc(crate::methods::FACTOR_METHOD));
    h.push_str("</section>\n");
}

/// One experiment's section: what it tests and found, then its tables and figures,
/// each followed by the provenance line, with the notes on contested test images not
/// drawn after its test-set-noise figure.
fn section(
    h: &mut String,
    input: &ReportInput<'_>,
    exp: &ExperimentStats,
    tables: &[Table],
    figs: &[super::Figure],
    notes: &[String],
) {
    let prov = esc(&input.provenance());
    experiment_intro(h, exp);
    if let Some(d) =
        input.decisions.and_then(|d| d.experiments.iter().find(|e| e.experiment == exp.name))
    {
        let _ = writeln!(h, "<p class=\"fit\"><b>Adaptive seeding:</b> {}</p>", esc(&d.line()));
    }
    for t in tables {
        let _ = writeln!(h, "{}<p class=\"prov\">{prov}</p>", table(t));
    }
    let notes_at = super::noise_figure_at(figs, &exp.name);
    for (i, f) in figs.iter().enumerate() {
        let _ = writeln!(
            h,
            "<figure id=\"fig-{}\">{}<figcaption>{} — {prov}</figcaption></figure>",
            esc(&f.name),
            strip_xml_header(&f.svg),
            esc(&f.caption)
        );
        if Some(i) == notes_at {
            contested_notes(h, notes);
        }
    }
    if notes_at.is_none() {
        contested_notes(h, notes);
    }
    h.push_str("</section>\n");
}

/// The notes on an experiment's contested test images not drawn, one paragraph each.
fn contested_notes(h: &mut String, notes: &[String]) {
    for n in notes {
        let _ = writeln!(h, "<p class=\"note\"><b>Contested test images:</b> {}</p>", esc(n));
    }
}

/// The opening of an experiment's section: its title, the claim, the verdict, and the
/// learning-curve fit or the protocol comparison where the experiment has one.
fn experiment_intro(h: &mut String, exp: &ExperimentStats) {
    let _ = writeln!(
        h,
        "<section class=\"experiment\" id=\"{id}\"><h2>{id}: {title}</h2>",
        id = esc(&exp.name),
        title = esc(&exp.title)
    );
    if let Some(claim) = &exp.claim {
        let _ = writeln!(h, "<p class=\"claim\">Claim: {}</p>", esc(claim));
    }
    let _ = writeln!(h, "<p><b>Verdict:</b> {}</p>", esc(&crate::verdicts::headline(exp)));
    if let Some(f) = &exp.learning_curve {
        let _ = writeln!(
            h,
            "<p class=\"fit\"><b>Learning curve:</b> test error ≈ {:.3} · n<sup>−{:.3}</sup> (exponent 95% CI [{:.3}, {:.3}], R² = {:.3}, {} runs).</p>",
            f.scale, f.exponent, f.exponent_ci.0, f.exponent_ci.1, f.r_squared, f.n
        );
    }
    if let Some(cv) = &exp.cross_validation {
        let _ = writeln!(h, "<p class=\"fit\"><b>Protocol:</b> {}</p>", esc(&protocol_line(cv)));
    }
}

/// "Diverged runs": each run the divergence rule caught, with its reason.
fn diverged_runs(h: &mut String, input: &ReportInput<'_>) {
    let Some(t) = &input.tables.diverged else { return };
    let _ = writeln!(
        h,
        "<section id=\"diverged\"><h2>Diverged runs</h2><p>{}</p>\n{}<p class=\"prov\">{}</p></section>",
        esc(crate::methods::DIVERGENCE_RULE),
        table(t),
        esc(&input.provenance())
    );
}

/// Inline SVG must not carry an XML declaration.
fn strip_xml_header(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}
