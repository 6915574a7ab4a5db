//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use cnnvar_core::{Backend, DatasetName, ModelName, OptimizerName, Preset, SubsetMethod};

/// Why does my CNN's accuracy vary? Train, sweep and report controlled,
/// repeated-seed studies of the factors.
#[derive(Parser, Debug)]
#[command(name = "cnnvar", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train one run and print or store its record.
    Train(TrainArgs),
    /// Run a study: every experiment × level × seed, in parallel worker processes,
    /// resuming where an earlier sweep stopped.
    Sweep(SweepArgs),
    /// Analyse a study directory and write report.html, report.md, summary.csv and
    /// figures/ there (no training).
    Report {
        /// The study directory (e.g. runs/seed).
        study_dir: PathBuf,
        /// Print the factors ranked by how far they move accuracy compared with seed
        /// noise (also written to ranking.csv).
        #[arg(long)]
        rank: bool,
    },
    /// Show which runs of a study are done, running, failed or pending.
    Status {
        /// The study directory (e.g. runs/seed).
        study_dir: PathBuf,
    },
    /// Run the spec stored in a run directory and write its record there (used by
    /// study executors; one process per run).
    #[command(hide = true)]
    Worker(WorkerArgs),
    /// List the backends compiled into this build, preferred first.
    Backends,
    /// Data sets: where they are, what they hold.
    Data {
        /// What to do with data.
        #[command(subcommand)]
        command: DataCommand,
    },
}

/// Data subcommands.
#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Which data sets were found where, with counts and checksums.
    Info {
        /// Look only in this directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Download a data set into the user cache (verified against pinned SHA-256
    /// checksums, resuming an interrupted download) and print its directory.
    Fetch {
        /// The data set: mnist, fashion-mnist or cifar10.
        name: DatasetName,
        /// Never use the network: only report what is already cached.
        #[arg(long)]
        offline: bool,
        /// Download from this directory URL instead of the canonical host (a mirror;
        /// `{name}` stands for the data set's name). Default: $CNNVAR_DATA_URL.
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Cache directory; the data set goes to DIR/NAME (default: the user cache's
        /// cnnvar, e.g. ~/.cache/cnnvar, where data sets are looked for).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}

/// Options that change how a run executes but not its numbers.
#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// Directory holding the data set's files (default: $CNNVAR_DATA_DIR, the user
    /// cache, then the system location).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Compute threads (default: all cores).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
}

/// `cnnvar train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// A TOML run spec to start from; the flags below override its fields.
    #[arg(long, value_name = "FILE.toml")]
    pub spec: Option<PathBuf>,
    /// Data set.
    #[arg(long)]
    pub dataset: Option<DatasetName>,
    /// Training examples to use (default: all).
    #[arg(long, value_name = "N")]
    pub train_size: Option<usize>,
    /// How the training subset is drawn: first (the first N) or stratified (seeded).
    #[arg(long)]
    pub subset: Option<SubsetMethod>,
    /// Model: simple, two-conv or complex.
    #[arg(long)]
    pub model: Option<ModelName>,
    /// Optimizer: sgd, adam or rmsprop.
    #[arg(long)]
    pub optimizer: Option<OptimizerName>,
    /// Learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Momentum (SGD, RMSprop).
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Preset for init and optimizer constants: keras or burn.
    #[arg(long)]
    pub preset: Option<Preset>,
    /// Mini-batch size.
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Sets the init, order and subset seeds at once.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seed of the weight initialisation.
    #[arg(long)]
    pub init_seed: Option<u64>,
    /// Seed of the data order (and dropout).
    #[arg(long)]
    pub order_seed: Option<u64>,
    /// Seed of the stratified subset.
    #[arg(long)]
    pub subset_seed: Option<u64>,
    /// Backend: flex, ndarray, tch, tch-cuda, vulkan, wgpu, metal, cuda.
    #[arg(long)]
    pub backend: Option<Backend>,
    /// Print the run record as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also store the run under DIR/<run-id>/ (spec.json, curve.csv, record.json).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only print errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// How to execute.
    #[command(flatten)]
    pub exec: ExecArgs,
}

/// `cnnvar worker`.
#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// The run directory; its spec.json says what to run.
    pub run_dir: PathBuf,
    /// Print one line per epoch on stderr for the parent's progress display.
    #[arg(long)]
    pub report_progress: bool,
    /// Exit when the parent process goes away (so a killed sweep leaves no orphans).
    #[arg(long)]
    pub watch_parent: bool,
    /// How to execute.
    #[command(flatten)]
    pub exec: ExecArgs,
}

/// `cnnvar sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The study file.
    pub study: PathBuf,
    /// Where study directories go.
    #[arg(long, default_value = "runs", value_name = "DIR")]
    pub out: PathBuf,
    /// Worker processes at a time (default: one per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Compute threads per worker.
    #[arg(long, default_value_t = 1, value_name = "T")]
    pub threads_per_job: usize,
    /// Shrink every run (1 epoch, n^0.6 of n training examples, 1000 test examples)
    /// for a smoke test, keeping every experiment, level and seed; results go to
    /// STUDY-quick.
    #[arg(long)]
    pub quick: bool,
    /// List the runs and estimate the wall time; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Replicates per level instead of the study's (results go to STUDY-sN).
    #[arg(long, value_name = "N")]
    pub seeds: Option<usize>,
    /// Epochs of every run instead of the study's (results go to STUDY-eM).
    #[arg(long, value_name = "M")]
    pub epochs: Option<usize>,
    /// Directory holding the data set's files.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Only print errors and the final line.
    #[arg(long, short)]
    pub quiet: bool,
    /// Where runs execute: worker processes on this machine, or a Slurm job array.
    #[arg(long, value_enum, default_value_t = Executor::Local)]
    pub executor: Executor,
    /// Slurm partition (default: the cluster's).
    #[arg(long, value_name = "P")]
    pub partition: Option<String>,
    /// Slurm time limit per run, e.g. 02:00:00 (default: the partition's).
    #[arg(long, value_name = "T")]
    pub time: Option<String>,
    /// CPUs per Slurm task, also the worker's threads.
    #[arg(long, default_value_t = 1, value_name = "C")]
    pub cpus_per_task: usize,
    /// At most this many Slurm tasks at once.
    #[arg(long, value_name = "K")]
    pub max_parallel: Option<usize>,
}

/// Where a sweep's runs execute.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Executor {
    /// Worker processes on this machine, `--jobs` at a time.
    Local,
    /// One Slurm job array (sbatch), one task per pending run.
    Slurm,
}
