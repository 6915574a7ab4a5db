//! # cnnvar-analysis
//!
//! The statistics of a study, as pure functions: data in (the plan, records,
//! predictions), data out. Reads no files and depends on no burn crate.

pub mod inference;
