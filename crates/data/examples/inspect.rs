//! Loads Fashion-MNIST and shows what is in it.
//!
//! ```text
//! cargo run -p cnnvar-data --example inspect [DATA_DIR]
//! ```
//!
//! Without `DATA_DIR`, looks where `cnnvar_data::find` looks (`$CNNVAR_DATA_DIR`, the
//! user cache, Debian's `/usr/share/datasets/fashion-mnist`).

use std::path::PathBuf;
use std::process::ExitCode;

use cnnvar_core::DatasetName;
use cnnvar_data::Dataset;

fn main() -> ExitCode {
    let dir = std::env::args_os().nth(1).map(PathBuf::from);
    let split = match cnnvar_data::load(DatasetName::FashionMnist, dir.as_deref()) {
        Ok(split) => split,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{} from {}", split.name, split.source.display());
    println!("sha256 {}", split.sha256);
    println!("image shape {} (H×W×C)", split.train.shape());
    for (what, ds) in [("train", &split.train), ("test", &split.test)] {
        println!("{what}: {} examples", ds.len());
        for (label, count) in ds.class_counts().iter().enumerate() {
            let name = DatasetName::FashionMnist.class_names().get(label).copied().unwrap_or("?");
            println!("  {label} {name:<12} {count}");
        }
    }
    if !split.train.is_empty() {
        let label = usize::from(split.train.label(0));
        println!(
            "first training image, label {label} ({}):",
            DatasetName::FashionMnist.class_names().get(label).copied().unwrap_or("?")
        );
        print!("{}", ascii_art(&split.train, 0));
    }
    ExitCode::SUCCESS
}

/// Image `i`'s first channel as text, darker characters for brighter pixels.
fn ascii_art(ds: &Dataset, i: usize) -> String {
    const RAMP: &[u8] = b" .:-=+*#%@";
    let width = ds.shape().width;
    let plane = &ds.image(i)[..width * ds.shape().height];
    let mut out = String::new();
    for row in plane.chunks(width) {
        for &p in row {
            let c = RAMP[usize::from(p) * (RAMP.len() - 1) / 255] as char;
            out.push(c);
            out.push(c);
        }
        out.push('\n');
    }
    out
}
