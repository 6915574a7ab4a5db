//! Cross-validation: a stratified, seeded split of a set of examples into `k` folds.

use cnnvar_core::{Error, Result};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::{KFOLD_STREAM, by_class, check_indices};
use crate::dataset::Dataset;

/// Fold `fold` of a stratified `k`-fold split of `indices`: `(training,
/// validation)`, where validation is fold `fold` and training is all the other
/// folds, both sorted ascending. Seeded by `seed` (the same for every fold of one
/// split).
///
/// Each class's distinct examples are shuffled, the classes are laid end to end in
/// label order and dealt to folds 0, 1, …, k − 1, 0, 1, … in turn, so that fold sizes
/// differ by at most 1, overall and within every class. A repeated index stays
/// together: all its copies land in the same fold, so training and validation never
/// share an example.
///
/// Errors if `k < 2`, `fold >= k`, `k` exceeds the number of distinct examples, or
/// an index is not below `ds.len()`.
pub fn kfold(
    ds: &Dataset,
    indices: &[usize],
    k: usize,
    fold: usize,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if k < 2 {
        return Err(Error::transform("k-fold", format!("k = {k}; expected at least 2 folds")));
    }
    if fold >= k {
        return Err(Error::transform(
            "k-fold",
            format!("fold {fold} does not exist; expected 0 to {} for k = {k}", k - 1),
        ));
    }
    check_indices(ds, indices, "k-fold")?;
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    let mut distinct = sorted.clone();
    distinct.dedup();
    if k > distinct.len() {
        return Err(Error::transform(
            "k-fold",
            format!(
                "k = {k} folds for {} distinct examples; expected at most one fold per \
             example",
                distinct.len()
            ),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(KFOLD_STREAM);
    let mut held_out = Vec::with_capacity(distinct.len() / k + 1);
    let mut dealt = 0;
    for mut members in by_class(ds, &distinct) {
        members.shuffle(&mut rng);
        for i in members {
            if dealt % k == fold {
                held_out.push(i);
            }
            dealt += 1;
        }
    }
    held_out.sort_unstable();
    let (validation, training) =
        sorted.into_iter().partition(|i| held_out.binary_search(i).is_ok());
    Ok((training, validation))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::transform::test_util::{counts, labelled};

    #[test]
    fn stratified_five_folds() {
        let ds = labelled(&[50, 30, 20]);
        let all: Vec<usize> = (0..ds.len()).collect();
        let mut seen = Vec::new();
        for fold in 0..5 {
            let (train, val) = kfold(&ds, &all, 5, fold, 1).expect("valid");
            assert_eq!(counts(&ds, &val), [10, 6, 4]);
            assert_eq!(counts(&ds, &train), [40, 24, 16]);
            assert!(val.windows(2).all(|w| w[0] < w[1]) && train.windows(2).all(|w| w[0] < w[1]));
            seen.extend(val);
        }
        seen.sort_unstable();
        assert_eq!(seen, all);
        assert_eq!(kfold(&ds, &all, 5, 2, 1).expect("a"), kfold(&ds, &all, 5, 2, 1).expect("b"));
        assert_ne!(kfold(&ds, &all, 5, 2, 1).expect("a"), kfold(&ds, &all, 5, 2, 2).expect("c"));
    }

    #[test]
    fn split_is_pinned() {
        // Fixed across platforms and releases: a change here changes every study.
        let ds = labelled(&[3, 3, 2]);
        let all: Vec<usize> = (0..8).collect();
        assert_eq!(kfold(&ds, &all, 3, 0, 0).expect("valid"), (vec![1, 2, 3, 6, 7], vec![0, 4, 5]));
    }

    #[test]
    fn repeated_indices_stay_together() {
        let ds = labelled(&[5, 5]);
        let idx = [0, 0, 0, 1, 2, 3, 4, 4];
        for fold in 0..3 {
            let (train, val) = kfold(&ds, &idx, 3, fold, 7).expect("valid");
            assert!(train.iter().all(|i| !val.contains(i)));
            assert_eq!(train.len() + val.len(), idx.len());
        }
    }

    #[test]
    fn errors() {
        let ds = labelled(&[3, 3]);
        let all: Vec<usize> = (0..6).collect();
        for (k, fold, want) in
            [(1, 0, "at least 2"), (3, 3, "fold 3 does not exist"), (7, 0, "7 folds")]
        {
            let msg = kfold(&ds, &all, k, fold, 0).expect_err(want).to_string();
            assert!(msg.contains(want), "{msg}");
        }
        assert!(kfold(&ds, &[0, 0, 1], 3, 0, 0).is_err(), "two distinct examples");
        assert!(kfold(&ds, &[0, 6], 2, 0, 0).is_err());
        assert!(kfold(&ds, &all, 6, 5, 0).is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn folds_partition_the_indices(
            sizes in prop::collection::vec(0usize..25, 1..6),
            mask in prop::collection::vec(any::<bool>(), 125),
            k in 2usize..8, seed: u64,
        ) {
            let ds = labelled(&sizes);
            let idx: Vec<usize> = (0..ds.len()).filter(|&i| mask[i]).collect();
            prop_assume!(k <= idx.len());
            let mut all_val = Vec::new();
            let mut per_class = Vec::new();
            for fold in 0..k {
                let (train, val) = kfold(&ds, &idx, k, fold, seed).expect("valid");
                let mut union: Vec<usize> = train.iter().chain(&val).copied().collect();
                union.sort_unstable();
                prop_assert_eq!(&union, &idx, "train ∪ validation == indices");
                prop_assert!(train.iter().all(|i| val.binary_search(i).is_err()), "disjoint");
                per_class.push(counts(&ds, &val));
                all_val.extend(val);
            }
            all_val.sort_unstable();
            prop_assert_eq!(&all_val, &idx, "validation sets partition the indices");
            let sizes: Vec<usize> = per_class.iter().map(|c| c.iter().sum()).collect();
            prop_assert!(sizes.iter().max().unwrap_or(&0) - sizes.iter().min().unwrap_or(&0) <= 1);
            for c in 0..ds.classes() {
                let col: Vec<usize> = per_class.iter().map(|f| f[c]).collect();
                prop_assert!(col.iter().max().unwrap_or(&0) - col.iter().min().unwrap_or(&0) <= 1);
            }
        }
    }
}
