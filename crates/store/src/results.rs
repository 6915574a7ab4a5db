//! `results.csv`: one row per planned run with a complete record. Its spec columns are
//! [`RunSpec::fields`] in order, filled from the spec's serialised form, so a field added
//! to the spec is a column without further edits; an unset optional field is an empty
//! cell. Its `diverged` column is the divergence rule the analysis uses
//! (`RunRecord::divergence`), not the worker's non-finite-loss flag.

use cnnvar_core::study::PlannedRun;
use cnnvar_core::{Error, Result, RunRecord, RunSpec};

/// The columns before the spec's: where the run sits in the study.
const RUN_COLUMNS: [&str; 5] = ["study", "experiment", "level", "replicate", "run_id"];

/// The columns after the spec's: what the run produced.
const RESULT_COLUMNS: [&str; 6] =
    ["test_accuracy", "test_loss", "train_accuracy", "train_loss", "diverged", "seconds"];

/// The header of `results.csv`: run columns, every spec field, result columns.
pub fn results_header() -> Vec<&'static str> {
    let fields: Vec<&'static str> =
        RunSpec::fields().iter().copied().filter(|f| *f != "script").collect();
    header_of(&fields)
}

/// The header with the spec columns `fields`.
fn header_of(fields: &[&'static str]) -> Vec<&'static str> {
    RUN_COLUMNS.iter().chain(fields).chain(RESULT_COLUMNS.iter()).copied().collect()
}

/// The spec columns of a `results.csv` whose rows have `specs`: every spec field, but
/// the fields only variance sources set ([`RunSpec::SOURCE_FIELDS`]: `rerun`, the
/// nudge's, the dropout and augmentation seeds, `threads`) only when some run sets them
/// (each is left out of a spec's JSON when unset), so that a study without those
/// sources keeps the file it had before they existed, byte for byte.
fn spec_columns<'a>(specs: impl Iterator<Item = &'a RunSpec>) -> Vec<&'static str> {
    let mut set: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for spec in specs {
        if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(spec) {
            set.extend(
                fields.keys().filter(|k| RunSpec::SOURCE_FIELDS.contains(&k.as_str())).cloned(),
            );
        }
    }
    let used = |f: &str| f != "script" && (!RunSpec::SOURCE_FIELDS.contains(&f) || set.contains(f));
    RunSpec::fields().iter().copied().filter(|f| used(f)).collect()
}

/// The fields of a script's run its `results.csv` row holds besides the seeds, each
/// only where some run sets it.
const SCRIPT_SOURCE_FIELDS: [&str; 4] = ["rerun", "dropout_seed", "augment_seed", "threads"];

/// A script run's [`SCRIPT_SOURCE_FIELDS`] that it sets, with their values.
fn script_source_values(spec: &RunSpec) -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::Value;
    let values = [
        (spec.rerun != 0).then(|| Value::from(spec.rerun)),
        spec.dropout_seed.map(Value::from),
        spec.augment_seed.map(Value::from),
        spec.threads.map(Value::from),
    ];
    SCRIPT_SOURCE_FIELDS.into_iter().zip(values).filter_map(|(k, v)| Some((k, v?))).collect()
}

/// The columns of a study trained by a script (`RunSpec::script`): the seeds, `rerun`,
/// the dropout and augmentation seeds and `threads` where a run sets them, the command
/// and its code checksum, then every parameter any run has, sorted; the built-in
/// fields, which a script does not read, are left out.
fn script_columns<'a>(specs: impl Iterator<Item = &'a RunSpec>) -> Vec<String> {
    let mut params = std::collections::BTreeSet::new();
    let mut set = std::collections::BTreeSet::new();
    for spec in specs {
        set.extend(script_source_values(spec).into_iter().map(|(k, _)| k));
        params.extend(spec.script.iter().flat_map(|s| s.params.keys().cloned()));
    }
    let mut columns: Vec<String> = RunSpec::SEED_FIELDS.iter().map(|s| (*s).to_string()).collect();
    columns.extend(SCRIPT_SOURCE_FIELDS.iter().filter(|f| set.contains(*f)).map(|f| f.to_string()));
    columns.extend(["command".to_string(), "code_sha256".to_string()]);
    columns.extend(params);
    columns
}

/// A script run's values by [`script_columns`]' names.
fn script_json(spec: &RunSpec) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let mut flat = serde_json::Map::new();
    flat.insert("init_seed".into(), Value::from(spec.init_seed));
    flat.insert("order_seed".into(), Value::from(spec.order_seed));
    flat.insert("subset_seed".into(), Value::from(spec.subset_seed));
    flat.extend(script_source_values(spec).into_iter().map(|(k, v)| (k.to_string(), v)));
    if let Some(script) = &spec.script {
        flat.insert("command".into(), Value::from(script.command.join(" ")));
        flat.insert("code_sha256".into(), Value::from(script.code_sha256.clone()));
        flat.extend(script.params.clone());
    }
    flat
}

/// One cell per [`RunSpec::fields`] entry, from the spec's JSON form: strings and
/// numbers as written there, lists joined by `;`, unset fields empty.
pub fn spec_cells(spec: &RunSpec) -> Vec<String> {
    cells_of(spec, RunSpec::fields())
}

/// One cell per entry of `fields`, as [`spec_cells`].
fn cells_of(spec: &RunSpec, fields: &[&str]) -> Vec<String> {
    let json = serde_json::to_value(spec).unwrap_or_default();
    fields.iter().map(|f| json.get(*f).map(cell).unwrap_or_default()).collect()
}

/// A JSON value as a CSV cell.
fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}

/// One row: the run's place in the study, its spec (the columns `fields`), its results.
fn results_row(study: &str, run: &PlannedRun, rec: &RunRecord, fields: &[&str]) -> Vec<String> {
    let mut row = vec![
        study.to_string(),
        run.experiment.clone(),
        run.level.clone(),
        run.replicate.to_string(),
        run.run_id.clone(),
    ];
    row.extend(cells_of(&rec.spec, fields));
    row.extend([
        rec.test_accuracy.to_string(),
        rec.test_loss.to_string(),
        rec.train_accuracy.to_string(),
        rec.train_loss.to_string(),
        rec.divergence().is_some().to_string(),
        format!("{:.3}", rec.seconds),
    ]);
    row
}

/// `results.csv` of study `study` from its runs with a record: a header, then one row
/// per run. The spec columns are every spec field's, but those of the `rerun` and
/// `nudge` sources only when some row's spec sets them.
pub fn results_csv(study: &str, rows: &[(&PlannedRun, RunRecord)]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| Error::encode("results.csv", e);
    if rows.iter().any(|(_, rec)| rec.spec.script.is_some()) {
        let fields = script_columns(rows.iter().map(|(_, rec)| &rec.spec));
        let header = RUN_COLUMNS.iter().copied().chain(fields.iter().map(String::as_str));
        w.write_record(header.chain(RESULT_COLUMNS)).map_err(csv_err)?;
        for (run, rec) in rows {
            let mut row = results_row(study, run, rec, &[]);
            let cells: Vec<String> = {
                let flat = script_json(&rec.spec);
                fields.iter().map(|f| flat.get(f).map(cell).unwrap_or_default()).collect()
            };
            row.splice(RUN_COLUMNS.len()..RUN_COLUMNS.len(), cells);
            w.write_record(row).map_err(csv_err)?;
        }
        return w.into_inner().map_err(|e| Error::encode("results.csv", e));
    }
    let fields = spec_columns(rows.iter().map(|(_, rec)| &rec.spec));
    w.write_record(header_of(&fields)).map_err(csv_err)?;
    for (run, rec) in rows {
        w.write_record(results_row(study, run, rec, &fields)).map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| Error::encode("results.csv", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Plan, RunDir, StudyDir};
    use cnnvar_core::{AugmentName, Downsample, EvalSet, ModelName, Rebalance};
    use std::path::Path;

    fn full_spec() -> RunSpec {
        RunSpec {
            train_size: Some(100),
            test_size: Some(50),
            momentum: Some(0.5),
            model: ModelName::Cnn,
            depth: Some(2),
            width: Some(8),
            kernel: Some(3),
            downsample: Some(Downsample::Stride),
            dropout: Some(0.1),
            weight_decay: Some(1e-4),
            augment: Some(AugmentName::Both),
            imbalance: Some(0.05),
            minority: Some(vec![1, 3]),
            rebalance: Some(Rebalance::Oversample),
            label_noise: Some(0.2),
            evaluate_on: Some(EvalSet::Validation),
            folds: Some(5),
            fold: Some(0),
            ..RunSpec::default()
        }
    }

    /// Every field of the spec's serialised form is a column, filled from the spec.
    #[test]
    fn every_spec_field_is_a_column() {
        let header = results_header();
        let spec = full_spec();
        let json = serde_json::to_value(&spec).unwrap();
        let cells = spec_cells(&spec);
        for (field, value) in json.as_object().unwrap() {
            let at = header.iter().position(|h| h == field);
            let at = at.unwrap_or_else(|| panic!("results.csv lacks a `{field}` column"));
            let cell = &cells[at - RUN_COLUMNS.len()];
            assert!(!cell.is_empty(), "`{field}` ({value}) left empty");
        }
        let named = |f: &str| cells[header.iter().position(|h| *h == f).unwrap() - 5].clone();
        assert_eq!(named("dropout"), "0.1");
        assert_eq!(named("augment"), "both");
        assert_eq!(named("minority"), "1;3");
        assert_eq!(named("evaluate_on"), "validation");
        assert_eq!(named("fold"), "0");
        // Column names stay unique, and the old ones are still there.
        let mut sorted = header.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), header.len());
        for old in ["model", "lr", "momentum", "backend", "test_accuracy", "seconds"] {
            assert!(header.contains(&old), "{old}");
        }
    }

    /// Unset optional fields are empty cells.
    #[test]
    fn unset_fields_are_empty_cells() {
        let header = results_header();
        let cells = spec_cells(&RunSpec::default());
        assert_eq!(cells.len(), RunSpec::fields().len());
        let named = |f: &str| cells[header.iter().position(|h| *h == f).unwrap() - 5].clone();
        assert_eq!(named("dropout"), "");
        assert_eq!(named("train_size"), "");
        assert_eq!(named("lr"), "0.001");
        assert_eq!(named("model"), "simple");
    }

    /// A study written to disk: `results.csv` has a column per spec field (read back
    /// with a CSV reader), filled from each run's spec.
    #[test]
    fn results_csv_has_every_spec_field() {
        let text = "seeds = 2\n[base]\nepochs = 1\naugment = \"geometric\"\n\
                    [[experiment]]\nname = \"drop\"\nvary = { dropout = [0.1, 0.3] }\n";
        let study = cnnvar_core::study::parse(text, Path::new("s.toml")).expect("parses");
        let plan = Plan::new(study, false);
        let tmp = tempfile::tempdir().expect("tempdir");
        for run in &plan.runs {
            let dir = RunDir::create(tmp.path(), &run.spec).expect("run dir");
            dir.write_record(&cnnvar_core::testing::record_of(&run.spec)).expect("record");
        }
        assert_eq!(StudyDir::open(tmp.path()).write_results_csv(&plan).expect("csv"), 4);
        let mut reader = csv::Reader::from_path(tmp.path().join("results.csv")).expect("read");
        let header: Vec<String> =
            reader.headers().expect("header").iter().map(String::from).collect();
        for field in RunSpec::fields() {
            let here = header.iter().any(|h| h == field);
            // The variance sources' fields are columns only where some run sets them.
            let expected = !RunSpec::SOURCE_FIELDS.contains(field) && *field != "script";
            assert_eq!(here, expected, "`{field}`: {header:?}");
        }
        let col = |name: &str| header.iter().position(|h| h == name).expect(name);
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        let dropouts: Vec<&str> = rows.iter().map(|r| &r[col("dropout")]).collect();
        assert_eq!(dropouts, ["0.1", "0.3", "0.1", "0.3"]);
        assert!(rows.iter().all(|r| &r[col("augment")] == "geometric"));
        assert!(rows.iter().all(|r| r[col("label_noise")].is_empty()), "unset: empty cell");
    }

    /// A study trained by a script has the seeds, the command, its checksum and the
    /// script's parameters as its spec columns, not the built-in fields it ignores.
    #[test]
    fn a_script_study_has_its_parameters_as_columns() {
        let text = "seeds = 2\n[base]\ncommand = [\"python3\", \"t.py\"]\nepochs = 3\n\
                    [[experiment]]\nname = \"v\"\nvary = { lr = [0.1, 0.01] }\n";
        let (header, rows) = study_csv(text, |_| {});
        let spec: Vec<&str> = header[RUN_COLUMNS.len()..header.len() - RESULT_COLUMNS.len()]
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(
            spec,
            ["init_seed", "order_seed", "subset_seed", "command", "code_sha256", "epochs", "lr"]
        );
        assert_eq!(rows.len(), 4);
        assert_eq!(&rows[0][8], "python3 t.py");
        assert_eq!(&rows[0][10], "3");
        let lrs: Vec<&str> = rows.iter().map(|r| &r[11]).collect();
        assert_eq!(lrs, ["0.1", "0.01", "0.1", "0.01"]);
    }

    /// A study with the `rerun` and `nudge` sources gets their columns, filled where a
    /// run sets them and empty elsewhere; the header is otherwise the usual one.
    #[test]
    fn source_columns_appear_when_a_run_sets_them() {
        let text = "seeds = 2\n[base]\nepochs = 3\ntrain_size = 100\nsubset = \"stratified\"\n\
                    [[experiment]]\nname = \"v\"\nkind = \"variance-sources\"\n\
                    sources = [\"all\", \"rerun\", \"nudge\", \"nudge@2\"]\n";
        let (header, rows) = study_csv(text, |_| {});
        let set = ["rerun", "nudge_seed", "nudge_epoch"];
        let unset = |h: &str| RunSpec::SOURCE_FIELDS.contains(&h) && !set.contains(&h);
        let expected: Vec<&str> = results_header().into_iter().filter(|h| !unset(h)).collect();
        assert_eq!(header, expected);
        let col = |name: &str| header.iter().position(|h| h == name).expect(name);
        let cells = |level: &str, field: &str| -> Vec<String> {
            let of = rows.iter().filter(|r| &r[col("level")] == level);
            of.map(|r| r[col(field)].to_string()).collect()
        };
        assert_eq!(cells("rerun", "rerun"), ["1", "2"]);
        assert_eq!(cells("all", "rerun"), ["", ""]);
        assert!(cells("nudge", "nudge_seed").iter().all(|c| c.parse::<u64>().is_ok()));
        assert_eq!(cells("rerun", "nudge_seed"), ["", ""]);
        assert_eq!(cells("nudge@2", "nudge_epoch"), ["2", "2"]);
        assert_eq!(cells("nudge", "nudge_epoch"), ["", ""], "0, before training: unset");
        assert_eq!(cells("nudge@2", "nudge_seed"), cells("nudge", "nudge_seed"));
    }

    /// The `dropout`, `augment` and `threads` sources' fields are columns only in a study
    /// that has those sources, filled where a run sets them.
    #[test]
    fn dropout_augment_and_threads_columns_appear_when_a_run_sets_them() {
        let text = "seeds = 2\n[base]\nepochs = 3\ntrain_size = 100\nsubset = \"stratified\"\n\
                    dropout = 0.25\naugment = \"geometric\"\n[[experiment]]\nname = \"v\"\n\
                    kind = \"variance-sources\"\n\
                    sources = [\"order\", \"dropout\", \"augment\", \"threads\"]\n";
        let (header, rows) = study_csv(text, |_| {});
        for field in ["dropout_seed", "augment_seed", "threads", "rerun"] {
            assert!(header.iter().any(|h| h == field), "{field}: {header:?}");
        }
        for field in ["nudge_seed", "nudge_epoch", "split_seed", "weights_backend"] {
            assert!(!header.iter().any(|h| h == field), "{field}: {header:?}");
        }
        let col = |name: &str| header.iter().position(|h| h == name).expect(name);
        let cells = |level: &str, field: &str| -> Vec<String> {
            let of = rows.iter().filter(|r| &r[col("level")] == level);
            of.map(|r| r[col(field)].to_string()).collect()
        };
        assert_eq!(cells("threads", "threads"), ["1", "2"]);
        assert_eq!(cells("dropout", "threads"), ["", ""]);
        assert!(cells("dropout", "dropout_seed").iter().all(|c| c.parse::<u64>().is_ok()));
        assert!(cells("augment", "augment_seed").iter().all(|c| c.parse::<u64>().is_ok()));
        assert!(cells("augment", "dropout_seed").iter().all(String::is_empty));
        // `order` holds both streams at their fixed values in an experiment listing them.
        assert!(cells("order", "dropout_seed").iter().all(|c| c.parse::<u64>().is_ok()));
        // A run with its weights drawn on another backend (the `backend` source) brings
        // that column, empty on the others.
        let (header, rows) = study_csv(text, |spec| {
            if spec.threads == Some(2) {
                spec.weights_backend = Some(cnnvar_core::Backend::Ndarray);
            }
        });
        let col = header.iter().position(|h| h == "weights_backend").expect("weights_backend");
        let drawn: Vec<&str> = rows.iter().map(|r| &r[col]).filter(|c| !c.is_empty()).collect();
        assert_eq!(drawn, ["ndarray"]);
    }

    /// The header and rows of the `results.csv` of study `text` with one record per
    /// planned run, each made from the run's spec after `adjust`.
    fn study_csv(
        text: &str,
        adjust: impl Fn(&mut RunSpec),
    ) -> (Vec<String>, Vec<csv::StringRecord>) {
        let study = cnnvar_core::study::parse(text, Path::new("s.toml")).expect("parses");
        let mut plan = Plan::new(study, false);
        for run in &mut plan.runs {
            adjust(&mut run.spec);
        }
        let records: Vec<(&PlannedRun, RunRecord)> =
            plan.runs.iter().map(|r| (r, cnnvar_core::testing::record_of(&r.spec))).collect();
        let bytes = results_csv("s", &records).expect("csv");
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let header = reader.headers().expect("header").iter().map(String::from).collect();
        let rows = reader.records().map(|r| r.expect("row")).collect();
        (header, rows)
    }
}
