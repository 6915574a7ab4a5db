//! Class imbalance: thinning chosen classes ([`downsample_classes`]), balancing by
//! repetition ([`oversample`]) and balancing by loss weights ([`class_weights`]).

use cnnvar_core::{Error, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{DOWNSAMPLE_STREAM, OVERSAMPLE_STREAM, by_class, check_indices};
use crate::dataset::Dataset;

/// `indices` with each class in `classes` thinned to a seeded random
/// `ceil(keep × count)` (at least 1) of its `count` examples among `indices`; other
/// classes are kept whole. Sorted ascending. A repeated index counts as one more
/// example; a class listed twice is thinned once.
///
/// The share is computed in `f64` with a relative tolerance of 10⁻¹², so that e.g.
/// `keep = 0.07` of 100 examples keeps 7 although `0.07 × 100.0` is slightly above 7.
///
/// Errors if `keep` is not in `(0, 1]`, a class is not below `ds.classes()` or an
/// index is not below `ds.len()`.
pub fn downsample_classes(
    ds: &Dataset,
    indices: &[usize],
    classes: &[u8],
    keep: f64,
    seed: u64,
) -> Result<Vec<usize>> {
    if !(keep > 0.0 && keep <= 1.0) {
        return Err(Error::transform(
            "downsample",
            format!(
                "keep fraction {keep} is not in (0, 1]; expected e.g. 0.1 to keep a \
             tenth"
            ),
        ));
    }
    if let Some(&c) = classes.iter().find(|&&c| usize::from(c) >= ds.classes()) {
        return Err(Error::transform(
            "downsample",
            format!("class {c} is not below the data set's {} classes", ds.classes()),
        ));
    }
    check_indices(ds, indices, "downsample")?;
    let mut thin = vec![false; ds.classes()];
    for &c in classes {
        thin[usize::from(c)] = true;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(DOWNSAMPLE_STREAM);
    let mut kept = Vec::with_capacity(indices.len());
    for (mut members, thin) in by_class(ds, indices).into_iter().zip(thin) {
        if thin && !members.is_empty() {
            let n = members.len();
            let share = (keep * n as f64 * (1.0 - 1e-12)).ceil() as usize;
            let (picked, _) = members.partial_shuffle(&mut rng, share.clamp(1, n));
            kept.extend_from_slice(picked);
        } else {
            kept.extend_from_slice(&members);
        }
    }
    kept.sort_unstable();
    Ok(kept)
}

/// `indices` with the examples of smaller classes repeated until every class
/// present has as many as the largest: a class of `count` examples short of `max`
/// gets `(max − count) / count` whole extra copies of each example plus
/// `(max − count) mod count` more drawn at random with replacement (seeded). A
/// repeated index counts as one more example. Sorted ascending.
///
/// # Panics
/// If an index is `>= ds.len()`.
pub fn oversample(ds: &Dataset, indices: &[usize], seed: u64) -> Vec<usize> {
    let groups = by_class(ds, indices);
    let max = groups.iter().map(Vec::len).max().unwrap_or(0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(OVERSAMPLE_STREAM);
    let mut out = Vec::with_capacity(max * groups.iter().filter(|g| !g.is_empty()).count());
    for members in groups.iter().filter(|g| !g.is_empty()) {
        let n = members.len();
        for _ in 0..max / n {
            out.extend_from_slice(members);
        }
        for _ in 0..max % n {
            // Drawn as u64 so that the numbers do not depend on the width of usize.
            out.push(members[rng.random_range(0..n as u64) as usize]);
        }
    }
    out.sort_unstable();
    out
}

/// "Balanced" class weights for the examples at `indices`, as scikit-learn and
/// Keras compute them: `n / (classes_present × count_c)` for each class `c` present
/// (`n = indices.len()`), 0 for the absent ones; one weight per class of `ds`. A
/// weighted loss then gives every present class the same total weight `n /
/// classes_present`.
///
/// # Panics
/// If an index is `>= ds.len()`.
pub fn class_weights(ds: &Dataset, indices: &[usize]) -> Vec<f32> {
    let mut counts = vec![0usize; ds.classes()];
    for &i in indices {
        counts[usize::from(ds.label(i))] += 1;
    }
    let present = counts.iter().filter(|&&c| c > 0).count() as f64;
    let n = indices.len() as f64;
    counts.iter().map(|&c| if c == 0 { 0.0 } else { (n / (present * c as f64)) as f32 }).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::transform::test_util::{counts, labelled};

    #[test]
    fn downsample_keeps_exact_counts() {
        let ds = labelled(&[10, 20, 30, 100]);
        let all: Vec<usize> = (0..ds.len()).collect();
        let kept = downsample_classes(&ds, &all, &[2], 0.5, 1).expect("valid");
        assert_eq!(counts(&ds, &kept), [10, 20, 15, 100]);
        assert!(kept.windows(2).all(|w| w[0] < w[1]));
        let kept = downsample_classes(&ds, &all, &[3, 0, 3], 0.07, 1).expect("valid");
        assert_eq!(counts(&ds, &kept), [1, 20, 30, 7]);
        let kept = downsample_classes(&ds, &all, &[0, 1], 0.001, 1).expect("valid");
        assert_eq!(counts(&ds, &kept), [1, 1, 30, 100]);
        let kept = downsample_classes(&ds, &all, &[1], 0.11, 1).expect("valid");
        assert_eq!(counts(&ds, &kept), [10, 3, 30, 100]);
        assert_eq!(downsample_classes(&ds, &all, &[0, 1, 2, 3], 1.0, 1).expect("valid"), all);
        assert_eq!(downsample_classes(&ds, &all, &[], 0.5, 1).expect("valid"), all);
    }

    #[test]
    fn downsample_only_within_indices() {
        let ds = labelled(&[10, 10]);
        let some = [0, 1, 2, 3, 4, 5, 8, 8];
        let kept = downsample_classes(&ds, &some, &[0], 0.5, 3).expect("valid");
        assert_eq!(counts(&ds, &kept), [3, 3]);
        assert!(kept.iter().all(|i| some.contains(i)));
        assert!(downsample_classes(&ds, &[], &[0], 0.5, 3).expect("empty").is_empty());
    }

    #[test]
    fn downsample_is_seeded() {
        let ds = labelled(&[100, 100]);
        let all: Vec<usize> = (0..ds.len()).collect();
        let a = downsample_classes(&ds, &all, &[1], 0.3, 5).expect("a");
        assert_eq!(a, downsample_classes(&ds, &all, &[1], 0.3, 5).expect("again"));
        assert_ne!(a, downsample_classes(&ds, &all, &[1], 0.3, 6).expect("b"));
    }

    #[test]
    fn downsample_errors() {
        let ds = labelled(&[3, 3]);
        for keep in [0.0, -0.5, 1.5, f64::NAN, f64::INFINITY] {
            let msg = downsample_classes(&ds, &[0], &[0], keep, 0).expect_err("bad keep");
            assert!(msg.to_string().contains("keep fraction"), "{msg}");
        }
        let msg = downsample_classes(&ds, &[0], &[2], 0.5, 0).expect_err("bad class").to_string();
        assert!(msg.contains("class 2 is not below the data set's 2 classes"), "{msg}");
        let msg = downsample_classes(&ds, &[6], &[0], 0.5, 0).expect_err("bad index").to_string();
        assert!(msg.contains("index 6 is out of range"), "{msg}");
    }

    #[test]
    fn oversample_balances_with_whole_copies() {
        let ds = labelled(&[10, 3, 25, 0]);
        let all: Vec<usize> = (0..ds.len()).collect();
        let out = oversample(&ds, &all, 4);
        assert_eq!(counts(&ds, &out), [25, 25, 25, 0]);
        assert!(out.windows(2).all(|w| w[0] <= w[1]));
        for i in all {
            let copies = out.iter().filter(|&&j| j == i).count();
            let range = match ds.label(i) {
                0 => 2..=7,
                1 => 8..=9,
                _ => 1..=1,
            };
            assert!(range.contains(&copies), "example {i}: {copies} copies");
        }
        assert_eq!(out, oversample(&ds, &(0..ds.len()).collect::<Vec<_>>(), 4));
        assert!(oversample(&ds, &[], 4).is_empty());
        assert_eq!(oversample(&ds, &[5, 5], 4), [5, 5]);
    }

    #[test]
    fn balanced_weights() {
        let ds = labelled(&[10, 30, 0, 60]);
        let all: Vec<usize> = (0..ds.len()).collect();
        let w = class_weights(&ds, &all);
        let want = [100.0 / 30.0, 100.0 / 90.0, 0.0, 100.0 / 180.0];
        assert_eq!(w, want.map(|x: f64| x as f32));
        assert_eq!(class_weights(&ds, &[]), [0.0; 4]);
        assert_eq!(class_weights(&ds, &[0, 0]), [1.0, 0.0, 0.0, 0.0]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn oversample_equalises_and_weights_balance(
            sizes in prop::collection::vec(0usize..40, 1..6), seed: u64,
        ) {
            let ds = labelled(&sizes);
            let all: Vec<usize> = (0..ds.len()).collect();
            let out = oversample(&ds, &all, seed);
            let max = sizes.iter().copied().max().unwrap_or(0);
            for (&got, &size) in counts(&ds, &out).iter().zip(&sizes) {
                prop_assert_eq!(got, if size == 0 { 0 } else { max });
            }
            let w = class_weights(&ds, &all);
            let present = sizes.iter().filter(|&&s| s > 0).count();
            for (&wc, &size) in w.iter().zip(&sizes) {
                if size > 0 {
                    let total = f64::from(wc) * size as f64;
                    prop_assert!((total - ds.len() as f64 / present as f64).abs() < 1e-4);
                }
            }
        }
    }
}
