//! Progress display on stderr: a bar per epoch and one line per finished epoch.

use cnnvar_core::{RunRecord, RunSpec};
use cnnvar_experiments::TrainProgress;
use indicatif::{ProgressBar, ProgressStyle};

/// The display of one run.
pub struct RunProgress {
    bar: Option<ProgressBar>,
    quiet: bool,
    /// Printed when training starts, so that a run that fails to start prints only
    /// its one-line error.
    header: Option<String>,
}

impl RunProgress {
    /// A display for `spec`; `quiet` shows nothing.
    pub fn new(spec: &RunSpec, quiet: bool) -> RunProgress {
        let header = format!(
            "run {}: {} on {} ({} examples), {} lr {}, batch {}, {} epochs, {} preset, seeds {}/{}/{}, {}",
            spec.run_id(),
            spec.model,
            spec.dataset,
            spec.resolved().train_size.map_or("all".to_string(), |n| n.to_string()),
            spec.optimizer,
            spec.lr,
            spec.batch_size,
            spec.epochs,
            spec.preset,
            spec.init_seed,
            spec.order_seed,
            spec.subset_seed,
            spec.backend
        );
        RunProgress { bar: None, quiet, header: Some(header) }
    }

    /// Shows one progress event.
    pub fn update(&mut self, p: &TrainProgress) {
        if let TrainProgress::Note(note) = p {
            // Shown even when quiet, as a download is worth knowing about.
            eprintln!("cnnvar: {note}");
            return;
        }
        if self.quiet {
            return;
        }
        if let Some(header) = self.header.take() {
            eprintln!("{header}");
        }
        match p {
            TrainProgress::Batch { epoch, epochs, done, total } => {
                let bar = self.bar.get_or_insert_with(|| {
                    let bar = ProgressBar::new(*total as u64);
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{prefix} [{bar:30}] {pos}/{len} batches, {per_sec}, eta {eta}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    bar
                });
                bar.set_prefix(format!("epoch {epoch}/{epochs}"));
                bar.set_length(*total as u64);
                bar.set_position(*done as u64);
            }
            TrainProgress::Epoch(e) => {
                let line = e.to_string();
                match self.bar.take() {
                    Some(bar) => {
                        bar.finish_and_clear();
                        eprintln!("{line}");
                    }
                    None => eprintln!("{line}"),
                }
            }
            TrainProgress::Note(_) => {}
        }
    }

    /// Shows the result.
    pub fn finish(&mut self, record: &RunRecord) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        if let Some(err) = &record.error {
            eprintln!("warning: the run diverged: {err}");
        }
        eprintln!(
            "test accuracy {:.4}, test loss {:.4}, train accuracy {:.4} ({} params, {:.1} s)",
            record.test_accuracy,
            record.test_loss,
            record.train_accuracy,
            record.params,
            record.seconds
        );
    }
}

/// The display of a sweep: one overall bar (runs done, ETA) and a line per running run.
pub struct SweepProgress {
    multi: indicatif::MultiProgress,
    overall: ProgressBar,
    running: std::collections::HashMap<String, ProgressBar>,
    labels: std::collections::HashMap<String, String>,
    quiet: bool,
    /// The runs that failed, with why, in the order they ended.
    failures: Vec<(String, String)>,
}

impl SweepProgress {
    /// A display for `total` runs of which `done` are complete already.
    pub fn new(
        total: usize,
        done: usize,
        labels: std::collections::HashMap<String, String>,
        quiet: bool,
    ) -> SweepProgress {
        let multi = indicatif::MultiProgress::new();
        if quiet {
            multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template(
                "runs [{bar:30}] {pos}/{len} done, elapsed {elapsed}, eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        overall.set_position(done as u64);
        overall.reset_eta();
        SweepProgress {
            multi,
            overall,
            running: Default::default(),
            labels,
            quiet,
            failures: Vec::new(),
        }
    }

    /// The runs that failed so far (run id, reason).
    pub fn failures(&self) -> &[(String, String)] {
        &self.failures
    }

    /// A run's label (`experiment level #replicate`), or its id if it has none.
    pub fn label(&self, run_id: &str) -> String {
        self.labels.get(run_id).cloned().unwrap_or_else(|| run_id.to_string())
    }

    /// Shows one executor event.
    pub fn event(&mut self, e: &cnnvar_experiments::sweep::SweepEvent) {
        use cnnvar_experiments::sweep::SweepEvent;
        let label = |id: &str| self.labels.get(id).cloned().unwrap_or_else(|| id.to_string());
        match e {
            SweepEvent::Started { run_id } => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_message(format!("{}: starting", label(run_id)));
                bar.enable_steady_tick(std::time::Duration::from_millis(500));
                self.running.insert(run_id.clone(), bar);
            }
            SweepEvent::Epoch { run_id, epoch, epochs, test_accuracy } => {
                if let Some(bar) = self.running.get(run_id) {
                    bar.set_message(format!(
                        "{}: epoch {epoch}/{epochs}, test accuracy {test_accuracy:.4}",
                        label(run_id)
                    ));
                }
            }
            SweepEvent::Finished { run_id, outcome } => {
                if let Some(bar) = self.running.remove(run_id) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                use cnnvar_experiments::sweep::RunOutcome;
                match outcome {
                    RunOutcome::Done | RunOutcome::DoneElsewhere => self.overall.inc(1),
                    RunOutcome::Failed(why) => {
                        if !self.quiet {
                            let _ = self.multi.println(format!("failed: {}: {why}", label(run_id)));
                        }
                        self.failures.push((run_id.clone(), why.clone()));
                    }
                    _ => {}
                }
            }
        }
    }

    /// Clears the display.
    pub fn finish(&mut self) {
        for (_, bar) in self.running.drain() {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
    }
}
