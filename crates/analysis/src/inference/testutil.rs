//! Test helpers: the reference values (reference.json, written by
//! scripts/reference/inference_reference.py) and tolerant comparisons.

use serde_json::Value;

/// The parsed reference file.
pub(crate) fn reference() -> Value {
    serde_json::from_str(include_str!("reference.json")).expect("valid reference JSON")
}

/// A number.
pub(crate) fn f(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

/// A list of numbers.
pub(crate) fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(f).collect()
}

/// A two-number list as a pair.
pub(crate) fn pair(v: &Value) -> (f64, f64) {
    let xs = floats(v);
    assert_eq!(xs.len(), 2, "a pair");
    (xs[0], xs[1])
}

/// A list of lists of numbers.
pub(crate) fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().expect("rows").iter().map(floats).collect()
}

/// The cases under `key`.
pub(crate) fn cases<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    let list = v[key].as_array().expect("a list of cases");
    assert!(!list.is_empty(), "no reference cases under {key}");
    list
}

/// `a` within `tol` of `b`, relatively (absolutely below magnitude 1).
pub(crate) fn near(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol * b.abs().max(1.0), "{what}: {a} vs reference {b}");
}

/// `a` within `tol` of `b`, relatively at every magnitude (for tiny p-values).
pub(crate) fn near_rel(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol * b.abs(), "{what}: {a} vs reference {b}");
}

/// Both ends of an interval within `tol`.
pub(crate) fn near_pair(a: (f64, f64), b: (f64, f64), tol: f64, what: &str) {
    near(a.0, b.0, tol, what);
    near(a.1, b.1, tol, what);
}
