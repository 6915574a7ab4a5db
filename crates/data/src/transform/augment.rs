//! Training-time augmentation: every image of a mini-batch shifted, flipped, rotated
//! and re-lit at random, with the randomness fixed by `(seed, epoch, batch)`.

use cnnvar_core::{Error, ImageShape, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::AUGMENT_STREAM_TAG;
use crate::batch::fill_batch;
use crate::dataset::Dataset;

/// How much to perturb each training image. Every amount is a maximum; each image
/// draws its own values. Geometric changes come first (rotation about the image
/// centre, then horizontal flip, then shift; uncovered pixels become 0, the
/// background), then contrast, then brightness; results are clamped to `[0, 1]`.
///
/// A negative amount counts as its absolute value and a non-finite one as 0;
/// [`Augmentation::validate`] reports both, for amounts that come from a user.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augmentation {
    /// Largest shift in pixels, drawn independently for rows and columns, uniformly
    /// in `-shift..=shift` (e.g. 2).
    pub shift: usize,
    /// Whether to flip images left-right, each with probability ½.
    pub flip: bool,
    /// Largest rotation in degrees: each image turns about its centre by an angle
    /// uniform in `±rotate_degrees` (e.g. 10; positive is clockwise as displayed,
    /// rows downwards), sampled bilinearly.
    pub rotate_degrees: f32,
    /// Pixels are multiplied by a factor uniform in `[1 − brightness, 1 + brightness]`.
    pub brightness: f32,
    /// Pixels move away from (or towards) the image's mean by a factor uniform in
    /// `[1 − contrast, 1 + contrast]`.
    pub contrast: f32,
}

impl Augmentation {
    /// No augmentation: [`fill_batch_augmented`] then equals [`fill_batch`].
    pub const NONE: Augmentation =
        Augmentation { shift: 0, flip: false, rotate_degrees: 0.0, brightness: 0.0, contrast: 0.0 };

    /// Shifts of up to 2 pixels, left-right flips and rotations of up to 10°.
    pub const fn geometric() -> Augmentation {
        Augmentation { shift: 2, flip: true, rotate_degrees: 10.0, ..Augmentation::NONE }
    }

    /// Brightness and contrast factors in `[0.4, 1.6]`: wide enough to cover
    /// [`crate::transform::twilight`] (contrast 0.5, brightness 0.4).
    pub const fn photometric() -> Augmentation {
        Augmentation { brightness: 0.6, contrast: 0.6, ..Augmentation::NONE }
    }

    /// Whether this changes nothing (every amount 0 or non-finite, no flip).
    pub fn is_none(&self) -> bool {
        self.shift == 0
            && !self.flip
            && amount(self.rotate_degrees) == 0.0
            && amount(self.brightness) == 0.0
            && amount(self.contrast) == 0.0
    }

    /// Errors unless the rotation, brightness and contrast amounts are finite and
    /// not negative.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("rotate_degrees", self.rotate_degrees),
            ("brightness", self.brightness),
            ("contrast", self.contrast),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::field(
                    "augmentation",
                    field,
                    format!("{value} is not a finite amount of at least 0"),
                ));
            }
        }
        Ok(())
    }
}

impl Default for Augmentation {
    fn default() -> Self {
        Augmentation::NONE
    }
}

/// An amount as used: its absolute value, or 0 if it is not finite.
fn amount(x: f32) -> f32 {
    if x.is_finite() { x.abs() } else { 0.0 }
}

/// The ChaCha stream of batch `batch` of epoch `epoch` (see [`AUGMENT_STREAM_TAG`]).
fn stream(epoch: usize, batch: usize) -> u64 {
    AUGMENT_STREAM_TAG | ((epoch as u64 & 0xFF_FFFF) << 32) | (batch as u64 & 0xFFFF_FFFF)
}

/// What one image draws.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Draw {
    /// Rows to move down (negative: up).
    dy: i64,
    /// Columns to move right (negative: left).
    dx: i64,
    /// Whether to flip left-right.
    flip: bool,
    /// Rotation in degrees.
    degrees: f64,
    /// Contrast factor.
    contrast: f32,
    /// Brightness factor.
    brightness: f32,
}

impl Draw {
    /// Draws one image's parameters. All six are always drawn, in a fixed order,
    /// so that one image's draws do not depend on which amounts are 0.
    fn new(aug: &Augmentation, rng: &mut ChaCha8Rng) -> Draw {
        // Capped so that `-s..=s` cannot overflow; no image is 2³⁰ pixels wide.
        let s = aug.shift.min(1 << 30) as i64;
        let dy = rng.random_range(-s..=s);
        let dx = rng.random_range(-s..=s);
        let flip = rng.random_bool(0.5) && aug.flip;
        let degrees = (2.0 * rng.random::<f64>() - 1.0) * f64::from(amount(aug.rotate_degrees));
        let contrast = 1.0 + (2.0 * rng.random::<f32>() - 1.0) * amount(aug.contrast);
        let brightness = 1.0 + (2.0 * rng.random::<f32>() - 1.0) * amount(aug.brightness);
        Draw { dy, dx, flip, degrees, contrast, brightness }
    }
}

/// Like [`fill_batch`] (clears and fills `images` as NCHW `f32` in `[0, 1]` and
/// `labels` as `i64`, for the examples at `indices` in that order), but with each
/// image randomly transformed as `aug` says. The draws are fixed by `seed` (the
/// ChaCha key), `epoch` and `batch` (the stream, see [`AUGMENT_STREAM_TAG`]), and
/// made one image after another, so the result is the same on every run, platform
/// and thread count. With [`Augmentation::NONE`] the output is exactly
/// [`fill_batch`]'s.
///
/// # Panics
/// If an index is `>= ds.len()`.
#[allow(clippy::too_many_arguments)]
pub fn fill_batch_augmented(
    ds: &Dataset,
    indices: &[usize],
    aug: &Augmentation,
    seed: u64,
    epoch: usize,
    batch: usize,
    images: &mut Vec<f32>,
    labels: &mut Vec<i64>,
) {
    fill_batch(ds, indices, images, labels);
    if aug.is_none() {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream(epoch, batch));
    let shape = ds.shape();
    let mut scratch = vec![0.0; shape.pixels()];
    for image in images.chunks_exact_mut(shape.pixels()) {
        let draw = Draw::new(aug, &mut rng);
        apply(image, &mut scratch, shape, aug, &draw);
    }
}

/// Transforms one CHW image in place as `draw` says, using `scratch` (as long as
/// the image) for a copy.
fn apply(image: &mut [f32], scratch: &mut [f32], shape: ImageShape, aug: &Augmentation, d: &Draw) {
    if d.dy != 0 || d.dx != 0 || d.flip || d.degrees != 0.0 {
        scratch.copy_from_slice(image);
        if d.degrees == 0.0 {
            move_pixels(scratch, image, shape, d);
        } else {
            rotate_pixels(scratch, image, shape, d);
        }
    }
    if amount(aug.contrast) != 0.0 {
        let mean = (image.iter().map(|&v| f64::from(v)).sum::<f64>() / image.len() as f64) as f32;
        for v in image.iter_mut() {
            *v = clamp01(mean + (*v - mean) * d.contrast);
        }
    }
    if amount(aug.brightness) != 0.0 {
        for v in image.iter_mut() {
            *v = clamp01(*v * d.brightness);
        }
    }
}

/// `v` clamped to `[0, 1]`, NaN to 0.
fn clamp01(v: f32) -> f32 {
    if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) }
}

/// The source column and row of output pixel `(y, x)` before the shift and flip.
fn unshift(y: usize, x: usize, width: usize, d: &Draw) -> (i64, i64) {
    let sy = y as i64 - d.dy;
    let sx = x as i64 - d.dx;
    (sy, if d.flip { width as i64 - 1 - sx } else { sx })
}

/// Shift and flip without rotation: every pixel moves whole, values unchanged.
fn move_pixels(src: &[f32], dst: &mut [f32], shape: ImageShape, d: &Draw) {
    let ImageShape { height: h, width: w, .. } = shape;
    for (plane_in, plane_out) in src.chunks_exact(h * w).zip(dst.chunks_exact_mut(h * w)) {
        for (y, row) in plane_out.chunks_exact_mut(w).enumerate() {
            for (x, out) in row.iter_mut().enumerate() {
                let (sy, sx) = unshift(y, x, w, d);
                *out = pixel(plane_in, h, w, sy, sx);
            }
        }
    }
}

/// Shift, flip and rotation, sampling the rotated source bilinearly.
fn rotate_pixels(src: &[f32], dst: &mut [f32], shape: ImageShape, d: &Draw) {
    let ImageShape { height: h, width: w, .. } = shape;
    let (sin, cos) = sin_cos_degrees(d.degrees);
    let (sin, cos) = (sin as f32, cos as f32);
    let (cy, cx) = ((h as f32 - 1.0) / 2.0, (w as f32 - 1.0) / 2.0);
    for (plane_in, plane_out) in src.chunks_exact(h * w).zip(dst.chunks_exact_mut(h * w)) {
        for (y, row) in plane_out.chunks_exact_mut(w).enumerate() {
            for (x, out) in row.iter_mut().enumerate() {
                let (uy, ux) = unshift(y, x, w, d);
                // Inverse rotation: where in the source this output pixel comes from.
                let (ry, rx) = (uy as f32 - cy, ux as f32 - cx);
                let fx = cos * rx + sin * ry + cx;
                let fy = cos * ry - sin * rx + cy;
                *out = bilinear(plane_in, h, w, fy, fx);
            }
        }
    }
}

/// Pixel `(y, x)` of a `h × w` plane, or 0 outside it.
fn pixel(plane: &[f32], h: usize, w: usize, y: i64, x: i64) -> f32 {
    if (0..h as i64).contains(&y) && (0..w as i64).contains(&x) {
        plane[y as usize * w + x as usize]
    } else {
        0.0
    }
}

/// The plane sampled at `(fy, fx)` by bilinear interpolation, 0 outside.
fn bilinear(plane: &[f32], h: usize, w: usize, fy: f32, fx: f32) -> f32 {
    let (y0, x0) = (fy.floor(), fx.floor());
    let (ty, tx) = (fy - y0, fx - x0);
    let (y0, x0) = (y0 as i64, x0 as i64);
    let top = pixel(plane, h, w, y0, x0) * (1.0 - tx) + pixel(plane, h, w, y0, x0 + 1) * tx;
    let bottom =
        pixel(plane, h, w, y0 + 1, x0) * (1.0 - tx) + pixel(plane, h, w, y0 + 1, x0 + 1) * tx;
    top * (1.0 - ty) + bottom * ty
}

/// Sine and cosine of an angle in degrees, from their Taylor series after reducing
/// the angle to `[-180°, 180°]`: only `+ − × ÷`, so the same bits on every platform
/// (the maths library's `sin` may differ in the last place). Accurate to ~1e-15.
fn sin_cos_degrees(degrees: f64) -> (f64, f64) {
    let mut d = degrees % 360.0;
    if d > 180.0 {
        d -= 360.0;
    } else if d < -180.0 {
        d += 360.0;
    }
    let x = d * (std::f64::consts::PI / 180.0);
    let x2 = x * x;
    let (mut sin, mut cos) = (0.0, 0.0);
    let (mut ts, mut tc) = (x, 1.0);
    for n in 0..24u32 {
        sin += ts;
        cos += tc;
        let k = f64::from(2 * n);
        ts *= -x2 / ((k + 2.0) * (k + 3.0));
        tc *= -x2 / ((k + 1.0) * (k + 2.0));
    }
    (sin, cos)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::Rng;

    use super::*;

    fn dataset(shape: ImageShape, n: usize, seed: u64) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let images = (0..n * shape.pixels()).map(|_| rng.random::<u8>()).collect();
        let labels = (0..n).map(|i| (i % 10) as u8).collect();
        Dataset::new(images, labels, shape, 10).expect("valid")
    }

    fn everything() -> Augmentation {
        Augmentation { shift: 2, flip: true, rotate_degrees: 10.0, brightness: 0.6, contrast: 0.6 }
    }

    fn run(
        ds: &Dataset,
        idx: &[usize],
        aug: &Augmentation,
        seed: u64,
        e: usize,
        b: usize,
    ) -> Vec<f32> {
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        fill_batch_augmented(ds, idx, aug, seed, e, b, &mut images, &mut labels);
        let expected: Vec<i64> = idx.iter().map(|&i| i64::from(ds.label(i))).collect();
        assert_eq!(labels, expected);
        images
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn none_is_fill_batch_bit_for_bit() {
        let ds = dataset(ImageShape::CIFAR10, 8, 1);
        let idx = [3, 1, 4, 1, 5];
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        fill_batch(&ds, &idx, &mut images, &mut labels);
        let nan = Augmentation { rotate_degrees: f32::NAN, ..Augmentation::NONE };
        assert!(nan.is_none() && Augmentation::default().is_none());
        for aug in [Augmentation::NONE, nan] {
            assert_eq!(bits(&run(&ds, &idx, &aug, 9, 2, 3)), bits(&images));
        }
    }

    #[test]
    fn presets() {
        assert!(!Augmentation::geometric().is_none());
        assert!(!Augmentation::photometric().is_none());
        let p = Augmentation::photometric();
        assert!(1.0 - p.contrast <= 0.5 && 1.0 - p.brightness <= 0.4);
        assert!(everything().validate().is_ok());
        let bad = Augmentation { brightness: -0.1, ..Augmentation::NONE };
        let msg = bad.validate().expect_err("negative").to_string();
        assert!(msg.contains("brightness"), "{msg}");
        assert!(Augmentation { contrast: f32::INFINITY, ..bad }.validate().is_err());
    }

    #[test]
    fn deterministic_per_seed_epoch_and_batch() {
        let ds = dataset(ImageShape::MNIST, 16, 2);
        let idx: Vec<usize> = (0..16).collect();
        let aug = everything();
        let a = run(&ds, &idx, &aug, 7, 0, 0);
        assert_eq!(bits(&a), bits(&run(&ds, &idx, &aug, 7, 0, 0)));
        assert_ne!(a, run(&ds, &idx, &aug, 7, 1, 0));
        assert_ne!(a, run(&ds, &idx, &aug, 7, 0, 1));
        assert_ne!(a, run(&ds, &idx, &aug, 8, 0, 0));
        let streams = [stream(0, 0), stream(1, 0), stream(0, 1), stream(1 << 24, 0)];
        assert_eq!(streams, [0xA0 << 56, (0xA0 << 56) | 1 << 32, (0xA0 << 56) | 1, 0xA0 << 56]);
    }

    #[test]
    fn draws_are_pinned() {
        // Fixed across platforms and releases: a change here changes every run.
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        rng.set_stream(stream(0, 0));
        let pinned = Draw {
            dy: -2,
            dx: 1,
            flip: false,
            degrees: f64::from_bits(4_604_199_210_980_517_376),
            contrast: f32::from_bits(1_058_703_012),
            brightness: f32::from_bits(1_061_154_040),
        };
        assert_eq!(Draw::new(&everything(), &mut rng), pinned);
        assert!((pinned.degrees - 0.668_797_399_154_925_6).abs() < 1e-15);
    }

    #[test]
    fn flips_a_known_image() {
        let shape = ImageShape { channels: 1, height: 1, width: 3 };
        let ds = Dataset::new(vec![10, 20, 30], vec![0], shape, 1).expect("valid");
        let aug = Augmentation { flip: true, ..Augmentation::NONE };
        let images = run(&ds, &[0; 64], &aug, 5, 0, 0);
        let original: Vec<f32> = [10u8, 20, 30].iter().map(|&p| f32::from(p) / 255.0).collect();
        let flipped: Vec<f32> = original.iter().rev().copied().collect();
        let n_flipped = images.chunks(3).filter(|im| *im == flipped.as_slice()).count();
        let n_kept = images.chunks(3).filter(|im| *im == original.as_slice()).count();
        assert_eq!(n_flipped + n_kept, 64);
        assert!((16..=48).contains(&n_flipped), "{n_flipped} of 64 flipped");
    }

    #[test]
    fn shifts_move_values_whole() {
        let shape = ImageShape { channels: 2, height: 5, width: 4 };
        let ds = dataset(shape, 1, 3);
        let aug = Augmentation { shift: 2, ..Augmentation::NONE };
        let (mut src, mut labels) = (Vec::new(), Vec::new());
        fill_batch(&ds, &[0], &mut src, &mut labels);
        let images = run(&ds, &[0; 40], &aug, 11, 0, 0);
        let mut moved = 0;
        for im in images.chunks(shape.pixels()) {
            assert!(im.iter().sum::<f32>() <= src.iter().sum::<f32>() + 1e-4);
            let found =
                (-2..=2).flat_map(|dy| (-2..=2).map(move |dx| (dy, dx))).find(|&(dy, dx)| {
                    let d =
                        Draw { dy, dx, flip: false, degrees: 0.0, contrast: 1.0, brightness: 1.0 };
                    let mut out = vec![0.0; shape.pixels()];
                    move_pixels(&src, &mut out, shape, &d);
                    out == im
                });
            let (dy, dx) = found.expect("every output is the input shifted by at most 2");
            moved += usize::from(dy != 0 || dx != 0);
        }
        assert!(moved > 20, "{moved} of 40 moved");
    }

    #[test]
    fn rotation_turns_about_the_centre() {
        let shape = ImageShape { channels: 1, height: 3, width: 3 };
        let src: Vec<f32> = (1..=9).map(|v| v as f32 / 10.0).collect();
        let turn = |degrees| {
            let d = Draw { dy: 0, dx: 0, flip: false, degrees, contrast: 1.0, brightness: 1.0 };
            let mut out = vec![0.0; 9];
            rotate_pixels(&src, &mut out, shape, &d);
            out
        };
        let half: Vec<f32> = src.iter().rev().copied().collect();
        // Positive angles turn clockwise as displayed (rows downwards).
        let quarter = [0.7, 0.4, 0.1, 0.8, 0.5, 0.2, 0.9, 0.6, 0.3];
        for (got, want) in turn(180.0).iter().zip(&half).chain(turn(90.0).iter().zip(&quarter)) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        // At 45° the top-left corner samples between the background and pixel (1, 0).
        let tilted = turn(45.0);
        assert_eq!(tilted[4], 0.5);
        assert!((tilted[0] - 0.4 * (2.0 - 2f32.sqrt())).abs() < 1e-5, "{}", tilted[0]);
    }

    #[test]
    fn sine_and_cosine_match_the_library() {
        for i in -800..=800 {
            let deg = f64::from(i) * 0.9;
            let (s, c) = sin_cos_degrees(deg);
            let (ls, lc) = deg.to_radians().sin_cos();
            assert!((s - ls).abs() < 1e-12 && (c - lc).abs() < 1e-12, "{deg}°");
        }
    }

    #[test]
    fn cifar_batches_stay_in_range() {
        let ds = dataset(ImageShape::CIFAR10, 4, 4);
        let images = run(&ds, &[0, 1, 2, 3], &everything(), 1, 3, 9);
        assert_eq!(images.len(), 4 * ImageShape::CIFAR10.pixels());
        assert!(images.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn outputs_stay_in_unit_range(
            channels in 1usize..4, height in 1usize..9, width in 1usize..9,
            shift in 0usize..12, flip: bool, rotate in -400.0f32..400.0,
            brightness in 0.0f32..3.0, contrast in 0.0f32..3.0, seed: u64, epoch in 0usize..1000,
        ) {
            let shape = ImageShape { channels, height, width };
            let ds = dataset(shape, 3, seed);
            let aug = Augmentation { shift, flip, rotate_degrees: rotate, brightness, contrast };
            let images = run(&ds, &[2, 0, 1], &aug, seed, epoch, 0);
            prop_assert_eq!(images.len(), 3 * shape.pixels());
            prop_assert!(images.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }
}
