//! What the benches share: a synthetic Fashion-MNIST-shaped data set.

use cnnvar_data::{Dataset, ImageShape};

/// `examples` 28×28 images with pseudo-random pixels and labels (xorshift from
/// `seed`; the work measured does not depend on the values).
pub fn synthetic_dataset(examples: usize, seed: u64) -> Dataset {
    let shape = ImageShape::MNIST;
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let images = (0..examples * shape.pixels()).map(|_| next() as u8).collect();
    let labels = (0..examples).map(|_| (next() % 10) as u8).collect();
    match Dataset::new(images, labels, shape, 10) {
        Ok(ds) => ds,
        Err(e) => panic!("the synthetic data set is invalid: {e}"),
    }
}
