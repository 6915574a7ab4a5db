//! Evaluation, the inference side of every epoch: `evaluate` of the write-up's simple
//! model (Keras init, untrained: the work does not depend on the weights) over four
//! batches of 256 Fashion-MNIST-shaped examples on burn-flex, one thread.
//!
//! Run with `cargo bench -p cnnvar-experiments --bench evaluate` (or
//! `cargo xtask bench --criterion`).

#![allow(missing_docs)] // Criterion's macros generate undocumented items.

mod common;

use cnnvar_core::{Backend, ModelName, Preset, configure_threads};
use cnnvar_data::ImageShape;
use cnnvar_experiments::evaluate::{EVAL_BATCH, evaluate};
use cnnvar_models::{Architecture, Cnn};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Examples evaluated per iteration.
const EXAMPLES: usize = 4 * EVAL_BATCH;

fn evaluation(c: &mut Criterion) {
    configure_threads(1);
    let device = match Backend::Flex.device() {
        Ok(d) => d,
        Err(e) => panic!("no flex device: {e}"),
    };
    device.seed(0);
    let model = Architecture::for_model(ModelName::Simple, ImageShape::MNIST)
        .and_then(|arch| Cnn::new(&arch, Preset::Keras, &device));
    let model = match model {
        Ok(m) => m,
        Err(e) => panic!("building the simple model failed: {e}"),
    };
    let ds = common::synthetic_dataset(EXAMPLES, 0x9e37_79b9_7f4a_7c15);
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(EXAMPLES as u64));
    group.sample_size(20);
    // Side by side: burn's pooling kernel and the reshape form flex uses in inference.
    for (name, reshape) in [("kernel-pool", false), ("reshape-pool", true)] {
        let model = model.clone().with_reshape_pool(reshape);
        group.bench_function(format!("simple/flex/1-thread/{name}"), |b| {
            b.iter(|| std::hint::black_box(evaluate(&model, &ds, None, &device).ok()))
        });
    }
    group.finish();
}

criterion_group!(benches, evaluation);
criterion_main!(benches);
