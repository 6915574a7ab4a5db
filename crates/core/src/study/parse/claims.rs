//! `checks = [...]`: a claim's parts, each a shape on an outcome, checked against the
//! experiment's levels and the study's other experiments; and the study's `margin`.

use toml::Spanned;

use super::{RawExperiment, Source};
use crate::Result;
use crate::study::{ClaimCheck, ClaimOutcome, ClaimShape, Level, TrendDirection};

/// The parts of `e`'s claim, each checked: its keys, its shape's levels among `levels`,
/// a `trend` or `peak` on an experiment whose levels are ordered numbers, a
/// `less-than` naming another experiment of `names`.
pub(super) fn parse_checks(
    src: &Source<'_>,
    e: &RawExperiment,
    levels: &[Level],
    names: &[&str],
) -> Result<Vec<ClaimCheck>> {
    let Some(list) = &e.checks else { return Ok(vec![]) };
    list.get_ref().iter().map(|c| parse_check(src, c, levels, names, e.name.get_ref())).collect()
}

fn parse_check(
    src: &Source<'_>,
    item: &Spanned<toml::Value>,
    levels: &[Level],
    names: &[&str],
    this: &str,
) -> Result<ClaimCheck> {
    let err = |msg: String| src.error(item.span(), "checks", msg);
    let Some(table) = item.get_ref().as_table() else {
        return Err(err(
            "each check must be a table such as `{ shape = \"best\", level = \"60000\" }`".into(),
        ));
    };
    let text = |key: &str| -> Result<Option<String>> {
        match table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(err(format!("`{key}` must be a string, got {v}"))),
        }
    };
    let known = ["says", "shape", "outcome", "level", "over", "direction", "experiment"];
    if let Some(k) = table.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(err(format!("unknown key `{k}`; a check takes {}", known.join(", "))));
    }
    let level = |key: &str| -> Result<String> {
        let name = text(key)?.ok_or_else(|| err(format!("this shape needs `{key}`, a level")))?;
        if levels.iter().any(|l| l.label == name) {
            return Ok(name);
        }
        let labels: Vec<&str> = levels.iter().map(|l| l.label.as_str()).collect();
        Err(err(format!("`{key} = \"{name}\"` is not a level; levels: {}", labels.join(", "))))
    };
    let shape = match text("shape")?.as_deref() {
        Some("differs") => ClaimShape::Differs,
        Some("best") => ClaimShape::Best { level: level("level")? },
        Some("worst") => ClaimShape::Worst { level: level("level")? },
        Some("beats") => ClaimShape::Beats { level: level("level")?, over: level("over")? },
        Some("trend") => ClaimShape::Trend { direction: direction(text("direction")?, &err)? },
        Some("peak") => ClaimShape::Peak,
        Some("equivalent") => ClaimShape::Equivalent,
        Some("less-than") => {
            let other =
                text("experiment")?.ok_or_else(|| err("`less-than` needs `experiment`".into()))?;
            if other == this || !names.contains(&other.as_str()) {
                return Err(err(format!(
                    "`experiment = \"{other}\"` is not another experiment of this study; \
                     experiments: {}",
                    names.join(", ")
                )));
            }
            ClaimShape::LessThan { experiment: other }
        }
        Some(other) => {
            return Err(err(format!(
                "unknown shape `{other}`; shapes: {}",
                ClaimShape::NAMES.join(", ")
            )));
        }
        None => {
            return Err(err(format!(
                "a check needs `shape`: one of {}",
                ClaimShape::NAMES.join(", ")
            )));
        }
    };
    if matches!(shape, ClaimShape::Trend { .. } | ClaimShape::Peak) && !ordered(levels) {
        return Err(err(format!(
            "`{}` needs levels that are ordered numbers (one numeric field varied)",
            shape.name()
        )));
    }
    let outcome = outcome(text("outcome")?, &err)?;
    if outcome == ClaimOutcome::Divergence
        && !matches!(
            shape,
            ClaimShape::Differs
                | ClaimShape::Beats { .. }
                | ClaimShape::Best { .. }
                | ClaimShape::Worst { .. }
        )
    {
        return Err(err(format!(
            "the divergence rate can be tested with `differs`, `best`, `worst` or `beats`, not `{}`",
            shape.name()
        )));
    }
    Ok(ClaimCheck { says: text("says")?, shape, outcome })
}

fn direction(
    value: Option<String>,
    err: &dyn Fn(String) -> crate::Error,
) -> Result<TrendDirection> {
    match value.as_deref() {
        Some("increasing") => Ok(TrendDirection::Increasing),
        Some("decreasing") => Ok(TrendDirection::Decreasing),
        other => Err(err(format!(
            "`trend` needs `direction = \"increasing\"` or `\"decreasing\"`, got {other:?}"
        ))),
    }
}

fn outcome(value: Option<String>, err: &dyn Fn(String) -> crate::Error) -> Result<ClaimOutcome> {
    match value.as_deref() {
        None | Some("test-accuracy") => Ok(ClaimOutcome::TestAccuracy),
        Some("gap") => Ok(ClaimOutcome::Gap),
        Some("rare-classes") => Ok(ClaimOutcome::RareClasses),
        Some("divergence") => Ok(ClaimOutcome::Divergence),
        Some(other) => Err(err(format!(
            "unknown outcome `{other}`; outcomes: test-accuracy, gap, rare-classes, divergence"
        ))),
    }
}

/// Whether the levels vary one field whose values are numbers.
fn ordered(levels: &[Level]) -> bool {
    levels.len() >= 2
        && levels.iter().all(|l| l.values.len() == 1 && l.values.values().all(|v| v.is_number()))
        && levels.windows(2).all(|w| w[0].values.keys().eq(w[1].values.keys()))
}

/// The study's `margin`: a number of accuracy points in (0, 100].
pub(super) fn parse_margin(src: &Source<'_>, margin: Option<&Spanned<toml::Value>>) -> Result<f64> {
    let Some(m) = margin else { return Ok(crate::study::DEFAULT_MARGIN) };
    let value = match m.get_ref() {
        toml::Value::Float(x) => *x,
        toml::Value::Integer(i) => *i as f64,
        other => {
            return Err(src.error(
                m.span(),
                "margin",
                format!("must be a number of accuracy points, got {other}"),
            ));
        }
    };
    if !(value > 0.0 && value <= 100.0) {
        return Err(src.error(
            m.span(),
            "margin",
            format!("must be more than 0 and at most 100 accuracy points, got {value}"),
        ));
    }
    Ok(value)
}
