//! Parsing and validating a study file. Every error names the file, the line and the
//! field, and is raised before anything runs.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{Error, Result, RunSpec, SubsetMethod};
use serde::Deserialize;
use serde_json::{Map, Value};
use toml::Spanned;

use super::{
    AdaptiveSeeds, AlphaSpending, DEFAULT_ALPHA, Experiment, ExperimentKind, Level,
    MAX_ADAPTIVE_SEEDS, MAX_LOOKS, Resolve, Study, VARIANCE_SOURCES,
};

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
    resolve: Option<Spanned<toml::Value>>,
}

/// Where in the file: turns byte spans into `file:line`.
struct Source<'a> {
    file: String,
    text: &'a str,
}

impl Source<'_> {
    fn at(&self, span: std::ops::Range<usize>) -> String {
        let end = span.start.min(self.text.len());
        let line = self.text[..end].matches('\n').count() + 1;
        format!("{}:{line}", self.file)
    }

    fn error(&self, span: std::ops::Range<usize>, field: &str, msg: impl Into<String>) -> Error {
        Error::field(self.at(span), field, msg)
    }
}

/// Spec fields set so far, with the span each was set at (for error positions).
#[derive(Clone, Default)]
struct Fields {
    values: Map<String, Value>,
    spans: BTreeMap<String, std::ops::Range<usize>>,
    /// A level's own name (`label = "..."` in a `levels` table).
    label: Option<String>,
}

impl Fields {
    /// Adds the fields of `table`, checking each name and type.
    fn set_table(&mut self, src: &Source<'_>, table: &Table) -> Result<()> {
        for (key, value) in table {
            self.set(src, key, value)?;
        }
        Ok(())
    }

    fn set(
        &mut self,
        src: &Source<'_>,
        key: &Spanned<String>,
        value: &Spanned<toml::Value>,
    ) -> Result<()> {
        let name = key.get_ref().as_str();
        check_field_name(src, key)?;
        check_finite(src, name, value)?;
        let json = serde_json::to_value(value.get_ref())
            .map_err(|e| src.error(value.span(), name, e.to_string()))?;
        // Type-check this one field on its own, so the error points at it.
        let mut probe = Map::new();
        probe.insert(name.to_string(), json.clone());
        if let Err(e) = serde_json::from_value::<RunSpec>(Value::Object(probe)) {
            return Err(src.error(value.span(), name, e.to_string()));
        }
        self.values.insert(name.to_string(), json);
        self.spans.insert(name.to_string(), value.span());
        Ok(())
    }

    /// The spec these fields make, validated; errors point at the offending field.
    fn resolve(&self, src: &Source<'_>, fallback: std::ops::Range<usize>) -> Result<RunSpec> {
        let spec: RunSpec = serde_json::from_value(Value::Object(self.values.clone()))
            .map_err(|e| src.error(fallback.clone(), "level", e.to_string()))?;
        match spec.validate() {
            Ok(()) if cfg!(feature = "burn") && !spec.backend.is_compiled() => {
                let span = self.spans.get("backend").cloned().unwrap_or(fallback);
                Err(src.error(span, "backend", spec.backend.not_compiled_reason()))
            }
            Ok(()) => Ok(spec),
            Err(Error::Field { field, message, .. }) => {
                let span = self.spans.get(&field).cloned().unwrap_or(fallback);
                Err(src.error(span, &field, message))
            }
            Err(e) => Err(e),
        }
    }
}

/// Refuses `nan` and `inf`, which no field takes (and which JSON would turn into null).
fn check_finite(src: &Source<'_>, name: &str, value: &Spanned<toml::Value>) -> Result<()> {
    match value.get_ref() {
        toml::Value::Float(x) if !x.is_finite() => {
            Err(src.error(value.span(), name, format!("must be a finite number, got {x}")))
        }
        _ => Ok(()),
    }
}

fn check_field_name(src: &Source<'_>, key: &Spanned<String>) -> Result<()> {
    let name = key.get_ref().as_str();
    if RunSpec::SEED_FIELDS.contains(&name) {
        return Err(src.error(
            key.span(),
            name,
            "run seeds are derived from the study's `seed`, experiment and replicate; set `seed` at the top of the file instead",
        ));
    }
    if !RunSpec::fields().contains(&name) {
        let known: Vec<&str> = RunSpec::fields()
            .iter()
            .copied()
            .filter(|f| !RunSpec::SEED_FIELDS.contains(f))
            .collect();
        return Err(src.error(
            key.span(),
            name,
            format!("unknown factor `{name}`; known: {}", known.join(", ")),
        ));
    }
    Ok(())
}

/// A level's label: the value alone for one factor, `name=value, …` for several.
fn label(values: &Map<String, Value>) -> String {
    let show = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if values.len() == 1 {
        values.values().map(show).collect()
    } else {
        values.iter().map(|(k, v)| format!("{k}={}", show(v))).collect::<Vec<_>>().join(", ")
    }
}

/// The most runs a study may expand to (experiments × levels × seeds); a larger one is
/// refused before its grid is built, so a typo cannot exhaust memory.
pub const MAX_RUNS: usize = 100_000;

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
    let src = Source { file: path.display().to_string(), text };
    let raw: RawStudy = toml::from_str(text).map_err(|e| crate::toml_error(&src.file, text, &e))?;
    let seeds = parse_seeds(&src, raw.seeds.as_ref())?;
    if raw.experiments.is_empty() {
        return Err(Error::field(&src.file, "experiment", "the study has no [[experiment]]"));
    }
    let mut base = Fields::default();
    base.values.insert("eval_subset".into(), crate::DEFAULT_EVAL_SUBSET.into());
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
        experiments,
        source: path.to_path_buf(),
    })
}

/// The study's `seeds`: a count, or the `(min, max, step)` of adaptive seeding (whose
/// `count` is `min`).
#[derive(Clone, Copy)]
struct Seeds {
    count: usize,
    range: Option<(usize, usize, usize)>,
}

/// Replicates per level: `seeds`, from 1 to [`MAX_RUNS`] (5 when not given), or
/// `{ min, max, step }`: from 2 to [`MAX_ADAPTIVE_SEEDS`] seeds in at most
/// [`MAX_LOOKS`] looks.
fn parse_seeds(src: &Source<'_>, seeds: Option<&Spanned<toml::Value>>) -> Result<Seeds> {
    let Some(s) = seeds else { return Ok(Seeds { count: 5, range: None }) };
    match s.get_ref() {
        toml::Value::Integer(n) if *n < 1 || *n as u64 > MAX_RUNS as u64 => {
            Err(src.error(s.span(), "seeds", format!("must be from 1 to {MAX_RUNS}, got {n}")))
        }
        toml::Value::Integer(n) => Ok(Seeds { count: *n as usize, range: None }),
        toml::Value::Table(t) => {
            let keys = ["min", "max", "step"];
            let mut got = [0usize; 3];
            for (key, value) in t {
                let at = key_span(src, s.span(), key);
                let field = format!("seeds.{key}");
                let Some(i) = keys.iter().position(|k| k == key) else {
                    return Err(src.error(
                        at,
                        &field,
                        "unknown key; adaptive seeding is `seeds = { min = 3, max = 20, step = 2 }`",
                    ));
                };
                got[i] = match value.as_integer() {
                    Some(n) if (0..=MAX_ADAPTIVE_SEEDS as i64).contains(&n) => n as usize,
                    Some(n) => {
                        return Err(src.error(
                            at,
                            &field,
                            format!("must be from 0 to {MAX_ADAPTIVE_SEEDS}, got {n}"),
                        ));
                    }
                    None => return Err(src.error(at, &field, "must be a whole number of seeds")),
                };
            }
            if let Some(missing) = keys.iter().find(|k| !t.contains_key(**k)) {
                return Err(src.error(
                    s.span(),
                    &format!("seeds.{missing}"),
                    "missing; adaptive seeding needs all of `seeds = { min = …, max = …, step = … }`",
                ));
            }
            let [min, max, step] = got;
            let here = |key: &str| key_span(src, s.span(), key);
            if min < 2 {
                let msg = format!("is {min}: a paired test of two levels needs at least 2 seeds");
                return Err(src.error(here("min"), "seeds.min", msg));
            }
            if max < min {
                let msg = format!("is {max}, below seeds.min ({min})");
                return Err(src.error(here("max"), "seeds.max", msg));
            }
            if step == 0 {
                return Err(src.error(
                    here("step"),
                    "seeds.step",
                    "is 0: each look must add seeds",
                ));
            }
            let looks = 1 + (max - min).div_ceil(step);
            if looks > MAX_LOOKS {
                let msg = format!(
                    "gives {looks} looks from {min} to {max} seeds: at most {MAX_LOOKS} (a larger step gives fewer)"
                );
                return Err(src.error(here("step"), "seeds.step", msg));
            }
            Ok(Seeds { count: min, range: Some((min, max, step)) })
        }
        other => Err(src.error(
            s.span(),
            "seeds",
            format!(
                "must be a number of seeds (`seeds = 5`) or adaptive seeding \
                 (`seeds = {{ min = 3, max = 20, step = 2 }}`), got {}",
                other.type_str()
            ),
        )),
    }
}

/// Where `key = …` is written inside the value at `span` (an inline or a `[table]`),
/// else the value's own span.
fn key_span(src: &Source<'_>, span: std::ops::Range<usize>, key: &str) -> std::ops::Range<usize> {
    // A `[table]`'s span is its header: its keys follow, up to the next header.
    let rest = src.text.get(span.end..).unwrap_or("");
    let end = span.end + rest.find("\n[").unwrap_or(rest.len());
    let text = src.text.get(span.start..end).unwrap_or("");
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let found = text.match_indices(key).find(|(i, _)| {
        let before = text[..*i].chars().next_back();
        let after = text[i + key.len()..].trim_start();
        !before.is_some_and(ident) && after.starts_with('=')
    });
    found.map_or(span.clone(), |(i, _)| span.start + i..span.start + i + key.len())
}

/// `resolve = { delta = 0.5, alpha = 0.05, spending = "obrien-fleming" }`: `delta`
/// (accuracy points, finite, not negative) is required; `alpha` in (0, 0.5] defaults
/// to [`DEFAULT_ALPHA`]; `spending` is `obrien-fleming` (the default) or `pocock`.
fn parse_resolve(src: &Source<'_>, value: &Spanned<toml::Value>) -> Result<Resolve> {
    let toml::Value::Table(t) = value.get_ref() else {
        return Err(src.error(
            value.span(),
            "resolve",
            "must be a table such as `resolve = { delta = 0.5 }` (delta in accuracy points)",
        ));
    };
    let at = |key: &str| key_span(src, value.span(), key);
    let number = |key: &str, v: &toml::Value| -> Result<f64> {
        let x = match v {
            toml::Value::Float(x) => *x,
            toml::Value::Integer(n) => *n as f64,
            _ => return Err(src.error(at(key), &format!("resolve.{key}"), "must be a number")),
        };
        if x.is_finite() {
            Ok(x)
        } else {
            Err(src.error(at(key), &format!("resolve.{key}"), format!("must be finite, got {x}")))
        }
    };
    let mut resolve =
        Resolve { delta: f64::NAN, alpha: DEFAULT_ALPHA, spending: Default::default() };
    for (key, v) in t {
        let field = format!("resolve.{key}");
        match key.as_str() {
            "delta" => {
                resolve.delta = number(key, v)?;
                if resolve.delta < 0.0 {
                    let msg = format!(
                        "is {}: the smallest difference that matters, in accuracy points, is not negative",
                        resolve.delta
                    );
                    return Err(src.error(at(key), &field, msg));
                }
            }
            "alpha" => {
                resolve.alpha = number(key, v)?;
                if !(resolve.alpha > 0.0 && resolve.alpha <= 0.5) {
                    let msg = format!("is {}: it must be above 0 and at most 0.5", resolve.alpha);
                    return Err(src.error(at(key), &field, msg));
                }
            }
            "spending" => {
                resolve.spending = match v.as_str() {
                    Some("obrien-fleming") => AlphaSpending::OBrienFleming,
                    Some("pocock") => AlphaSpending::Pocock,
                    _ => {
                        return Err(src.error(
                            at(key),
                            &field,
                            format!("must be \"obrien-fleming\" or \"pocock\", got {v}"),
                        ));
                    }
                }
            }
            _ => {
                return Err(src.error(
                    at(key),
                    &field,
                    "unknown key; `resolve` takes `delta` (accuracy points), `alpha` and `spending`",
                ));
            }
        }
    }
    if resolve.delta.is_nan() {
        return Err(src.error(
            value.span(),
            "resolve.delta",
            "missing: the smallest difference in test accuracy that matters, in accuracy \
             points (`resolve = { delta = 0.5 }`; 0: no equivalence claims)",
        ));
    }
    Ok(resolve)
}

/// The study's adaptive seeding, with each experiment's `resolve` (its own, else the
/// study's); `None` for a fixed `seeds`, where `resolve` is refused.
fn adaptive(src: &Source<'_>, raw: &RawStudy, seeds: Seeds) -> Result<Option<AdaptiveSeeds>> {
    let Some((min, max, step)) = seeds.range else {
        let stray = raw.resolve.iter().chain(raw.experiments.iter().flat_map(|e| &e.resolve));
        return match stray.into_iter().next() {
            Some(r) => Err(src.error(
                r.span(),
                "resolve",
                "applies to adaptive seeding only: give `seeds = { min = …, max = …, step = … }`, \
                 or remove `resolve` for a fixed number of seeds",
            )),
            None => Ok(None),
        };
    };
    let study = raw.resolve.as_ref().map(|r| parse_resolve(src, r)).transpose()?;
    let mut resolve = BTreeMap::new();
    for e in &raw.experiments {
        let own = e.resolve.as_ref().map(|r| parse_resolve(src, r)).transpose()?;
        let name = e.name.get_ref().trim().to_string();
        match own.or(study) {
            Some(r) => {
                resolve.insert(name, r);
            }
            None => {
                return Err(src.error(
                    e.name.span(),
                    "resolve",
                    format!(
                        "experiment `{name}` seeds adaptively but has no `resolve`: give \
                         `resolve = {{ delta = … }}` (accuracy points) at the top of the study \
                         or in the experiment"
                    ),
                ));
            }
        }
    }
    Ok(Some(AdaptiveSeeds { min, max, step, resolve }))
}

/// Every `[[experiment]]`, in file order, each checked (name, grid size) before it is
/// expanded; the study as a whole is refused as soon as it passes [`MAX_RUNS`].
fn parse_experiments(
    src: &Source<'_>,
    base: &Fields,
    raw: &[RawExperiment],
    seeds: usize,
) -> Result<Vec<Experiment>> {
    let mut experiments: Vec<Experiment> = Vec::new();
    let mut first_line: BTreeMap<String, String> = BTreeMap::new();
    for e in raw {
        let name = experiment_name(src, e, &mut first_line)?;
        if let Some(vary) = &e.vary {
            check_grid_size(src, e, vary, seeds)?;
        }
        experiments.push(parse_experiment(src, base, e, name)?);
        let total: usize = experiments.iter().map(|x| x.levels.len()).sum::<usize>() * seeds;
        if total > MAX_RUNS {
            return Err(src.error(
                e.name.span(),
                "experiment",
                format!("the study expands to more than {MAX_RUNS} runs by this experiment"),
            ));
        }
    }
    Ok(experiments)
}

/// The experiment's trimmed name, refused when empty, holding a slash or already
/// taken; `first_line` maps each name seen so far to where it was defined.
fn experiment_name(
    src: &Source<'_>,
    e: &RawExperiment,
    first_line: &mut BTreeMap<String, String>,
) -> Result<String> {
    let name = e.name.get_ref().trim().to_string();
    if name.is_empty() || name.contains(['/', '\\']) {
        return Err(src.error(
            e.name.span(),
            "name",
            "experiment names must be non-empty and contain no slashes",
        ));
    }
    if let Some(first) = first_line.get(&name) {
        return Err(src.error(
            e.name.span(),
            "name",
            format!("duplicate experiment name `{name}` (first defined at {first})"),
        ));
    }
    first_line.insert(name.clone(), src.at(e.name.span()));
    Ok(name)
}

/// Refuses a `vary` grid of more than [`MAX_RUNS`] runs before it is built, so that
/// the product of the level lists is never materialised.
fn check_grid_size(src: &Source<'_>, e: &RawExperiment, vary: &Vary, seeds: usize) -> Result<()> {
    let levels = vary.values().try_fold(1usize, |n, list| n.checked_mul(list.get_ref().len()));
    let runs = levels.and_then(|l| l.checked_mul(seeds));
    if runs.is_none_or(|r| r > MAX_RUNS) {
        let span = vary.values().next().map_or(e.name.span(), |l| l.span());
        return Err(src.error(
            span,
            "vary",
            format!(
                "this grid expands to more than {MAX_RUNS} runs ({} levels × {seeds} \
                 seeds); split it into smaller experiments",
                levels.map_or("too many".to_string(), |l| l.to_string())
            ),
        ));
    }
    Ok(())
}

/// The study's name (`name`, else the file's stem): it names the study's directory
/// under `--out`, so it must be one plain path component: not empty, not `.` or `..`,
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
                 directory under --out, so it must be non-empty, not `.` or `..`, and contain \
                 no slash"
            ),
        ));
    }
    Ok(name)
}

/// The fields of each level of a factor experiment as the file sets them (without the
/// base's), with the span errors about that level point at.
type LevelTables = Vec<(Fields, std::ops::Range<usize>)>;

/// One `[[experiment]]` expanded into its levels, each level's spec resolved on top of
/// the study's `base` and the experiment's own `base`.
fn parse_experiment(
    src: &Source<'_>,
    base: &Fields,
    e: &RawExperiment,
    name: String,
) -> Result<Experiment> {
    let here = e.name.span();
    let mut fields = base.clone();
    if let Some(t) = &e.base {
        fields.set_table(src, t)?;
    }
    let kind = e.kind.unwrap_or(ExperimentKind::Factor);
    let (factors, levels) = match kind {
        ExperimentKind::VarianceSources => variance_sources_levels(src, e, &fields)?,
        ExperimentKind::Factor => {
            let (factors, tables) = match (&e.vary, &e.levels) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err(src.error(
                        here,
                        "vary",
                        "give exactly one of `vary` (factors and their values) or `levels` (a list of tables)",
                    ));
                }
                (Some(vary), None) => vary_grid(src, here, vary)?,
                (None, Some(list)) => level_list(src, list)?,
            };
            (factors, factor_levels(src, &fields, tables)?)
        }
    };
    check_expect_best(src, e, &levels)?;
    Ok(Experiment {
        title: e.title.clone().unwrap_or_else(|| name.clone()),
        name,
        claim: e.claim.clone(),
        expect_best: e.expect_best.as_ref().map(|s| s.get_ref().clone()),
        kind,
        factors,
        levels,
    })
}

/// A variance-sources experiment: one level per entry of [`VARIANCE_SOURCES`], all on
/// the same spec, which must draw a stratified subset (else the subset seed would
/// change nothing). Such an experiment may not set `vary` or `levels`.
fn variance_sources_levels(
    src: &Source<'_>,
    e: &RawExperiment,
    fields: &Fields,
) -> Result<(Vec<String>, Vec<Level>)> {
    let here = e.name.span();
    if e.vary.is_some() || e.levels.is_some() {
        return Err(src.error(
            here,
            "kind",
            "a variance-sources experiment sets its own levels; remove `vary` and `levels`",
        ));
    }
    let spec = fields.resolve(src, here.clone())?;
    if spec.subset != SubsetMethod::Stratified || spec.train_size.is_none() {
        return Err(src.error(
            here,
            "subset",
            "variance-sources needs `subset = \"stratified\"` and a `train_size`, so that the subset seed draws different examples",
        ));
    }
    let levels = VARIANCE_SOURCES
        .iter()
        .map(|source| Level { label: (*source).into(), values: Map::new(), spec: spec.clone() })
        .collect();
    Ok((vec!["seed source".into()], levels))
}

/// `vary = { a = [...], b = [...] }`: the factors in key order and the full grid over
/// them, each cell pointing at the value that completed it.
fn vary_grid(
    src: &Source<'_>,
    here: std::ops::Range<usize>,
    vary: &Vary,
) -> Result<(Vec<String>, LevelTables)> {
    if vary.is_empty() {
        return Err(src.error(here, "vary", "names no factor"));
    }
    let factors = vary.keys().map(|k| k.get_ref().clone()).collect();
    let mut grid: LevelTables = vec![(Fields::default(), here)];
    for (key, list) in vary {
        check_field_name(src, key)?;
        if list.get_ref().is_empty() {
            return Err(src.error(list.span(), key.get_ref(), "empty level list"));
        }
        let mut next = Vec::new();
        for (partial, _) in &grid {
            for value in list.get_ref() {
                let mut f = partial.clone();
                f.set(src, key, value)?;
                next.push((f, value.span()));
            }
        }
        grid = next;
    }
    Ok((factors, grid))
}

/// `levels = [{...}, ...]`: one table per level, each setting at least one field and
/// optionally its `label`; the factors are every field any level sets, sorted.
fn level_list(
    src: &Source<'_>,
    list: &Spanned<Vec<Spanned<Table>>>,
) -> Result<(Vec<String>, LevelTables)> {
    if list.get_ref().is_empty() {
        return Err(src.error(list.span(), "levels", "empty level list"));
    }
    let mut names = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for table in list.get_ref() {
        let f = level_table(src, table)?;
        names.extend(f.values.keys().cloned());
        out.push((f, table.span()));
    }
    Ok((names.into_iter().collect(), out))
}

/// The fields of one table of `levels`, its `label` taken out of them.
fn level_table(src: &Source<'_>, table: &Spanned<Table>) -> Result<Fields> {
    if table.get_ref().is_empty() {
        return Err(src.error(table.span(), "levels", "a level sets no field"));
    }
    let mut f = Fields::default();
    let span = table.span();
    let mut table = table.get_ref().clone();
    if let Some((key, value)) = table.remove_entry("label") {
        match value.get_ref().as_str() {
            Some(text) if !text.trim().is_empty() => {
                f.label = Some(text.to_string());
            }
            _ => {
                return Err(src.error(
                    value.span(),
                    key.get_ref(),
                    "a level's label must be a non-empty string",
                ));
            }
        }
    }
    if table.is_empty() {
        return Err(src.error(span, "levels", "a level sets no field"));
    }
    f.set_table(src, &table)?;
    Ok(f)
}

/// The levels of a factor experiment: each level's fields laid over the experiment's,
/// resolved into a validated spec and labelled; a label may appear only once.
fn factor_levels(src: &Source<'_>, fields: &Fields, tables: LevelTables) -> Result<Vec<Level>> {
    let mut levels = Vec::new();
    let mut seen_labels = BTreeMap::new();
    for (level_fields, span) in tables {
        let mut merged = fields.clone();
        for (k, v) in &level_fields.values {
            merged.values.insert(k.clone(), v.clone());
            if let Some(s) = level_fields.spans.get(k) {
                merged.spans.insert(k.clone(), s.clone());
            }
        }
        let spec = merged.resolve(src, span.clone())?;
        let label = level_fields.label.clone().unwrap_or_else(|| label(&level_fields.values));
        if seen_labels.insert(label.clone(), ()).is_some() {
            return Err(src.error(span, "levels", format!("level `{label}` appears twice")));
        }
        levels.push(Level { label, values: level_fields.values, spec });
    }
    Ok(levels)
}

/// `expect_best`, when given, must name one of the experiment's levels.
fn check_expect_best(src: &Source<'_>, e: &RawExperiment, levels: &[Level]) -> Result<()> {
    if let Some(expected) = &e.expect_best
        && !levels.iter().any(|l| &l.label == expected.get_ref())
    {
        let labels: Vec<&str> = levels.iter().map(|l| l.label.as_str()).collect();
        return Err(src.error(
            expected.span(),
            "expect_best",
            format!(
                "`{}` is not a level of this experiment; levels: {}",
                expected.get_ref(),
                labels.join(", ")
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, Path::new("s.toml")).unwrap_err().to_string()
    }

    const OK: &str = "seeds = 2\n[base]\nepochs = 1\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n";

    #[test]
    fn parses_a_small_study() {
        let s = parse(OK, Path::new("dir/s.toml")).unwrap();
        assert_eq!(s.name, "s");
        assert_eq!(s.seeds, 2);
        assert_eq!(s.experiments[0].levels.len(), 2);
        assert_eq!(s.experiments[0].levels[1].label, "0.01");
        assert_eq!(s.experiments[0].levels[1].spec.lr, 0.01);
        assert_eq!(s.experiments[0].levels[1].spec.epochs, 1);
    }

    /// A study name names a directory under `--out`: `..`, `.`, slashes and an empty
    /// name would write elsewhere, so they are refused with the file and line.
    #[test]
    fn study_name_must_be_one_plain_path_component() {
        for bad in ["..", ".", "", "a/b", "../x", "a\\\\b"] {
            let e = err(&format!("seeds = 2\nname = \"{bad}\"\n{}", &OK[10..]));
            assert!(e.contains("s.toml:2") && e.contains("`name`"), "{bad}: {e}");
            assert!(e.contains("one plain path component"), "{bad}: {e}");
        }
        // From the file name: `..toml`'s stem is `.`.
        let e = parse(OK, Path::new("dir/..toml")).unwrap_err().to_string();
        assert!(e.contains("..toml") && e.contains("plain path component"), "{e}");
        assert_eq!(
            parse(&format!("name = \"x..y\"\n{OK}"), Path::new("s.toml")).unwrap().name,
            "x..y"
        );
    }

    #[test]
    fn unknown_factor_names_line_and_field() {
        let e = err("[[experiment]]\nname = \"a\"\nvary = { learning_rate = [0.1] }\n");
        assert!(
            e.contains("s.toml:3") && e.contains("learning_rate") && e.contains("unknown factor"),
            "{e}"
        );
    }

    #[test]
    fn wrong_type_names_line_and_field() {
        let e = err("[[experiment]]\nname = \"a\"\nvary = { lr = [0.1,\n \"fast\"] }\n");
        assert!(e.contains("s.toml:4") && e.contains("`lr`"), "{e}");
    }

    #[test]
    fn non_positive_lr_is_rejected() {
        for bad in ["0.0", "-0.1"] {
            let e = err(&format!("[[experiment]]\nname = \"a\"\nvary = {{ lr = [{bad}] }}\n"));
            assert!(e.contains("s.toml:3") && e.contains("`lr`") && e.contains("positive"), "{e}");
        }
    }

    #[test]
    fn empty_level_list_is_rejected() {
        let e = err("[[experiment]]\nname = \"a\"\nvary = { lr = [] }\n");
        assert!(e.contains("s.toml:3") && e.contains("empty level list"), "{e}");
    }

    #[test]
    fn duplicate_experiment_is_rejected() {
        let e = err(
            "[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.2] }\n",
        );
        assert!(e.contains("s.toml:5") && e.contains("duplicate") && e.contains("s.toml:2"), "{e}");
    }

    #[test]
    fn unknown_top_level_key_is_rejected() {
        let e = err("seedz = 3\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n");
        assert!(e.contains("s.toml:1") && e.contains("seedz"), "{e}");
    }

    #[test]
    fn a_grid_too_large_is_refused_before_it_is_built() {
        let list: Vec<String> = (1..=100).map(|i| format!("{}", i as f64 * 1e-4)).collect();
        let list = list.join(", ");
        let text = format!(
            "[[experiment]]\nname = \"big\"\nvary = {{ lr = [{list}], batch_size = [{b}], epochs = [{b}] }}\n",
            b = (1..=100).map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
        );
        let e = parse(&text, Path::new("big.toml")).unwrap_err().to_string();
        assert!(e.contains("big.toml:3") && e.contains("`vary`") && e.contains("100000"), "{e}");
        let e = err("seeds = 1000000000\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n");
        assert!(e.contains("`seeds`"), "{e}");
    }

    /// A TOML syntax error names line and column, not a field `?`.
    #[test]
    fn syntax_error_names_line_and_column() {
        let e = err("seeds = 2\n[[experiment]\nname = \"a\"\n");
        assert!(
            e.starts_with("s.toml:2:") && e.contains("invalid TOML") && !e.contains('?'),
            "{e}"
        );
    }

    /// `nan` is refused as what it is, where it is.
    #[test]
    fn nan_is_refused_by_name() {
        for bad in ["nan", "inf", "-inf"] {
            let e =
                err(&format!("[[experiment]]\nname = \"a\"\nvary = {{ lr = [0.1,\n {bad}] }}\n"));
            assert!(e.contains("s.toml:4") && e.contains("`lr`") && e.contains("finite"), "{e}");
            assert!(!e.contains("null"), "{e}");
        }
    }

    /// Bytes that are not UTF-8 are refused with their position.
    #[test]
    fn non_utf8_names_line_and_column() {
        let e = parse_bytes(b"seeds = 2\nname = \"a\xff\"\n", Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("s.toml:2:10") && e.contains("UTF-8"), "{e}");
    }

    /// Sizes beyond the data set and backends this build lacks are refused at the
    /// field, before anything runs.
    #[test]
    fn what_every_worker_would_refuse_is_refused_here() {
        let e = err(
            "[base]\ntrain_size = 10_000_000\n[[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n",
        );
        assert!(e.contains("s.toml:2") && e.contains("`train_size`") && e.contains("60000"), "{e}");
        let e = err("[[experiment]]\nname = \"a\"\nvary = { test_size = [100,\n 20000] }\n");
        assert!(e.contains("s.toml:4") && e.contains("`test_size`") && e.contains("10000"), "{e}");
        // Without burn no backend is compiled, and parsing leaves backends to the workers.
        let uncompiled = crate::Backend::ALL.iter().find(|b| !b.is_compiled());
        if let Some(b) = uncompiled.filter(|_| cfg!(feature = "burn")) {
            let e =
                err(&format!("[[experiment]]\nname = \"a\"\n\nvary = {{ backend = [\"{b}\"] }}\n"));
            assert!(
                e.contains("s.toml:4") && e.contains("`backend`") && e.contains("compiled"),
                "{e}"
            );
        }
    }

    #[test]
    fn grid_and_levels() {
        let s = parse(
            "[[experiment]]\nname = \"g\"\nvary = { lr = [0.1, 0.2], batch_size = [8, 16, 32] }\n\
             [[experiment]]\nname = \"z\"\nlevels = [{ batch_size = 8, lr = 0.1 }, { batch_size = 16, lr = 0.2 }]\n",
            Path::new("s.toml"),
        )
        .unwrap();
        assert_eq!(s.experiments[0].levels.len(), 6);
        assert_eq!(s.experiments[1].levels.len(), 2);
        assert_eq!(s.experiments[1].levels[1].label, "batch_size=16, lr=0.2");
    }

    const ADAPTIVE: &str = "seeds = { min = 3, max = 20, step = 2 }\nresolve = { delta = 0.5 }\n\
        [[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n\
        [[experiment]]\nname = \"b\"\nresolve = { delta = 1, alpha = 0.01, spending = \"pocock\" }\n\
        vary = { lr = [0.1, 0.01, 0.001] }\n";

    /// `seeds = N` is a fixed design; `seeds = { min, max, step }` with `resolve` an
    /// adaptive one, whose experiments take the study's `resolve` unless they give
    /// their own, and whose `seeds` is `min`.
    #[test]
    fn seeds_are_a_count_or_an_adaptive_range() {
        let fixed = parse(OK, Path::new("s.toml")).unwrap();
        assert_eq!((fixed.seeds, &fixed.adaptive), (2, &None));
        let s = parse(ADAPTIVE, Path::new("s.toml")).unwrap();
        assert_eq!(s.seeds, 3);
        let a = s.adaptive.as_ref().expect("adaptive");
        assert_eq!((a.min, a.max, a.step), (3, 20, 2));
        assert_eq!(a.looks(), [3, 5, 7, 9, 11, 13, 15, 17, 19, 20]);
        let study =
            Resolve { delta: 0.5, alpha: DEFAULT_ALPHA, spending: AlphaSpending::OBrienFleming };
        assert_eq!(a.resolve["a"], study);
        let own = Resolve { delta: 1.0, alpha: 0.01, spending: AlphaSpending::Pocock };
        assert_eq!(a.resolve["b"], own);
        // A table form, and a fixed study serialises as it did (no `adaptive` key).
        let table = "[seeds]\nmin = 2\nmax = 2\nstep = 1\n[resolve]\ndelta = 0\n\
                     [[experiment]]\nname = \"a\"\nvary = { lr = [0.1] }\n";
        let t = parse(table, Path::new("s.toml")).unwrap();
        assert_eq!(t.adaptive.as_ref().map(|a| a.looks()), Some(vec![2]));
        assert!(!serde_json::to_string(&fixed).unwrap().contains("adaptive"));
        let back: Study = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    /// Every mistake in `seeds` or `resolve` names the file, the line and the field.
    #[test]
    fn adaptive_mistakes_name_line_and_field() {
        let exp = "[[experiment]]\nname = \"a\"\nvary = { lr = [0.1, 0.01] }\n";
        let cases: &[(&str, &str, &str)] = &[
            (
                "seeds = { min = 1, max = 5, step = 1 }\nresolve = { delta = 0.5 }\n",
                "s.toml:1",
                "`seeds.min`",
            ),
            (
                "seeds = { min = 5, max = 3, step = 1 }\nresolve = { delta = 0.5 }\n",
                "s.toml:1",
                "`seeds.max`",
            ),
            (
                "seeds = { min = 3, max = 5, step = 0 }\nresolve = { delta = 0.5 }\n",
                "s.toml:1",
                "`seeds.step`",
            ),
            (
                "seeds = { min = 3, max = 200, step = 1 }\nresolve = { delta = 0.5 }\n",
                "s.toml:1",
                "looks",
            ),
            (
                "seeds = { min = 3, max = 5000, step = 500 }\nresolve = { delta = 0.5 }\n",
                "s.toml:1",
                "`seeds.max`",
            ),
            (
                "seeds = { min = 3, max = 5 }\nresolve = { delta = 0.5 }\n",
                "s.toml:1",
                "`seeds.step`",
            ),
            ("seeds = { min = 3, max = 5, step = 1, most = 9 }\n", "s.toml:1", "`seeds.most`"),
            ("seeds = { min = 3.5, max = 5, step = 1 }\n", "s.toml:1", "`seeds.min`"),
            ("seeds = \"many\"\n", "s.toml:1", "`seeds`"),
            ("seeds = { min = 3, max = 5, step = 1 }\n", "s.toml:3", "`resolve`"),
            (
                "seeds = { min = 3, max = 5, step = 1 }\nresolve = { alpha = 0.1 }\n",
                "s.toml:2",
                "`resolve.delta`",
            ),
            (
                "seeds = { min = 3, max = 5, step = 1 }\nresolve = { delta = -1 }\n",
                "s.toml:2",
                "`resolve.delta`",
            ),
            (
                "seeds = { min = 3, max = 5, step = 1 }\nresolve = { delta = nan }\n",
                "s.toml:2",
                "finite",
            ),
            (
                "seeds = { min = 3, max = 5, step = 1 }\nresolve = { delta = 1, alpha = 0.9 }\n",
                "s.toml:2",
                "`resolve.alpha`",
            ),
            (
                "seeds = { min = 3, max = 5, step = 1 }\nresolve = { delta = 1, spending = \"x\" }\n",
                "s.toml:2",
                "`resolve.spending`",
            ),
            (
                "seeds = { min = 3, max = 5, step = 1 }\nresolve = { delta = 1, beta = 2 }\n",
                "s.toml:2",
                "`resolve.beta`",
            ),
            ("seeds = { min = 3, max = 5, step = 1 }\nresolve = 0.5\n", "s.toml:2", "`resolve`"),
            ("seeds = 4\nresolve = { delta = 0.5 }\n", "s.toml:2", "adaptive seeding only"),
        ];
        for (head, at, field) in cases {
            let e = err(&format!("{head}{exp}"));
            assert!(e.contains(at) && e.contains(field), "{head}: {e}");
        }
        // A multi-line table points at the key's own line.
        let e = err(&format!("[seeds]\nmin = 3\nmax = 1\nstep = 1\n{exp}"));
        assert!(e.contains("s.toml:3") && e.contains("`seeds.max`"), "{e}");
        // `resolve` in an experiment of a fixed study, at its line.
        let e = err(
            "seeds = 3\n[[experiment]]\nname = \"a\"\nresolve = { delta = 1 }\nvary = { lr = [0.1] }\n",
        );
        assert!(e.contains("s.toml:4") && e.contains("`resolve`"), "{e}");
        // An experiment's own `resolve` is checked as the study's is.
        let e = err(&ADAPTIVE.replace("delta = 1,", "delta = -2,"));
        assert!(e.contains("s.toml:8") && e.contains("`resolve.delta`"), "{e}");
        // The run limit counts `max` seeds.
        let big = format!(
            "seeds = {{ min = 2, max = 1000, step = 26 }}\nresolve = {{ delta = 1 }}\n\
            [[experiment]]\nname = \"a\"\nvary = {{ lr = [{}] }}\n",
            (1..=101).map(|i| format!("{}", i as f64 * 1e-4)).collect::<Vec<_>>().join(", ")
        );
        let e = err(&big);
        assert!(e.contains("`vary`") && e.contains("100000"), "{e}");
    }

    #[test]
    fn variance_sources_need_a_random_subset() {
        let e = err("[[experiment]]\nname = \"v\"\nkind = \"variance-sources\"\n");
        assert!(e.contains("stratified"), "{e}");
        let s = parse(
            "[[experiment]]\nname = \"v\"\nkind = \"variance-sources\"\nbase = { train_size = 100, subset = \"stratified\" }\n",
            Path::new("s.toml"),
        )
        .unwrap();
        assert_eq!(s.experiments[0].levels.len(), 4);
    }
}
