//! The spec fields a study sets (its `[base]`, an experiment's `base`, a level's
//! values), each checked on its own so that an error points at it.

use std::collections::BTreeMap;

use crate::{Error, RUN_VALUES, Result, RunSpec, SCRIPT_SETTINGS, Script};
use serde_json::{Map, Value};
use toml::Spanned;

use super::{Source, Table};

/// Spec fields set so far, with the span each was set at (for error positions).
#[derive(Clone, Default)]
pub(super) struct Fields {
    /// The values, by field name, as JSON.
    pub(super) values: Map<String, Value>,
    /// Where each was set.
    pub(super) spans: BTreeMap<String, std::ops::Range<usize>>,
    /// A level's own name (`label = "..."` in a `levels` table).
    pub(super) label: Option<String>,
}

impl Fields {
    /// The fields a study's runs start from before its `[base]`: those a new run sets
    /// where its author says nothing ([`RunSpec::new_run`]), at no position in the file.
    pub(super) fn new_run() -> Fields {
        Fields { values: RunSpec::new_run_fields(), ..Fields::default() }
    }

    /// Adds the fields of `table`, checking each name and type.
    pub(super) fn set_table(&mut self, src: &Source<'_>, table: &Table) -> Result<()> {
        for (key, value) in table {
            self.set(src, key, value)?;
        }
        Ok(())
    }

    /// Adds the field `key`, checking its name, and its value's type on its own.
    pub(super) fn set(
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
        let checked = if src.script {
            check_script_value(name, &json)
        } else {
            let mut probe = Map::new();
            probe.insert(name.to_string(), json.clone());
            serde_json::from_value::<RunSpec>(Value::Object(probe))
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        if let Err(e) = checked {
            return Err(src.error(value.span(), name, e));
        }
        self.values.insert(name.to_string(), json);
        self.spans.insert(name.to_string(), value.span());
        Ok(())
    }

    /// The spec these fields make, validated (its backend too, where this build trains:
    /// `Backend::check_plannable`); errors point at the offending field.
    pub(super) fn resolve(
        &self,
        src: &Source<'_>,
        fallback: std::ops::Range<usize>,
    ) -> Result<RunSpec> {
        let spec: RunSpec = if src.script {
            self.script_spec(src)
        } else {
            serde_json::from_value(Value::Object(self.values.clone()))
        }
        .map_err(|e| src.error(fallback.clone(), "level", e.to_string()))?;
        match spec.validate().and_then(|()| spec.backend.check_plannable()) {
            Ok(()) => Ok(spec),
            Err(Error::Field { field, message, .. }) => {
                let span = self.spans.get(&field).cloned().unwrap_or(fallback);
                Err(src.error(span, &field, message))
            }
            Err(e @ Error::BackendNotCompiled { .. }) => {
                let span = self.spans.get("backend").cloned().unwrap_or(fallback);
                Err(src.error(span, "backend", e.to_string()))
            }
            Err(e) => Err(e),
        }
    }
}

impl Fields {
    /// A script study's spec: [`RunSpec::new_run`] with a [`Script`] whose command,
    /// files and time-out are those fields, its parameters every other, and its `dir`
    /// the study file's directory.
    fn script_spec(&self, src: &Source<'_>) -> serde_json::Result<RunSpec> {
        let mut script = Map::new();
        let mut params = Map::new();
        for (k, v) in &self.values {
            if SCRIPT_SETTINGS.contains(&k.as_str()) {
                script.insert(k.clone(), v.clone());
            } else {
                params.insert(k.clone(), v.clone());
            }
        }
        script.insert("params".into(), Value::Object(params));
        let mut script: Script = serde_json::from_value(Value::Object(script))?;
        let dir = std::path::Path::new(&src.file).parent().map(std::path::Path::to_path_buf);
        script.dir = dir.map(|d| if d.as_os_str().is_empty() { ".".into() } else { d });
        Ok(RunSpec { script: Some(script), ..RunSpec::new_run() })
    }
}

/// A script study's value for `name`: the type of a script setting
/// ([`SCRIPT_SETTINGS`]), or a parameter's (a string, number or boolean).
fn check_script_value(name: &str, json: &Value) -> std::result::Result<(), String> {
    if SCRIPT_SETTINGS.contains(&name) {
        let mut probe = Map::new();
        probe.insert("command".into(), Value::from(vec!["x"]));
        probe.insert(name.to_string(), json.clone());
        return serde_json::from_value::<Script>(Value::Object(probe))
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    match json {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(()),
        other => {
            Err(format!("a script parameter must be a string, number or boolean, got {other}"))
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

/// Refuses a seed field (studies derive them), a field of the `rerun` and `nudge`
/// sources ([`RunSpec::SOURCE_FIELDS`]) and a name that is no spec field.
pub(super) fn check_field_name(src: &Source<'_>, key: &Spanned<String>) -> Result<()> {
    let name = key.get_ref().as_str();
    if src.script {
        return check_script_name(src, key);
    }
    if RunSpec::SEED_FIELDS.contains(&name) {
        return Err(src.error(
            key.span(),
            name,
            "run seeds are derived from the study's `seed`, experiment and replicate; set `seed` at the top of the file instead",
        ));
    }
    if RunSpec::SOURCE_FIELDS.contains(&name) {
        return Err(src.error(
            key.span(),
            name,
            "set by a variance-sources experiment's `rerun` and `nudge` sources, replicate by \
             replicate; list them in its `sources` instead",
        ));
    }
    if !RunSpec::fields().contains(&name) {
        let known: Vec<&str> = RunSpec::fields()
            .iter()
            .copied()
            .filter(|f| !RunSpec::SEED_FIELDS.contains(f) && !RunSpec::SOURCE_FIELDS.contains(f))
            .collect();
        return Err(src.error(
            key.span(),
            name,
            format!("unknown factor `{name}`; known: {}", known.join(", ")),
        ));
    }
    Ok(())
}

/// A script study's name: a setting ([`SCRIPT_SETTINGS`]) or a parameter (letters,
/// digits and `_`, not one of the names cnnvar passes itself, [`RUN_VALUES`]).
fn check_script_name(src: &Source<'_>, key: &Spanned<String>) -> Result<()> {
    let name = key.get_ref().as_str();
    if RUN_VALUES.contains(&name) {
        return Err(src.error(
            key.span(),
            name,
            format!(
                "cnnvar passes `{name}` to every run of the script itself (seeds derive from                  the study's `seed`); name the parameter otherwise"
            ),
        ));
    }
    if !SCRIPT_SETTINGS.contains(&name) && !crate::spec::script::is_identifier(name) {
        return Err(src.error(
            key.span(),
            name,
            "a script parameter's name must be letters, digits and `_`, not starting with a              digit (it becomes a flag and an environment variable)",
        ));
    }
    Ok(())
}

/// A level's label: the value alone for one factor, `name=value, …` for several.
pub(super) fn label(values: &Map<String, Value>) -> String {
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
