//! Writes a run spec as TOML and JSON and prints its run id.
//!
//! `cargo run -p cnnvar-core --example spec`

use cnnvar_core::{ModelName, RunSpec, SubsetMethod};

fn main() -> Result<(), cnnvar_core::Error> {
    let spec = RunSpec {
        model: ModelName::TwoConv,
        train_size: Some(1000),
        subset: SubsetMethod::Stratified,
        lr: 1e-4,
        ..RunSpec::default()
    };
    spec.validate()?;
    println!("# run {}", spec.run_id());
    println!("{}", toml::to_string(&spec).map_err(|e| cnnvar_core::Error::encode("spec TOML", e))?);
    println!("{}", spec.canonical_json());
    println!("device for {}: {:?}", spec.backend, spec.backend.device().map(|d| format!("{d:?}")));
    Ok(())
}
