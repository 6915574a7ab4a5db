//! Reads a folder of your own images and shows what is in it.
//!
//! ```text
//! cargo run -p cnnvar-data --example folder -- ROOT [--channels 1|3] [--size HxW]
//!     [--test-fraction F] [--seed N]
//! ```
//!
//! `ROOT` holds one folder of PNG or JPEG images per class (`ROOT/cat/*.png`, …),
//! or `ROOT/train/<class>/*` and `ROOT/test/<class>/*`. For example, scikit-learn's
//! 8×8 digits: `python3 scripts/digits_to_png.py /tmp/digits`, then
//! `cargo run -p cnnvar-data --example folder -- /tmp/digits`.

use std::path::PathBuf;
use std::process::ExitCode;

use cnnvar_data::{FolderLayout, FolderOptions, load_folder};

fn main() -> ExitCode {
    let (root, options) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!(
                "usage: folder ROOT [--channels 1|3] [--size HxW] [--test-fraction F] [--seed N]"
            );
            return ExitCode::FAILURE;
        }
    };
    let data = match load_folder(&root, &options) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let layout = match data.layout {
        FolderLayout::TrainTest => "train/ and test/".to_owned(),
        FolderLayout::Classes => format!(
            "one folder per class, split with test fraction {} and seed {}",
            options.test_fraction, options.seed
        ),
    };
    println!("{} ({layout})", data.source.display());
    println!("sha256 {}", data.sha256);
    println!("image shape {} (H×W×C)", data.train.shape());
    println!(
        "{} classes; train {}, test {} examples",
        data.class_names.len(),
        data.train.len(),
        data.test.len()
    );
    let (train, test) = (data.train.class_counts(), data.test.class_counts());
    println!("  label  class                 train   test");
    for (label, name) in data.class_names.iter().enumerate() {
        println!("  {label:>5}  {name:<20} {:>6} {:>6}", train[label], test[label]);
    }
    if !data.skipped.is_empty() {
        println!("skipped {} file(s) without an image extension:", data.skipped.len());
        for path in data.skipped.iter().take(10) {
            println!("  {}", path.display());
        }
        if data.skipped.len() > 10 {
            println!("  …");
        }
    }
    ExitCode::SUCCESS
}

/// `ROOT` and the options from the command line.
fn parse_args() -> Result<(PathBuf, FolderOptions), String> {
    let mut args = std::env::args_os().skip(1);
    let mut root = None;
    let mut options = FolderOptions::default();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .and_then(|v| v.into_string().ok())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match arg.to_str() {
            Some("--channels") => {
                let v = value("--channels")?;
                options.channels =
                    Some(v.parse().map_err(|_| format!("--channels {v}: expected 1 or 3"))?);
            }
            Some("--size") => {
                let v = value("--size")?;
                let parsed = v
                    .split_once(['x', '×'])
                    .and_then(|(h, w)| Some((h.trim().parse().ok()?, w.trim().parse().ok()?)));
                options.image_size =
                    Some(parsed.ok_or_else(|| format!("--size {v}: expected HxW, e.g. 32x32"))?);
            }
            Some("--test-fraction") => {
                let v = value("--test-fraction")?;
                options.test_fraction =
                    v.parse().map_err(|_| format!("--test-fraction {v}: expected e.g. 0.2"))?;
            }
            Some("--seed") => {
                let v = value("--seed")?;
                options.seed = v.parse().map_err(|_| format!("--seed {v}: expected a number"))?;
            }
            Some(flag) if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ if root.is_none() => root = Some(PathBuf::from(arg)),
            _ => return Err("more than one ROOT given".to_owned()),
        }
    }
    Ok((root.ok_or("no ROOT given")?, options))
}
