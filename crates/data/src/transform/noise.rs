//! Label noise: a seeded share of the labels replaced by wrong ones.

use cnnvar_core::{Error, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{LABEL_NOISE_STREAM, check_indices};
use crate::dataset::Dataset;

/// All of `ds`'s labels, with exactly `round(fraction × m)` of the `m` distinct
/// examples at `indices` (a repeated index counts once), chosen at random, given a
/// label drawn uniformly from the other `ds.classes() − 1` classes; every other
/// label as it was. Seeded by `seed`. Pass the result to [`Dataset::with_labels`]
/// to relabel a data set without copying its pixels.
///
/// Errors if `fraction` is not in `[0, 1]`, an index is not below `ds.len()`, or a
/// label must change but the data set has a single class.
pub fn noisy_labels(ds: &Dataset, indices: &[usize], fraction: f64, seed: u64) -> Result<Vec<u8>> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(Error::transform(
            "label noise",
            format!(
                "fraction {fraction} is not in [0, 1]; expected e.g. 0.2 to change a \
             fifth of the labels"
            ),
        ));
    }
    check_indices(ds, indices, "label noise")?;
    let mut pool = indices.to_vec();
    pool.sort_unstable();
    pool.dedup();
    let changes = (fraction * pool.len() as f64).round() as usize;
    let mut labels = ds.labels().to_vec();
    if changes == 0 {
        return Ok(labels);
    }
    let others = ds.classes() - 1;
    if others == 0 {
        return Err(Error::transform(
            "label noise",
            "the data set has a single class, so no label can change",
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(LABEL_NOISE_STREAM);
    let changes = changes.min(pool.len());
    let (chosen, _) = pool.partial_shuffle(&mut rng, changes);
    for &i in chosen.iter() {
        let old = labels[i];
        // Classes are at most 256, so `others` fits in u32 and the label in u8.
        let draw = rng.random_range(0..others as u32) as u8;
        labels[i] = if draw >= old { draw + 1 } else { draw };
    }
    Ok(labels)
}

/// A copy of `ds` with label noise as [`noisy_labels`] describes (same errors).
/// Copies the pixels; with an owned data set,
/// `ds.with_labels(noisy_labels(&ds, …)?)` does not.
pub fn label_noise(ds: &Dataset, indices: &[usize], fraction: f64, seed: u64) -> Result<Dataset> {
    let labels = noisy_labels(ds, indices, fraction, seed)?;
    ds.clone().with_labels(labels)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::transform::test_util::labelled;

    fn changed(a: &Dataset, b: &Dataset) -> Vec<usize> {
        (0..a.len()).filter(|&i| a.label(i) != b.label(i)).collect()
    }

    #[test]
    fn changes_exactly_the_share() {
        let ds = labelled(&[50, 50, 50, 50]);
        let all: Vec<usize> = (0..ds.len()).collect();
        for (fraction, want) in [(0.0, 0), (0.2, 40), (0.07, 14), (0.5, 100), (1.0, 200)] {
            let noisy = label_noise(&ds, &all, fraction, 3).expect("valid");
            assert_eq!(changed(&ds, &noisy).len(), want, "fraction {fraction}");
            assert_eq!(noisy.images(), ds.images());
        }
        assert_eq!(label_noise(&ds, &all, 0.0, 3).expect("zero"), ds);
    }

    #[test]
    fn only_at_indices_and_counted_once() {
        let ds = labelled(&[10, 10]);
        let some = [1, 3, 3, 5, 7];
        let noisy = label_noise(&ds, &some, 0.5, 9).expect("valid");
        let diff = changed(&ds, &noisy);
        assert_eq!(diff.len(), 2, "round(0.5 × 4 distinct)");
        assert!(diff.iter().all(|i| some.contains(i)));
        assert!(diff.iter().all(|&i| noisy.label(i) == 0), "the only other class");
    }

    #[test]
    fn seeded() {
        let ds = labelled(&[30, 30, 30]);
        let all: Vec<usize> = (0..ds.len()).collect();
        let a = noisy_labels(&ds, &all, 0.3, 1).expect("a");
        assert_eq!(a, noisy_labels(&ds, &all, 0.3, 1).expect("again"));
        assert_ne!(a, noisy_labels(&ds, &all, 0.3, 2).expect("b"));
    }

    #[test]
    fn errors() {
        let ds = labelled(&[4, 4]);
        for fraction in [-0.1, 1.01, f64::NAN] {
            let msg = noisy_labels(&ds, &[0], fraction, 0).expect_err("bad fraction").to_string();
            assert!(msg.contains("fraction"), "{msg}");
        }
        assert!(noisy_labels(&ds, &[8], 0.5, 0).is_err());
        let one = labelled(&[5]);
        assert!(noisy_labels(&one, &[0, 1], 0.5, 0).is_err());
        assert_eq!(noisy_labels(&one, &[0, 1], 0.0, 0).expect("nothing to change"), [0; 5]);
        let msg = ds.clone().with_labels(vec![0; 3]).expect_err("too few").to_string();
        assert!(msg.contains("3 new labels for 8 examples"), "{msg}");
        assert!(ds.clone().with_labels(vec![2; 8]).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn exact_count_and_all_wrong(
            sizes in prop::collection::vec(1usize..30, 2..8), fraction in 0.0f64..=1.0, seed: u64,
        ) {
            let ds = labelled(&sizes);
            let all: Vec<usize> = (0..ds.len()).collect();
            let noisy = label_noise(&ds, &all, fraction, seed).expect("valid");
            let want = (fraction * ds.len() as f64).round() as usize;
            prop_assert_eq!(changed(&ds, &noisy).len(), want);
            prop_assert!(noisy.labels().iter().all(|&l| usize::from(l) < sizes.len()));
        }
    }
}
