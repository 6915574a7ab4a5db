//! What the report must warn of about the run store itself: damaged runs (named by id,
//! not counted as complete) and records trained on other data than the study's.

use std::collections::BTreeMap;
use std::path::Path;

use cnnvar_core::{Result, RunRecord};

use super::ReportInput;
use cnnvar_store::{Plan, StudyDir};

/// The warnings about the study in `study_dir` (see [`notes`]).
pub fn store_notes(study_dir: &Path) -> Result<Vec<String>> {
    let study = StudyDir::open(study_dir);
    Ok(notes(&study.plan()?, &study))
}

/// One sentence per damaged file of the study directory itself and what the next
/// sweep does with it ([`StudyDir::damage`], [`StudyDir::remedy`]), per disagreement of
/// `plan.json` with its study or `study.toml` ([`StudyDir::plan_disagreements`]), per
/// damaged run, and per record whose data checksum is not the study's: the checksum
/// recorded in the study directory ([`StudyDir::check_study_data`]) or, in a study that
/// recorded none, the one most of its records share.
pub fn notes(plan: &Plan, study: &StudyDir) -> Vec<String> {
    let mut notes: Vec<String> = study
        .damage()
        .into_iter()
        .map(|d| {
            format!(
                "{} is damaged ({}); the next sweep moves it aside: {}",
                d.file.display(),
                d.why,
                study.remedy(&d.file, Some(plan))
            )
        })
        .collect();
    notes.extend(study.plan_disagreements(plan));
    notes.extend(plan.damaged(study).into_iter().map(|(run, damage)| {
        let files: Vec<String> =
            damage.iter().map(|d| format!("{} ({})", d.file.display(), d.why)).collect();
        // A damaged spec beside a sound record: the run is complete, and counted.
        let (what, then) = match study.run(&run.run_id).complete_record() {
            Some(_) => ("has a damaged file; its record is sound and counted", "writes it again"),
            None => ("is damaged and not counted", "retrains the run"),
        };
        format!(
            "run {} ({} {} #{}) {what}: {}; the next sweep moves it aside and {then}",
            run.run_id,
            run.experiment,
            run.level,
            run.replicate + 1,
            files.join("; ")
        )
    }));
    notes.extend(data_notes(plan, study));
    notes
}

/// The records trained on data whose checksum is not the study's.
fn data_notes(plan: &Plan, study: &StudyDir) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let records: Vec<_> = study
        .results(&plan.runs)
        .into_iter()
        .filter(|(r, rec)| seen.insert(r.run_id.clone()) && !rec.provenance.data_sha256.is_empty())
        .collect();
    let mut reference: BTreeMap<String, (String, String)> = BTreeMap::new();
    // A record on an image folder is held to its spec's checksum (part of its run id).
    let pinned = |rec: &RunRecord| {
        rec.spec.data_sha256.clone().map(|sha| (sha, "its spec's data_sha256".to_string()))
    };
    for (_, rec) in records.iter().filter(|(_, rec)| rec.spec.data_sha256.is_none()) {
        let dataset = rec.spec.dataset.to_string();
        if let std::collections::btree_map::Entry::Vacant(slot) = reference.entry(dataset) {
            let checksums = records
                .iter()
                .filter(|(_, r)| r.spec.dataset == rec.spec.dataset)
                .map(|(_, r)| r.provenance.data_sha256.as_str());
            let pick = reference_checksum(study, slot.key(), checksums);
            slot.insert(pick);
        }
    }
    records
        .iter()
        .filter_map(|(run, rec)| {
            let (sha, whence) =
                pinned(rec).or_else(|| reference.get(rec.spec.dataset.as_str()).cloned())?;
            (rec.provenance.data_sha256 != sha).then(|| {
                format!(
                    "run {} ({} {} #{}) was trained on other data: {} with sha256 {} from {}, \
                     not the study's sha256 {sha} ({whence}); its numbers are in this report",
                    run.run_id,
                    run.experiment,
                    run.level,
                    run.replicate + 1,
                    rec.spec.dataset,
                    rec.provenance.data_sha256,
                    rec.provenance.data_source
                )
            })
        })
        .collect()
}

/// The study's checksum of `dataset` and whence it is: recorded in the study
/// directory, else the most common of the records' `checksums`.
fn reference_checksum<'a>(
    study: &StudyDir,
    dataset: &str,
    checksums: impl Iterator<Item = &'a str>,
) -> (String, String) {
    match study.study_data(dataset).ok().flatten() {
        Some(d) => {
            let file = study.data_file(dataset);
            (d.sha256, format!("recorded in {}", file.display()))
        }
        None => (most_common(checksums), "shared by most of its records".into()),
    }
}

/// The most frequent value (the smallest of equally frequent ones).
fn most_common<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let best = counts.values().copied().max().unwrap_or(0);
    counts.into_iter().find(|(_, n)| *n == best).map(|(v, _)| v.to_string()).unwrap_or_default()
}

/// The notes as a Markdown section (empty when there are none).
pub(crate) fn markdown(input: &ReportInput<'_>) -> String {
    let notes = notes(input.plan, input.study);
    if notes.is_empty() {
        return String::new();
    }
    let mut m = String::from("## Warnings about the run store\n\n");
    for n in notes {
        m += &format!("- {n}\n");
    }
    m + "\n"
}

/// The notes as an HTML section (empty when there are none).
pub(crate) fn html(input: &ReportInput<'_>) -> String {
    let notes = notes(input.plan, input.study);
    if notes.is_empty() {
        return String::new();
    }
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut h =
        String::from("<section id=\"store-warnings\"><h2>Warnings about the run store</h2><ul>\n");
    for n in notes {
        h += &format!("<li>{}</li>\n", esc(&n));
    }
    h + "</ul></section>\n"
}
