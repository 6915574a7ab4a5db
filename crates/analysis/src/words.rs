//! The number formats of the sentences the statistics still store (the test-set noise,
//! the protocol and the variance sources'); the rest of the English is the report's
//! (`cnnvar-report`).

#![allow(unused_imports)]
use std::collections::HashMap;

use cnnvar_core::study::{Experiment, ExperimentKind, Level, PlannedRun};
use cnnvar_core::{Predictions, RunRecord};
use serde::Serialize;

use crate::noise::NoiseSummary;
use crate::power::{Design, PowerTarget, Scale, SeedsNeeded, TTest, Trend};
use crate::stats::{Comparison, Summary, compare, sd_interval, summarize};
use crate::*;

/// `0.912` as `91.2`.
pub(crate) fn pts(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

/// `0.004` as `0.40` (points, two decimals: for sds and small differences).
pub(crate) fn pts2(x: f64) -> String {
    format!("{:.2}", 100.0 * x)
}

/// `p = 0.042`, `p < 0.001`.
pub(crate) fn p_words(p: f64) -> String {
    if p < 0.001 { "p < 0.001".to_string() } else { format!("p = {p:.3}") }
}

/// `10000` as `10 000`.
pub(crate) fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}
