//! The command lines cnnvar writes for itself, read back by its own parser: a sweep's
//! workers (`cnnvar_experiments::sweep::WorkerCommand`) and the sweep line that
//! reproduces a study directory (`cnnvar_store::SweepLine`). What one side writes, the
//! other must parse to the same values.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use cnnvar_core::{Backend, BackendChoice};
use cnnvar_experiments::sweep::{SlurmExecutor, SlurmOptions, WorkerCommand};
use cnnvar_store::SweepLine;

use crate::args::{Cli, Command, SweepArgs, WorkerArgs};

/// `argv` parsed by the command line's parser; panics with clap's error.
fn parse<I, T>(argv: I) -> Command
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    match Cli::try_parse_from(argv) {
        Ok(cli) => cli.command,
        Err(e) => panic!("does not parse: {e}"),
    }
}

/// Paths as the parser gives them back, compared by their components (`./-x` is `-x`).
fn same_path(a: &Path, b: &Path) -> bool {
    a.components()
        .filter(|c| *c != std::path::Component::CurDir)
        .eq(b.components().filter(|c| *c != std::path::Component::CurDir))
}

/// The worker's arguments, as `cnnvar worker` parses the command a sweep starts.
fn worker_args(w: &WorkerCommand, run_dir: &Path) -> WorkerArgs {
    let argv = std::iter::once(w.program.clone().into_os_string()).chain(w.args(run_dir));
    match parse(argv) {
        Command::Worker(args) => args,
        other => panic!("not `worker`: {other:?}"),
    }
}

/// Every field of a worker's command comes back from its arguments: the run
/// directory, threads, data directory and both flags, with paths that need quoting in
/// a shell or start with a dash.
#[test]
fn worker_commands_parse_back_to_their_fields() {
    let dirs = [None, Some("/data/fashion mnist"), Some("-data"), Some("it's/ünï")];
    let runs = ["runs/seed/0123456789abcdef", "/abs/x y/r", "-out/s/r"];
    for (i, (data_dir, run_dir)) in dirs.iter().zip(runs.iter().cycle()).enumerate() {
        for (report_progress, watch_parent) in [(true, true), (false, false), (true, false)] {
            let w = WorkerCommand {
                program: "/opt/cnnvar".into(),
                threads: i + 1,
                data_dir: data_dir.map(PathBuf::from),
                report_progress,
                watch_parent,
                passive_wait: i % 2 == 0,
            };
            let a = worker_args(&w, Path::new(run_dir));
            assert!(same_path(&a.run_dir, Path::new(run_dir)), "{w:?}: {:?}", a.run_dir);
            assert_eq!(a.exec.threads, Some(w.threads), "{w:?}");
            match (&a.exec.data_dir, &w.data_dir) {
                (Some(a), Some(b)) => assert!(same_path(a, b), "{w:?}: data dir {a:?}"),
                (a, b) => assert_eq!(a, b, "{w:?}"),
            }
            assert_eq!((a.report_progress, a.watch_parent), (report_progress, watch_parent));
        }
    }
}

/// A Slurm job script's `exec` line, with the task's run directory for `"$run_dir"` and
/// split as its shell splits it, is the worker command a local sweep starts with the
/// task's CPUs as threads: the same arguments, quoted.
#[test]
fn slurm_scripts_start_the_same_worker() {
    for data_dir in [None, Some("/data/my set"), Some("it's $HOME")] {
        let worker = WorkerCommand {
            program: "/opt/my cnnvar".into(),
            threads: 1,
            data_dir: data_dir.map(PathBuf::from),
            report_progress: false,
            watch_parent: false,
            passive_wait: false,
        };
        let options = SlurmOptions { cpus_per_task: 3, ..SlurmOptions::default() };
        let exec = SlurmExecutor { options, worker: worker.clone(), poll: Duration::ZERO };
        let script = exec.script("s", Path::new("/runs/s"), Path::new("/runs/s/tasks"), 2);
        let line = script.lines().find_map(|l| l.strip_prefix("exec ")).expect("an exec line");
        let run_dir = "/runs/s/0123 4567";
        let words = words(&line.replace("\"$run_dir\"", &format!("'{run_dir}'")));
        let local = WorkerCommand { threads: 3, ..worker };
        let want: Vec<String> = std::iter::once(local.program.display().to_string())
            .chain(local.args(Path::new(run_dir)).iter().map(|a| a.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(words, want, "{script}");
        assert!(matches!(parse(&words), Command::Worker(_)));
    }
}

/// `line` split into words as a POSIX shell splits it.
fn words(line: &str) -> Vec<String> {
    shlex::split(line).unwrap_or_else(|| panic!("not shell words: {line}"))
}

/// A sweep line's arguments, as `cnnvar sweep` parses them.
fn sweep_args(line: &SweepLine) -> SweepArgs {
    match parse(words(&line.to_string())) {
        Command::Sweep(args) => args,
        other => panic!("not `sweep`: {other:?}"),
    }
}

/// A sweep line parses back to the study file and every option it was made with, and
/// `then_report` adds the `cnnvar report` of the study directory; paths with spaces,
/// quotes, non-ASCII letters or a leading dash survive the shell.
#[test]
fn sweep_lines_parse_back_to_their_options() {
    let backends: Vec<Option<Backend>> =
        std::iter::once(None).chain(Backend::compiled().into_iter().map(Some)).collect();
    let paths = ["studies/seed.toml", "my studies/it's.toml", "-odd.toml", "études/ü.toml"];
    let outs = ["runs", "/tmp/x y", "-results", "résultats"];
    let mut cases = 0;
    for (i, (study, out)) in paths.iter().zip(outs).enumerate() {
        for (j, backend) in backends.iter().enumerate() {
            let line = SweepLine {
                study_file: study.into(),
                quick: (i + j) % 2 == 0,
                seeds: (j % 2 == 1).then_some(3 + i),
                epochs: (i % 2 == 1).then_some(2 + j),
                backend: *backend,
                data_dir: (j % 2 == 0).then(|| PathBuf::from(out).join("images $HOME")),
                out: out.into(),
            };
            let a = sweep_args(&line);
            assert!(same_path(&a.study, &line.study_file), "{line}: study {:?}", a.study);
            assert!(same_path(&a.out, &line.out), "{line}: out {:?}", a.out);
            match (&a.data_dir, &line.data_dir) {
                (Some(a), Some(b)) => assert!(same_path(a, b), "{line}: data dir {a:?}"),
                (a, b) => assert_eq!(a, b, "{line}"),
            }
            assert_eq!(
                (a.quick, a.seeds, a.epochs),
                (line.quick, line.seeds, line.epochs),
                "{line}"
            );
            assert_eq!(a.backend, line.backend.map(BackendChoice::Named), "{line}");

            let study_dir = PathBuf::from(out).join("seed-quick");
            let both = line.then_report(&study_dir);
            let words = words(&both);
            let at = words.iter().position(|w| w == "&&").expect("two commands");
            assert_eq!(words[..at].join("\u{0}"), self::words(&line.to_string()).join("\u{0}"));
            match parse(&words[at + 1..]) {
                Command::Report { study_dir: got, rank: false, .. } => {
                    assert!(same_path(&got, &study_dir), "{both}: {got:?}");
                }
                other => panic!("not `report`: {other:?}"),
            }
            cases += 1;
        }
    }
    assert!(cases >= 4);
}
