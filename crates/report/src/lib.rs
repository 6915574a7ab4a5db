//! The report of a study, from its run directory alone: `report.html` (one
//! self-contained page: verdicts first, then a section per experiment with tables and
//! inline figures), `report.md`, `summary.csv`, `ranking.csv`, `comparisons.csv` (one
//! row per compared pair of levels), and every figure as SVG and PNG under `figures/`.
//! Deterministic: the same records and predictions give byte-identical tables.
//!
//! An adaptive study's report also says what its sequential decisions were
//! ([`adaptive`]), and its ranking's verdicts are those decisions. The figure of the
//! test images the seeds fight over needs the data set besides the study directory
//! ([`contested`]): drawn once, its images are kept in the study directory, so that
//! the report regenerates identically without the data.

pub mod adaptive;
pub mod contested;
mod csv_files;
pub mod figures;
pub mod findings;
mod html;
mod integrity;
mod markdown;
pub mod methods;
pub mod ranking_figure;
pub mod reasons;
pub mod sources_figures;
pub mod table;
mod thumbnails;
pub mod verdicts;
pub mod words;

use std::path::{Path, PathBuf};

use cnnvar_analysis::decisions::StudyDecisions;
use cnnvar_analysis::rank::{Ranking, apply_sequential, rank};
use cnnvar_analysis::{PairStats, StudyStats, analyze};
use cnnvar_core::{Error, Result};
use cnnvar_store::{Plan, StudyDir, StudyFile};
use contested::ExperimentImages;
pub use csv_files::{
    CLAIMS_COLUMNS, COMPARISONS_COLUMNS, RANKING_COLUMNS, claims_csv, comparisons_csv, ranking_csv,
    summary_csv,
};
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
    /// claims.csv
    pub claims_csv: PathBuf,
    /// comparisons.csv
    pub comparisons_csv: PathBuf,
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
    pub study: &'a StudyDir,
    /// An adaptive study's sequential decisions; `None` for a fixed study.
    pub decisions: Option<&'a StudyDecisions>,
    /// Per experiment, in experiment order, why some of its contested test images are
    /// not drawn (one line each); may be shorter than the experiments (none then).
    pub contested_notes: &'a [Vec<String>],
}

impl ReportInput<'_> {
    /// The commands that reproduce the report ([`reproduce_line`]).
    pub fn reproduce(&self) -> String {
        reproduce_line(self.plan, self.study.path())
    }

    /// Why some contested test images of experiment `i` are not drawn.
    pub fn contested_notes(&self, i: usize) -> &[String] {
        self.contested_notes.get(i).map_or(&[], Vec::as_slice)
    }

    /// The provenance line under every table and figure.
    pub fn provenance(&self) -> String {
        format!(
            "study {} · {} of {} runs complete{} · reproduce: {}",
            self.stats.study,
            self.stats.complete,
            self.stats.planned,
            script_line(self.plan),
            self.reproduce()
        )
    }
}

/// How the determinism probe is made, under its findings.
pub const PROBE_METHOD: &str = "From `cnnvar probe`: the study's first run trained as it is, again \
     with the same seeds, and with each seed (init, order, subset) changed alone; each compared \
     with the first, test example by test example. A seed whose change changes no prediction is \
     one the training ignores: a variance source of it measures nothing.";

/// The findings of the study's determinism probe (`probe/probe.json`), if it has one; a
/// probe file that cannot be read is said in one line.
pub fn probe_lines(input: &ReportInput<'_>) -> Option<Vec<String>> {
    match cnnvar_store::ProbeReport::read(input.study.path()) {
        Ok(Some(probe)) => Some(probe.lines()),
        Ok(None) => None,
        Err(e) => Some(vec![format!("the probe's file could not be read: {e}")]),
    }
}

/// ` · trained by python3 train.py ${args} (code sha256 8d12d5812b34…)` for a study
/// whose runs a user's script trains (each distinct command and checksum once); empty
/// for built-in training.
pub fn script_line(plan: &Plan) -> String {
    let mut seen: Vec<(String, String)> = Vec::new();
    for run in &plan.runs {
        let Some(script) = &run.spec.script else { continue };
        let code = script
            .code_sha256
            .as_deref()
            .map_or("unknown".into(), |c| c[..12.min(c.len())].to_string());
        let entry = (script.command.join(" "), code);
        if !seen.contains(&entry) {
            seen.push(entry);
        }
    }
    seen.iter()
        .map(|(command, code)| format!(" · trained by {command} (code sha256 {code}…)"))
        .collect()
}

/// The commands that reproduce the report of `plan` in `study_dir`: the sweep
/// (resumes, so it only trains what is missing; with `--data-dir` naming the image
/// folder of a study on one) and the report.
pub fn reproduce_line(plan: &Plan, study_dir: &Path) -> String {
    let out = study_dir.parent().map_or_else(|| PathBuf::from("runs"), Path::to_path_buf);
    plan.sweep_line(&out).then_report(study_dir)
}

/// Analyses the study in `study_dir` and writes the report files there (and the
/// contested test images drawn, `contested-images.json`).
pub fn write_report(study_dir: &Path) -> Result<(ReportFiles, StudyStats, Ranking)> {
    let study = StudyDir::open(study_dir);
    write_report_to(&study, &study)
}

/// Gives each pair of an adaptive study's experiments whose fixed-sample numbers are not
/// valid after its data-dependent stopping its sequential decision, which the tables and
/// comparisons.csv show in their place ([`shown_pair`]).
fn sequential_pairs(stats: &mut StudyStats, study: &cnnvar_core::study::Study, d: &StudyDecisions) {
    for exp in &mut stats.experiments {
        if !cnnvar_analysis::decisions::fixed_sample_invalid(study, &exp.name) {
            continue;
        }
        let delta =
            d.experiments.iter().find(|e| e.experiment == exp.name).map_or(0.0, |e| e.design.delta);
        for pair in &mut exp.pairs {
            let Some(decision) = d.pair(&exp.name, &pair.a, &pair.b) else { continue };
            pair.sequential =
                Some(cnnvar_analysis::SequentialPair { decision: decision.clone(), delta });
        }
    }
}

/// `pair` as the tables and comparisons.csv show it: with a sequential decision, its
/// repeated confidence interval at the look it stopped and its outcome in place of the
/// fixed-sample interval, p-values, power answers and outcome; else as it is.
pub(crate) fn shown_pair(pair: &PairStats) -> std::borrow::Cow<'_, PairStats> {
    use cnnvar_analysis::Outcome;
    use cnnvar_analysis::sequential::Verdict;
    let Some(s) = &pair.sequential else { return std::borrow::Cow::Borrowed(pair) };
    let decision = &s.decision;
    let flip = decision.a != pair.a;
    let rci = decision
        .rci
        .map(|(lo, hi)| if flip { (-hi / 100.0, -lo / 100.0) } else { (lo / 100.0, hi / 100.0) });
    let mut shown = pair.clone();
    shown.ci_adjusted = rci;
    shown.p_adjusted = None;
    shown.welch = None;
    shown.paired = None;
    shown.detectable = None;
    shown.seeds_needed = None;
    shown.significant = matches!(decision.verdict, Verdict::Larger | Verdict::Smaller);
    shown.outcome = match decision.verdict {
        Verdict::Larger | Verdict::Smaller => Outcome::Resolved,
        Verdict::Equivalent => Outcome::WithinNoise,
        Verdict::Continue | Verdict::Undecided => Outcome::Unresolved,
    };
    std::borrow::Cow::Owned(shown)
}

/// The decisions of `plan`'s adaptive study from the records in `study` (every
/// replicate up to `max`, whatever the plan holds now); `None` for a fixed study.
pub fn decisions(plan: &Plan, study: &StudyDir) -> Option<StudyDecisions> {
    let full = plan.at_max_seeds()?;
    cnnvar_analysis::decisions::decisions(&plan.study, &study.results(&full.runs))
}

/// Analyses the study in `study` and writes the report files into `out` (the same
/// directory, or another one for a study that cannot be written to, which is created
/// if need be; nothing is then written into `study`), with an adaptive study's
/// `decisions.json` and `decisions.csv` from the records.
pub fn write_report_to(
    study: &StudyDir,
    out: &StudyDir,
) -> Result<(ReportFiles, StudyStats, Ranking)> {
    let plan = study.plan()?;
    let results = study.results(&plan.runs);
    let stats = analyze(&plan.study, &plan.runs, &results, study.predictions(&results));
    let decisions = decisions(&plan, study);
    let mut stats = stats;
    if let Some(d) = &decisions {
        sequential_pairs(&mut stats, &plan.study, d);
    }
    std::fs::create_dir_all(out.path()).map_err(|e| Error::io(out.path(), e))?;
    // An adaptive study's decisions, from the records as the report's are: an edited
    // decisions.json does not outlive the next report.
    if let Some(d) = &decisions {
        out.write_if_changed(StudyFile::DecisionsJson, &d.to_json()?)?;
        out.write_if_changed(StudyFile::DecisionsCsv, &d.to_csv()?)?;
    }
    let mut ranking = rank(&stats);
    if let Some(d) = &decisions {
        apply_sequential(&mut ranking, &adaptive::sequential(d));
    }
    let contested = contested::gather(&plan, study, out, &stats)?;
    let (figures, ranking_figure) = draw_figures(&stats, &ranking, &contested)?;
    let fig_dir = out.create_dir(StudyFile::Figures)?;
    write_figures(&fig_dir, figures.iter().flatten().chain(ranking_figure.iter()))?;
    let tables = Tables::new(&stats, &ranking);
    let notes: Vec<Vec<String>> = contested.into_iter().map(|c| c.notes).collect();
    let input = ReportInput {
        plan: &plan,
        stats: &stats,
        figures: &figures,
        ranking: &ranking,
        ranking_figure: ranking_figure.as_ref(),
        tables: &tables,
        study,
        decisions: decisions.as_ref(),
        contested_notes: &notes,
    };
    let files = ReportFiles {
        html: out.write(StudyFile::ReportHtml, html::render(&input).as_bytes())?,
        markdown: out.write(StudyFile::ReportMarkdown, markdown::render(&input).as_bytes())?,
        summary_csv: out.write(StudyFile::Summary, &summary_csv(&stats)?)?,
        ranking_csv: out.write(StudyFile::Ranking, &ranking_csv(&stats.study, &ranking)?)?,
        claims_csv: out.write(StudyFile::Claims, &claims_csv(&stats.study, &stats)?)?,
        comparisons_csv: out.write(StudyFile::Comparisons, &comparisons_csv(&stats)?)?,
        figures: fig_dir,
    };
    Ok((files, stats, ranking))
}

/// Every experiment's figures, in experiment order, its contested test images
/// (`contested`, in the same order) right after its test-set-noise figure, and the
/// ranking figure (when there are factors).
fn draw_figures(
    stats: &StudyStats,
    ranking: &Ranking,
    contested: &[ExperimentImages],
) -> Result<(Vec<Vec<Figure>>, Option<Figure>)> {
    let ranking_figure = ranking_figure::ranking_figure(ranking)
        .map_err(|e| Error::encode("the ranking figure", e))?;
    let mut figures = Vec::new();
    for (i, exp) in stats.experiments.iter().enumerate() {
        let mut figs = figures::experiment_figures(exp)
            .map_err(|e| Error::encode(format!("the figures of {}", exp.name), e))?;
        let images = contested.get(i).map(|c| thumbnails::contested_figure(exp, c));
        if let Some(fig) = images
            .transpose()
            .map_err(|e| Error::encode(format!("the contested test images of {}", exp.name), e))?
            .flatten()
        {
            let at = noise_figure_at(&figs, &exp.name).map_or(figs.len(), |i| i + 1);
            figs.insert(at, fig);
        }
        figures.push(figs);
    }
    Ok((figures, ranking_figure))
}

/// Where experiment `exp`'s test-set-noise figure is among its `figs`: its contested
/// test images, or the notes on why they are not drawn, come right after it.
pub(crate) fn noise_figure_at(figs: &[Figure], exp: &str) -> Option<usize> {
    let name = format!("{exp}-test-set-noise");
    figs.iter().position(|f| f.name == name)
}

/// Writes each figure into `fig_dir` as `NAME.svg` and `NAME.png`.
fn write_figures<'a>(fig_dir: &Path, figures: impl Iterator<Item = &'a Figure>) -> Result<()> {
    use cnnvar_store::write_atomic;
    for fig in figures {
        write_atomic(&fig_dir.join(format!("{}.svg", fig.name)), fig.svg.as_bytes())?;
        let png = fig.to_png().map_err(|e| Error::encode(format!("{}.png", fig.name), e))?;
        write_atomic(&fig_dir.join(format!("{}.png", fig.name)), &png)?;
    }
    Ok(())
}

pub use words::ranking_lines;

/// `text` with its first letter in upper case.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// What the numbers are, in one paragraph: runs complete, divergence, seeds, how the
/// intervals and tests are made.
pub(crate) fn about_line(input: &ReportInput<'_>) -> String {
    let stats = input.stats;
    let time = stats
        .time
        .as_ref()
        .map(|t| format!(" {}.", capitalised(&findings::study_time_sentence(t))))
        .unwrap_or_default();
    format!(
        "{} of {} runs complete ({} diverged: out of the accuracy statistics, counted as an \
         outcome of their own); {}. {}{time}",
        stats.complete,
        stats.planned,
        stats.diverged,
        adaptive::seeds_text(input.decisions, stats.seeds),
        intervals_note(stats)
    )
}

/// How the "Chance or chaos?" section judges its sources.
pub(crate) const CHAOS_METHOD: &str = "`rerun` trains the seeds that every single-source \
    arm holds fixed again, replicate after replicate; `nudge` trains them with one weight of \
    the initial model moved by one unit in the last place (a different weight, chosen by the \
    replicate's nudge seed, each time); `threads` trains them with 1, 2, 3 or 4 compute \
    threads in turn, so that only the order of the arithmetic's reductions changes; `split` \
    scores the fixed seeds' model on a new bootstrap resample of the test set each \
    replicate (as many images, drawn with replacement), so that only the test set changes; \
    `backend` trains the fixed seeds' initial weights, drawn on the experiment's backend, on \
    it and on each other CPU backend (flex, ndarray, LibTorch) in turn, so that only the \
    implementation of the arithmetic changes. None shares a seed with the all-seeds arm, so each \
    sd is compared with the all-seeds sd by the 95% F interval of the ratio of two independent \
    sds (normal outcomes). A source whose interval reaches 100% and starts at 50% or above \
    spreads accuracy as much as fully new seeds (chaos: the smallest change is enough); one \
    whose interval lies below 100% spreads it less; anything else is not resolved. \
    `nudge@E` moves the weight chosen by the same nudge seed after epoch E instead of before \
    training. A nudged run's twin is the rerun of its replicate (the same seeds, no weight \
    moved): the share of test images the two predict differently, against the epoch of the \
    nudge, is the butterfly curve (a perturbation early in training diverges; one late may \
    not).";

/// Per `rerun`, `threads`, `split` and nudge source of the study's variance-sources
/// experiments, in experiment and level order: the experiment's name and the source's sentence,
/// capitalised ([`cnnvar_analysis::sources::chaos`]).
pub(crate) fn chaos_sentences(stats: &StudyStats) -> Vec<(String, String)> {
    stats
        .experiments
        .iter()
        .flat_map(|e| {
            let chaos = cnnvar_analysis::sources::chaos(&e.levels);
            chaos.into_iter().map(|c| (e.name.clone(), capitalised(&findings::chaos_sentence(&c))))
        })
        .collect()
}

/// What the report says of the runs without predictions.
pub(crate) const WITHOUT_PREDICTIONS: &str = "These complete runs have no stored \
    predictions (records made before runs stored them, or whose predictions.u8 is \
    damaged): they count in every other statistic, but not in the test-set noise.";

/// The sentence on the study's intervals and tests, under the title.
pub(crate) fn intervals_note(stats: &StudyStats) -> String {
    let tests = if stats.experiments.iter().any(|e| e.paired_seeds) {
        "paired t-tests over replicates (seeds are paired across levels), with Welch's shown too"
    } else {
        "Welch's t-tests (seeds are not paired across levels)"
    };
    format!(
        "Level intervals are 95%; comparisons are {tests}, their intervals and p-values \
         Bonferroni-adjusted over each experiment's comparisons (see How comparisons are \
         decided)."
    )
}

/// The study's sentence on its test-set noise, or why there is none.
pub(crate) fn noise_sentence(stats: &StudyStats) -> String {
    match &stats.test_set_noise {
        Some(n) => findings::study_noise_sentence(n),
        None => "No level has stored predictions from 2 or more runs evaluated on the same \
                 examples, so the test set's part of the seed noise cannot be told here."
            .into(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use cnnvar_core::RunRecord;
    use cnnvar_store::RunDir;

    /// A study written to disk: two ordered-factor levels' worth of neighbours, an
    /// unordered pair, every run with predictions but one (an old record).
    fn study_on_disk() -> (tempfile::TempDir, PathBuf, String) {
        let text = "name = \"t\"\nseeds = 3\n[base]\nepochs = 1\n[[experiment]]\nname = \"size\"\n\
                    vary = { train_size = [100, 300, 1000] }\n[[experiment]]\nname = \"model\"\n\
                    vary = { model = [\"simple\", \"cnn\"] }\n";
        let study = cnnvar_core::study::parse(text, Path::new("t.toml")).expect("parses");
        let plan = Plan::new(study, false);
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("t");
        cnnvar_store::StudyDir::open(&dir).lay_out(&plan).expect("laid out");
        let n = 50;
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let mut old = String::new();
        for run in plan.unique_runs() {
            let wrong = 4 + 3 * run.level_index + run.replicate + (run.replicate * 7) % 3;
            let mut predicted = labels.clone();
            for i in 0..wrong {
                let at = (i * 3 + run.replicate * 11) % n;
                predicted[at] = (predicted[at] + 1) % 10;
            }
            let correct = predicted.iter().zip(&labels).filter(|(p, l)| p == l).count();
            let record = RunRecord {
                test_examples: n,
                test_accuracy: correct as f64 / n as f64,
                ..cnnvar_core::testing::record_of(&run.spec)
            };
            let rd = RunDir::open(dir.join(&run.run_id));
            if run.experiment == "model" && run.replicate == 2 && old.is_empty() {
                rd.write_record(&record).expect("an old record, without predictions");
                old = run.run_id.clone();
            } else {
                rd.write_outputs(&record, &predicted, &labels).expect("outputs");
            }
        }
        (tmp, dir, old)
    }

    /// comparisons.csv has its documented columns and one row per compared pair, every
    /// number readable as one; summary.csv carries each level's test-set noise; the
    /// reports have the test-set section, name the run without predictions, explain the
    /// method, and draw the noise figure.
    #[test]
    fn the_report_writes_comparisons_and_test_set_noise() {
        let (_tmp, dir, old) = study_on_disk();
        let (files, stats, _) = write_report(&dir).expect("report");
        let mut reader = csv::Reader::from_path(&files.comparisons_csv).expect("comparisons.csv");
        let header: Vec<String> =
            reader.headers().expect("header").iter().map(String::from).collect();
        assert_eq!(header, COMPARISONS_COLUMNS);
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
        let pairs: usize = stats.experiments.iter().map(|e| e.pairs.len()).sum();
        assert_eq!((rows.len(), pairs), (3, 3), "2 neighbours of 3 sizes, 1 pair of models");
        let col = |name: &str| header.iter().position(|h| h == name).expect(name);
        let pairs: Vec<(&str, &str, &str)> =
            rows.iter().map(|r| (&r[col("experiment")], &r[col("a")], &r[col("b")])).collect();
        assert_eq!(
            pairs,
            [("size", "100", "300"), ("size", "300", "1000"), ("model", "simple", "cnn")]
        );
        for r in &rows {
            for name in [
                "diff",
                "ci_low",
                "ci_high",
                "welch_p",
                "paired_p",
                "adjusted_p",
                "p_a_beats_b",
                "p_a_beats_b_low",
                "p_a_beats_b_high",
                "detectable_diff",
            ] {
                r[col(name)]
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("{name}: {:?}", &r[col(name)]));
            }
            let (lo, hi) = (
                r[col("ci_low")].parse::<f64>().unwrap(),
                r[col("ci_high")].parse::<f64>().unwrap(),
            );
            let resolved = lo > 0.0 || hi < 0.0;
            assert_eq!(resolved, &r[col("outcome")] == "resolved", "{r:?}");
            assert_eq!(&r[col("test")], "paired");
            assert!(["true", "false"].contains(&&r[col("seeds_needed_capped")]));
            assert!(!r[col("verdict")].is_empty());
        }
        assert_eq!(&rows[0][col("comparisons")], "2");
        assert_eq!(
            (&rows[2][col("comparisons")], &rows[2][col("n_a")]),
            ("1", "3"),
            "the old record counts"
        );

        let mut reader = csv::Reader::from_path(&files.summary_csv).expect("summary.csv");
        let header: Vec<String> =
            reader.headers().expect("header").iter().map(String::from).collect();
        let col = |name: &str| header.iter().position(|h| h == name).expect(name);
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
        for r in rows.iter().filter(|r| &r[col("metric")] == "test_accuracy") {
            let floor: f64 = r[col("floor_sd")].parse().expect("a floor at every level");
            let observed: f64 = r[col("observed_sd")].parse().expect("observed");
            let excess: f64 = r[col("excess_sd")].parse().expect("excess");
            assert!((observed.powi(2) - floor.powi(2)).max(0.0).sqrt() - excess < 1e-5);
            for name in [
                "floor_ci_low",
                "floor_ci_high",
                "disagreement_mean",
                "disagreement_min",
                "disagreement_max",
                "ensemble_accuracy",
                "ensemble_gain",
            ] {
                r[col(name)].parse::<f64>().unwrap_or_else(|_| panic!("{name}"));
            }
            let expected = if &r[col("experiment")] == "size" { &["3"][..] } else { &["2", "3"] };
            assert!(expected.contains(&&r[col("runs_with_predictions")]), "{r:?}");
        }
        assert!(
            rows.iter()
                .filter(|r| &r[col("metric")] == "gap")
                .all(|r| r[col("floor_sd")].is_empty())
        );
        let model_with: Vec<&str> = rows
            .iter()
            .filter(|r| &r[col("experiment")] == "model" && &r[col("metric")] == "gap")
            .map(|r| &r[col("runs_with_predictions")])
            .collect();
        assert_eq!(model_with, ["2", "3"], "the old record lacks predictions");

        let md = std::fs::read_to_string(&files.markdown).expect("report.md");
        let page = std::fs::read_to_string(&files.html).expect("report.html");
        for report in [&md, &page] {
            assert!(report.contains("How much of the seed noise is the test set?"));
            assert!(report.contains("is what a 50-image test set alone produces"), "{report}");
            assert!(report.contains("Runs without predictions") && report.contains(&old));
            assert!(report.contains("How comparisons are decided"));
            assert!(report.contains("paired p"));
            assert!(report.contains("trend across train size (log scale, 9 runs)"));
        }
        assert!(page.contains("<section id=\"test-set-noise\">"));
        assert!(md.find("How much of the seed noise") < md.find("## Verdicts"));
        assert!(files.figures.join("size-test-set-noise.svg").is_file());
        assert!(files.figures.join("size-test-set-noise.png").is_file());
        // Reproducible byte for byte.
        let before = std::fs::read(&files.comparisons_csv).expect("csv");
        write_report(&dir).expect("again");
        assert_eq!(std::fs::read(&files.comparisons_csv).expect("csv"), before);
    }

    /// A tiny Fashion-MNIST-shaped data set in `dir`: 20 training and 12 test images,
    /// test image i all of value 20·i with label i mod 10; its checksum.
    fn tiny_idx(dir: &Path) -> String {
        use cnnvar_data::idx::{write_images, write_labels};
        std::fs::create_dir_all(dir).expect("mkdir");
        let px = 28 * 28;
        let train: Vec<u8> = (0..20 * px).map(|i| (i % 251) as u8).collect();
        let train_labels: Vec<u8> = (0..20).map(|i| (i % 10) as u8).collect();
        let test: Vec<u8> = (0..12).flat_map(|i| std::iter::repeat_n(20 * i as u8, px)).collect();
        let test_labels: Vec<u8> = (0..12).map(|i| (i % 10) as u8).collect();
        let [a, b, c, d] = cnnvar_data::IDX_FILES;
        write_images(&dir.join(a), &train, 20, 28, 28, false).expect("train images");
        write_labels(&dir.join(b), &train_labels, false).expect("train labels");
        write_images(&dir.join(c), &test, 12, 28, 28, false).expect("test images");
        write_labels(&dir.join(d), &test_labels, false).expect("test labels");
        cnnvar_data::load_idx_dir(dir, cnnvar_core::DatasetName::FashionMnist)
            .expect("loads")
            .sha256
    }

    /// A study of 2 sizes × 3 seeds on the tiny data set in `data` (checksum `sha`),
    /// evaluated on its 12 test images: examples 0 to 5 each get one wrong vote.
    fn contested_study(tmp: &Path, data: &Path, sha: &str) -> PathBuf {
        let text = "name = \"c\"\nseeds = 3\n[base]\nepochs = 1\n[[experiment]]\nname = \"size\"\n\
                    vary = { train_size = [10, 20] }\n";
        let plan =
            Plan::new(cnnvar_core::study::parse(text, Path::new("c.toml")).expect("parses"), false);
        let dir = tmp.join("c");
        cnnvar_store::StudyDir::open(&dir).lay_out(&plan).expect("laid out");
        let labels: Vec<u8> = (0..12).map(|i| (i % 10) as u8).collect();
        for run in plan.unique_runs() {
            let predicted: Vec<u8> = (0..12)
                .map(|i| {
                    if i < 6 && (i + run.replicate) % 3 == 0 {
                        (labels[i] + 1) % 10
                    } else {
                        labels[i]
                    }
                })
                .collect();
            let mut record = RunRecord {
                test_examples: 12,
                test_accuracy: 10.0 / 12.0,
                ..cnnvar_core::testing::record_of(&run.spec)
            };
            record.provenance.data_sha256 = sha.to_string();
            record.provenance.data_source = data.display().to_string();
            RunDir::open(dir.join(&run.run_id))
                .write_outputs(&record, &predicted, &labels)
                .expect("outputs");
        }
        dir
    }

    /// The contested test images are drawn from the data set the records name, right
    /// after the test-set-noise figure, and kept: without the data the report is the
    /// same byte for byte; without the data and the kept images, a note names the data
    /// set and its checksum and nothing is drawn.
    #[test]
    fn contested_images_are_drawn_kept_and_noted_when_missing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let sha = tiny_idx(&data);
        let dir = contested_study(tmp.path(), &data, &sha);
        let (files, _, _) = write_report(&dir).expect("report");
        let md = std::fs::read_to_string(&files.markdown).expect("md");
        let page = std::fs::read_to_string(&files.html).expect("html");
        let png = std::fs::read(files.figures.join("size-contested.png")).expect("its PNG");
        let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png).expect("a PNG");
        assert_eq!(pixmap.width(), 2 * 12 + 6 * 150, "6 contested images per level");
        assert!(files.figures.join("size-contested.svg").is_file());
        let at = |s: &str| md.find(s).unwrap_or_else(|| panic!("{s} in {md}"));
        assert!(at("size-test-set-noise.png") < at("size-contested.png"));
        assert!(at("size-contested.png") < at("size-per-class.png"));
        assert!(!md.contains("Contested test images:"), "{md}");
        let figure = page.split("<figure id=\"fig-size-contested\">").nth(1).expect("in the page");
        let figure = figure.split("</figure>").next().unwrap_or_default();
        assert_eq!(figure.matches("<image ").count(), 12, "6 per level");
        for caption in
            ["true: T-shirt/top", "true: Trouser", "Trouser 2 · Pullover 1", "true: Coat"]
        {
            assert!(
                figure.contains(&format!(">{caption}<")) || figure.contains(caption),
                "{caption}"
            );
        }
        assert!(
            cnnvar_store::StudyDir::open(&dir)
                .file(cnnvar_store::StudyFile::ContestedImages)
                .is_file()
        );

        std::fs::remove_dir_all(&data).expect("rm data");
        write_report(&dir).expect("again");
        assert_eq!(std::fs::read_to_string(&files.markdown).expect("md"), md);
        assert_eq!(std::fs::read_to_string(&files.html).expect("html"), page);

        std::fs::remove_file(
            cnnvar_store::StudyDir::open(&dir).file(cnnvar_store::StudyFile::ContestedImages),
        )
        .expect("rm cache");
        write_report(&dir).expect("a report without the images");
        let md = std::fs::read_to_string(&files.markdown).expect("md");
        let note = format!("data set `fashion-mnist` (sha256 {sha})");
        assert_eq!(md.matches(&note).count(), 1, "one note for both levels: {md}");
        assert!(!md.contains("size-contested.png"), "{md}");
        let page = std::fs::read_to_string(&files.html).expect("html");
        assert!(page.contains(&note) && !page.contains("fig-size-contested"));
    }

    /// The reproduce line names the image folder of a study on one, quoted for the
    /// shell where it must be; a study on a named data set has no --data-dir.
    #[test]
    fn the_reproduce_line_names_the_image_folder() {
        let folder = |dir: &str| {
            let text = format!(
                "name = \"f\"\nseeds = 2\n[base]\ndataset = \"folder\"\ndata_dir = \"{dir}\"\n\
                 [[experiment]]\nname = \"a\"\nvary = {{ lr = [0.1, 0.01] }}\n"
            );
            Plan::new(
                cnnvar_core::study::parse(&text, Path::new("studies/f.toml")).expect("parses"),
                false,
            )
        };
        let line = reproduce_line(&folder("/srv/digits"), Path::new("runs/f"));
        assert_eq!(
            line,
            "cnnvar sweep studies/f.toml --data-dir /srv/digits --out runs && cnnvar report runs/f"
        );
        let line = reproduce_line(&folder("/srv/my digits's"), Path::new("runs/f"));
        assert!(line.contains(" --data-dir '/srv/my digits'\\''s' --out runs"), "{line}");
        let mut two = folder("/srv/a");
        two.study.experiments[0].levels[1].spec.data_dir = Some("/srv/b".into());
        assert!(!reproduce_line(&two, Path::new("runs/f")).contains("--data-dir"));
        let text =
            "name = \"n\"\nseeds = 2\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n";
        let named =
            Plan::new(cnnvar_core::study::parse(text, Path::new("n.toml")).expect("parses"), false);
        assert_eq!(
            reproduce_line(&named, Path::new("runs/n")),
            "cnnvar sweep n.toml --out runs && cnnvar report runs/n"
        );
    }
}
