//! What each subcommand does.

use std::process::ExitCode;

use cnnvar_core::{Error, Result, RunSpec};
use cnnvar_experiments::sweep::{
    EXIT_ALREADY_COMPLETE, EXIT_BUSY, WorkerEvent, WorkerOutcome, run_worker,
};
use cnnvar_experiments::{RunOptions, execute_on, load_run_data};
use cnnvar_models::Models;
use cnnvar_store::{RunDir, StudyDir};

use crate::args::{Cli, Command, DataCommand, ExecArgs, ProbeArgs, TrainArgs, WorkerArgs};
use crate::progress::RunProgress;

/// Runs the parsed command line, with `models` as the models a spec may name.
pub fn run(cli: Cli, models: &Models) -> Result<ExitCode> {
    match cli.command {
        Command::Train(args) => train(args, models),
        Command::Worker(args) => worker(args, models),
        Command::Sweep(args) => crate::sweep::sweep(args, models),
        Command::Status { study_dir } => crate::sweep::status(&study_dir),
        Command::Probe(args) => probe(args, models),
        Command::Report { study_dir, rank, out } => {
            // results.csv is rewritten from the records, so it lists no run whose
            // record is gone; with --out it is written there, as the whole report is,
            // and nothing in the study directory changes.
            let study = StudyDir::open(&study_dir);
            let into = StudyDir::open(out.as_deref().unwrap_or(&study_dir));
            let plan = study.plan()?;
            std::fs::create_dir_all(into.path()).map_err(|e| Error::io(into.path(), e))?;
            study
                .write_results_csv_to(&plan, &into)
                .map_err(|e| suggest_out(e, &study_dir, &out))?;
            crate::sweep::report(&study_dir, out.as_deref(), false, rank).map(|_| ExitCode::SUCCESS)
        }
        Command::Backends => {
            let names: Vec<&str> =
                cnnvar_core::Backend::compiled().iter().map(|b| b.as_str()).collect();
            println!("{}", names.join(" "));
            Ok(ExitCode::SUCCESS)
        }
        Command::Data { command: DataCommand::Info { data_dir, json } } => {
            data_info(data_dir.as_deref(), json)
        }
        Command::Data { command: DataCommand::Fetch { name, offline, base_url, cache_dir } } => {
            data_fetch(name, offline, base_url, cache_dir)
        }
    }
}

/// `e`, from writing the report into the study directory `dir` itself (no `--out`),
/// with the way out when the directory cannot be written to.
fn suggest_out(e: Error, dir: &std::path::Path, out: &Option<std::path::PathBuf>) -> Error {
    match &e {
        Error::Io { source, .. }
            if out.is_none()
                && matches!(
                    source.kind(),
                    std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
                ) =>
        {
            Error::program(
                "cnnvar report",
                format!(
                    "cannot write the report into the study directory {} ({source}); give \
                     --out DIR to write it elsewhere, leaving the study untouched",
                    dir.display()
                ),
            )
        }
        _ => e,
    }
}

fn options(exec: &ExecArgs, models: &Models) -> RunOptions {
    RunOptions {
        data_dir: exec.data_dir.clone(),
        threads: exec.threads,
        study_dir: None,
        models: models.clone(),
    }
}

/// The spec of `cnnvar train`: the `--spec` file, then each flag over it.
fn spec_from_args(a: &TrainArgs) -> Result<RunSpec> {
    let mut spec = match &a.spec {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            RunSpec::from_toml(&text, &path.display().to_string())?
        }
        None => RunSpec::default(),
    };
    a.apply_to(&mut spec);
    spec.validate_at("command line")?;
    if spec.script.is_some() {
        return Err(Error::field(
            "the --spec file",
            "script",
            "a run of your own training command is trained by `cnnvar sweep` of a study that              names it (`command = [...]` in its [base]), not by `cnnvar train`",
        ));
    }
    Ok(spec)
}

fn train(a: TrainArgs, models: &Models) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let spec = spec_from_args(&a)?;
    models.check(&spec.model, if a.model.is_some() { "--model" } else { "command line" })?;
    let options = options(&a.exec, models);
    // The data first: an image folder's checksum is part of the spec, hence of the run
    // id that names the run's directory.
    let (spec, data) = load_run_data(&spec, &options, &mut |p| {
        if let cnnvar_experiments::TrainProgress::Note(note) = p {
            eprintln!("cnnvar: {note}");
        }
    })?;
    let run_dir = a.out.as_ref().map(|root| RunDir::create(root, &spec)).transpose()?;
    let mut display = RunProgress::new(&spec, a.quiet);
    let mut curve = Vec::new();
    let output = execute_on(&spec, &data, &options, started, &mut |p| {
        display.update(&p);
        if let (Some(dir), cnnvar_experiments::TrainProgress::Epoch(e)) = (&run_dir, &p) {
            curve.push(e.clone());
            // The curve is a convenience; the record is what counts.
            let _ = dir.write_curve(&curve);
        }
    })?;
    let (mut record, predictions, labels) = (output.record, output.predictions, output.labels);
    display.finish(&record);
    if let Some(dir) = &run_dir {
        // As written: with its predictions' checksum.
        record = dir.write_outputs(&record, &predictions, &labels)?;
        if !a.quiet {
            eprintln!("record written to {}", dir.path().join("record.json").display());
        }
    }
    if a.json {
        println!("{}", record.to_json());
    }
    Ok(ExitCode::SUCCESS)
}

/// Exits this process when its parent goes away, so that a sweep killed with SIGKILL
/// leaves no orphan workers training on.
#[cfg(unix)]
fn watch_parent() {
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(500));
            if std::os::unix::process::parent_id() != parent {
                cnnvar_experiments::script::stop_running_script();
                std::process::exit(137);
            }
        }
    });
}

#[cfg(not(unix))]
fn watch_parent() {}

/// Runs `cnnvar worker`: the worker protocol (`cnnvar_experiments::sweep::worker`),
/// its events written to stderr (the worker's log, which the executors read), its
/// outcome mapped to the exit code the executors expect.
fn worker(a: WorkerArgs, models: &Models) -> Result<ExitCode> {
    if a.watch_parent {
        watch_parent();
    }
    let outcome = run_worker(&a.run_dir, &options(&a.exec, models), &mut |event| match event {
        WorkerEvent::Note(note) => eprintln!("cnnvar: {note}"),
        WorkerEvent::Epoch { epoch, epochs } if a.report_progress => {
            eprintln!("{}", epoch.progress_line(epochs));
        }
        WorkerEvent::Epoch { .. } => {}
    })?;
    let code = match &outcome {
        WorkerOutcome::Busy { run_id } => {
            eprintln!("run {run_id} is being trained by another process");
            EXIT_BUSY
        }
        WorkerOutcome::AlreadyComplete { run_id } => {
            eprintln!("run {run_id} is already complete");
            EXIT_ALREADY_COMPLETE
        }
        WorkerOutcome::Done { partners, .. } => {
            if !partners.is_empty() {
                eprintln!("cnnvar: one training, also evaluated as run(s) {}", partners.join(", "));
            }
            0
        }
    };
    // A finished outcome holds the run's lock: it is released when this returns.
    Ok(ExitCode::from(code as u8))
}

/// Runs `cnnvar probe`: the determinism probe of the study's first run
/// (`cnnvar_experiments::probe`), its findings printed.
fn probe(a: ProbeArgs, models: &Models) -> Result<ExitCode> {
    let mut study = cnnvar_core::study::Study::load(&a.study)?;
    cnnvar_experiments::folders::resolve_folders(&mut study, a.exec.data_dir.as_deref())?;
    cnnvar_experiments::script::resolve_scripts(&mut study)?;
    let dir = cnnvar_store::Plan::new(study.clone(), false).dir(&a.out);
    let report = cnnvar_experiments::probe::probe(
        &study,
        &dir,
        &options(&a.exec, models),
        &mut |name, event| {
            if let WorkerEvent::Note(note) = event {
                eprintln!("cnnvar: probe {name}: {note}");
            }
        },
    )?;
    for line in report.lines() {
        println!("{line}");
    }
    println!("written: {}", dir.join("probe").join("probe.json").display());
    Ok(ExitCode::SUCCESS)
}

fn data_info(data_dir: Option<&std::path::Path>, json: bool) -> Result<ExitCode> {
    let infos = cnnvar_data::info(data_dir);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&infos).map_err(|e| Error::encode("data info", e))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    for info in &infos {
        println!("{info}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `cnnvar data fetch`: downloads data set `name` unless cached, with progress on
/// stderr, and prints the directory holding its files on stdout.
fn data_fetch(
    name: cnnvar_core::DatasetName,
    offline: bool,
    base_url: Option<String>,
    cache_dir: Option<std::path::PathBuf>,
) -> Result<ExitCode> {
    use cnnvar_data::fetch;
    let cache_dir = match cache_dir {
        Some(dir) => dir,
        None => fetch::default_cache_dir().ok_or_else(|| {
            Error::environment(
                "HOME",
                "no user cache directory ($HOME is not set); pass --cache-dir DIR",
            )
        })?,
    };
    let options = fetch::FetchOptions {
        cache_dir,
        base_url: base_url.or_else(fetch::base_url_from_env),
        offline: offline || fetch::offline_from_env(),
    };
    let mut bar = None;
    let dir = fetch::fetch(name, &options, &mut |p| show_fetch_progress(&mut bar, p))?;
    if let Some(bar) = bar.take() {
        bar.finish_and_clear();
    }
    println!("{}", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Shows one download event: a byte bar per file (when stderr is a terminal) and a
/// line per verified file.
fn show_fetch_progress(
    bar: &mut Option<indicatif::ProgressBar>,
    p: cnnvar_data::FetchProgress<'_>,
) {
    use cnnvar_data::FetchProgress;
    use indicatif::{ProgressBar, ProgressStyle};
    match p {
        FetchProgress::Started { url, done, total } => {
            if done > 0 {
                eprintln!("resuming {url} at byte {done}");
            } else {
                eprintln!("downloading {url}");
            }
            let new = ProgressBar::new(total.unwrap_or(0));
            new.set_style(
                ProgressStyle::with_template(
                    "[{bar:30}] {bytes}/{total_bytes}, {bytes_per_sec}, eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            new.set_position(done);
            if let Some(old) = bar.replace(new) {
                old.finish_and_clear();
            }
        }
        FetchProgress::Bytes { done, .. } => {
            if let Some(bar) = bar {
                bar.set_position(done);
            }
        }
        FetchProgress::Verified { path } => {
            if let Some(bar) = bar.take() {
                bar.finish_and_clear();
            }
            eprintln!("verified {}", path.display());
        }
        FetchProgress::Extracting { archive } => eprintln!("extracting {}", archive.display()),
    }
}
