//! `results.csv`: one row per planned run with a complete record.

use std::path::Path;

use cnnvar_core::{Error, Result, RunRecord, write_atomic};

use super::Plan;
use crate::store::RunDir;
use crate::study::PlannedRun;

/// Every planned run paired with its record, where the record exists.
pub fn load_results<'a>(plan: &'a Plan, study_dir: &Path) -> Vec<(&'a PlannedRun, RunRecord)> {
    plan.runs
        .iter()
        .filter_map(|r| {
            let rec = RunDir::open(study_dir.join(&r.run_id)).read_record().ok().flatten()?;
            Some((r, rec))
        })
        .collect()
}

/// Writes `results.csv` in the study directory; returns the rows written.
pub fn write_results_csv(plan: &Plan, study_dir: &Path) -> Result<usize> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| Error::Other(format!("writing results.csv: {e}"));
    w.write_record([
        "study",
        "experiment",
        "level",
        "replicate",
        "run_id",
        "dataset",
        "model",
        "train_size",
        "subset",
        "test_size",
        "optimizer",
        "lr",
        "momentum",
        "preset",
        "batch_size",
        "epochs",
        "init_seed",
        "order_seed",
        "subset_seed",
        "backend",
        "test_accuracy",
        "test_loss",
        "train_accuracy",
        "train_loss",
        "diverged",
        "seconds",
    ])
    .map_err(csv_err)?;
    let rows = load_results(plan, study_dir);
    let opt = |v: Option<usize>| v.map(|n| n.to_string()).unwrap_or_default();
    for (run, rec) in &rows {
        let s = &rec.spec;
        w.write_record([
            plan.study.name.clone(),
            run.experiment.clone(),
            run.level.clone(),
            run.replicate.to_string(),
            run.run_id.clone(),
            s.dataset.to_string(),
            s.model.to_string(),
            opt(s.train_size),
            s.subset.to_string(),
            opt(s.test_size),
            s.optimizer.to_string(),
            s.lr.to_string(),
            s.momentum.map(|m| m.to_string()).unwrap_or_default(),
            s.preset.to_string(),
            s.batch_size.to_string(),
            s.epochs.to_string(),
            s.init_seed.to_string(),
            s.order_seed.to_string(),
            s.subset_seed.to_string(),
            s.backend.to_string(),
            rec.test_accuracy.to_string(),
            rec.test_loss.to_string(),
            rec.train_accuracy.to_string(),
            rec.train_loss.to_string(),
            rec.diverged.to_string(),
            format!("{:.3}", rec.seconds),
        ])
        .map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Other(format!("writing results.csv: {e}")))?;
    write_atomic(&study_dir.join("results.csv"), &bytes)?;
    Ok(rows.len())
}
