//! A claim as checkable statements: each part a shape the analysis can test on a named
//! outcome (`checks = [...]` in an experiment of a study file).
//!
//! ```toml
//! [[experiment]]
//! name = "width"
//! claim = "Model complexity changes accuracy: too small underfits, too big overfits."
//! vary = { width = [8, 16, 32, 64, 128] }
//! checks = [
//!   { says = "too small underfits", shape = "beats", level = "32", over = "8" },
//!   { says = "too big overfits", shape = "peak" },
//! ]
//! ```
//!
//! Shapes: `differs` (the levels differ), `best` / `worst` (`level` is the best or the
//! worst), `beats` (`level` beats `over`), `trend` (`direction = "increasing"` or
//! `"decreasing"` along an ordered numeric factor, on the log of the level where the
//! levels are geometric), `peak` (the best level lies inside the range: both ends
//! worse), `equivalent` (every pair within the study's equivalence `margin`) and
//! `less-than` (this factor moves the outcome less than `experiment` does). Outcomes:
//! `test-accuracy` (the default), `gap` (train minus test accuracy: overfitting),
//! `rare-classes` (test accuracy on the classes the spec's `imbalance` made rare) and
//! `divergence` (the share of runs that diverged). "Better" is higher test accuracy or
//! rare-class accuracy, and a lower gap or divergence rate.

use serde::{Deserialize, Serialize};

/// One part of a claim: a shape on an outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimCheck {
    /// The words of the claim this part tests (`too big overfits`), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub says: Option<String>,
    /// What must hold.
    #[serde(flatten)]
    pub shape: ClaimShape,
    /// Of what.
    #[serde(default, skip_serializing_if = "ClaimOutcome::is_default")]
    pub outcome: ClaimOutcome,
}

/// What a claim part says of the levels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "shape")]
pub enum ClaimShape {
    /// The levels differ.
    Differs,
    /// `level` is better than every other level.
    Best {
        /// The level.
        level: String,
    },
    /// `level` is worse than every other level.
    Worst {
        /// The level.
        level: String,
    },
    /// `level` is better than `over`.
    Beats {
        /// The better level.
        level: String,
        /// The worse level.
        over: String,
    },
    /// The outcome rises (or falls) along the ordered factor.
    Trend {
        /// Which way.
        direction: TrendDirection,
    },
    /// The best level is inside the range: both end levels are worse than it.
    Peak,
    /// Every pair of levels is within the study's equivalence margin.
    Equivalent,
    /// This experiment's factor moves the outcome less than `experiment`'s does.
    LessThan {
        /// The other experiment.
        experiment: String,
    },
}

impl ClaimShape {
    /// Its name in a study file.
    pub fn name(&self) -> &'static str {
        match self {
            ClaimShape::Differs => "differs",
            ClaimShape::Best { .. } => "best",
            ClaimShape::Worst { .. } => "worst",
            ClaimShape::Beats { .. } => "beats",
            ClaimShape::Trend { .. } => "trend",
            ClaimShape::Peak => "peak",
            ClaimShape::Equivalent => "equivalent",
            ClaimShape::LessThan { .. } => "less-than",
        }
    }

    /// The shapes a study file may name.
    pub const NAMES: [&'static str; 8] =
        ["differs", "best", "worst", "beats", "trend", "peak", "equivalent", "less-than"];
}

/// Which way a trend runs along the factor's levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrendDirection {
    /// The outcome rises with the level.
    Increasing,
    /// The outcome falls with the level.
    Decreasing,
}

/// The outcome a claim part is tested on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimOutcome {
    /// Final test accuracy (of the runs that did not diverge).
    #[default]
    TestAccuracy,
    /// Train accuracy minus test accuracy (of the runs that did not diverge).
    Gap,
    /// Test accuracy on the classes the spec's `imbalance` made rare.
    RareClasses,
    /// Whether the run diverged.
    Divergence,
}

impl ClaimOutcome {
    /// Whether it is the default, test accuracy.
    pub fn is_default(&self) -> bool {
        *self == ClaimOutcome::TestAccuracy
    }

    /// Its name in a study file and a report.
    pub fn name(self) -> &'static str {
        match self {
            ClaimOutcome::TestAccuracy => "test-accuracy",
            ClaimOutcome::Gap => "gap",
            ClaimOutcome::RareClasses => "rare-classes",
            ClaimOutcome::Divergence => "divergence",
        }
    }

    /// Whether a higher value is better (test and rare-class accuracy), rather than a
    /// lower one (the gap, the divergence rate).
    pub fn higher_is_better(self) -> bool {
        matches!(self, ClaimOutcome::TestAccuracy | ClaimOutcome::RareClasses)
    }
}

/// The equivalence margin of a study when it names none, in accuracy points: the same
/// half point as adaptive seeding's default `resolve.delta`.
pub const DEFAULT_MARGIN: f64 = 0.5;
