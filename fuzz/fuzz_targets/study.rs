//! The study-file parser on arbitrary text. It must never panic; a study it accepts
//! expands to experiments × levels × seeds runs with unique ids (small studies only,
//! to keep each input fast).
#![no_main]

use std::collections::BTreeSet;
use std::path::Path;

use cnnvar_core::study::{expand, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let Ok(study) = parse(text, Path::new("fuzz.toml")) else { return };
    let levels: usize = study.experiments.iter().map(|e| e.levels.len()).sum();
    let count = levels * study.seeds;
    if count > 2_000 {
        return;
    }
    let runs = expand(&study, None);
    assert_eq!(runs.len(), count, "experiments × levels × seeds");
    for run in &runs {
        assert_eq!(run.run_id, run.spec.run_id(), "run id is the spec's hash");
        run.spec.validate().expect("expanded specs are valid");
    }
    let ids: BTreeSet<&str> = runs.iter().map(|r| r.run_id.as_str()).collect();
    let levels_distinct = study.experiments.iter().all(|e| {
        let specs: BTreeSet<String> =
            e.levels.iter().map(|l| serde_json::to_string(&l.spec).unwrap_or_default()).collect();
        specs.len() == e.levels.len()
    });
    if levels_distinct && study.experiments.len() == 1 {
        assert_eq!(ids.len(), runs.len(), "distinct levels give distinct run ids");
    }
});
