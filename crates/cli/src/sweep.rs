//! `cnnvar sweep` and `cnnvar status`.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use cnnvar_core::{Error, Result};
use cnnvar_experiments::store::RunState;
use cnnvar_experiments::study::Study;
use cnnvar_experiments::sweep::{
    LocalExecutor, Plan, SlurmExecutor, SlurmOptions, WorkerCommand, estimate, longest_first,
    write_results_csv,
};

use crate::args::{Executor, SweepArgs};
use crate::progress::SweepProgress;

/// Set by Ctrl-C; workers are then stopped and the sweep exits.
static STOP: AtomicBool = AtomicBool::new(false);

/// Exit code of a sweep stopped by Ctrl-C.
const EXIT_INTERRUPTED: u8 = 130;

/// The cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn default_jobs(threads_per_job: usize) -> usize {
    (cores() / threads_per_job.max(1)).max(1)
}

/// Runs `cnnvar sweep`.
pub fn sweep(a: SweepArgs) -> Result<ExitCode> {
    let study = Study::load(&a.study)?;
    study.check_overrides(a.seeds, a.epochs)?;
    let plan = Plan::with_overrides(study, a.quick, a.seeds, a.epochs);
    let dir = plan.dir(&a.out);
    // Both are at least 1: the arguments refuse 0.
    let jobs = a.jobs.unwrap_or_else(|| default_jobs(a.threads_per_job));
    let program = std::env::current_exe()
        .map_err(|e| Error::Other(format!("finding the cnnvar executable: {e}")))?;
    let mut extra_args = Vec::new();
    if let Some(d) = &a.data_dir {
        let d = std::path::absolute(d).unwrap_or_else(|_| d.clone());
        extra_args.push("--data-dir".to_string());
        extra_args.push(d.display().to_string());
    }
    let slurm = (a.executor == Executor::Slurm).then(|| SlurmExecutor {
        options: SlurmOptions {
            partition: a.partition.clone(),
            time: a.time.clone(),
            cpus_per_task: a.cpus_per_task.max(1),
            max_parallel: a.max_parallel,
        },
        worker: WorkerCommand {
            program: program.clone(),
            threads: a.cpus_per_task.max(1),
            extra_args: extra_args.clone(),
            // Slurm gives each task its CPUs.
            passive_wait: false,
        },
        poll: std::time::Duration::from_secs(2),
    });
    if a.dry_run {
        if let Some(slurm) = &slurm {
            // Slurm paths must be absolute: tasks start in other directories.
            let dir = std::path::absolute(&dir).map_err(|e| Error::io(&dir, e))?;
            plan.lay_out(&dir)?;
            let states = plan.states(&dir);
            let todo: Vec<_> =
                states.iter().filter(|(_, s)| *s != RunState::Done).map(|(r, _)| *r).collect();
            let script = slurm.write_script(&plan.study.name, &dir, &todo)?;
            println!(
                "{} runs to do; job-array script written (not submitted): {}",
                todo.len(),
                script.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        return dry_run(&plan, &dir, &a.out, jobs, a.threads_per_job);
    }
    // Slurm tasks start in other directories: give them absolute paths.
    let dir = match slurm {
        Some(_) => std::path::absolute(&dir).map_err(|e| Error::io(&dir, e))?,
        None => dir,
    };
    plan.lay_out(&dir)?;
    for r in plan.repair(&dir)? {
        eprintln!(
            "run {}: damaged {} ({}) moved aside to {}; the run trains again",
            r.run_id,
            r.damage.file.display(),
            r.damage.why,
            r.moved_to.display()
        );
    }
    let states = plan.states(&dir);
    let todo: Vec<_> =
        states.iter().filter(|(_, s)| *s != RunState::Done).map(|(r, _)| *r).collect();
    let already = states.len() - todo.len();

    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            // Second Ctrl-C: leave at once.
            std::process::exit(EXIT_INTERRUPTED as i32);
        }
    });
    let threads = a.threads_per_job.max(1);
    let executor = LocalExecutor {
        jobs,
        worker: WorkerCommand {
            program,
            threads,
            extra_args,
            passive_wait: jobs * threads > cores(),
        },
    };
    let labels: HashMap<String, String> = plan
        .runs
        .iter()
        .map(|r| (r.run_id.clone(), format!("{} {} #{}", r.experiment, r.level, r.replicate + 1)))
        .collect();
    if !a.quiet {
        let how = match &slurm {
            Some(s) => format!(
                "as a Slurm job array, {} CPUs per task{}",
                s.options.cpus_per_task,
                s.options
                    .max_parallel
                    .map(|k| format!(", at most {k} at once"))
                    .unwrap_or_default()
            ),
            None => format!("{jobs} jobs × {} threads", a.threads_per_job),
        };
        eprintln!(
            "study {}: {} runs ({} done already, {} to do) in {}, {how}",
            plan.study.name,
            states.len(),
            already,
            todo.len(),
            dir.display(),
        );
    }
    let mut display = SweepProgress::new(states.len(), already, labels, a.quiet);
    let mut outcome = match &slurm {
        Some(s) => s.run(&plan.study.name, &dir, &todo, &STOP, &mut |e| display.event(&e))?,
        None => {
            // Longest first, so the last runs to finish are short ones.
            let mut todo = todo;
            longest_first(&mut todo);
            executor.run(&dir, &todo, &STOP, &mut |e| display.event(&e))?
        }
    };
    display.finish();
    let rows = write_results_csv(&plan, &dir)?;
    if rows > 0 {
        report(&dir, a.quiet, false)?;
    }
    let interrupted = STOP.load(Ordering::SeqCst);
    print_failures(&dir, display.failures(), &display);
    // Counted now, not from the start: a concurrent sweep may have completed runs, or
    // finished those it was running when this one looked.
    let now = plan.states(&dir);
    let complete = now.iter().filter(|(_, s)| *s == RunState::Done).count();
    outcome.busy = now.iter().filter(|(_, s)| *s == RunState::Running).count();
    eprintln!(
        "{}",
        summary_line(&plan.study.name, complete, states.len(), &outcome, interrupted, &dir)
    );
    debug_assert!(rows <= plan.runs.len());
    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if outcome.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The sweep's last line: what is complete now, and what this sweep itself did.
fn summary_line(
    study: &str,
    complete: usize,
    total: usize,
    outcome: &cnnvar_experiments::sweep::ExecOutcome,
    interrupted: bool,
    dir: &Path,
) -> String {
    let mut line = format!(
        "{study}: {complete} of {total} runs complete ({} trained by this sweep",
        outcome.done
    );
    if outcome.done_elsewhere > 0 {
        line += &format!(", {} by another process", outcome.done_elsewhere);
    }
    line += &format!("), {} failed", outcome.failed);
    if outcome.busy > 0 {
        line += &format!(", {} being run by another process", outcome.busy);
    }
    if interrupted {
        line += ", interrupted (rerun the same command to resume)";
    }
    line + &format!("; results: {}", dir.join("results.csv").display())
}

/// One line per run that failed in this sweep: its label and id, the first line of
/// its reason and where its log is.
fn print_failures(dir: &Path, failures: &[(String, String)], display: &SweepProgress) {
    for (run_id, why) in failures {
        let run = cnnvar_experiments::store::RunDir::open(dir.join(run_id));
        let log = run
            .read_failure()
            .and_then(|f| f.log)
            .unwrap_or_else(|| dir.join(run_id).join("worker.log"));
        let first = why.lines().next().unwrap_or("");
        eprintln!("failed: {} ({run_id}): {first}; log: {}", display.label(run_id), log.display());
    }
}

fn dry_run(plan: &Plan, dir: &Path, out: &Path, jobs: usize, threads: usize) -> Result<ExitCode> {
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
    let e = estimate(plan, dir, out, jobs, threads);
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
            println!(
                "  failed: {} {} #{} ({}): {why}",
                run.experiment,
                run.level,
                run.replicate + 1,
                run.run_id
            );
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
                "  damaged: {} {} #{} ({}): {}: {}; the next sweep moves it aside and retrains",
                run.experiment,
                run.level,
                run.replicate + 1,
                run.run_id,
                d.file.display(),
                d.why
            );
        }
    }
}
