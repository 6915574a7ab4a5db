//! What the analysis found besides the verdicts on pairs, in words: the spread of each
//! source of seed randomness, and whether `rerun` and `nudge` spread accuracy as much as
//! new seeds ("Chance or chaos?").

use cnnvar_analysis::sources::{ChaosStats, ChaosVerdict, EqualSpread, NUDGE};
use cnnvar_analysis::{ALPHA, SourceStats};

use crate::words::{p_text, pts2};

/// `subset: sd 1.02 [0.79, 1.45] points, 0.95 [0.71, 1.32] of all seeds' sd; …; spread
/// differs between init, order and subset (Brown–Forsythe p = 0.003)`: each source's
/// sd with its chi-square interval and its ratio to the all-seeds sd, then the test of
/// equal spread.
pub fn sources_sentence(sources: &[SourceStats], equal: Option<&EqualSpread>) -> String {
    let mut parts: Vec<String> = sources.iter().filter_map(source_words).collect();
    if let Some(e) = equal {
        let names = match e.sources.as_slice() {
            [rest @ .., last] if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            other => other.join(", "),
        };
        let verb = if e.test.p < ALPHA { "differs" } else { "not shown to differ" };
        parts.push(format!("spread {verb} between {names} (Brown–Forsythe {})", p_text(e.test.p)));
    }
    parts.join("; ")
}

/// `init: sd 0.87 [0.66, 1.27] points, 0.75 [0.42, 1.38] of all seeds' sd`; `None`
/// without an sd.
fn source_words(s: &SourceStats) -> Option<String> {
    let sd = s.sd?;
    let ci = s.sd_ci.map_or(String::new(), |(lo, hi)| format!(" [{}, {}]", pts2(lo), pts2(hi)));
    let ratio = match (s.ratio_to_all, s.ratio_to_all_ci) {
        (Some(r), Some((lo, hi))) => format!(", {r:.2} [{lo:.2}, {hi:.2}] of all seeds' sd"),
        _ => String::new(),
    };
    Some(format!("{}: sd {}{ci} points{ratio}", s.source, pts2(sd)))
}

/// One plain sentence for a `rerun` or `nudge` level: "changing one weight by one ulp
/// gives 97% [52, 190] of the spread of fully new seeds: the variation is chaos, not
/// bad luck with seeds".
pub fn chaos_sentence(c: &ChaosStats) -> String {
    if c.source == NUDGE { nudge_sentence(c) } else { rerun_sentence(c) }
}

/// [`chaos_sentence`] of a `nudge` level.
fn nudge_sentence(c: &ChaosStats) -> String {
    let share = chaos_share(c);
    match c.verdict {
        ChaosVerdict::Identical => format!(
            "changing one weight by one ulp left accuracy identical in all {} runs: no chaos \
             here",
            c.n
        ),
        ChaosVerdict::AsMuchAsNewSeeds => format!(
            "changing one weight by one ulp gives {share}: the variation is chaos, not bad \
             luck with seeds"
        ),
        ChaosVerdict::LessThanNewSeeds => format!(
            "changing one weight by one ulp gives {share}: the nudge alone moves accuracy \
             less than new seeds"
        ),
        ChaosVerdict::NotResolved => format!(
            "changing one weight by one ulp gives {share}: not resolved (the interval is too \
             wide; more seeds would tell)"
        ),
        ChaosVerdict::NoComparison => format!(
            "changing one weight by one ulp gave {} (no all-seeds spread to compare with)",
            chaos_sd(c)
        ),
    }
}

/// [`chaos_sentence`] of a `rerun` level.
fn rerun_sentence(c: &ChaosStats) -> String {
    let (sd, share) = (chaos_sd(c), chaos_share(c));
    match c.verdict {
        ChaosVerdict::Identical => format!(
            "rerunning the same seeds gave identical accuracy in all {} runs (deterministic)",
            c.n
        ),
        ChaosVerdict::AsMuchAsNewSeeds => format!(
            "rerunning the same seeds gave {sd}, {share}: the runs are not deterministic, and \
             that alone varies accuracy as much as new seeds"
        ),
        ChaosVerdict::LessThanNewSeeds => format!(
            "rerunning the same seeds gave {sd}, {share}: not deterministic, but less than \
             new seeds"
        ),
        ChaosVerdict::NotResolved => format!(
            "rerunning the same seeds gave {sd}, {share}: not deterministic; how much, not \
             resolved"
        ),
        ChaosVerdict::NoComparison => {
            format!("rerunning the same seeds gave {sd} (no all-seeds spread to compare with)")
        }
    }
}

/// `97% [52, 190] of the spread of fully new seeds`, or nothing without a ratio.
fn chaos_share(c: &ChaosStats) -> String {
    let pct = |x: f64| format!("{:.0}", 100.0 * x);
    match (c.ratio, c.ratio_ci) {
        (Some(r), Some((lo, hi))) => {
            format!("{}% [{}, {}] of the spread of fully new seeds", pct(r), pct(lo), pct(hi))
        }
        _ => String::new(),
    }
}

/// `sd 0.12 [0.09, 0.18] points`, or `1 run, too few for an sd`.
fn chaos_sd(c: &ChaosStats) -> String {
    match (c.sd, c.sd_ci) {
        (Some(sd), Some((lo, hi))) => {
            format!("sd {} [{}, {}] points", pts2(sd), pts2(lo), pts2(hi))
        }
        _ => format!("{} run{}, too few for an sd", c.n, if c.n == 1 { "" } else { "s" }),
    }
}

#[cfg(test)]
#[path = "findings_tests.rs"]
mod tests;
