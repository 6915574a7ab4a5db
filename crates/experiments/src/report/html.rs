//! report.html: one self-contained page, readable at a glance.

use std::fmt::Write;

use super::{ReportInput, p_text, pct, protocol_line};
use crate::analysis::ExperimentStats;
use crate::study::ExperimentKind;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:2px solid #ddd;padding-bottom:.2em}\
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}\
th{background:#f3f3f3}td.l,th.l{text-align:left}.yes{color:#0a6b0a;font-weight:600}.no{color:#777}\
.verdicts li{margin:.35em 0}.claim{font-style:italic;color:#444}.prov{font-size:.8em;color:#777;margin:.2em 0 1.2em}\
figure{margin:1em 0}figcaption{font-size:.85em;color:#555}svg{max-width:100%;height:auto}code{background:#f5f5f5;padding:0 .2em}";

/// The page.
pub fn render(input: &ReportInput<'_>) -> String {
    let stats = input.stats;
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>cnnvar report: {name}</title><style>{STYLE}</style></head><body>\n\
         <h1>Why does accuracy vary? Study <code>{name}</code></h1>\n<p>{desc}</p>\n\
         <p>{complete} of {planned} runs complete ({diverged} diverged: left out of the level means, counted at chance accuracy in comparisons and the ranking); {seeds} seeds per level. \
         Intervals are 95%; pairwise tests are Welch's t-test with Holm's correction within each experiment.</p>",
        name = esc(&stats.study),
        desc = esc(&input.plan.study.description),
        complete = stats.complete,
        planned = stats.planned,
        diverged = stats.diverged,
        seeds = stats.seeds,
    );
    h += &super::integrity::html(input);
    ranking_section(&mut h, input);
    h += "<section id=\"verdicts\"><h2>Verdicts</h2><ul class=\"verdicts\">\n";
    for exp in &stats.experiments {
        let _ = writeln!(
            h,
            "<li><a href=\"#{}\"><b>{}</b> — {}</a>: {}</li>",
            esc(&exp.name),
            esc(&exp.name),
            esc(&exp.title),
            esc(&exp.headline)
        );
    }
    let _ = writeln!(h, "</ul><p class=\"prov\">{}</p></section>", esc(&input.provenance()));
    diverged_runs(&mut h, input);
    for (exp, figs) in stats.experiments.iter().zip(input.figures) {
        section(&mut h, input, exp, figs);
    }
    h += "</body></html>\n";
    h
}

/// "Why does accuracy vary here?": the ranked factors, their figure and what the data
/// says of each claim. Opens the report.
fn ranking_section(h: &mut String, input: &ReportInput<'_>) {
    let r = input.ranking;
    if r.factors.is_empty() {
        return;
    }
    h.push_str(
        "<section id=\"ranking\"><h2>Why does accuracy vary here?</h2>\n<ol class=\"ranking\">\n",
    );
    for (i, f) in r.factors.iter().enumerate() {
        let line = crate::analysis::rank::describe(i + 1, f);
        let text = line.split_once(". ").map_or(line.as_str(), |(_, t)| t);
        let _ = writeln!(
            h,
            "<li class=\"{}\">{}</li>",
            if f.distinguishable { "yes" } else { "no" },
            esc(text)
        );
    }
    h.push_str("</ol>\n");
    if let Some(sd) = r.noise_sd {
        let all = r
            .all_seeds_sd
            .map(|s| {
                format!(
                    "; all seeds varying, in the variance-sources experiment: {:.2} points",
                    100.0 * s
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<p>Seed noise in this study: a standard deviation of {:.2} points of test accuracy between runs that differ only in their seeds (within a level; the median over experiments){all}.</p>",
            100.0 * sd
        );
    }
    h.push_str("<table class=\"rank\"><caption>Factors ranked by effect on test accuracy</caption><tr><th>#</th><th class=\"l\">factor</th><th>levels</th><th>runs</th><th>effect (pts)</th><th>95% CI</th><th>× seed noise</th><th>η² (%)</th><th>η² 95% CI</th><th>ANOVA p</th><th>Kruskal–Wallis p</th><th class=\"l\">best</th><th class=\"l\">worst</th></tr>\n");
    for (i, f) in r.factors.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
            i + 1,
            esc(&f.title),
            f.levels,
            f.runs,
            pct(Some(f.range)),
            f.range_ci.map_or("–".into(), |(a, b)| format!(
                "[{}, {}]",
                pct(Some(a)),
                pct(Some(b))
            )),
            f.noise_ratio.map_or("–".into(), |x| format!("{x:.1}")),
            pct(f.eta_squared),
            f.eta_squared_ci.map_or("–".into(), |(a, b)| format!(
                "[{}, {}]",
                pct(Some(a)),
                pct(Some(b))
            )),
            p_text(f.anova_p),
            p_text(f.kruskal_p),
            esc(&f.best),
            esc(&f.worst)
        );
    }
    let _ = writeln!(h, "</table><p class=\"prov\">{}</p>", esc(&input.provenance()));
    if let Some(fig) = input.ranking_figure {
        let _ = writeln!(
            h,
            "<figure id=\"fig-ranking\">{}<figcaption>{} — {}</figcaption></figure>",
            strip_xml_header(&fig.svg),
            esc(&fig.caption),
            esc(&input.provenance())
        );
    }
    h.push_str("<h3>What the data says of each claim</h3><ul class=\"claims\">\n");
    for f in &r.factors {
        let _ = writeln!(h, "<li><b>{}</b>: {}</li>", esc(&f.title), esc(&f.finding));
    }
    h.push_str("</ul></section>\n");
}

fn section(h: &mut String, input: &ReportInput<'_>, exp: &ExperimentStats, figs: &[super::Figure]) {
    let prov = esc(&input.provenance());
    let _ = writeln!(
        h,
        "<section class=\"experiment\" id=\"{id}\"><h2>{id}: {title}</h2>",
        id = esc(&exp.name),
        title = esc(&exp.title)
    );
    if let Some(claim) = &exp.claim {
        let _ = writeln!(h, "<p class=\"claim\">Claim: {}</p>", esc(claim));
    }
    let _ = writeln!(h, "<p><b>Verdict:</b> {}</p>", esc(&exp.headline));
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
    let factor = esc(&exp.factors.join(", "));
    let _ = writeln!(
        h,
        "<table class=\"levels\"><caption>Test accuracy (%), loss and generalisation gap by level</caption>\
         <tr><th class=\"l\">{factor}</th><th>runs</th><th>diverged</th><th>mean acc</th><th>sd</th><th>95% CI</th><th>min</th><th>max</th>\
         <th>test loss</th><th>gap (pts)</th><th>gap 95% CI</th></tr>"
    );
    for l in &exp.levels {
        let acc = l.test_accuracy.as_ref();
        let _ = writeln!(
            h,
            "<tr><td class=\"l\">{}</td><td>{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&l.label),
            l.complete,
            l.planned,
            l.diverged,
            pct(acc.map(|s| s.mean)),
            pct(acc.and_then(|s| s.sd)),
            acc.and_then(|s| s.ci).map_or("–".into(), |(a, b)| format!(
                "[{}, {}]",
                pct(Some(a)),
                pct(Some(b))
            )),
            pct(acc.map(|s| s.min)),
            pct(acc.map(|s| s.max)),
            l.test_loss.as_ref().map_or("–".into(), |s| format!("{:.4}", s.mean)),
            pct(l.gap.as_ref().map(|s| s.mean)),
            l.gap.as_ref().and_then(|s| s.ci).map_or("–".into(), |(a, b)| format!(
                "[{}, {}]",
                pct(Some(a)),
                pct(Some(b))
            )),
        );
    }
    let _ = writeln!(h, "</table><p class=\"prov\">{prov}</p>");
    if exp.kind == ExperimentKind::Factor && !exp.pairs.is_empty() {
        h.push_str(
            "<table class=\"pairs\"><caption>Pairwise comparisons of test accuracy (A − B)</caption>\
             <tr><th class=\"l\">A</th><th class=\"l\">B</th><th>diff (pts)</th><th>95% CI (Welch)</th><th>p</th><th>p (Holm)</th>\
             <th>P(A beats B)</th><th>Cohen's d</th><th class=\"l\">verdict</th></tr>\n",
        );
        for p in &exp.pairs {
            let c = &p.comparison;
            let _ = writeln!(
                h,
                "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td><td class=\"l {}\">{}</td></tr>",
                esc(&p.a),
                esc(&p.b),
                pct(Some(c.diff)),
                c.ci.map_or("–".into(), |(a, b)| format!("[{}, {}]", pct(Some(a)), pct(Some(b)))),
                p_text(c.p),
                p_text(p.p_holm),
                c.prob_a_beats_b,
                c.cohen_d.map_or("–".into(), |d| format!("{d:.2}")),
                if p.significant { "yes" } else { "no" },
                esc(&p.verdict)
            );
        }
        let _ = writeln!(h, "</table><p class=\"prov\">{prov}</p>");
    }
    if !exp.sources.is_empty() {
        h.push_str(
            "<table class=\"sources\"><caption>Standard deviation of test accuracy when one source of randomness varies</caption>\
             <tr><th class=\"l\">source varied</th><th>runs</th><th>sd (pts)</th><th>95% CI</th></tr>\n",
        );
        for s in &exp.sources {
            let _ = writeln!(
                h,
                "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&s.source),
                s.n,
                pct(s.sd),
                s.sd_ci.map_or("–".into(), |(a, b)| format!(
                    "[{}, {}]",
                    pct(Some(a)),
                    pct(Some(b))
                ))
            );
        }
        let _ = writeln!(h, "</table><p class=\"prov\">{prov}</p>");
    }
    for f in figs {
        let _ = writeln!(
            h,
            "<figure id=\"fig-{}\">{}<figcaption>{} — {prov}</figcaption></figure>",
            esc(&f.name),
            strip_xml_header(&f.svg),
            esc(&f.caption)
        );
    }
    h.push_str("</section>\n");
}

/// "Diverged runs": each run the divergence rule caught, with its reason.
fn diverged_runs(h: &mut String, input: &ReportInput<'_>) {
    let rows = input.stats.diverged_runs();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        h,
        "<section id=\"diverged\"><h2>Diverged runs</h2><p>{}</p>\n<table class=\"diverged\"><tr>\
         <th class=\"l\">experiment</th><th class=\"l\">level</th><th>seed</th><th class=\"l\">run</th>\
         <th class=\"l\">reason</th></tr>",
        esc(crate::analysis::DIVERGENCE_RULE)
    );
    for (exp, level, run) in rows {
        let _ = writeln!(
            h,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td class=\"l\"><code>{}</code></td><td class=\"l\">{}</td></tr>",
            esc(exp),
            esc(level),
            run.replicate + 1,
            esc(&run.run_id),
            esc(&run.reason)
        );
    }
    let _ = writeln!(h, "</table><p class=\"prov\">{}</p></section>", esc(&input.provenance()));
}

/// Inline SVG must not carry an XML declaration.
fn strip_xml_header(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}
