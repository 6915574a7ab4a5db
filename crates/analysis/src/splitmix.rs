//! The analysis's generator: cnnvar-core's SplitMix64, under the name the analysis's
//! modules use.

pub(crate) use cnnvar_core::SplitMix64 as SplitMix;
