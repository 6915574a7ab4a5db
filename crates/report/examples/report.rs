//! Writes the report of a study directory into another directory, leaving the study's
//! own files as they are: report.html, report.md, the CSVs and the figures, from the run
//! store alone (nothing is trained).
//!
//! `cargo run -p cnnvar-report --example report -- STUDY_DIR [OUT]`, e.g.
//! `cargo run -p cnnvar-report --example report -- results/seed`: `OUT` defaults to a
//! temporary directory, kept and printed.

use std::path::PathBuf;
use std::process::ExitCode;

use cnnvar_report::write_report_to;
use cnnvar_store::StudyDir;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let Some(study_dir) = args.next() else {
        eprintln!("usage: report STUDY_DIR [OUT] (e.g. results/seed)");
        return ExitCode::from(2);
    };
    let out = match args.next() {
        Some(out) => out,
        None => match tempfile::Builder::new().prefix("cnnvar-report-").tempdir() {
            Ok(tmp) => tmp.keep(),
            Err(e) => {
                eprintln!("error: a temporary directory: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    match write_report_to(&StudyDir::open(&study_dir), &StudyDir::open(&out)) {
        Ok((files, stats, _)) => {
            println!(
                "report of {} ({} experiments) written to {}",
                study_dir.display(),
                stats.experiments.len(),
                out.display()
            );
            println!("  {}\n  {}", files.html.display(), files.markdown.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
