//! The findings in words, from typed outcomes made up for each sentence.

use cnnvar_analysis::SourceStats;
use cnnvar_analysis::inference::BrownForsythe;
use cnnvar_analysis::sources::{ChaosStats, ChaosVerdict, EqualSpread, NUDGE, RERUN};

use super::*;

/// A `rerun` or `nudge` level of 20 runs with this verdict: sd 0.12 [0.09, 0.18]
/// points, 97% [52, 190] of the all-seeds spread.
fn chaos(source: &str, verdict: ChaosVerdict) -> ChaosStats {
    ChaosStats {
        source: source.into(),
        n: 20,
        sd: Some(0.0012),
        sd_ci: Some((0.0009, 0.0018)),
        ratio: Some(0.97),
        ratio_ci: Some((0.52, 1.9)),
        verdict,
    }
}

/// Every verdict of both sources has its own sentence.
#[test]
fn each_chaos_verdict_in_words() {
    use ChaosVerdict::*;
    let said = |source: &str, verdict| chaos_sentence(&chaos(source, verdict));
    let share = "97% [52, 190] of the spread of fully new seeds";
    let sd = "sd 0.12 [0.09, 0.18] points";
    assert_eq!(
        said(RERUN, Identical),
        "rerunning the same seeds gave identical accuracy in all 20 runs (deterministic)"
    );
    assert_eq!(
        said(NUDGE, Identical),
        "changing one weight by one ulp left accuracy identical in all 20 runs: no chaos here"
    );
    assert_eq!(
        said(NUDGE, AsMuchAsNewSeeds),
        format!(
            "changing one weight by one ulp gives {share}: the variation is chaos, not bad luck \
             with seeds"
        )
    );
    assert_eq!(
        said(NUDGE, LessThanNewSeeds),
        format!(
            "changing one weight by one ulp gives {share}: the nudge alone moves accuracy less \
             than new seeds"
        )
    );
    assert_eq!(
        said(NUDGE, NotResolved),
        format!(
            "changing one weight by one ulp gives {share}: not resolved (the interval is too \
             wide; more seeds would tell)"
        )
    );
    assert_eq!(
        said(RERUN, AsMuchAsNewSeeds),
        format!(
            "rerunning the same seeds gave {sd}, {share}: the runs are not deterministic, and \
             that alone varies accuracy as much as new seeds"
        )
    );
    assert_eq!(
        said(RERUN, LessThanNewSeeds),
        format!(
            "rerunning the same seeds gave {sd}, {share}: not deterministic, but less than new seeds"
        )
    );
    assert_eq!(
        said(RERUN, NotResolved),
        format!(
            "rerunning the same seeds gave {sd}, {share}: not deterministic; how much, not resolved"
        )
    );
}

/// Without an all-seeds level there is only the sd, or how few runs there are.
#[test]
fn chaos_without_a_comparison() {
    let alone = |source: &str, n: usize| {
        let sd = (n >= 2).then_some(0.0012);
        let c = ChaosStats {
            n,
            sd,
            sd_ci: sd.map(|_| (0.0009, 0.0018)),
            ratio: None,
            ratio_ci: None,
            ..chaos(source, ChaosVerdict::NoComparison)
        };
        chaos_sentence(&c)
    };
    assert_eq!(
        alone(NUDGE, 20),
        "changing one weight by one ulp gave sd 0.12 [0.09, 0.18] points (no all-seeds spread \
         to compare with)"
    );
    assert_eq!(
        alone(RERUN, 1),
        "rerunning the same seeds gave 1 run, too few for an sd (no all-seeds spread to compare \
         with)"
    );
    assert!(alone(RERUN, 0).starts_with("rerunning the same seeds gave 0 runs, too few"));
}

/// `source` of 20 runs with sd `sd` [0.8 sd, 1.4 sd] and, but for `all`, its ratio to
/// the all-seeds sd.
fn source(name: &str, sd: f64, ratio: Option<f64>) -> SourceStats {
    SourceStats {
        source: name.into(),
        n: 20,
        sd: Some(sd),
        sd_ci: Some((0.8 * sd, 1.4 * sd)),
        sd_ci_bootstrap: None,
        ratio_to_all: ratio,
        ratio_to_all_ci: ratio.map(|r| (0.5 * r, 1.5 * r)),
    }
}

/// The test of equal spread between `sources` with p-value `p`.
fn equal(sources: &[&str], p: f64) -> EqualSpread {
    EqualSpread {
        sources: sources.iter().map(|s| s.to_string()).collect(),
        runs: 20 * sources.len(),
        test: BrownForsythe { statistic: Some(1.0), df1: 2.0, df2: 57.0, p },
    }
}

/// Each source's sd, interval and share of the all-seeds sd, then whether the single
/// sources' spreads differ.
#[test]
fn the_sources_in_one_sentence() {
    let sources = [
        source("init", 0.01, Some(0.5)),
        source("order", 0.02, Some(1.0)),
        SourceStats { sd: None, ..source("subset", 0.0, None) },
        source("all", 0.02, None),
    ];
    assert_eq!(
        sources_sentence(&sources, Some(&equal(&["init", "order", "subset"], 0.0004))),
        "init: sd 1.00 [0.80, 1.40] points, 0.50 [0.25, 0.75] of all seeds' sd; order: sd 2.00 \
         [1.60, 2.80] points, 1.00 [0.50, 1.50] of all seeds' sd; all: sd 2.00 [1.60, 2.80] \
         points; spread differs between init, order and subset (Brown–Forsythe p < 0.001)"
    );
    let two = sources_sentence(&sources[..1], Some(&equal(&["init", "order"], 0.25)));
    assert!(
        two.ends_with(
            "; spread not shown to differ between init and order (Brown–Forsythe p = 0.250)"
        ),
        "{two}"
    );
    assert_eq!(sources_sentence(&sources[2..3], None), "");
}
