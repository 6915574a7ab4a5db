//! Adaptive seeding in a study file: `seeds` (a count, or `{ min, max, step }`) and
//! `resolve`, the study's and each experiment's.

use std::collections::BTreeMap;

use crate::Result;
use toml::Spanned;

use super::{RawStudy, Source};
use crate::study::limits::{MAX_ADAPTIVE_SEEDS, MAX_LOOKS, MAX_RUNS};
use crate::study::{
    AdaptiveSeeds, AlphaSpending, DEFAULT_ALPHA, DEFAULT_SD_INTERVAL_RATIO, Resolve,
};

/// The study's `seeds`: a count, or the `(min, max, step)` of adaptive seeding (whose
/// `count` is `min`).
#[derive(Clone, Copy)]
pub(super) struct Seeds {
    /// Replicates per level (adaptive: `min`).
    pub(super) count: usize,
    /// Adaptive seeding's `(min, max, step)`.
    pub(super) range: Option<(usize, usize, usize)>,
}

/// Replicates per level: `seeds`, from 1 to [`MAX_RUNS`] (5 when not given), or
/// `{ min, max, step }`: from 2 to [`MAX_ADAPTIVE_SEEDS`] seeds in at most
/// [`MAX_LOOKS`] looks.
pub(super) fn parse_seeds(src: &Source<'_>, seeds: Option<&Spanned<toml::Value>>) -> Result<Seeds> {
    let Some(s) = seeds else { return Ok(Seeds { count: 5, range: None }) };
    match s.get_ref() {
        toml::Value::Integer(n) if *n < 1 || *n as u64 > MAX_RUNS as u64 => {
            Err(src.error(s.span(), "seeds", format!("must be from 1 to {MAX_RUNS}, got {n}")))
        }
        toml::Value::Integer(n) => Ok(Seeds { count: *n as usize, range: None }),
        toml::Value::Table(t) => seed_range(src, s, t),
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

/// `seeds = { min, max, step }` (the value `s`, whose table is `t`): each key a whole
/// number of seeds, none missing, none unknown, then checked as a range.
fn seed_range(src: &Source<'_>, s: &Spanned<toml::Value>, t: &toml::Table) -> Result<Seeds> {
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
                // The real least value of each key: 2 seeds first (and so at most), 1
                // more at a time; 0 and 1 get the reason from `check_range`.
                let least = if key == "step" { 1 } else { 2 };
                return Err(src.error(
                    at,
                    &field,
                    format!("must be from {least} to {MAX_ADAPTIVE_SEEDS}, got {n}"),
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
    check_range(src, s, got)
}

/// Checks `[min, max, step]` of `seeds = { … }`: at least 2 seeds first, `max` not
/// below `min`, a step that adds seeds, and at most [`MAX_LOOKS`] looks.
fn check_range(src: &Source<'_>, s: &Spanned<toml::Value>, got: [usize; 3]) -> Result<Seeds> {
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
        return Err(src.error(here("step"), "seeds.step", "is 0: each look must add seeds"));
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

/// The largest `resolve.delta`: a difference in accuracy points is at most 100.
const MAX_DELTA: f64 = 100.0;

/// `resolve = { delta = 0.5, alpha = 0.05, spending = "obrien-fleming" }`: `delta`
/// (accuracy points, from 0 to [`MAX_DELTA`]) is required; `alpha` in (0, 0.5] defaults
/// to [`DEFAULT_ALPHA`]; `spending` is `obrien-fleming` (the default) or `pocock`;
/// `sd_interval_ratio` (above 1) defaults to [`DEFAULT_SD_INTERVAL_RATIO`].
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
    let mut resolve = Resolve {
        delta: f64::NAN,
        alpha: DEFAULT_ALPHA,
        spending: Default::default(),
        sd_interval_ratio: DEFAULT_SD_INTERVAL_RATIO,
    };
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
                if resolve.delta > MAX_DELTA {
                    let msg = format!(
                        "is {}: the smallest difference that matters is in accuracy points, \
                         from 0 to {MAX_DELTA} (0: no equivalence claims)",
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
            "sd_interval_ratio" => {
                resolve.sd_interval_ratio = number(key, v)?;
                if resolve.sd_interval_ratio <= 1.0 {
                    let msg = format!(
                        "is {}: the largest ratio of the upper to the lower end of a source's \
                         sd interval must be above 1",
                        resolve.sd_interval_ratio
                    );
                    return Err(src.error(at(key), &field, msg));
                }
            }
            _ => {
                return Err(src.error(
                    at(key),
                    &field,
                    "unknown key; `resolve` takes `delta` (accuracy points), `alpha`, `spending` \
                     and `sd_interval_ratio`",
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
pub(super) fn adaptive(
    src: &Source<'_>,
    raw: &RawStudy,
    seeds: Seeds,
) -> Result<Option<AdaptiveSeeds>> {
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The error of parsing `seeds` and `resolve` lines over two levels.
    fn err(head: &str) -> String {
        let text = format!("{head}[[experiment]]\nname = \"a\"\nvary = {{ lr = [0.1, 0.01] }}\n");
        crate::study::parse(&text, Path::new("s.toml")).expect_err(head).to_string()
    }

    /// A key of `seeds = { … }` out of range names its own least value (2 seeds first,
    /// and so at most; 1 more at a time), not 0.
    #[test]
    fn seed_range_messages_give_each_key_its_least_value() {
        let cases = [
            ("min = -1, max = 5, step = 1", "`seeds.min`: must be from 2 to 1000, got -1"),
            ("min = 3, max = -4, step = 1", "`seeds.max`: must be from 2 to 1000, got -4"),
            ("min = 3, max = 5000, step = 1", "`seeds.max`: must be from 2 to 1000, got 5000"),
            ("min = 3, max = 5, step = -1", "`seeds.step`: must be from 1 to 1000, got -1"),
        ];
        for (range, expected) in cases {
            let e = err(&format!("seeds = {{ {range} }}\nresolve = {{ delta = 0.5 }}\n"));
            assert!(e.contains(expected) && e.contains("s.toml:1"), "{range}: {e}");
        }
    }

    /// `resolve.delta` is a difference in accuracy points: above 100 is refused (101,
    /// 1e300), 0 to 100 taken.
    #[test]
    fn delta_is_at_most_100_points() {
        for delta in ["101", "1e300", "100.5"] {
            let e = err(&format!(
                "seeds = {{ min = 3, max = 5, step = 1 }}\nresolve = {{ delta = {delta} }}\n"
            ));
            assert!(e.contains("`resolve.delta`") && e.contains("from 0 to 100"), "{delta}: {e}");
            assert!(e.contains("s.toml:2"), "{delta}: {e}");
        }
        for delta in ["0", "0.5", "100"] {
            let text = format!(
                "seeds = {{ min = 3, max = 5, step = 1 }}\nresolve = {{ delta = {delta} }}\n\
                 [[experiment]]\nname = \"a\"\nvary = {{ lr = [0.1, 0.01] }}\n"
            );
            crate::study::parse(&text, Path::new("s.toml")).expect(delta);
        }
    }
}
