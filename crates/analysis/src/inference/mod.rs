//! Inference primitives that match a study's design: blocked (paired-seed) factor tests,
//! multiplicity corrections, equivalence, effect sizes with honest intervals.
