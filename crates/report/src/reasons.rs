//! The claim parts' tests and what decided them, in words: `paired t, each of 3 at 5%`,
//! `0.01 is best: it differs from each of the 3 others at 5%; closest 0.001`.

use cnnvar_analysis::claims::{PartTest, Reason, TrendStep};

use crate::words::p_text;

/// The test a part was decided by, in a few words.
pub fn test_words(t: &PartTest) -> String {
    match t {
        PartTest::None => "none".into(),
        PartTest::PairedT => "paired t".into(),
        PartTest::WelchT => "Welch t".into(),
        PartTest::PairedTEach { m } => format!("paired t, each of {m} at 5%"),
        PartTest::PairedTBonferroni => "paired t, Bonferroni over the others".into(),
        PartTest::InteriorAgainstEnds => "paired t, interior level against both ends".into(),
        PartTest::EndAgainstInterior => "paired t, end level against every interior level".into(),
        PartTest::PerSeedSlopes { log: true } => "paired per-seed slopes on log level".into(),
        PartTest::PerSeedSlopes { log: false } => "paired per-seed slopes on level".into(),
        PartTest::TostBonferroni => "TOST, Bonferroni over the pairs".into(),
        PartTest::Tost => "TOST".into(),
        PartTest::BlockAnova => "block ANOVA".into(),
        PartTest::BlockAnovaHolm => "block ANOVA, Holm over the study's factors".into(),
        PartTest::FreemanHalton => "Freeman–Halton exact test".into(),
        PartTest::FisherExact => "Fisher's exact test".into(),
        PartTest::SpreadBootstrap { resamples } => {
            format!("between-level sds, bootstrap over seeds ({resamples})")
        }
    }
}

/// What decided a part, in the words the report shows beside its numbers.
pub fn reason_words(r: &Reason) -> String {
    match r {
        Reason::TooFewRuns => "too few runs with this outcome to test".into(),
        Reason::Outdone { level, other, worst } => {
            format!("{other} is {} than {level}", if *worst { "worse" } else { "better" })
        }
        Reason::Extreme { level, worst, others, closest } => {
            let word = if *worst { "worst" } else { "best" };
            let others = match others {
                1 => format!("the other level, {closest}"),
                m => format!("each of the {m} others at 5%; closest {closest}"),
            };
            format!("{level} is {word}: it differs from {others}")
        }
        Reason::NotResolvedFrom { level, other } => format!("{level} is not resolved from {other}"),
        Reason::Beats { winner, loser } => format!("{winner} beats {loser}"),
        Reason::EquivalentPair { level, over, margin } => {
            format!("{level} and {over} are equivalent within ±{margin} points")
        }
        Reason::PairNotResolved { level, over } => {
            format!("{level} against {over} is not resolved")
        }
        Reason::TrendAsStated(step) => {
            format!("the outcome moves the stated way, {}", step_words(step))
        }
        Reason::TrendReversed(step) => {
            format!("the outcome moves the other way, {}", step_words(step))
        }
        Reason::TrendNotResolved(step) => {
            format!("the trend is not resolved, {}", step_words(step))
        }
        Reason::NotMonotone { from, to } => {
            format!("not monotone: {to} is resolved the other way from {from}")
        }
        Reason::BeatsBothEnds { level } => format!("{level} beats both ends"),
        Reason::EndBeatsInterior { level } => {
            format!("the end level {level} beats every level inside the range")
        }
        Reason::NoPeak => {
            "no interior level beats both ends, and no end beats every interior level".into()
        }
        Reason::AllEquivalent { margin } => format!("every pair within ±{margin} points"),
        Reason::AllEquivalentFactor { margin, p } => {
            format!("every pair is within ±{margin} points (the factor test: {})", p_text(*p))
        }
        Reason::NotShownEquivalent { margin } => format!("not shown within ±{margin} points"),
        Reason::LevelsDiffer => "the levels differ".into(),
        Reason::LevelsNotResolved => "the levels are not resolved apart".into(),
        Reason::DivergenceRates => "divergence rates across levels".into(),
        Reason::DivergesLess { level, other, worst } => {
            format!("{other} diverges {} often than {level}", if *worst { "more" } else { "less" })
        }
        Reason::DivergenceDiffers { level } => {
            format!("{level}'s divergence rate differs from each other level's")
        }
        Reason::DivergenceNotResolved => "divergence rates not resolved apart".into(),
        Reason::SpreadLess { this, other } => format!("{this} moves accuracy less than {other}"),
        Reason::SpreadMore { this, other } => format!("{this} moves accuracy more than {other}"),
        Reason::SpreadNotResolved { this, other } => {
            format!("the spreads of {this} and {other} are not resolved apart")
        }
        Reason::TooFewSeedsForSpreads => "too few seeds to compare the spreads".into(),
    }
}

/// `per doubling of the level`, `across the range of levels (0 to 0.5)`.
fn step_words(step: &TrendStep) -> String {
    match step {
        TrendStep::PerDoubling => "per doubling of the level".into(),
        TrendStep::AcrossRange { lo, hi } => format!("across the range of levels ({lo} to {hi})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every test in its words.
    #[test]
    fn tests_in_words() {
        let cases = [
            (PartTest::None, "none"),
            (PartTest::PairedT, "paired t"),
            (PartTest::WelchT, "Welch t"),
            (PartTest::PairedTEach { m: 3 }, "paired t, each of 3 at 5%"),
            (PartTest::PairedTBonferroni, "paired t, Bonferroni over the others"),
            (PartTest::InteriorAgainstEnds, "paired t, interior level against both ends"),
            (PartTest::EndAgainstInterior, "paired t, end level against every interior level"),
            (PartTest::PerSeedSlopes { log: true }, "paired per-seed slopes on log level"),
            (PartTest::PerSeedSlopes { log: false }, "paired per-seed slopes on level"),
            (PartTest::TostBonferroni, "TOST, Bonferroni over the pairs"),
            (PartTest::Tost, "TOST"),
            (PartTest::BlockAnova, "block ANOVA"),
            (PartTest::BlockAnovaHolm, "block ANOVA, Holm over the study's factors"),
            (PartTest::FreemanHalton, "Freeman–Halton exact test"),
            (PartTest::FisherExact, "Fisher's exact test"),
            (
                PartTest::SpreadBootstrap { resamples: 2000 },
                "between-level sds, bootstrap over seeds (2000)",
            ),
        ];
        for (test, words) in cases {
            assert_eq!(test_words(&test), words, "{test:?}");
        }
    }

    /// Every reason in its words, naming the levels and experiments where it has them.
    #[test]
    fn reasons_in_words() {
        let s = |x: &str| x.to_string();
        let range = TrendStep::AcrossRange { lo: 0.0, hi: 0.5 };
        let cases = [
            (Reason::TooFewRuns, "too few runs with this outcome to test"),
            (Reason::Outdone { level: s("a"), other: s("b"), worst: false }, "b is better than a"),
            (Reason::Outdone { level: s("a"), other: s("b"), worst: true }, "b is worse than a"),
            (
                Reason::Extreme { level: s("a"), worst: false, others: 1, closest: s("b") },
                "a is best: it differs from the other level, b",
            ),
            (
                Reason::Extreme { level: s("a"), worst: true, others: 3, closest: s("b") },
                "a is worst: it differs from each of the 3 others at 5%; closest b",
            ),
            (Reason::NotResolvedFrom { level: s("a"), other: s("b") }, "a is not resolved from b"),
            (Reason::Beats { winner: s("a"), loser: s("b") }, "a beats b"),
            (
                Reason::EquivalentPair { level: s("a"), over: s("b"), margin: 0.5 },
                "a and b are equivalent within ±0.5 points",
            ),
            (
                Reason::PairNotResolved { level: s("a"), over: s("b") },
                "a against b is not resolved",
            ),
            (
                Reason::TrendAsStated(TrendStep::PerDoubling),
                "the outcome moves the stated way, per doubling of the level",
            ),
            (
                Reason::TrendReversed(range),
                "the outcome moves the other way, across the range of levels (0 to 0.5)",
            ),
            (
                Reason::TrendNotResolved(range),
                "the trend is not resolved, across the range of levels (0 to 0.5)",
            ),
            (
                Reason::NotMonotone { from: s("a"), to: s("b") },
                "not monotone: b is resolved the other way from a",
            ),
            (Reason::BeatsBothEnds { level: s("a") }, "a beats both ends"),
            (
                Reason::EndBeatsInterior { level: s("a") },
                "the end level a beats every level inside the range",
            ),
            (
                Reason::NoPeak,
                "no interior level beats both ends, and no end beats every interior level",
            ),
            (Reason::AllEquivalent { margin: 0.5 }, "every pair within ±0.5 points"),
            (
                Reason::AllEquivalentFactor { margin: 1.0, p: 0.25 },
                "every pair is within ±1 points (the factor test: p = 0.250)",
            ),
            (Reason::NotShownEquivalent { margin: 0.5 }, "not shown within ±0.5 points"),
            (Reason::LevelsDiffer, "the levels differ"),
            (Reason::LevelsNotResolved, "the levels are not resolved apart"),
            (Reason::DivergenceRates, "divergence rates across levels"),
            (
                Reason::DivergesLess { level: s("a"), other: s("b"), worst: false },
                "b diverges less often than a",
            ),
            (
                Reason::DivergesLess { level: s("a"), other: s("b"), worst: true },
                "b diverges more often than a",
            ),
            (
                Reason::DivergenceDiffers { level: s("a") },
                "a's divergence rate differs from each other level's",
            ),
            (Reason::DivergenceNotResolved, "divergence rates not resolved apart"),
            (Reason::SpreadLess { this: s("x"), other: s("y") }, "x moves accuracy less than y"),
            (Reason::SpreadMore { this: s("x"), other: s("y") }, "x moves accuracy more than y"),
            (
                Reason::SpreadNotResolved { this: s("x"), other: s("y") },
                "the spreads of x and y are not resolved apart",
            ),
            (Reason::TooFewSeedsForSpreads, "too few seeds to compare the spreads"),
        ];
        for (reason, words) in cases {
            assert_eq!(reason_words(&reason), words, "{reason:?}");
        }
    }
}
