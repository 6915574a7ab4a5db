//! Properties of study expansion and seed derivation over generated studies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proptest::prelude::*;

use super::{expand, parse};

/// A study file with `levels[e]` learning-rate levels in experiment `e`.
fn study_text(seed: u64, seeds: usize, paired: bool, levels: &[usize], sources: bool) -> String {
    let mut s = format!("seed = {seed}\nseeds = {seeds}\npaired_seeds = {paired}\n");
    for (e, &n) in levels.iter().enumerate() {
        let lrs: Vec<String> = (0..n).map(|l| format!("{}", 0.001 * (l + 1) as f64)).collect();
        s += &format!("[[experiment]]\nname = \"e{e}\"\nvary = {{ lr = [{}] }}\n", lrs.join(", "));
    }
    if sources {
        s += "[[experiment]]\nname = \"noise\"\nkind = \"variance-sources\"\n";
        s += "base = { train_size = 100, subset = \"stratified\" }\n";
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Count = experiments × levels × seeds; ids unique and the same on every expansion.
    #[test]
    fn expansion_counts_and_unique_stable_ids(
        seed in any::<u64>(),
        seeds in 1usize..6,
        paired in any::<bool>(),
        levels in proptest::collection::vec(1usize..5, 1..4),
        sources in any::<bool>(),
    ) {
        let text = study_text(seed, seeds, paired, &levels, sources);
        let study = parse(&text, Path::new("gen.toml")).expect("generated study parses");
        let runs = expand(&study, None);
        let expected = (levels.iter().sum::<usize>() + if sources { 4 } else { 0 }) * seeds;
        prop_assert_eq!(runs.len(), expected);
        let ids: BTreeSet<&str> = runs.iter().map(|r| r.run_id.as_str()).collect();
        prop_assert_eq!(ids.len(), runs.len(), "run ids are unique");
        let again = expand(&parse(&text, Path::new("gen.toml")).expect("parses"), None);
        let ids_again: Vec<&str> = again.iter().map(|r| r.run_id.as_str()).collect();
        let ids_first: Vec<&str> = runs.iter().map(|r| r.run_id.as_str()).collect();
        prop_assert_eq!(ids_first, ids_again, "ids are stable");
    }

    /// Init seeds are shared only where the study says so: across the levels of a
    /// replicate with paired seeds, and by the variance-sources arms that hold the init
    /// seed fixed. Everything else gets its own.
    #[test]
    fn init_seeds_are_shared_only_by_design(
        seed in any::<u64>(),
        seeds in 1usize..6,
        paired in any::<bool>(),
        levels in proptest::collection::vec(1usize..5, 1..4),
    ) {
        let text = study_text(seed, seeds, paired, &levels, false);
        let runs = expand(&parse(&text, Path::new("gen.toml")).expect("parses"), None);
        let mut owners: BTreeMap<u64, BTreeSet<(String, usize, usize)>> = BTreeMap::new();
        for r in &runs {
            let level = if paired { 0 } else { r.level_index };
            owners.entry(r.spec.init_seed).or_default().insert((r.experiment.clone(), r.replicate, level));
        }
        for (s, who) in &owners {
            prop_assert_eq!(who.len(), 1, "init seed {} shared by {:?}", s, who);
        }
        let groups: BTreeSet<(String, usize, usize)> = runs
            .iter()
            .map(|r| (r.experiment.clone(), r.replicate, if paired { 0 } else { r.level_index }))
            .collect();
        prop_assert_eq!(owners.len(), groups.len());
    }
}

/// The first run id of a fixed study, pinned: a change to spec serialisation or seed
/// derivation that would orphan every existing run store fails here. The study default
/// `eval_subset = 2000` gave studies new ids; one that asks for `eval_subset = "full"`
/// has the ids it had before the field existed.
#[test]
fn run_ids_are_pinned() {
    // The backend named, so the ids do not depend on which backends the build has.
    let text = study_text(2024, 2, true, &[2], false).replacen(
        "[[experiment]]",
        "[base]\nbackend = \"flex\"\n[[experiment]]",
        1,
    );
    let study = parse(&text, Path::new("pin.toml")).expect("parses");
    let runs = expand(&study, None);
    assert_eq!(runs[0].run_id, "35eb999831a98673");
    let full = text.replacen("[base]\n", "[base]\neval_subset = \"full\"\n", 1);
    let study = parse(&full, Path::new("pin.toml")).expect("parses");
    assert_eq!(expand(&study, None)[0].run_id, "2662d63dcef297a4");
}

/// The files under `fuzz/<kind>/<target>/`.
pub(crate) fn fuzz_inputs(kind: &str, target: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz").join(kind).join(target);
    let mut files: Vec<_> =
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).collect();
    files.sort();
    files
}

/// The study and record fuzz targets' seeds parse, and every input kept as a fuzz
/// regression gives an answer, never a panic.
#[test]
fn fuzz_seeds_and_regressions() {
    let studies = fuzz_inputs("seeds", "study");
    assert!(studies.len() >= 2, "{studies:?}");
    for p in &studies {
        let text = std::fs::read_to_string(p).expect("seed study");
        let study = parse(&text, p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!expand(&study, None).is_empty());
    }
    let records = fuzz_inputs("seeds", "record");
    assert!(!records.is_empty());
    for p in &records {
        let text = std::fs::read_to_string(p).expect("seed record");
        crate::RunRecord::from_json(&text, p).unwrap_or_else(|e| panic!("{e}"));
    }
    for p in fuzz_inputs("regressions", "study") {
        if let Ok(text) = std::fs::read_to_string(&p) {
            let _ = parse(&text, &p).map(|s| expand(&s, None));
        }
    }
    // A record that reads must read back identically after writing (the first kept
    // input is one whose 17-digit floats the default serde_json parser rounded wrong).
    let kept = fuzz_inputs("regressions", "record");
    assert!(!kept.is_empty());
    for p in kept {
        let Ok(text) = std::fs::read_to_string(&p) else { continue };
        if let Ok(record) = crate::RunRecord::from_json(&text, &p) {
            let written = record.to_json();
            let again = crate::RunRecord::from_json(&written, &p).expect("re-read");
            assert_eq!(again.to_json(), written, "{}: record round trip", p.display());
        }
    }
}
