//! `cnnvar sweep` and `cnnvar status`: the sweep's policy is
//! `cnnvar_experiments::sweep::orchestrate`; this shows what it returns, handles Ctrl-C
//! and maps the outcome to an exit code.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use cnnvar_analysis::decisions::StudyDecisions;
use cnnvar_core::{Error, Result};
use cnnvar_experiments::sweep::orchestrate::{failure_line, label, labels};
use cnnvar_experiments::sweep::{self as sweeps, SlurmOptions, SweepRequest, SweepSetup, estimate};
use cnnvar_store::{Plan, PlannedRun, RunState, StudyDir, StudyFile};

use cnnvar_models::Models;

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
        backend: a.backend.map(cnnvar_core::BackendChoice::resolve),
    })
}

/// Refuses a plan with a run whose model `models` does not hold, naming the study file
/// and the experiment, before anything is laid out or run.
fn check_models(plan: &Plan, models: &Models) -> Result<()> {
    for exp in &plan.study.experiments {
        for level in &exp.levels {
            let location = format!(
                "{} (experiment `{}`, level `{}`)",
                plan.study.source.display(),
                exp.name,
                level.label
            );
            models.check(&level.spec.model, &location)?;
        }
    }
    Ok(())
}

/// Runs `cnnvar sweep`; every run's model must be one of `models` (the workers are this
/// program, so they know the same ones).
pub fn sweep(a: SweepArgs, models: &Models) -> Result<ExitCode> {
    let (dry, quiet) = (a.dry_run, a.quiet);
    let mut setup = SweepSetup::new(request(a)?)?;
    check_models(&setup.plan, models)?;
    if dry {
        // An adaptive study's current round, from the records so far.
        let decisions = setup.plan_round();
        if let Some((n, script)) = setup.write_slurm_script()? {
            let round = if decisions.is_some() { " of this round" } else { "" };
            println!(
                "{n} runs{round} to do; job-array script written (not submitted): {}",
                script.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        return dry_run(&setup);
    }
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            // Second Ctrl-C: leave at once.
            std::process::exit(EXIT_INTERRUPTED as i32);
        }
    });
    // One round for a fixed study; an adaptive one's rounds until it is decided.
    let outcome = setup.run_rounds(&STOP, |setup, round| {
        for r in &round.repairs {
            eprintln!("{r}");
        }
        if !quiet {
            if round.number == 1 {
                eprintln!("{}", setup.header(&round.todo));
            }
            if let Some(d) = &round.decisions {
                eprintln!(
                    "round {}: {} runs to do, {} of {} experiments open",
                    round.number,
                    round.todo.runs.len(),
                    d.open().count(),
                    d.experiments.len()
                );
                for e in &d.experiments {
                    eprintln!("  {}", e.line());
                }
            }
        }
        let (total, already) = (round.todo.total, round.todo.already());
        let mut display = SweepProgress::new(total, already, labels(&setup.plan), quiet);
        let outcome = setup.execute(round.todo.runs, &STOP, &mut |e| display.event(&e))?;
        display.finish();
        for (run_id, why) in display.failures() {
            eprintln!("{}", failure_line(&setup.dir, run_id, &display.label(run_id), why));
        }
        Ok(outcome)
    })?;
    if setup.write_results()? > 0 {
        report(&setup.dir, None, quiet, false)?;
    }
    if !quiet && let Some(d) = sweeps::decisions(&setup.plan, &setup.study_dir()) {
        eprintln!(
            "decisions ({} of {} runs at most, {} saved): {}",
            d.runs,
            d.runs_at_max,
            d.runs_saved,
            setup.study_dir().file(StudyFile::DecisionsJson).display()
        );
        for e in &d.experiments {
            eprintln!("  {}", e.line());
        }
    }
    let interrupted = STOP.load(Ordering::SeqCst);
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
    let states = plan.states(&StudyDir::open(dir));
    let state_of: HashMap<&str, RunState> =
        states.iter().map(|(r, s)| (r.run_id.as_str(), *s)).collect();
    let seeds_each = match &plan.study.adaptive {
        Some(a) => format!(
            "adaptive seeds: {} to {} of every level, {} more at a time while undecided \
             (looks at {})",
            a.min,
            a.max,
            a.step,
            a.looks().iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
        ),
        None => format!("{} seeds each", plan.study.seeds),
    };
    println!(
        "study {} ({}): {} experiments, {seeds_each}",
        plan.study.name,
        plan.study.source.display(),
        plan.study.experiments.len(),
    );
    let seeds = plan.seeds();
    for exp in &plan.study.experiments {
        let runs: Vec<_> = plan.runs.iter().filter(|r| r.experiment == exp.name).collect();
        let resolve = match cnnvar_analysis::decisions::design(&plan.study, &exp.name) {
            Some(d) => format!(
                "; decided at delta {} points, alpha {}, {} spending",
                d.delta,
                d.alpha,
                cnnvar_analysis::decisions::spending_name(d.spending)
            ),
            None => String::new(),
        };
        println!(
            "\n{} — {} ({}; {} levels × {} seeds = {} runs{resolve})",
            exp.name,
            exp.title,
            exp.factors.join(", "),
            exp.levels.len(),
            seeds.get(&exp.name),
            runs.len()
        );
        for r in runs {
            let s = &r.spec;
            let state = state_of.get(r.run_id.as_str()).copied().unwrap_or(RunState::Pending);
            if let Some(script) = &s.script {
                let params: Vec<String> =
                    script.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!(
                    "  {:<24} #{:<2} {}  {} {}  [{state:?}]",
                    r.level,
                    r.replicate + 1,
                    r.run_id,
                    script.command.join(" "),
                    params.join(" ")
                );
                continue;
            }
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
    if let Some((fewest, most)) = sweeps::extremes(plan) {
        let (lo, hi) = (
            estimate(&fewest, dir, &setup.out, jobs, threads),
            estimate(&most, dir, &setup.out, jobs, threads),
        );
        println!(
            "adaptive seeding: {} to {} distinct runs ({} to {} to do) as the decisions \
             come; estimated {} to {} of compute, {} to {} wall with {jobs} jobs × {threads} \
             threads",
            lo.runs,
            hi.runs,
            lo.pending,
            hi.pending,
            human(lo.run_seconds),
            human(hi.run_seconds),
            human(lo.wall_seconds),
            human(hi.wall_seconds)
        );
    }
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

/// Writes the report of the study in `study_dir` into `out` (`None`: the study
/// directory; else nothing is written into the study directory) and prints its verdicts
/// (and, with `rank`, the ranking of its factors).
pub fn report(study_dir: &Path, out: Option<&Path>, quiet: bool, rank: bool) -> Result<()> {
    let study = StudyDir::open(study_dir);
    let into = StudyDir::open(out.unwrap_or(study_dir));
    let (files, stats, ranking) = cnnvar_report::write_report_to(&study, &into)?;
    if rank {
        println!("Why does accuracy vary in {}?", stats.study);
        for line in cnnvar_report::ranking_lines(&ranking) {
            println!("  {line}");
        }
        println!("ranking: {}", files.ranking_csv.display());
        return Ok(());
    }
    if !quiet {
        println!("{} ({} of {} runs complete):", stats.study, stats.complete, stats.planned);
        for exp in &stats.experiments {
            println!("  {} — {}: {}", exp.name, exp.title, cnnvar_report::verdicts::headline(exp));
        }
        for note in cnnvar_report::store_notes(study_dir)? {
            println!("  warning: {note}");
        }
        println!("report: {}", files.html.display());
    }
    Ok(())
}

/// Runs `cnnvar status`. An adaptive study's runs are those its decisions from the
/// records need now (what the next sweep plans), whatever round `plan.json` was written
/// in: a sweep killed or failed in a round leaves plan.json behind the records.
pub fn status(study_dir: &Path) -> Result<ExitCode> {
    let study = StudyDir::open(study_dir);
    let mut plan = study.plan()?;
    let decisions = sweeps::decisions(&plan, &study);
    if let (Some(d), Some(full)) = (&decisions, plan.at_max_seeds()) {
        // The first `seeds` replicates of each experiment: its runs at any count.
        let need = d.seeds();
        let now = |r: &PlannedRun| need.get(&r.experiment).is_some_and(|&n| r.replicate < n);
        plan.runs = full.runs.into_iter().filter(now).collect();
    }
    let states = plan.states(&study);
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
    // An adaptive study's round and decisions per experiment, from the records.
    for exp in &plan.study.experiments {
        let mine: Vec<_> = states.iter().filter(|(r, _)| r.experiment == exp.name).collect();
        let done = mine.iter().filter(|(_, s)| *s == RunState::Done).count();
        println!("  {:<16} {done}/{} done", exp.name, mine.len());
        if let Some(line) = decisions.as_ref().and_then(|d| decisions_line(d, &exp.name)) {
            println!("    {line}");
        }
    }
    if let Some(d) = &decisions {
        println!("  {}", adaptive_total(d));
    }
    print_damaged(&plan, &study);
    for (run, state) in &states {
        if *state == RunState::Failed {
            let dir = study.run(&run.run_id);
            let why = dir.read_failure().map(|f| f.error).unwrap_or_default();
            println!("  failed: {} ({}): {why}", label(run), run.run_id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where experiment `name` of an adaptive study stands: its round and decisions
/// (`ExperimentDecisions::line`).
fn decisions_line(d: &StudyDecisions, name: &str) -> Option<String> {
    d.experiments.iter().find(|e| e.experiment == name).map(|e| e.line())
}

/// An adaptive study's runs against `max` seeds everywhere, in one line.
fn adaptive_total(d: &StudyDecisions) -> String {
    let state = if d.finished {
        "finished".to_string()
    } else {
        format!("{} experiment(s) open", d.open().count())
    };
    format!(
        "adaptive seeding: {state}; {} runs needed now, {} at {} seeds everywhere ({} saved)",
        d.runs, d.runs_at_max, d.max_seeds, d.runs_saved
    )
}

/// One line per damaged file of the study directory, with why and what the next sweep
/// does with it; per disagreement of `plan.json` with its study or `study.toml`; and per
/// damaged run, by id, with each damaged file and why (the next sweep moves them aside
/// and retrains the run).
fn print_damaged(plan: &Plan, study: &StudyDir) {
    for d in study.damage() {
        println!(
            "  damaged: {}: {}; the next sweep moves it aside: {}",
            d.file.display(),
            d.why,
            study.remedy(&d.file, Some(plan))
        );
    }
    for line in study.plan_disagreements(plan) {
        println!("  warning: {line}");
    }
    for (run, damage) in plan.damaged(study) {
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
