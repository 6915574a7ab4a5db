//! Running a study: expand it, lay out the run store (`cnnvar_store::StudyDir`), execute
//! the pending runs in worker processes, and summarise the results.

mod adaptive;
mod estimate;
mod executor;
pub mod orchestrate;
pub mod slurm;
pub mod worker;

pub use adaptive::{decisions, extremes, write_decisions};
pub use estimate::{Estimate, estimate, longest_first};
pub use executor::{
    EXIT_ALREADY_COMPLETE, EXIT_BUSY, ExecOutcome, LocalExecutor, RunOutcome, SweepEvent,
    WorkerCommand,
};
pub use orchestrate::{SweepExecutor, SweepRequest, SweepSetup, SweepSummary, Todo};
pub use slurm::{SlurmExecutor, SlurmOptions};
pub use worker::run_worker;
pub use worker::{WorkerEvent, WorkerOutcome, run_worker_with};

/// What the executors report as runs progress: renamed [`SweepEvent`]; this name goes in
/// the next release.
#[deprecated(note = "renamed SweepEvent")]
pub type Event = SweepEvent;
