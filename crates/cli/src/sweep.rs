//! `cnnvar sweep` and `cnnvar status`: the sweep's policy is
//! `cnnvar_experiments::sweep::orchestrate`; this shows what it returns, handles Ctrl-C
//! and maps the outcome to an exit code.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use cnnvar_core::{Error, Result};
use cnnvar_experiments::store::RunState;
use cnnvar_experiments::sweep::orchestrate::{failure_line, label, labels};
use cnnvar_experiments::sweep::{Plan, SlurmOptions, SweepRequest, SweepSetup, estimate};

use crate::args::{Executor, SweepArgs};
use crate::progress::SweepProgress;

/// Set by Ctrl-C; workers are then stopped and the sweep exits.
static STOP: AtomicBool = AtomicBool::new(false);

/// Exit code of a sweep stopped by Ctrl-C.
const EXIT_INTERRUPTED: u8 = 130;

/// The sweep the arguments ask for, its workers running this executable.
fn request(a: SweepArgs) -> Result<SweepRequest> {
    let program = std::env::current_exe()
        .map_err(|e| Error::program("cnnvar", format!("cannot find its own executable: {e}")))?;
    let slurm = (a.executor == Executor::Slurm).then_some(SlurmOptions {
        partition: a.partition,
        time: a.time,
        cpus_per_task: a.cpus_per_task,
        max_parallel: a.max_parallel,
    });
    Ok(SweepRequest {
        study: a.study,
        out: a.out,
        quick: a.quick,
        seeds: a.seeds,
        epochs: a.epochs,
        jobs: a.jobs,
        threads_per_job: a.threads_per_job,
        data_dir: a.data_dir,
        slurm,
        program,
        backend: a.backend,
    })
}

/// Runs `cnnvar sweep`.
pub fn sweep(a: SweepArgs) -> Result<ExitCode> {
    let (dry, quiet) = (a.dry_run, a.quiet);
    let setup = SweepSetup::new(request(a)?)?;
    if dry {
        if let Some((n, script)) = setup.write_slurm_script()? {
            println!(
                "{n} runs to do; job-array script written (not submitted): {}",
                script.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        return dry_run(&setup);
    }
    for r in setup.prepare()? {
        eprintln!(
            "run {}: damaged {} ({}) moved aside to {}; the run trains again",
            r.run_id,
            r.damage.file.display(),
            r.damage.why,
            r.moved_to.display()
        );
    }
    let todo = setup.todo();
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            // Second Ctrl-C: leave at once.
            std::process::exit(EXIT_INTERRUPTED as i32);
        }
    });
    if !quiet {
        eprintln!("{}", setup.header(&todo));
    }
    let mut display = SweepProgress::new(todo.total, todo.already(), labels(&setup.plan), quiet);
    let outcome = setup.execute(todo.runs, &STOP, &mut |e| display.event(&e))?;
    display.finish();
    if setup.write_results()? > 0 {
        report(&setup.dir, quiet, false)?;
    }
    let interrupted = STOP.load(Ordering::SeqCst);
    for (run_id, why) in display.failures() {
        eprintln!("{}", failure_line(&setup.dir, run_id, &display.label(run_id), why));
    }
    let summary = setup.summary(outcome, interrupted);
    eprintln!("{summary}");
    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if summary.outcome.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--dry-run` with local workers: every planned run with its state, and the estimate.
fn dry_run(setup: &SweepSetup) -> Result<ExitCode> {
    let (plan, dir, jobs, threads) = (&setup.plan, &setup.dir, setup.jobs, setup.threads_per_job);
    let states = plan.states(dir);
    let state_of: HashMap<&str, RunState> =
        states.iter().map(|(r, s)| (r.run_id.as_str(), *s)).collect();
    println!(
        "study {} ({}): {} experiments, {} seeds each",
        plan.study.name,
        plan.study.source.display(),
        plan.study.experiments.len(),
        plan.study.seeds
    );
    for exp in &plan.study.experiments {
        let runs: Vec<_> = plan.runs.iter().filter(|r| r.experiment == exp.name).collect();
        println!(
            "\n{} — {} ({}; {} levels × {} seeds = {} runs)",
            exp.name,
            exp.title,
            exp.factors.join(", "),
            exp.levels.len(),
            plan.study.seeds,
            runs.len()
        );
        for r in runs {
            let s = &r.spec;
            println!(
                "  {:<24} #{:<2} {}  {:<8} {} n={} {} lr={} batch={} epochs={}  [{:?}]",
                r.level,
                r.replicate + 1,
                r.run_id,
                s.model.as_str(),
                s.dataset,
                s.train_size.map_or("all".into(), |n| n.to_string()),
                s.optimizer,
                s.lr,
                s.batch_size,
                s.epochs,
                state_of.get(r.run_id.as_str()).copied().unwrap_or(RunState::Pending)
            );
        }
    }
    let e = estimate(plan, dir, &setup.out, jobs, threads);
    println!(
        "\n{} planned runs, {} distinct, {} to do; estimated {} of compute, {} wall with {jobs} jobs × {threads} threads ({})",
        plan.runs.len(),
        e.runs,
        e.pending,
        human(e.run_seconds),
        human(e.wall_seconds),
        e.basis
    );
    Ok(ExitCode::SUCCESS)
}

/// `3h 05m`, `12m 30s`, `45s`.
pub fn human(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Writes the report of the study in `study_dir` and prints its verdicts (and, with
/// `rank`, the ranking of its factors).
pub fn report(study_dir: &Path, quiet: bool, rank: bool) -> Result<()> {
    let (files, stats, ranking) = cnnvar_experiments::report::write_report(study_dir)?;
    if rank {
        println!("Why does accuracy vary in {}?", stats.study);
        for line in cnnvar_experiments::report::ranking_lines(&ranking) {
            println!("  {line}");
        }
        println!("ranking: {}", files.ranking_csv.display());
        return Ok(());
    }
    if !quiet {
        println!("{} ({} of {} runs complete):", stats.study, stats.complete, stats.planned);
        for exp in &stats.experiments {
            println!("  {} — {}: {}", exp.name, exp.title, exp.headline);
        }
        for note in cnnvar_experiments::report::store_notes(study_dir)? {
            println!("  warning: {note}");
        }
        println!("report: {}", files.html.display());
    }
    Ok(())
}

/// Runs `cnnvar status`.
pub fn status(study_dir: &Path) -> Result<ExitCode> {
    let plan = Plan::load(study_dir)?;
    let states = plan.states(study_dir);
    let count = |s: RunState| states.iter().filter(|(_, x)| *x == s).count();
    println!(
        "{}: {} runs: {} done, {} running, {} failed, {} pending{}",
        plan.study.name,
        states.len(),
        count(RunState::Done),
        count(RunState::Running),
        count(RunState::Failed),
        count(RunState::Pending),
        match count(RunState::Damaged) {
            0 => String::new(),
            n => format!(", {n} damaged"),
        }
    );
    for exp in &plan.study.experiments {
        let mine: Vec<_> = states.iter().filter(|(r, _)| r.experiment == exp.name).collect();
        let done = mine.iter().filter(|(_, s)| *s == RunState::Done).count();
        println!("  {:<16} {done}/{} done", exp.name, mine.len());
    }
    print_damaged(&plan, study_dir);
    for (run, state) in &states {
        if *state == RunState::Failed {
            let dir = cnnvar_experiments::store::RunDir::open(study_dir.join(&run.run_id));
            let why = dir.read_failure().map(|f| f.error).unwrap_or_default();
            println!("  failed: {} ({}): {why}", label(run), run.run_id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per damaged run, by id, with each damaged file and why (the next sweep
/// moves them aside and retrains the run).
fn print_damaged(plan: &Plan, study_dir: &Path) {
    for (run, damage) in plan.damaged(study_dir) {
        for d in damage {
            println!(
                "  damaged: {} ({}): {}: {}; the next sweep moves it aside and retrains",
                label(run),
                run.run_id,
                d.file.display(),
                d.why
            );
        }
    }
}
