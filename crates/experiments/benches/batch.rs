//! Batch assembly, the data side of every training step: `fill_batch` (u8 examples to
//! an f32 NCHW batch) and `fill_batch_augmented` with each augmentation preset, on
//! batches of 32 Fashion-MNIST-shaped examples drawn in a shuffled order.
//!
//! Run with `cargo bench -p cnnvar-experiments --bench batch` (or
//! `cargo xtask bench --criterion`).

#![allow(missing_docs)] // Criterion's macros generate undocumented items.

mod common;

use std::hint::black_box;

use cnnvar_data::{Augmentation, epoch_order, fill_batch, fill_batch_augmented};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Examples in the synthetic set: enough that batches do not sit in L1.
const EXAMPLES: usize = 4096;

/// The training mini-batch of the write-up.
const BATCH: usize = 32;

fn batches(c: &mut Criterion) {
    let ds = common::synthetic_dataset(EXAMPLES, 0x2545_f491_4f6c_dd1d);
    let order = epoch_order(EXAMPLES, 0, 1);
    let chunks: Vec<&[usize]> = order.chunks(BATCH).collect();
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Elements(BATCH as u64));

    let mut b = 0;
    group.bench_function("fill_batch", |bench| {
        bench.iter(|| {
            b = (b + 1) % chunks.len();
            fill_batch(&ds, black_box(chunks[b]), &mut images, &mut labels);
            black_box((&images, &labels));
        })
    });
    for (name, aug) in [
        ("fill_batch_augmented/geometric", Augmentation::geometric()),
        ("fill_batch_augmented/photometric", Augmentation::photometric()),
    ] {
        let mut b = 0;
        group.bench_function(name, |bench| {
            bench.iter(|| {
                b = (b + 1) % chunks.len();
                fill_batch_augmented(
                    &ds,
                    black_box(chunks[b]),
                    &aug,
                    0,
                    1,
                    b,
                    &mut images,
                    &mut labels,
                );
                black_box((&images, &labels));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, batches);
criterion_main!(benches);
