//! The evaluation-protocol experiment: a k-fold cross-validation estimate against a
//! single train/validation split, compared on how much each moves from seed to seed.

use serde::Serialize;

use cnnvar_core::{EvalSet, RunRecord};

use super::stats::{Summary, sd_interval, summarize};
use crate::pts;
use cnnvar_core::study::{Experiment, PlannedRun};

/// Both estimators of one protocol experiment, over its replicates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProtocolStats {
    /// Folds (k).
    pub folds: usize,
    /// Replicates with every fold complete and finite.
    pub replicates: usize,
    /// The single-split estimate (fold 0's validation accuracy) across replicates.
    pub single_split: Summary,
    /// 95% interval of its standard deviation.
    pub single_split_sd_ci: Option<(f64, f64)>,
    /// The k-fold estimate (mean validation accuracy over the folds) across replicates.
    pub k_fold: Summary,
    /// 95% interval of its standard deviation.
    pub k_fold_sd_ci: Option<(f64, f64)>,
    /// One sentence.
    pub sentence: String,
}

/// The protocol comparison of `exp`, when it varies only `fold` and every level is
/// evaluated on a held-out fold; `None` otherwise or with fewer than 2 complete
/// replicates.
pub fn protocol_stats(
    exp: &Experiment,
    results: &[&(&PlannedRun, RunRecord)],
) -> Option<ProtocolStats> {
    if !cnnvar_core::study::is_protocol(&exp.factors)
        || exp.levels.is_empty()
        || exp.levels.iter().any(|l| l.spec.evaluate_on != Some(EvalSet::Validation))
    {
        return None;
    }
    let folds = exp.levels[0].spec.folds?;
    let first_fold = exp.levels.iter().position(|l| l.spec.fold == Some(0))?;
    let replicates = results.iter().map(|(r, _)| r.replicate + 1).max().unwrap_or(0);
    let (mut single, mut k_fold) = (Vec::new(), Vec::new());
    for replicate in 0..replicates {
        let accs: Vec<(usize, f64)> = results
            .iter()
            .filter(|(r, rec)| r.replicate == replicate && rec.divergence().is_none())
            .map(|(r, rec)| (r.level_index, rec.test_accuracy))
            .filter(|(_, a)| a.is_finite())
            .collect();
        if accs.len() != exp.levels.len() {
            continue;
        }
        let Some(&(_, first)) = accs.iter().find(|(l, _)| *l == first_fold) else { continue };
        single.push(first);
        k_fold.push(accs.iter().map(|(_, a)| a).sum::<f64>() / accs.len() as f64);
    }
    if single.len() < 2 {
        return None;
    }
    let (s, k) = (summarize(&single)?, summarize(&k_fold)?);
    let sentence = match (s.sd, k.sd) {
        (Some(sd1), Some(sdk)) if sdk > 0.0 => format!(
            "across {} replicates, the {folds}-fold estimate ({} ± {} sd) moves {:.1}× less \
             than a single split ({} ± {} sd)",
            single.len(),
            pts(k.mean),
            pts(sdk),
            sd1 / sdk,
            pts(s.mean),
            pts(sd1)
        ),
        _ => {
            format!("{folds}-fold estimate {} against a single split {}", pts(k.mean), pts(s.mean))
        }
    };
    Some(ProtocolStats {
        folds,
        replicates: single.len(),
        single_split_sd_ci: sd_interval(&single),
        k_fold_sd_ci: sd_interval(&k_fold),
        single_split: s,
        k_fold: k,
        sentence,
    })
}
