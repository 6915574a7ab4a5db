//! The study directory's own files, checked like a run's: which are damaged
//! ([`StudyDir::damage`]), moving them aside and rebuilding what can be rebuilt
//! ([`StudyDir::repair`]), and whether `plan.json` agrees with the study it holds and
//! with `study.toml` ([`StudyDir::plan_disagreements`]).
//!
//! What each damaged file becomes ([`StudyDir::remedy`]): `plan.json` and `study.toml`
//! are written again by the next sweep, from the study file; a `data-<dataset>.json` is
//! rebuilt from the checksum its complete records were trained on (the most common one,
//! should they differ) or, without such records, written again by the next run's
//! worker, from the data it loads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cnnvar_core::study::StudyOverrides;
use cnnvar_core::{Error, Result};

use crate::run_dir::move_aside_in;
use crate::{Damage, Plan, Repair, StudyData, StudyDir, StudyFile};

/// How many differences between two studies a message names.
const DIFFERENCES_NAMED: usize = 3;

impl StudyDir {
    /// The files of the study directory itself (not a run's) that exist but cannot be
    /// trusted, each with why: a `plan.json` that does not parse as a plan, a
    /// `study.toml` that does not parse as a study (naming a backend this build lacks is
    /// no damage), a `data-<dataset>.json` that is not a data record of that data set
    /// (does not parse, names another data set, or holds no SHA-256). Files that are
    /// missing or cannot be read at all (permissions) are not damage.
    pub fn damage(&self) -> Vec<Damage> {
        let mut damage = Vec::new();
        let plan = self.file(StudyFile::Plan);
        if let Err(e) = self.plan()
            && plan.is_file()
            && let Some(why) = why_damaged(&e)
        {
            damage.push(Damage { file: plan, why });
        }
        let toml = self.file(StudyFile::StudyToml);
        if let Ok(bytes) = std::fs::read(&toml)
            && let Err(e) = cnnvar_core::study::parse_bytes(&bytes, &toml)
            && !names_a_backend_not_compiled(&e)
        {
            let why = format!("not a study file cnnvar reads: {e}");
            damage.push(Damage { file: toml, why });
        }
        for (dataset, file) in self.data_files() {
            if let Err(e) = check_data_file(&file, &dataset)
                && let Some(why) = why_damaged(&e)
            {
                damage.push(Damage { file, why });
            }
        }
        damage
    }

    /// What the next sweep does with the damaged study file `file`, in words (after
    /// moving it aside): how it is rebuilt, or that it cannot be.
    pub fn remedy(&self, file: &Path, plan: Option<&Plan>) -> String {
        if let Some(dataset) = data_file_dataset(file) {
            return match plan.and_then(|p| self.data_from_records(p, &dataset)) {
                Some((data, n)) => format!(
                    "rebuilt from the checksum its {n} complete record(s) of {dataset} were \
                     trained on (sha256 {})",
                    data.sha256
                ),
                None => format!(
                    "no complete record of {dataset} holds its checksum, so the next run's \
                     worker records the data it loads"
                ),
            };
        }
        match file.file_name().and_then(|n| n.to_str()) {
            Some(name) if name == StudyFile::Plan.name() => {
                "written again by the sweep, from the study file".into()
            }
            Some(name) if name == StudyFile::StudyToml.name() => match plan {
                Some(p) if p.study.source.is_file() => {
                    format!("written again by the sweep, from {}", p.study.source.display())
                }
                Some(p) => format!(
                    "cannot be rebuilt: the study file it copies, {}, is not there",
                    p.study.source.display()
                ),
                None => "written again by the next sweep, from the study file".into(),
            },
            _ => "cannot be rebuilt".into(),
        }
    }

    /// Moves each damaged file of the study directory aside (`<file>.damaged-<unix
    /// seconds>`, never deleted) and rebuilds what can be rebuilt now: a
    /// `data-<dataset>.json` from `plan`'s complete records ([`StudyDir::remedy`]);
    /// `plan.json` and `study.toml` are written by [`StudyDir::lay_out`], which calls
    /// this first. Returns what was moved and what became of it.
    pub fn repair(&self, plan: &Plan) -> Result<Vec<Repair>> {
        let mut repairs = Vec::new();
        for damage in self.damage() {
            let then = self.remedy(&damage.file, Some(plan));
            let moved_to = move_aside_in(self.path(), &damage.file)?;
            if let Some(dataset) = data_file_dataset(&damage.file)
                && let Some((data, _)) = self.data_from_records(plan, &dataset)
            {
                crate::study_data::check(&damage.file, &data)?;
            }
            repairs.push(Repair { run_id: None, damage, moved_to, then });
        }
        Ok(repairs)
    }

    /// Where `plan` (`plan.json`) disagrees with what it is made from, one sentence
    /// each: its runs are not its own study's expansion (its study was edited, say its
    /// seed, or its runs were), or its study is not `study.toml`'s (the copy of the
    /// study file it was planned from, with the plan's overrides set over it). Records
    /// cannot disagree with the runs listed: a record counts only in the directory its
    /// spec hashes to. Empty when all agree, and where `study.toml` is missing, damaged
    /// ([`StudyDir::damage`]) or names a backend this build lacks.
    pub fn plan_disagreements(&self, plan: &Plan) -> Vec<String> {
        let mut found = Vec::new();
        let name = StudyFile::Plan.name();
        let mut again = plan.clone();
        again.set_seeds(&plan.seeds());
        let listed = plan.runs.iter().map(|r| (&r.run_id, &r.experiment, &r.level, r.replicate));
        let expanded = again.runs.iter().map(|r| (&r.run_id, &r.experiment, &r.level, r.replicate));
        let first = listed.clone().zip(expanded.clone()).find(|(a, b)| a != b);
        if let Some((listed, planned)) = first {
            found.push(format!(
                "{} is not consistent: its study plans run {} for {} {} #{}, but it lists run {} \
                 ({} {} #{}); the report counts the runs it lists, and a sweep of the study file \
                 plans the study again",
                self.file(StudyFile::Plan).display(),
                planned.0,
                planned.1,
                planned.2,
                planned.3 + 1,
                listed.0,
                listed.1,
                listed.2,
                listed.3 + 1
            ));
        } else if listed.count() != expanded.count() {
            found.push(format!(
                "{} is not consistent: it lists {} runs, its study plans {} at the same seeds; \
                 a sweep of the study file plans the study again",
                self.file(StudyFile::Plan).display(),
                plan.runs.len(),
                again.runs.len()
            ));
        }
        if let Some(differences) = self.study_toml_differences(plan)
            && !differences.is_empty()
        {
            found.push(format!(
                "{name}'s study is not {}'s (the copy of the study file it was planned from): \
                 {}; the report follows {name}, and a sweep of the study file plans it again",
                StudyFile::StudyToml.name(),
                differences.join("; ")
            ));
        }
        found
    }

    /// How `plan`'s study differs from `study.toml`'s with the plan's overrides set
    /// over it, a phrase per difference (at most [`DIFFERENCES_NAMED`], then how many
    /// more); `None` when `study.toml` cannot be compared.
    fn study_toml_differences(&self, plan: &Plan) -> Option<Vec<String>> {
        let path = self.file(StudyFile::StudyToml);
        let bytes = std::fs::read(&path).ok()?;
        // Read as the study file it copies: a name not given is that file's stem, and
        // paths in it are relative to that file.
        let mut copy = cnnvar_core::study::parse_bytes(&bytes, &plan.study.source).ok()?;
        copy.apply_overrides(&StudyOverrides {
            seeds: plan.seeds_override,
            epochs: plan.epochs_override,
            backend: plan.backend_override,
        })
        .ok()?;
        // An image folder's checksum and place are fixed when the study is planned: the
        // plan's, where the levels are the same.
        for (mine, planned) in copy.experiments.iter_mut().zip(&plan.study.experiments) {
            for (level, p) in mine.levels.iter_mut().zip(&planned.levels) {
                // And a script's place and code checksum.
                if let (Some(mine), Some(planned)) = (&mut level.spec.script, &p.spec.script) {
                    mine.code_sha256.clone_from(&planned.code_sha256);
                    mine.dir.clone_from(&planned.dir);
                }
                if level.spec.dataset == cnnvar_core::DatasetName::Folder {
                    level.spec.data_sha256.clone_from(&p.spec.data_sha256);
                    level.spec.data_dir.clone_from(&p.spec.data_dir);
                }
            }
        }
        let (planned, copied) =
            (serde_json::to_value(&plan.study).ok()?, serde_json::to_value(&copy).ok()?);
        let mut differences = Vec::new();
        json_differences("", &planned, &copied, &mut differences);
        let more = differences.len().saturating_sub(DIFFERENCES_NAMED);
        differences.truncate(DIFFERENCES_NAMED);
        if more > 0 {
            differences.push(format!("{more} more difference(s)"));
        }
        Some(differences)
    }

    /// Every `data-<dataset>.json` of the study directory, with its data set's name.
    fn data_files(&self) -> Vec<(String, PathBuf)> {
        let Ok(entries) = std::fs::read_dir(self.path()) else { return Vec::new() };
        let mut files: Vec<(String, PathBuf)> = entries
            .flatten()
            .map(|e| e.path())
            .filter_map(|p| Some((data_file_dataset(&p)?, p)))
            .collect();
        files.sort();
        files
    }

    /// The data `plan`'s complete records of `dataset` were trained on (the most
    /// common checksum, the smallest of equally common ones, with its first source),
    /// and how many records hold it; `None` without such records. Runs on an image
    /// folder hold their checksum in their specs and are not counted.
    fn data_from_records(&self, plan: &Plan, dataset: &str) -> Option<(StudyData, usize)> {
        let full = plan.at_max_seeds().unwrap_or_else(|| plan.clone());
        let mut seen = std::collections::HashSet::new();
        let mut counts: BTreeMap<String, (usize, String)> = BTreeMap::new();
        for (run, rec) in self.results(&full.runs) {
            if !seen.insert(run.run_id.clone())
                || rec.spec.dataset.as_str() != dataset
                || rec.spec.data_sha256.is_some()
                || !is_sha256(&rec.provenance.data_sha256)
            {
                continue;
            }
            let entry = counts
                .entry(rec.provenance.data_sha256.clone())
                .or_insert((0, rec.provenance.data_source.clone()));
            entry.0 += 1;
        }
        let most = counts.values().map(|(n, _)| *n).max()?;
        let (sha256, (n, source)) = counts.into_iter().find(|(_, (n, _))| *n == most)?;
        Some((StudyData { dataset: dataset.to_string(), sha256, source }, n))
    }
}

/// The data set a study directory's file `data-<dataset>.json` records, `None` for
/// any other file.
fn data_file_dataset(file: &Path) -> Option<String> {
    let name = file.file_name()?.to_str()?;
    let dataset = name.strip_prefix("data-")?.strip_suffix(".json")?;
    (!dataset.is_empty()).then(|| dataset.to_string())
}

/// Reads `file` as the data record of `dataset`: an error if it does not parse, names
/// another data set or holds no SHA-256.
fn check_data_file(file: &Path, dataset: &str) -> Result<()> {
    let Some(data) = crate::study_data::read(file)? else { return Ok(()) };
    if data.dataset != dataset {
        return Err(Error::data(
            file,
            format!("the data record of data set `{}`, not of `{dataset}`", data.dataset),
        ));
    }
    if !is_sha256(&data.sha256) {
        return Err(Error::data(
            file,
            format!("its sha256 {:?} is not 64 hexadecimal digits", data.sha256),
        ));
    }
    Ok(())
}

/// Whether `s` is a SHA-256 in hexadecimal.
fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The damage an error reading a study file shows, in words; `None` for none (the file
/// could not be read at all: permissions).
fn why_damaged(e: &Error) -> Option<String> {
    match e {
        Error::Io { source, .. } if source.kind() != std::io::ErrorKind::InvalidData => None,
        Error::Data { message, .. } => Some(message.clone()),
        e => Some(e.to_string()),
    }
}

/// Whether a study file's error is only that it names a backend this build lacks
/// (a study of another build's backend, read by this one: not damage).
fn names_a_backend_not_compiled(e: &Error) -> bool {
    matches!(e, Error::Field { field, .. } if field == "backend")
        || matches!(e, Error::BackendNotCompiled { .. })
}

/// The differences between JSON values `a` (plan.json's) and `b` (study.toml's) at
/// `path`, as `` `seed` is 43 in plan.json, 42 in study.toml ``.
fn json_differences(
    path: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    let at = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let null = Value::Null;
                let (va, vb) = (x.get(key).unwrap_or(&null), y.get(key).unwrap_or(&null));
                json_differences(&at(key), va, vb, out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                json_differences(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if a != b => out.push(format!(
            "`{path}` is {} in {}, {} in {}",
            short(a),
            StudyFile::Plan.name(),
            short(b),
            StudyFile::StudyToml.name()
        )),
        _ => {}
    }
}

/// A JSON value for a message: as written, cut at 60 characters.
fn short(v: &serde_json::Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 { text.chars().take(60).collect::<String>() + "…" } else { text }
}
