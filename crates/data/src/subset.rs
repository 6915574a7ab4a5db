//! Which training examples a run uses ([`select`]), and in what order it visits
//! them each epoch ([`epoch_order`]).
//!
//! Both are seeded with [`ChaCha8Rng`], whose output is fixed by its seed on every
//! platform: the 64-bit seed picks the key (`seed_from_u64`) and the purpose picks
//! the stream (epoch `e` uses stream `e`; the subset uses stream [`SUBSET_STREAM`]).

use cnnvar_core::{Error, Result, SubsetMethod};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::dataset::Dataset;

/// The ChaCha stream the stratified subset draws from (epochs use streams 0, 1, …).
pub const SUBSET_STREAM: u64 = u64::MAX;

/// The indices of the training examples to use: all of them for `n = None`, the
/// first `n` for [`SubsetMethod::First`], or for [`SubsetMethod::Stratified`] `n`
/// drawn at random (seeded by `seed`) so that each class gets its proportional
/// share (largest-remainder rounding, so the total is exactly `n`), sorted
/// ascending.
///
/// Errors if `n` is 0 or larger than the data set.
pub fn select(
    ds: &Dataset,
    n: Option<usize>,
    method: SubsetMethod,
    seed: u64,
) -> Result<Vec<usize>> {
    let Some(n) = n else {
        return Ok((0..ds.len()).collect());
    };
    if n == 0 {
        return Err(Error::transform("subset", "train_size 0 is too small; expected at least 1"));
    }
    if n > ds.len() {
        return Err(Error::transform(
            "subset",
            format!("train_size {n} exceeds the {} training examples", ds.len()),
        ));
    }
    Ok(match method {
        SubsetMethod::First => (0..n).collect(),
        SubsetMethod::Stratified => stratified(ds, n, seed),
    })
}

/// `n` indices drawn per class in proportion to its size, sorted ascending.
fn stratified(ds: &Dataset, n: usize, seed: u64) -> Vec<usize> {
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); ds.classes()];
    for (i, &label) in ds.labels().iter().enumerate() {
        by_class[usize::from(label)].push(i);
    }
    let sizes: Vec<usize> = by_class.iter().map(Vec::len).collect();
    let quotas = largest_remainder(&sizes, n);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(SUBSET_STREAM);
    let mut chosen = Vec::with_capacity(n);
    for (mut members, quota) in by_class.into_iter().zip(quotas) {
        let (picked, _) = members.partial_shuffle(&mut rng, quota);
        chosen.extend_from_slice(picked);
    }
    chosen.sort_unstable();
    chosen
}

/// Splits `n` (at most the sum of `sizes`) in proportion to `sizes`: each part gets
/// the floor of its exact share, and the parts with the largest remainders (ties to
/// the lower index) get one more each until the total is `n`.
fn largest_remainder(sizes: &[usize], n: usize) -> Vec<usize> {
    let total: u128 = sizes.iter().map(|&s| s as u128).sum();
    if total == 0 {
        return vec![0; sizes.len()];
    }
    let shares: Vec<(usize, u128)> = sizes
        .iter()
        .map(|&s| {
            let exact = n as u128 * s as u128;
            ((exact / total) as usize, exact % total)
        })
        .collect();
    let mut quotas: Vec<usize> = shares.iter().map(|&(q, _)| q).collect();
    let short = n.saturating_sub(quotas.iter().sum());
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| shares[b].1.cmp(&shares[a].1).then(a.cmp(&b)));
    for &k in order.iter().take(short) {
        quotas[k] += 1;
    }
    quotas
}

/// The order in which to visit `n` examples in epoch `epoch`: a permutation of
/// `0..n`, fixed by `(seed, epoch)` and different from epoch to epoch.
pub fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch as u64);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    order
}

/// A bootstrap resample of `pool`: `pool.len()` of its elements drawn uniformly with
/// replacement, in draw order, fixed by `seed` (a variance-sources experiment's `split`
/// source: a fresh draw of the evaluation set from the same population).
pub fn bootstrap(pool: &[usize], seed: u64) -> Vec<usize> {
    use rand::Rng;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(BOOTSTRAP_STREAM);
    (0..pool.len()).map(|_| pool[rng.random_range(0..pool.len())]).collect()
}

/// The ChaCha stream [`bootstrap`] draws from.
pub const BOOTSTRAP_STREAM: u64 = u64::MAX - 1;

#[cfg(test)]
mod tests;
