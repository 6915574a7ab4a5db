//! Parsing and validating a study file. Every error names the file, the line and the
//! field, and is raised before anything runs.
//!
//! This module reads the file's top level (`parse`, `parse_bytes`) and the study's
//! name; `fields` checks each spec field a study sets, `levels` turns each
//! `[[experiment]]` into its levels, and `adaptive` reads adaptive seeding (`seeds = {
//! min, max, step }` and `resolve`).

mod adaptive;
mod claims;
mod fields;
mod levels;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::Path;

use crate::{Error, Result};
use serde::Deserialize;
use toml::Spanned;

use super::{ExperimentKind, Study};
use adaptive::{adaptive, parse_seeds};
use fields::Fields;
use levels::parse_experiments;

type Table = BTreeMap<Spanned<String>, Spanned<toml::Value>>;
/// `vary = { field = [levels] }`, with positions.
type Vary = BTreeMap<Spanned<String>, Spanned<Vec<Spanned<toml::Value>>>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStudy {
    name: Option<Spanned<String>>,
    description: Option<String>,
    seeds: Option<Spanned<toml::Value>>,
    resolve: Option<Spanned<toml::Value>>,
    seed: Option<u64>,
    paired_seeds: Option<bool>,
    margin: Option<Spanned<toml::Value>>,
    base: Option<Table>,
    #[serde(default, rename = "experiment")]
    experiments: Vec<RawExperiment>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExperiment {
    name: Spanned<String>,
    title: Option<String>,
    claim: Option<String>,
    expect_best: Option<Spanned<String>>,
    kind: Option<ExperimentKind>,
    base: Option<Table>,
    vary: Option<Vary>,
    levels: Option<Spanned<Vec<Spanned<Table>>>>,
    sources: Option<Spanned<Vec<Spanned<String>>>>,
    resolve: Option<Spanned<toml::Value>>,
    checks: Option<Spanned<Vec<Spanned<toml::Value>>>>,
}

/// Where in the file: turns byte spans into `file:line`.
struct Source<'a> {
    file: String,
    text: &'a str,
    /// The study's `[base]` names a `command`: a script study, whose names are the
    /// script's parameters ([`crate::Script`]).
    script: bool,
}

impl Source<'_> {
    /// `file:line` of the byte offset where `span` starts.
    fn at(&self, span: std::ops::Range<usize>) -> String {
        let end = span.start.min(self.text.len());
        let line = self.text[..end].matches('\n').count() + 1;
        format!("{}:{line}", self.file)
    }

    /// An [`Error::Field`] for `field` at the line of `span`.
    fn error(&self, span: std::ops::Range<usize>, field: &str, msg: impl Into<String>) -> Error {
        Error::field(self.at(span), field, msg)
    }
}

/// Parses and validates the study in the bytes of a file read from `path`; text that
/// is not UTF-8 is refused with the line and column of the first bad byte.
pub fn parse_bytes(bytes: &[u8], path: &Path) -> Result<Study> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse(text, path),
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
            let byte = bytes.get(e.valid_up_to()).copied().unwrap_or(0);
            Err(Error::syntax(
                format!("{}:{line}:{column}", path.display()),
                format!("not UTF-8 text (byte 0x{byte:02x}); save the study file as UTF-8"),
            ))
        }
    }
}

/// Parses and validates the study in `text`, read from `path`.
pub fn parse(text: &str, path: &Path) -> Result<Study> {
    let file = path.display().to_string();
    let raw: RawStudy = toml::from_str(text).map_err(|e| crate::toml_error(&file, text, &e))?;
    let script = raw.base.as_ref().is_some_and(|b| b.keys().any(|k| k.get_ref() == "command"));
    let src = Source { file, text, script };
    let seeds = parse_seeds(&src, raw.seeds.as_ref())?;
    if raw.experiments.is_empty() {
        return Err(Error::field(&src.file, "experiment", "the study has no [[experiment]]"));
    }
    let mut base = if script { Fields::default() } else { Fields::new_run() };
    if let Some(t) = &raw.base {
        base.set_table(&src, t)?;
    }
    let most = seeds.range.map_or(seeds.count, |(_, max, _)| max);
    let experiments = parse_experiments(&src, &base, &raw.experiments, most)?;
    let adaptive = adaptive(&src, &raw, seeds)?;
    let name = study_name(&src, raw.name.as_ref(), path)?;
    Ok(Study {
        name,
        description: raw.description.unwrap_or_default(),
        seeds: seeds.count,
        adaptive,
        seed: raw.seed.unwrap_or(0),
        paired_seeds: raw.paired_seeds.unwrap_or(true),
        margin: claims::parse_margin(&src, raw.margin.as_ref())?,
        experiments,
        source: path.to_path_buf(),
    })
}

/// The study's name (`name`, else the file's stem): it names the study's directory
/// under the sweep's output directory, so it must be one plain path component: not empty, not `.` or `..`,
/// no slash, backslash or NUL.
fn study_name(src: &Source<'_>, name: Option<&Spanned<String>>, path: &Path) -> Result<String> {
    let (name, at) = match name {
        Some(n) => (n.get_ref().clone(), src.at(n.span())),
        None => {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
            (stem.unwrap_or_else(|| "study".into()), format!("{} (the file name)", src.file))
        }
    };
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        return Err(Error::field(
            at,
            "name",
            format!(
                "study name `{name}` is not one plain path component; it names the study's \
                 directory under the output directory, so it must be non-empty, not `.` or `..`, and contain \
                 no slash"
            ),
        ));
    }
    Ok(name)
}
