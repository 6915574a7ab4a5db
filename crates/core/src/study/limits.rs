//! The limits a study is held to, whether it comes from a file or a front end's
//! overrides: each keeps a typo from asking for more runs than any machine could plan.

/// The most runs a study may expand to (experiments × levels × seeds); a larger one is
/// refused before its grid is built, so a typo cannot exhaust memory.
pub const MAX_RUNS: usize = 100_000;

/// Most seeds of a level an adaptive study may ask for.
pub const MAX_ADAPTIVE_SEEDS: usize = 1000;

/// Most looks of an adaptive study (`1 + ⌈(max − min) / step⌉`).
pub const MAX_LOOKS: usize = 40;
