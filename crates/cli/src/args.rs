//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use cnnvar_core::{
    AugmentName, Backend, BackendChoice, DatasetName, Downsample, Error, EvalSet, ModelName,
    OptimizerName, Preset, Rebalance, RunSpec, SubsetMethod,
};

/// Where `cnnvar train` says a spec made from its flags came from, in errors about its
/// fields ([`describe`] names the flag of such a field).
pub const COMMAND_LINE: &str = "command line";

/// The flag that sets `setting`, a name from [`cnnvar_core::overridable_settings`] as
/// an [`Error::Setting`] or a field error names it: `--` and the name with dashes, the
/// rule every such flag of `train` and `sweep` follows (a test holds them to it).
pub fn flag_for(setting: &str) -> String {
    format!("--{}", setting.replace('_', "-"))
}

/// An error as the command line shows it: a setting by its flag (option `--seeds`: …),
/// a field of the spec made from the flags with its flag too, anything else as the
/// library words it.
pub fn describe(e: &Error) -> String {
    match e {
        Error::Setting { setting, message } => format!("option `{}`: {message}", flag_for(setting)),
        Error::Field { location, field, message } if location == COMMAND_LINE => {
            format!("{location}: field `{field}` ({}): {message}", flag_for(field))
        }
        // A field of a study or spec file is fixed there, not on the command line.
        Error::Field { .. } => e.to_string(),
        _ => with_flags(&e.to_string()),
    }
}

/// `text` with the command-line flag of each setting it names in backticks (`` `data_dir` ``)
/// appended, so that a library's advice reads as command-line advice too.
fn with_flags(text: &str) -> String {
    let named: Vec<String> = cnnvar_core::overridable_settings()
        .into_iter()
        .filter(|s| text.contains(&format!("`{s}`")))
        .map(|s| format!("`{s}`: `{}`", flag_for(s)))
        .collect();
    if named.is_empty() {
        text.to_string()
    } else {
        format!("{text} (on the command line, {})", named.join(", "))
    }
}

/// Parses a count that must be at least 1: `--jobs 0` or `--threads-per-job 0` would
/// run nothing, or be changed behind the user's back.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e} (expected a whole number, at least 1)")),
    }
}

/// Parses `--backend`: `auto` or a backend's name. A backend this build lacks is
/// refused here, before a sweep lays out a single run (its workers are this program, so
/// every one of them would fail). `auto` stays a choice: the command resolves it when
/// it is about to train or plan ([`BackendChoice::resolve`]), since that starts GPU
/// devices.
fn backend_choice(s: &str) -> Result<BackendChoice, String> {
    let choice: BackendChoice = s.parse()?;
    choice.check_compiled().map_err(|e| e.to_string())
}

/// Parses `--weights-backend`: a backend's name, compiled into this build.
fn compiled_backend(s: &str) -> Result<Backend, String> {
    let backend = s.parse::<Backend>().map_err(|e| e.to_string())?;
    backend.check_compiled().map_err(|e| e.to_string())?;
    Ok(backend)
}

/// Parses `--eval-subset`: a count of at least 1, or `full` (none: the whole set).
fn eval_subset(s: &str) -> Result<EvalSubset, String> {
    match s {
        "full" => Ok(EvalSubset(None)),
        _ => match s.parse::<usize>() {
            Ok(0) => Err("must be at least 1, or `full` for the whole set every epoch".into()),
            Ok(n) => Ok(EvalSubset(Some(n))),
            Err(e) => Err(format!("{e} (expected a whole number of examples, or `full`)")),
        },
    }
}

/// Parses `--image-size`: `HEIGHT,WIDTH` (or `HEIGHTxWIDTH`), each at least 1.
fn image_size(s: &str) -> Result<[usize; 2], String> {
    let parts: Vec<&str> = s.split([',', 'x']).map(str::trim).collect();
    let side = |p: &str| match p.parse::<usize>() {
        Ok(0) => Err("each side must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e} (expected HEIGHT,WIDTH in pixels, e.g. 28,28)")),
    };
    match parts.as_slice() {
        [h, w] => Ok([side(h)?, side(w)?]),
        _ => Err(format!("expected HEIGHT,WIDTH in pixels, e.g. 28,28; got `{s}`")),
    }
}

/// The value of `--eval-subset`: a number of examples, or `None` for `full`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvalSubset(pub Option<usize>);

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
// Parsed once per process: `train`'s one flag per spec field costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
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
        /// Write the report (and results.csv, decisions) into this directory instead
        /// of the study directory, which is then left untouched (a read-only study, an
        /// archive, someone else's).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Check that a study's training honours its seeds: its first run trained as it
    /// is, again with the same seeds, and with each seed (init, order, subset) changed
    /// alone; says whether the same seeds give the same predictions and which seeds
    /// change them (runs and probe.json go to OUT/STUDY/probe).
    Probe(ProbeArgs),
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
    /// Directory holding the data set's files (default: $CNNVAR_DATA_DIR if set, which
    /// is then the only place looked in; else the user cache, then the system location).
    /// With `--dataset folder`: the image folder itself (one folder of images per class),
    /// over the spec's `data_dir`.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Compute threads (default: all cores).
    #[arg(long, value_name = "T", value_parser = at_least_one)]
    pub threads: Option<usize>,
}

/// `cnnvar train`.
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// A TOML run spec to start from; the flags below override its fields.
    #[arg(long, value_name = "FILE.toml")]
    pub spec: Option<PathBuf>,
    /// Data set: fashion-mnist, mnist, cifar10, or folder (your own images: the folder
    /// is --data-dir).
    #[arg(long)]
    pub dataset: Option<DatasetName>,
    /// Training examples to use (default: all).
    #[arg(long, value_name = "N")]
    pub train_size: Option<usize>,
    /// How the training subset is drawn: first (the first N) or stratified (seeded).
    #[arg(long)]
    pub subset: Option<SubsetMethod>,
    /// Model: simple, two-conv, complex, cnn, or one this program registers.
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
    /// A rerun's number: the same run trained again under a run id of its own (changes
    /// nothing else; 0, the default, is no rerun).
    #[arg(long, value_name = "N")]
    pub rerun: Option<u32>,
    /// Move one weight of the initial model by one unit in the last place before
    /// training; the seed chooses which (and which way).
    #[arg(long, value_name = "SEED")]
    pub nudge_seed: Option<u64>,
    /// With --nudge-seed: move the weight after epoch E has been trained instead of
    /// before training (0, the default: before training).
    #[arg(long, value_name = "E")]
    pub nudge_epoch: Option<u32>,
    /// Seed of the dropout masks (default: a scramble of the order seed).
    #[arg(long, value_name = "SEED")]
    pub dropout_seed: Option<u64>,
    /// Seed of the augmentation (default: the order seed).
    #[arg(long, value_name = "SEED")]
    pub augment_seed: Option<u64>,
    /// Score the model on a bootstrap resample of the test set drawn by this seed.
    #[arg(long, value_name = "SEED")]
    pub split_seed: Option<u64>,
    /// Draw the initial weights on this backend and train them on --backend (default:
    /// draw them on --backend itself).
    #[arg(long, value_name = "BACKEND", value_parser = compiled_backend)]
    pub weights_backend: Option<Backend>,
    /// Backend: auto (the fastest compiled in), flex, ndarray, tch, tch-cuda, vulkan,
    /// wgpu, metal, cuda. Default: the --spec file's, else the fastest CPU backend
    /// compiled in (tch, then flex, then ndarray).
    #[arg(long, value_parser = backend_choice)]
    pub backend: Option<BackendChoice>,
    /// Evaluate on the first N test examples only (default: all).
    #[arg(long, value_name = "N")]
    pub test_size: Option<usize>,
    /// `cnn` model: conv blocks.
    #[arg(long)]
    pub depth: Option<usize>,
    /// `cnn` model: filters of the first block.
    #[arg(long)]
    pub width: Option<usize>,
    /// `cnn` model: kernel size (odd).
    #[arg(long)]
    pub kernel: Option<usize>,
    /// `cnn` model: how each block downsamples: max, avg or stride.
    #[arg(long)]
    pub downsample: Option<Downsample>,
    /// Dropout probability before each dense layer.
    #[arg(long)]
    pub dropout: Option<f64>,
    /// L2 penalty added to the gradients.
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Augmentation: none, geometric, photometric or both.
    #[arg(long)]
    pub augment: Option<AugmentName>,
    /// Fraction of the minority classes' training examples kept.
    #[arg(long)]
    pub imbalance: Option<f64>,
    /// The classes `--imbalance` downsamples, e.g. 0,2,4.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub minority: Option<Vec<u8>>,
    /// How training corrects the imbalance: none, class-weights or oversample.
    #[arg(long)]
    pub rebalance: Option<Rebalance>,
    /// Fraction of training labels replaced by a random other class.
    #[arg(long)]
    pub label_noise: Option<f64>,
    /// What test accuracy is measured on: test, twilight or validation.
    #[arg(long)]
    pub evaluate_on: Option<EvalSet>,
    /// Cross-validation folds (with `--evaluate-on validation`).
    #[arg(long)]
    pub folds: Option<usize>,
    /// The held-out fold, 0-based (with `--evaluate-on validation`).
    #[arg(long)]
    pub fold: Option<usize>,
    /// Evaluate each epoch but the last on a fixed class-stratified subset of N test
    /// examples, or `full` for all (default: 2000, or a `--spec` file's value; the last
    /// epoch, hence the record, always uses the whole test set).
    #[arg(long, value_name = "N|full", value_parser = eval_subset)]
    pub eval_subset: Option<EvalSubset>,
    /// `--dataset folder`: the checksum the folder's content must have (the record's
    /// `data_sha256`; default: whatever the folder holds).
    #[arg(long, value_name = "SHA256")]
    pub data_sha256: Option<String>,
    /// `--dataset folder`: convert every image to 1 (grey) or 3 (RGB) channels (default:
    /// as the files are, all alike).
    #[arg(long, value_name = "C")]
    pub channels: Option<usize>,
    /// `--dataset folder`: resize every image to HEIGHT,WIDTH (default: as the files
    /// are, all the same size).
    #[arg(long, value_name = "H,W", value_parser = image_size)]
    pub image_size: Option<[usize; 2]>,
    /// `--dataset folder` without train/ and test/: the share of each class held out as
    /// the test set (default 0.2).
    #[arg(long, value_name = "F")]
    pub test_fraction: Option<f64>,
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

impl TrainArgs {
    /// Sets every spec field given by a flag over `spec` (`--seed` sets the three
    /// seeds, then `--init-seed` and the others override it). One flag per field of
    /// [`RunSpec::fields`], each named after its field (`data_dir` is `--data-dir`,
    /// which sets it only for `--dataset folder`). `--backend auto` is resolved here,
    /// as the spec of the run about to train is made. Without `--eval-subset` and
    /// without `--spec` (whose file says what it wants, unset meaning the whole set),
    /// `eval_subset` is a new run's ([`RunSpec::new_run`]).
    pub fn apply_to(&self, spec: &mut RunSpec) {
        macro_rules! set {
            ($($field:ident),*) => { $(if let Some(v) = self.$field { spec.$field = v; })* };
        }
        macro_rules! set_some {
            ($($field:ident),*) => { $(if let Some(v) = self.$field { spec.$field = Some(v); })* };
        }
        set!(dataset, subset, optimizer, lr, preset, batch_size, epochs);
        if let Some(choice) = self.backend {
            spec.backend = choice.resolve();
        }
        if let Some(model) = &self.model {
            spec.model = model.clone();
        }
        set_some!(train_size, test_size, momentum, depth, width, kernel, downsample, dropout);
        set_some!(weight_decay, augment, imbalance, rebalance, label_noise, evaluate_on);
        set_some!(folds, fold, channels, image_size, test_fraction);
        if let Some(m) = &self.minority {
            spec.minority = Some(m.clone());
        }
        if let Some(sha) = &self.data_sha256 {
            spec.data_sha256 = Some(sha.clone());
        }
        // `--data-dir` is where a named data set's files are (an option of how to run),
        // but for an image folder it is the folder, which the spec names.
        if spec.dataset == DatasetName::Folder
            && let Some(dir) = &self.exec.data_dir
        {
            spec.data_dir = Some(dir.clone());
        }
        if let Some(s) = self.seed {
            (spec.init_seed, spec.order_seed, spec.subset_seed) = (s, s, s);
        }
        set!(init_seed, order_seed, subset_seed, rerun, nudge_epoch);
        set_some!(nudge_seed, dropout_seed, augment_seed, split_seed, weights_backend);
        match self.eval_subset {
            Some(EvalSubset(n)) => spec.eval_subset = n,
            None if self.spec.is_none() => spec.eval_subset = RunSpec::new_run().eval_subset,
            None => {}
        }
    }
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

/// `cnnvar probe`.
#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// The study file.
    pub study: PathBuf,
    /// Where study directories go (as for `cnnvar sweep`).
    #[arg(long, default_value = "runs", value_name = "DIR")]
    pub out: PathBuf,
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
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub jobs: Option<usize>,
    /// Compute threads per worker.
    #[arg(long, default_value_t = 1, value_name = "T", value_parser = at_least_one)]
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
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub seeds: Option<usize>,
    /// Epochs of every run instead of the study's (results go to STUDY-eM).
    #[arg(long, value_name = "M", value_parser = at_least_one)]
    pub epochs: Option<usize>,
    /// Backend of every run instead of the study's: auto (the fastest compiled in: a GPU
    /// backend that starts, else tch, flex, ndarray) or a backend's name. Without it, a
    /// study that names no backend runs on the fastest CPU backend compiled in.
    #[arg(long, value_parser = backend_choice)]
    pub backend: Option<BackendChoice>,
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
    #[arg(long, default_value_t = 1, value_name = "C", value_parser = at_least_one)]
    pub cpus_per_task: usize,
    /// At most this many Slurm tasks at once.
    #[arg(long, value_name = "K", value_parser = at_least_one)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use cnnvar_core::Backend;

    /// The long flags of `cnnvar train`, with dashes as underscores.
    fn train_flags() -> Vec<String> {
        let cli = Cli::command();
        let train = cli.find_subcommand("train").expect("train subcommand");
        train.get_arguments().filter_map(|a| a.get_long()).map(|l| l.replace('-', "_")).collect()
    }

    /// The README promises a `cnnvar train` flag for every spec field (but `script`: a
    /// user's command is trained by a sweep, and `cnnvar train` refuses it).
    #[test]
    fn every_spec_field_has_a_train_flag() {
        let flags = train_flags();
        let missing: Vec<&str> = RunSpec::fields()
            .iter()
            .copied()
            .filter(|f| *f != "script" && !flags.iter().any(|x| x == f))
            .collect();
        assert!(missing.is_empty(), "spec fields without a `cnnvar train` flag: {missing:?}");
    }

    /// Every field flag reaches the spec: a spec with every field set, written as
    /// flags, comes back field for field.
    #[test]
    fn every_train_flag_sets_its_field() {
        let want = RunSpec {
            dataset: DatasetName::Folder,
            train_size: Some(500),
            subset: SubsetMethod::Stratified,
            test_size: Some(300),
            model: ModelName::Cnn,
            optimizer: OptimizerName::Rmsprop,
            lr: 0.05,
            momentum: Some(0.5),
            preset: Preset::Burn,
            batch_size: 7,
            epochs: 3,
            init_seed: 11,
            order_seed: 12,
            subset_seed: 13,
            rerun: 2,
            nudge_seed: Some(14),
            nudge_epoch: 1,
            dropout_seed: Some(15),
            augment_seed: Some(16),
            // `--threads` is how many threads this process computes with, not the spec's
            // `threads` (which only a `threads` variance source or a `--spec` file sets,
            // so that a run's thread count stays out of its id).
            threads: None,
            split_seed: Some(17),
            // A backend this build has that is not the default one, when there is one.
            backend: Backend::compiled()
                .into_iter()
                .rfind(|b| *b != Backend::default())
                .unwrap_or_default(),
            // The weights drawn on the default backend.
            weights_backend: Some(Backend::default()),
            depth: Some(3),
            width: Some(4),
            kernel: Some(5),
            downsample: Some(Downsample::Avg),
            dropout: Some(0.25),
            weight_decay: Some(0.001),
            augment: Some(AugmentName::Both),
            imbalance: Some(0.5),
            minority: Some(vec![1, 3]),
            rebalance: Some(Rebalance::ClassWeights),
            label_noise: Some(0.1),
            evaluate_on: Some(EvalSet::Validation),
            folds: Some(4),
            fold: Some(2),
            eval_subset: Some(1500),
            data_dir: Some("/data/my-images".into()),
            data_sha256: Some("ab".repeat(32)),
            channels: Some(3),
            image_size: Some([32, 24]),
            test_fraction: Some(0.3),
            script: None,
        };
        let json = serde_json::to_value(&want).expect("spec serialises");
        let mut argv = vec!["cnnvar".to_string(), "train".to_string()];
        for (field, value) in json.as_object().expect("object") {
            argv.push(format!("--{}", field.replace('_', "-")));
            argv.push(match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => {
                    a.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")
                }
                other => other.to_string(),
            });
        }
        let Command::Train(args) = Cli::try_parse_from(&argv).expect("parses").command else {
            panic!("not train");
        };
        let mut got = RunSpec::default();
        args.apply_to(&mut got);
        assert_eq!(got, want);
    }

    /// `--eval-subset` takes a count or `full`; without it `cnnvar train` uses 2000
    /// examples, unless a `--spec` file is given, whose value (or its absence) stands.
    #[test]
    fn eval_subset_defaults_to_2000_and_takes_full() {
        let spec_of = |flags: &[&str], start: RunSpec| {
            let argv = [&["cnnvar", "train"][..], flags].concat();
            let Command::Train(args) = Cli::try_parse_from(argv).expect("parses").command else {
                panic!("not train");
            };
            let mut spec = start;
            args.apply_to(&mut spec);
            spec.eval_subset
        };
        assert_eq!(spec_of(&[], RunSpec::default()), Some(2000));
        assert_eq!(spec_of(&["--eval-subset", "full"], RunSpec::default()), None);
        assert_eq!(spec_of(&["--eval-subset", "300"], RunSpec::default()), Some(300));
        let from_file = RunSpec { eval_subset: Some(700), ..RunSpec::default() };
        assert_eq!(spec_of(&["--spec", "run.toml"], from_file.clone()), Some(700));
        assert_eq!(spec_of(&["--spec", "run.toml"], RunSpec::default()), None);
        assert_eq!(spec_of(&["--spec", "run.toml", "--eval-subset", "full"], from_file), None);
        for bad in ["0", "half"] {
            let e = Cli::try_parse_from(["cnnvar", "train", "--eval-subset", bad]).unwrap_err();
            let e = e.to_string();
            assert!(e.contains("--eval-subset") && e.contains("full"), "{bad}: {e}");
        }
    }

    /// `--data-dir` names the image folder of `--dataset folder`, and only there enters
    /// the spec; `--image-size` is HEIGHT,WIDTH.
    #[test]
    fn data_dir_is_the_folder_of_a_folder_data_set() {
        let spec_of = |flags: &[&str]| {
            let argv = [&["cnnvar", "train"][..], flags].concat();
            let Command::Train(args) = Cli::try_parse_from(argv).expect("parses").command else {
                panic!("not train");
            };
            let mut spec = RunSpec::default();
            args.apply_to(&mut spec);
            (spec, args.exec.data_dir)
        };
        let (named, dir) = spec_of(&["--data-dir", "/idx"]);
        assert_eq!((named.data_dir, dir), (None, Some(PathBuf::from("/idx"))));
        let (folder, _) = spec_of(&["--dataset", "folder", "--data-dir", "/imgs"]);
        assert_eq!(folder.data_dir, Some(PathBuf::from("/imgs")));
        let (sized, _) = spec_of(&["--image-size", "16x12"]);
        assert_eq!(sized.image_size, Some([16, 12]));
        for bad in ["0,8", "8", "a,b", "1,2,3"] {
            let e = Cli::try_parse_from(["cnnvar", "train", "--image-size", bad]).unwrap_err();
            assert!(e.to_string().contains("--image-size"), "{bad}: {e}");
        }
    }

    /// Every setting the library may name in an error has the flag [`flag_for`] gives
    /// it, on `train` or `sweep`.
    #[test]
    fn every_overridable_setting_has_its_flag() {
        let cli = Cli::command();
        let flags: Vec<String> = ["train", "sweep"]
            .iter()
            .flat_map(|c| cli.find_subcommand(c).expect("subcommand").get_arguments())
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        for setting in cnnvar_core::overridable_settings() {
            let flag = flag_for(setting);
            assert!(flags.contains(&flag), "setting `{setting}` has no flag {flag}");
        }
    }

    /// A setting's error names its flag; a field of the spec made from the flags names
    /// its flag as well as its field; other errors read as the library words them.
    #[test]
    fn errors_name_the_flag_of_their_setting() {
        let e = describe(&Error::setting("seeds", "must be from 1 to 9, got 10"));
        assert_eq!(e, "option `--seeds`: must be from 1 to 9, got 10");
        let e = describe(&Error::field(COMMAND_LINE, "data_dir", "is needed"));
        assert!(e.contains("`data_dir`") && e.contains("(--data-dir)"), "{e}");
        let e = describe(&Error::field("x.toml:3", "data_dir", "is needed"));
        assert!(!e.contains("--"), "{e}");
        // A library's advice naming a setting gets the setting's flag.
        let e = describe(&Error::environment(
            "CNNVAR_DATA_DIR",
            "empty; set `data_dir` to a directory",
        ));
        assert!(e.ends_with("(on the command line, `data_dir`: `--data-dir`)"), "{e}");
    }

    /// `--backend auto` stays a choice while the arguments are parsed (resolving it
    /// would start GPU devices); a named backend parses to itself.
    #[test]
    fn backend_auto_is_resolved_later() {
        let parsed = |argv: &[&str]| match Cli::try_parse_from(argv).expect("parses").command {
            Command::Sweep(a) => a.backend,
            Command::Train(a) => a.backend,
            _ => panic!("not sweep or train"),
        };
        assert_eq!(
            parsed(&["cnnvar", "sweep", "s.toml", "--backend", "auto"]),
            Some(BackendChoice::Auto)
        );
        assert_eq!(parsed(&["cnnvar", "train", "--backend", "auto"]), Some(BackendChoice::Auto));
        let compiled = Backend::compiled();
        if let Some(b) = compiled.first() {
            let named = parsed(&["cnnvar", "train", "--backend", b.as_str()]);
            assert_eq!(named, Some(BackendChoice::Named(*b)));
        }
        let e = Cli::try_parse_from(["cnnvar", "train", "--backend", "gpu"]).unwrap_err();
        assert!(e.to_string().contains("auto"), "{e}");
    }

    /// A count of 0 is refused, naming the flag.
    #[test]
    fn zero_counts_are_refused() {
        for flag in ["--jobs", "--threads-per-job", "--seeds", "--epochs", "--cpus-per-task"] {
            let e = Cli::try_parse_from(["cnnvar", "sweep", "s.toml", flag, "0"]).unwrap_err();
            let e = e.to_string();
            assert!(e.contains(flag) && e.contains("at least 1"), "{flag}: {e}");
        }
        let e = Cli::try_parse_from(["cnnvar", "train", "--threads", "0"]).unwrap_err();
        assert!(e.to_string().contains("--threads"), "{e}");
        assert!(Cli::try_parse_from(["cnnvar", "sweep", "s.toml", "--jobs", "2"]).is_ok());
    }
}
