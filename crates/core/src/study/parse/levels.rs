//! Each `[[experiment]]` of a study file: its name, its kind, and its levels (a `vary`
//! grid, a `levels` list, or the variance sources), each resolved into a validated spec.

use std::collections::BTreeMap;

use crate::{Result, SubsetMethod};
use serde_json::Map;
use toml::Spanned;

use super::fields::{Fields, check_field_name, label};
use super::{RawExperiment, Source, Table, Vary};
use crate::study::limits::MAX_RUNS;
use crate::study::{
    ALL_VARIANCE_SOURCES, Experiment, ExperimentKind, Level, NUDGE_AT, VARIANCE_SOURCES,
    backend_cycle, nudge_epoch,
};

/// Every `[[experiment]]`, in file order, each checked (name, grid size) before it is
/// expanded; the study as a whole is refused as soon as it passes [`MAX_RUNS`].
pub(super) fn parse_experiments(
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
    let names: Vec<&str> = raw.iter().map(|e| e.name.get_ref().as_str()).collect();
    let checks: Vec<_> = raw
        .iter()
        .zip(&experiments)
        .map(|(e, x)| super::claims::parse_checks(src, e, &x.levels, &names))
        .collect::<Result<_>>()?;
    for (x, c) in experiments.iter_mut().zip(checks) {
        x.checks = c;
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
            if let Some(sources) = &e.sources {
                return Err(src.error(
                    sources.span(),
                    "sources",
                    "`sources` lists the levels of a variance-sources experiment; add \
                     `kind = \"variance-sources\"` or remove it",
                ));
            }
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
        checks: vec![],
        kind,
        factors,
        levels,
    })
}

/// A variance-sources experiment: one level per source it lists in `sources` (default
/// [`VARIANCE_SOURCES`]), all on the same spec, which must draw a stratified subset
/// (else the subset seed would change nothing). Such an experiment may not set `vary`
/// or `levels`.
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
    let script = spec.script.is_some();
    if !script && (spec.subset != SubsetMethod::Stratified || spec.train_size.is_none()) {
        return Err(src.error(
            here,
            "subset",
            "variance-sources needs `subset = \"stratified\"` and a `train_size`, so that the subset seed draws different examples",
        ));
    }
    let names = source_names(src, e)?;
    if let Some(list) = &e.sources
        && script
        && names.iter().any(|n| n == "split")
    {
        return Err(src.error(
            list.span(),
            "sources",
            "`split`: a script evaluates itself; cnnvar cannot resample its test set",
        ));
    }
    if let Some(list) = &e.sources
        && names.iter().any(|n| n == "backend")
    {
        if script {
            return Err(src.error(
                list.span(),
                "sources",
                "`backend`: a script trains on its own framework; cnnvar cannot move its \
                 weights to another backend",
            ));
        }
        // Named `backend`, so that a reader of another build's study (a report) takes it
        // as a backend this build lacks, not as damage.
        for b in backend_cycle(spec.backend) {
            b.check_plannable().map_err(|e| {
                src.error(
                    list.span(),
                    "backend",
                    format!("the `backend` source trains on {b}: {e}"),
                )
            })?;
        }
    }
    if let Some(nudge) = names.iter().find(|n| script && nudge_epoch(n).is_some())
        && let Some(list) = &e.sources
    {
        return Err(src.error(
            list.span(),
            "sources",
            format!("`{nudge}`: a script's weights are its own; cnnvar cannot nudge one"),
        ));
    }
    if let Some(late) =
        names.iter().find(|n| nudge_epoch(n).is_some_and(|e| e as usize >= spec.epochs))
        && let Some(list) = &e.sources
    {
        return Err(src.error(
            list.span(),
            "sources",
            format!(
                "`{late}` nudges after the last epoch or later (epochs = {}), which changes \
                 nothing; use `{NUDGE_AT}E` with E from 1 to {}",
                spec.epochs,
                spec.epochs.saturating_sub(1)
            ),
        ));
    }
    if let Some(list) = &e.sources
        && let Some(why) = names.iter().find_map(|n| source_without_draws(&spec, n))
    {
        return Err(src.error(list.span(), "sources", why));
    }
    let levels = names
        .into_iter()
        .map(|source| Level { label: source, values: Map::new(), spec: spec.clone() })
        .collect();
    Ok((vec!["seed source".into()], levels))
}

/// Why the built-in training of `spec` draws nothing from `source`'s seed (`dropout`
/// without dropout, `augment` without augmentation), so that listing it would only
/// rerun the fixed seeds under another name; `None` for every other source and for a
/// script (whose dropout and augmentation cnnvar cannot see).
fn source_without_draws(spec: &crate::RunSpec, source: &str) -> Option<String> {
    if spec.script.is_some() {
        return None;
    }
    let resolved = spec.resolved();
    match source {
        "dropout" if resolved.dropout == 0.0 => Some(
            "`dropout`: this experiment's model has no dropout (set `dropout` above 0 in its \
             `base`), so the dropout seed draws nothing"
                .into(),
        ),
        "augment" if resolved.augment == crate::AugmentName::None => Some(
            "`augment`: this experiment does not augment (set `augment` in its `base`), so \
             the augmentation seed draws nothing"
                .into(),
        ),
        _ => None,
    }
}

/// The sources a variance-sources experiment lists (`sources = [...]`), in file order,
/// each one of [`ALL_VARIANCE_SOURCES`] or a `nudge@E`, and none twice; [`VARIANCE_SOURCES`] when it
/// lists none.
fn source_names(src: &Source<'_>, e: &RawExperiment) -> Result<Vec<String>> {
    let Some(list) = &e.sources else {
        return Ok(VARIANCE_SOURCES.iter().map(|s| s.to_string()).collect());
    };
    if list.get_ref().is_empty() {
        return Err(src.error(
            list.span(),
            "sources",
            format!("lists no source; allowed: {}", ALL_VARIANCE_SOURCES.join(", ")),
        ));
    }
    let mut names: Vec<String> = Vec::new();
    for name in list.get_ref() {
        let text = name.get_ref().as_str();
        if !ALL_VARIANCE_SOURCES.contains(&text) && nudge_epoch(text).is_none() {
            return Err(src.error(
                name.span(),
                "sources",
                format!(
                    "unknown source `{text}`; allowed: {}, {NUDGE_AT}E (a nudge after epoch E \
                     ≥ 1)",
                    ALL_VARIANCE_SOURCES.join(", ")
                ),
            ));
        }
        if names.iter().any(|n| n == text) {
            return Err(src.error(name.span(), "sources", format!("`{text}` is listed twice")));
        }
        names.push(text.to_string());
    }
    Ok(names)
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
