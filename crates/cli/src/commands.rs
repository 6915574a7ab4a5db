//! What each subcommand does.

use std::process::ExitCode;

use cnnvar_core::{Error, Result, RunSpec};
use cnnvar_experiments::store::RunDir;
use cnnvar_experiments::{RunOptions, execute};

use crate::args::{Cli, Command, DataCommand, ExecArgs, TrainArgs, WorkerArgs};
use crate::progress::RunProgress;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Train(args) => train(args),
        Command::Worker(args) => worker(args),
        Command::Backends => {
            let names: Vec<&str> =
                cnnvar_core::Backend::compiled().iter().map(|b| b.as_str()).collect();
            println!("{}", names.join(" "));
            Ok(ExitCode::SUCCESS)
        }
        Command::Data { command: DataCommand::Info { data_dir, json } } => {
            data_info(data_dir.as_deref(), json)
        }
    }
}

fn options(exec: &ExecArgs) -> RunOptions {
    RunOptions { data_dir: exec.data_dir.clone(), threads: exec.threads }
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
    macro_rules! set {
        ($($field:ident),*) => { $(if let Some(v) = a.$field { spec.$field = v; })* };
    }
    set!(dataset, subset, model, optimizer, lr, preset, batch_size, epochs, backend);
    if let Some(n) = a.train_size {
        spec.train_size = Some(n);
    }
    if let Some(m) = a.momentum {
        spec.momentum = Some(m);
    }
    if let Some(s) = a.seed {
        (spec.init_seed, spec.order_seed, spec.subset_seed) = (s, s, s);
    }
    set!(init_seed, order_seed, subset_seed);
    spec.validate_at("command line")?;
    Ok(spec)
}

fn train(a: TrainArgs) -> Result<ExitCode> {
    let spec = spec_from_args(&a)?;
    let run_dir = a.out.as_ref().map(|root| RunDir::create(root, &spec)).transpose()?;
    let mut display = RunProgress::new(&spec, a.quiet);
    let mut curve = Vec::new();
    let record = execute(&spec, &options(&a.exec), &mut |p| {
        display.update(&p);
        if let (Some(dir), cnnvar_experiments::Progress::Epoch(e)) = (&run_dir, &p) {
            curve.push(e.clone());
            // The curve is a convenience; the record is what counts.
            let _ = dir.write_curve(&curve);
        }
    })?;
    display.finish(&record);
    if let Some(dir) = &run_dir {
        dir.write_curve(&record.epochs)?;
        dir.write_record(&record)?;
        if !a.quiet {
            eprintln!("record written to {}", dir.path().join("record.json").display());
        }
    }
    if a.json {
        println!("{}", record.to_json());
    }
    Ok(ExitCode::SUCCESS)
}

fn worker(a: WorkerArgs) -> Result<ExitCode> {
    let dir = RunDir::open(&a.run_dir);
    let spec = dir.read_spec()?;
    let mut curve = Vec::new();
    let record = execute(&spec, &options(&a.exec), &mut |p| {
        if let cnnvar_experiments::Progress::Epoch(e) = p {
            if a.report_progress {
                eprintln!("epoch {} {:.4}", e.epoch, e.test_accuracy);
            }
            curve.push(e);
            let _ = dir.write_curve(&curve);
        }
    })?;
    dir.write_curve(&record.epochs)?;
    dir.write_record(&record)?;
    Ok(ExitCode::SUCCESS)
}

fn data_info(data_dir: Option<&std::path::Path>, json: bool) -> Result<ExitCode> {
    let infos = cnnvar_data::info(data_dir);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&infos).map_err(|e| Error::Other(e.to_string()))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    for info in &infos {
        println!("{info}");
    }
    Ok(ExitCode::SUCCESS)
}
