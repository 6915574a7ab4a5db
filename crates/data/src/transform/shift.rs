//! Distribution shift: a test set as if photographed at twilight, darker and
//! flatter than the training images ([`twilight`]).

use crate::dataset::Dataset;

/// How much [`twilight`] keeps of each pixel's distance from its image's mean.
pub const TWILIGHT_CONTRAST: f64 = 0.5;
/// The factor [`twilight`] multiplies every pixel by, after the contrast change.
pub const TWILIGHT_BRIGHTNESS: f64 = 0.4;

/// A darkened, low-contrast copy of `ds`: [`dim`] with [`TWILIGHT_CONTRAST`] and
/// [`TWILIGHT_BRIGHTNESS`], so each pixel `p` of an image whose mean is `m`
/// becomes `round(clamp(m + (p − m) × 0.5) × 0.4)`. Deterministic; labels
/// unchanged.
pub fn twilight(ds: &Dataset) -> Dataset {
    dim(ds, TWILIGHT_CONTRAST, TWILIGHT_BRIGHTNESS)
}

/// A copy of `ds` with each pixel `p` (0–255) of an image whose mean over all its
/// channels is `m` replaced by `round(clamp(clamp(m + (p − m) × contrast) ×
/// brightness))`, computed in `f64`, where `clamp` limits to `[0, 255]` (NaN
/// becomes 0) and `round` takes halves away from 0. Labels unchanged.
pub fn dim(ds: &Dataset, contrast: f64, brightness: f64) -> Dataset {
    let pixels = ds.shape().pixels();
    let mut images = Vec::with_capacity(ds.images().len());
    for image in ds.images().chunks_exact(pixels) {
        let sum: u64 = image.iter().map(|&p| u64::from(p)).sum();
        let mean = sum as f64 / pixels as f64;
        images.extend(image.iter().map(|&p| {
            let flat = clamp255(mean + (f64::from(p) - mean) * contrast);
            clamp255(flat * brightness).round() as u8
        }));
    }
    ds.with_images(images)
}

/// `v` limited to `[0, 255]`, NaN to 0.
fn clamp255(v: f64) -> f64 {
    if v.is_nan() { 0.0 } else { v.clamp(0.0, 255.0) }
}

#[cfg(test)]
mod tests {
    use cnnvar_core::ImageShape;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn stats(image: &[u8]) -> (f64, f64) {
        let n = image.len() as f64;
        let mean = image.iter().map(|&p| f64::from(p)).sum::<f64>() / n;
        let var = image.iter().map(|&p| (f64::from(p) - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    #[test]
    fn known_pixels() {
        let shape = ImageShape { channels: 1, height: 1, width: 4 };
        // Mean 100: 0 → 50 → 20; 200 → 150 → 60; 100 → 40; 100 → 40.
        let ds = Dataset::new(vec![0, 200, 100, 100], vec![1], shape, 2).expect("valid");
        let dark = twilight(&ds);
        assert_eq!(dark.images(), [20, 60, 40, 40]);
        assert_eq!(dark.labels(), ds.labels());
        assert_eq!(dark.shape(), ds.shape());
        // Mean 0.75. Halves round away from 0: 1 × 0.5 → 1, 1 × 1.5 → 2.
        let ds = Dataset::new(vec![0, 1, 1, 1], vec![0], shape, 2).expect("valid");
        assert_eq!(dim(&ds, 1.0, 0.5).images(), [0, 1, 1, 1]);
        assert_eq!(dim(&ds, 1.0, 1.5).images(), [0, 2, 2, 2]);
        assert_eq!(dim(&ds, 5.0, 10.0).images(), [0, 20, 20, 20]);
        assert_eq!(dim(&ds, f64::NAN, 1.0).images(), [0, 0, 0, 0]);
        assert_eq!(dim(&ds, 1.0, 1.0), ds);
    }

    #[test]
    fn darker_and_flatter_cifar() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let n = 20;
        let images = (0..n * ImageShape::CIFAR10.pixels()).map(|_| rng.random::<u8>()).collect();
        let labels = (0..n).map(|i| (i % 10) as u8).collect();
        let ds = Dataset::new(images, labels, ImageShape::CIFAR10, 10).expect("valid");
        let dark = twilight(&ds);
        assert_eq!(dark.labels(), ds.labels());
        assert_eq!(dark, twilight(&ds));
        for i in 0..n {
            let ((m0, s0), (m1, s1)) = (stats(ds.image(i)), stats(dark.image(i)));
            assert!(m1 < m0 && (m1 - 0.4 * m0).abs() <= 0.5, "mean {m0} → {m1}");
            assert!(s1 < s0 && (s1 - 0.2 * s0).abs() <= 0.5, "std {s0} → {s1}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn mean_and_spread_shrink(pixels in prop::collection::vec(any::<u8>(), 1..64)) {
            let shape = ImageShape { channels: 1, height: 1, width: pixels.len() };
            let ds = Dataset::new(pixels, vec![0], shape, 1).expect("valid");
            let dark = twilight(&ds);
            let ((m0, s0), (m1, s1)) = (stats(ds.image(0)), stats(dark.image(0)));
            prop_assert!((m1 - 0.4 * m0).abs() <= 0.5);
            prop_assert!(s1 <= 0.2 * s0 + 0.5);
            prop_assert!(dark.images().iter().max() <= ds.images().iter().max());
            for (a, b) in ds.images().iter().zip(dark.images()) {
                for (c, d) in ds.images().iter().zip(dark.images()) {
                    prop_assert!(a > c || b <= d, "order kept: {a} → {b}, {c} → {d}");
                }
            }
        }
    }
}
