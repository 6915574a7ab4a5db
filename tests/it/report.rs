//! The report: rendered in headless Chromium, and regenerated from the run directory
//! alone with identical tables.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

const STUDY: &str = r#"
name = "rep"
description = "A toy study for the report test."
seeds = 3
seed = 1
[base]
epochs = 2
train_size = 300
[[experiment]]
name = "size"
title = "Training-set size"
claim = "More data helps."
vary = { train_size = [60, 300] }
[[experiment]]
name = "noise"
title = "Sources of seed noise"
kind = "variance-sources"
base = { train_size = 200, subset = "stratified" }
"#;

/// Runs the toy study and returns (tempdir, study directory).
fn toy_study() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    write_toy_idx(&data, 400, 100, 28, true);
    let study = tmp.path().join("rep.toml");
    std::fs::write(&study, STUDY).expect("write");
    let out = tmp.path().join("runs");
    let o = output(
        cnnvar()
            .args(["sweep", "--quiet", "--out"])
            .arg(&out)
            .arg("--data-dir")
            .arg(&data)
            .arg(&study),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    (tmp, out.join("rep"))
}

pub(crate) fn chromium() -> Option<PathBuf> {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    if std::env::var("CNNVAR_REQUIRE_BROWSER").is_ok() {
        panic!("Chromium is required (CNNVAR_REQUIRE_BROWSER) but not installed");
    }
    skip("no Chromium (apt-get install chromium)");
    None
}

pub(crate) fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Must-show 1: the page renders with a title, one section and table per experiment,
/// figures in every section, and no console errors; a screenshot is taken.
#[test]
fn report_renders_in_headless_chromium() {
    let (tmp, dir) = toy_study();
    let Some(browser) = chromium() else { return };
    let page = dir.join("report.html");
    let url = format!("file://{}", page.display());
    let shot = tmp.path().join("report.png");
    let o = headless(&browser, &tmp.path().join("profile-a"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,2400")
        .arg(&url)
        .output()
        .expect("run chromium");
    let log = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "chromium failed: {log}");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot too small: {} bytes",
        png.len()
    );
    let o = headless(&browser, &tmp.path().join("profile-b"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("run chromium");
    let log2 = String::from_utf8_lossy(&o.stderr).to_string();
    let dom = String::from_utf8_lossy(&o.stdout).to_string();
    for l in log.lines().chain(log2.lines()) {
        assert!(
            !(l.contains("CONSOLE") && (l.contains("ERROR") || l.contains("Uncaught"))),
            "console error: {l}"
        );
        assert!(!l.contains("Failed to load resource"), "page loads a resource: {l}");
    }
    assert!(dom.contains("<title>cnnvar report: rep</title>"), "title");
    let sections: Vec<&str> = dom.split("<section class=\"experiment\"").skip(1).collect();
    assert_eq!(sections.len(), 2, "one section per experiment");
    for s in &sections {
        let s = s.split("</section>").next().unwrap_or_default();
        assert!(s.contains("<table"), "a table per experiment");
        assert!(s.contains("<svg"), "a figure per experiment");
        assert!(s.contains("reproduce: cnnvar sweep"), "provenance under tables and figures");
    }
    assert!(
        dom.find("id=\"verdicts\"") < dom.find("<section class=\"experiment\""),
        "verdicts first"
    );
    // Self-contained: nothing is fetched (SVG namespaces are names, not fetches).
    for fetch in ["src=\"http", "href=\"http", "<link", "<script", "url(http", "@import"] {
        assert!(!dom.contains(fetch), "page fetches something: {fetch}");
    }
}

/// Must-show 2: `cnnvar report` regenerates the report from the run directory alone
/// (data and study file gone) with identical tables, training nothing.
#[test]
fn report_regenerates_identically_from_the_run_directory() {
    let (tmp, dir) = toy_study();
    let before_md = std::fs::read(dir.join("report.md")).expect("report.md");
    let before_csv = std::fs::read(dir.join("summary.csv")).expect("summary.csv");
    let before_html = std::fs::read(dir.join("report.html")).expect("report.html");
    let before_pairs = std::fs::read(dir.join("comparisons.csv")).expect("comparisons.csv");
    std::fs::remove_dir_all(tmp.path().join("data")).expect("rm data");
    std::fs::remove_file(tmp.path().join("rep.toml")).expect("rm study");
    for f in ["report.md", "summary.csv", "report.html", "comparisons.csv"] {
        std::fs::remove_file(dir.join(f)).expect("rm");
    }
    let o = output(cnnvar().arg("report").arg(&dir));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(dir.join("report.md")).expect("md"), before_md);
    assert_eq!(std::fs::read(dir.join("summary.csv")).expect("csv"), before_csv);
    assert_eq!(std::fs::read(dir.join("report.html")).expect("html"), before_html);
    assert_eq!(std::fs::read(dir.join("comparisons.csv")).expect("csv"), before_pairs);
    let verdicts = String::from_utf8_lossy(&o.stdout);
    assert!(verdicts.contains("size") && verdicts.contains("noise"), "{verdicts}");
    // Every figure exists as SVG and PNG.
    let figs: Vec<_> = std::fs::read_dir(dir.join("figures")).expect("figures").flatten().collect();
    assert!(figs.iter().any(|f| f.path().extension().is_some_and(|e| e == "png")));
    assert!(figs.iter().any(|f| f.path().extension().is_some_and(|e| e == "svg")));
}

/// `cnnvar report` rewrites results.csv from the records: a run whose record was
/// removed drops out of it, and every spec field is a column.
#[test]
fn report_rewrites_results_csv_without_removed_runs() {
    let (_tmp, dir) = toy_study();
    let csv = std::fs::read_to_string(dir.join("results.csv")).expect("results.csv");
    let header: Vec<&str> = csv.lines().next().unwrap_or_default().split(',').collect();
    for field in ["dropout", "augment", "label_noise", "evaluate_on", "fold", "depth", "width"] {
        assert!(header.contains(&field), "no `{field}` column: {header:?}");
    }
    let id_col = header.iter().position(|h| *h == "run_id").expect("run_id column");
    let gone = csv.lines().nth(1).expect("a row").split(',').nth(id_col).expect("id").to_string();
    let rows_of = |text: &str| text.lines().skip(1).filter(|l| l.contains(&gone)).count();
    assert!(rows_of(&csv) >= 1);
    std::fs::remove_file(dir.join(&gone).join("record.json")).expect("rm record");
    let o = output(cnnvar().arg("report").arg(&dir));
    assert!(o.status.success(), "{}", stderr(&o));
    let after = std::fs::read_to_string(dir.join("results.csv")).expect("results.csv");
    assert_eq!(rows_of(&after), 0, "run {gone} still listed:\n{after}");
    assert_eq!(after.lines().count(), csv.lines().count() - rows_of(&csv));
}

/// Issue 18: the report says how much of the seed noise is the test set, from the runs'
/// stored predictions and labels alone (the data set gone), and writes one row per
/// compared pair to comparisons.csv: the size experiment's two levels, paired.
#[test]
fn report_splits_seed_noise_and_writes_comparisons() {
    let (tmp, dir) = toy_study();
    std::fs::remove_dir_all(tmp.path().join("data")).expect("rm data");
    let o = output(cnnvar().arg("report").arg(&dir));
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    assert!(md.contains("## How much of the seed noise is the test set?"), "{md}");
    assert!(md.contains("is what a 100-image test set alone produces"), "{md}");
    assert!(md.contains("How comparisons are decided"), "{md}");
    assert!(md.contains("trend across train size"), "{md}");
    assert!(dir.join("figures/size-test-set-noise.svg").is_file());
    let csv = std::fs::read_to_string(dir.join("comparisons.csv")).expect("comparisons.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    for column in [
        "study",
        "experiment",
        "a",
        "b",
        "diff",
        "ci_low",
        "ci_high",
        "welch_p",
        "paired_p",
        "adjusted_p",
        "p_a_beats_b",
        "cohen_d",
        "detectable_diff",
        "seeds_needed",
        "verdict",
    ] {
        assert!(header.contains(&column), "no `{column}` column: {header:?}");
    }
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1, "one pair of sizes: {csv}");
    assert!(rows[0].starts_with("rep,size,60,300,"), "{csv}");
    let at = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let cells: Vec<&str> = rows[0].split(',').collect();
    assert_eq!(cells[at("test")], "paired");
    for name in ["diff", "ci_low", "ci_high", "welch_p", "paired_p", "adjusted_p"] {
        assert!(cells[at(name)].parse::<f64>().is_ok(), "{name}: {}", cells[at(name)]);
    }
    let summary = std::fs::read_to_string(dir.join("summary.csv")).expect("summary.csv");
    let header: Vec<&str> = summary.lines().next().expect("header").split(',').collect();
    let floor = header.iter().position(|h| *h == "floor_sd").expect("a floor_sd column");
    let with = header.iter().position(|h| *h == "runs_with_predictions").expect("column");
    let accuracy_rows: Vec<Vec<&str>> = summary
        .lines()
        .filter(|l| l.contains(",test_accuracy,"))
        .map(|l| l.split(',').collect())
        .collect();
    assert!(!accuracy_rows.is_empty());
    for row in &accuracy_rows {
        assert_eq!(row[with], "3", "{row:?}");
        assert!(row[floor].parse::<f64>().is_ok_and(|f| f >= 0.0), "{row:?}");
    }
}
