//! The report of a study, from its run directory alone: `report.html` (one
//! self-contained page: verdicts first, then a section per experiment with tables and
//! inline figures), `report.md`, `summary.csv`, and every figure as SVG and PNG under
//! `figures/`. Deterministic: the same records give byte-identical tables.

pub mod figures;
mod html;
mod integrity;
mod markdown;
pub mod table;

use std::path::{Path, PathBuf};

use cnnvar_core::{Error, Result, write_atomic};

use crate::analysis::rank::{Ranking, describe, rank};
use crate::analysis::{StudyStats, analyze};
use crate::sweep::Plan;
use figures::Figure;
pub use integrity::store_notes;
use table::Tables;

/// What a report was written to.
#[derive(Clone, Debug)]
pub struct ReportFiles {
    /// report.html
    pub html: PathBuf,
    /// report.md
    pub markdown: PathBuf,
    /// summary.csv
    pub summary_csv: PathBuf,
    /// ranking.csv
    pub ranking_csv: PathBuf,
    /// The figures directory.
    pub figures: PathBuf,
}

/// Everything a renderer needs.
pub struct ReportInput<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// The analysis.
    pub stats: &'a StudyStats,
    /// Figures per experiment, in experiment order.
    pub figures: &'a [Vec<Figure>],
    /// The factors ranked by effect.
    pub ranking: &'a Ranking,
    /// The ranking figure, when there are factors.
    pub ranking_figure: Option<&'a Figure>,
    /// The report's tables, built from `stats` and `ranking`.
    pub tables: &'a Tables,
    /// The study directory as the user named it.
    pub study_dir: &'a Path,
}

impl ReportInput<'_> {
    /// The commands that reproduce the report: the sweep (resumes, so it only trains
    /// what is missing) and the report.
    pub fn reproduce(&self) -> String {
        let options = self.plan.options();
        let out = self
            .study_dir
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "runs".into());
        format!(
            "cnnvar sweep {}{options} --out {out} && cnnvar report {}",
            self.plan.study.source.display(),
            self.study_dir.display()
        )
    }

    /// The provenance line under every table and figure.
    pub fn provenance(&self) -> String {
        format!(
            "study {} · {} of {} runs complete · reproduce: {}",
            self.stats.study,
            self.stats.complete,
            self.stats.planned,
            self.reproduce()
        )
    }
}

/// Analyses the study in `study_dir` and writes the report files there.
pub fn write_report(study_dir: &Path) -> Result<(ReportFiles, StudyStats, Ranking)> {
    let plan = Plan::load(study_dir)?;
    let stats = analyze(&plan, study_dir);
    let ranking = rank(&stats);
    let (figures, ranking_figure) = draw_figures(&stats, &ranking)?;
    let fig_dir = study_dir.join("figures");
    write_figures(&fig_dir, figures.iter().flatten().chain(ranking_figure.iter()))?;
    let tables = Tables::new(&stats, &ranking);
    let input = ReportInput {
        plan: &plan,
        stats: &stats,
        figures: &figures,
        ranking: &ranking,
        ranking_figure: ranking_figure.as_ref(),
        tables: &tables,
        study_dir,
    };
    let files = ReportFiles {
        html: study_dir.join("report.html"),
        markdown: study_dir.join("report.md"),
        summary_csv: study_dir.join("summary.csv"),
        ranking_csv: study_dir.join("ranking.csv"),
        figures: fig_dir,
    };
    write_atomic(&files.html, html::render(&input).as_bytes())?;
    write_atomic(&files.markdown, markdown::render(&input).as_bytes())?;
    write_atomic(&files.summary_csv, &summary_csv(&stats)?)?;
    write_atomic(&files.ranking_csv, &ranking_csv(&stats.study, &ranking)?)?;
    Ok((files, stats, ranking))
}

/// Every experiment's figures, in experiment order, and the ranking figure (when
/// there are factors).
fn draw_figures(
    stats: &StudyStats,
    ranking: &Ranking,
) -> Result<(Vec<Vec<Figure>>, Option<Figure>)> {
    let ranking_figure = figures::ranking_figure(ranking)
        .map_err(|e| Error::Other(format!("drawing the ranking figure: {e}")))?;
    let mut figures = Vec::new();
    for exp in &stats.experiments {
        let figs = figures::experiment_figures(exp)
            .map_err(|e| Error::Other(format!("drawing the figures of {}: {e}", exp.name)))?;
        figures.push(figs);
    }
    Ok((figures, ranking_figure))
}

/// Writes each figure into `fig_dir` (created if missing) as `NAME.svg` and `NAME.png`.
fn write_figures<'a>(fig_dir: &Path, figures: impl Iterator<Item = &'a Figure>) -> Result<()> {
    std::fs::create_dir_all(fig_dir).map_err(|e| Error::io(fig_dir, e))?;
    for fig in figures {
        write_atomic(&fig_dir.join(format!("{}.svg", fig.name)), fig.svg.as_bytes())?;
        let png = figures::png(&fig.svg)
            .map_err(|e| Error::Other(format!("rendering {}.png: {e}", fig.name)))?;
        write_atomic(&fig_dir.join(format!("{}.png", fig.name)), &png)?;
    }
    Ok(())
}

/// The ranking as lines for the terminal: `1. Training-set size: 9.5 points (19× seed noise) …`.
pub fn ranking_lines(ranking: &Ranking) -> Vec<String> {
    let mut lines: Vec<String> =
        ranking.factors.iter().enumerate().map(|(i, f)| describe(i + 1, f)).collect();
    if let Some(sd) = ranking.noise_sd {
        lines.push(format!(
            "seed noise: {:.2} points (sd of test accuracy within levels, median over experiments)",
            100.0 * sd
        ));
    }
    lines
}

/// `ranking.csv`: one row per factor, ranked.
pub fn ranking_csv(study: &str, ranking: &Ranking) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| Error::Other(format!("writing ranking.csv: {e}"));
    w.write_record([
        "study",
        "rank",
        "experiment",
        "title",
        "levels",
        "runs",
        "range",
        "range_ci_low",
        "range_ci_high",
        "sd_of_means",
        "noise_sd",
        "noise_ratio",
        "eta_squared",
        "eta_squared_ci_low",
        "eta_squared_ci_high",
        "anova_p",
        "kruskal_p",
        "distinguishable",
        "best",
        "worst",
        "finding",
    ])
    .map_err(e)?;
    let num = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    for (i, f) in ranking.factors.iter().enumerate() {
        w.write_record([
            study.to_string(),
            (i + 1).to_string(),
            f.experiment.clone(),
            f.title.clone(),
            f.levels.to_string(),
            f.runs.to_string(),
            num(Some(f.range)),
            num(f.range_ci.map(|c| c.0)),
            num(f.range_ci.map(|c| c.1)),
            num(Some(f.sd_of_means)),
            num(f.noise_sd),
            num(f.noise_ratio),
            num(f.eta_squared),
            num(f.eta_squared_ci.map(|c| c.0)),
            num(f.eta_squared_ci.map(|c| c.1)),
            num(f.anova_p),
            num(f.kruskal_p),
            f.distinguishable.to_string(),
            f.best.clone(),
            f.worst.clone(),
            f.finding.clone(),
        ])
        .map_err(e)?;
    }
    w.into_inner().map_err(|x| Error::Other(format!("writing ranking.csv: {x}")))
}

/// `summary.csv`: one row per experiment, level and metric.
pub fn summary_csv(stats: &StudyStats) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let e = |e: csv::Error| Error::Other(format!("writing summary.csv: {e}"));
    w.write_record([
        "study",
        "experiment",
        "level",
        "metric",
        "planned",
        "complete",
        "diverged",
        "n",
        "mean",
        "sd",
        "ci_low",
        "ci_high",
        "min",
        "max",
    ])
    .map_err(e)?;
    let num = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    for exp in &stats.experiments {
        for level in &exp.levels {
            for (metric, s) in [
                ("test_accuracy", &level.test_accuracy),
                ("test_loss", &level.test_loss),
                ("gap", &level.gap),
            ] {
                w.write_record([
                    stats.study.clone(),
                    exp.name.clone(),
                    level.label.clone(),
                    metric.to_string(),
                    level.planned.to_string(),
                    level.complete.to_string(),
                    level.diverged.to_string(),
                    s.as_ref().map_or(0, |s| s.n).to_string(),
                    num(s.as_ref().map(|s| s.mean)),
                    num(s.as_ref().and_then(|s| s.sd)),
                    num(s.as_ref().and_then(|s| s.ci.map(|c| c.0))),
                    num(s.as_ref().and_then(|s| s.ci.map(|c| c.1))),
                    num(s.as_ref().map(|s| s.min)),
                    num(s.as_ref().map(|s| s.max)),
                ])
                .map_err(e)?;
            }
        }
    }
    w.into_inner().map_err(|x| Error::Other(format!("writing summary.csv: {x}")))
}

/// `0.9123` → `91.23`; `None` → `–`.
pub(crate) fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.2}", 100.0 * x)).unwrap_or_else(|| "–".into())
}

/// A p-value for tables.
pub(crate) fn p_text(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "< 0.001".into(),
        Some(p) => format!("{p:.3}"),
        None => "–".into(),
    }
}

/// The protocol experiment's two estimators with the intervals of their spread.
pub(crate) fn protocol_line(cv: &crate::analysis::cv::ProtocolStats) -> String {
    let sd = |s: &crate::analysis::stats::Summary, ci: Option<(f64, f64)>| {
        let interval = ci
            .map(|(lo, hi)| format!(" [{:.2}, {:.2}]", 100.0 * lo, 100.0 * hi))
            .unwrap_or_default();
        format!("mean {:.2}%, sd {}{interval} points", 100.0 * s.mean, pct(s.sd))
    };
    format!(
        "single split: {}; {}-fold cross-validation: {} ({} replicates).",
        sd(&cv.single_split, cv.single_split_sd_ci),
        cv.folds,
        sd(&cv.k_fold, cv.k_fold_sd_ci),
        cv.replicates
    )
}
