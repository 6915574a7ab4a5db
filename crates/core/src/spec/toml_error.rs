//! Turning a TOML parse error into an [`Error`] that names the file, the line and, where
//! there is one, the field.

use crate::Error;

/// Turns a TOML parse error into an [`Error::Field`] that names file, line and field,
/// or, where the error belongs to no field (a syntax error), an [`Error::Syntax`] that
/// names file, line and column.
pub fn toml_error(location: &str, text: &str, e: &toml::de::Error) -> Error {
    let message = e.message().trim().replace('\n', "; ");
    let Some(span) = e.span() else { return Error::syntax(location, message) };
    let start = span.start.min(text.len());
    let before = text.get(..start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    match key_of_span(text, span) {
        Some(key) => Error::field(format!("{location}:{line}"), key, message),
        None => {
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Error::syntax(format!("{location}:{line}:{column}"), format!("invalid TOML: {message}"))
        }
    }
}

/// The key an error span belongs to: the span itself when it is a key (`name = …`),
/// else the key of the `key = value` the span starts in, on the same line.
fn key_of_span(text: &str, span: std::ops::Range<usize>) -> Option<String> {
    let is_key = |s: &str| {
        !s.is_empty()
            && s.len() < 64
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    let own = text.get(span.clone()).unwrap_or("").trim().trim_matches('"');
    let after = text.get(span.end..).unwrap_or("").trim_start();
    if is_key(own) && after.starts_with('=') {
        return Some(own.to_string());
    }
    let before = text.get(..span.start)?;
    let line = before.rsplit('\n').next().unwrap_or("");
    let (lhs, _) = line.rsplit_once('=')?;
    let key = lhs.rsplit(['{', ',']).next()?.trim().trim_matches('"');
    is_key(key).then(|| key.to_string())
}
