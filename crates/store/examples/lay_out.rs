//! Lays out a study directory and lists its files: `plan.json`, the copy of the study
//! file and one directory per run with its `spec.json`, before anything is trained.
//!
//! `cargo run -p cnnvar-store --example lay_out [STUDY.toml [OUT]]`: the study file
//! (default: a small one of two learning rates × 2 seeds), laid out under `OUT` (default:
//! a temporary directory, removed at the end).

use std::path::{Path, PathBuf};

use cnnvar_core::study::{Study, parse};
use cnnvar_store::{Plan, StudyDir};

const SMALL: &str = "name = \"small\"\nseeds = 2\n[base]\nepochs = 1\ntrain_size = 500\n\
                     [[experiment]]\nname = \"lr\"\nvary = { lr = [0.01, 0.001] }\n";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let study: Study = match args.next() {
        Some(file) => Study::load(&file)?,
        None => parse(SMALL, Path::new("small.toml"))?,
    };
    let tmp;
    let out = match args.next() {
        Some(out) => out,
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let plan = Plan::new(study, false);
    let dir = StudyDir::open(plan.dir(&out));
    dir.lay_out(&plan)?;
    println!(
        "study {}: {} runs ({} distinct) laid out in {}",
        plan.study.name,
        plan.runs.len(),
        plan.unique_runs().len(),
        dir.path().display()
    );
    for file in files(dir.path())? {
        let shown = file.strip_prefix(dir.path()).unwrap_or(&file);
        println!("  {}", shown.display());
    }
    let state = plan.states(&dir);
    let pending = state.iter().filter(|(_, s)| *s == cnnvar_store::RunState::Pending).count();
    println!("{pending} of {} runs pending: nothing is trained yet", state.len());
    Ok(())
}

/// Every file under `dir`, sorted.
fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() { todo.push(path) } else { found.push(path) }
        }
    }
    found.sort();
    Ok(found)
}
