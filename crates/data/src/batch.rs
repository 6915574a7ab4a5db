//! Turning chosen examples into the `f32` and `i64` buffers of one mini-batch.

use crate::dataset::Dataset;

/// `LUT[p] == p as f32 / 255.0`, computed once at compile time.
const LUT: [f32; 256] = {
    let mut table = [0.0f32; 256];
    let mut p = 0;
    while p < 256 {
        table[p] = p as f32 / 255.0;
        p += 1;
    }
    table
};

/// Clears `images` and `labels` and fills them with the examples at `indices`, in
/// that order: pixels scaled to `[0, 1]` (`p as f32 / 255.0`), each image CHW, so
/// that `images` is an NCHW tensor `[indices.len(), c, h, w]`; labels as `i64`.
///
/// Reusing the same buffers from batch to batch avoids allocating.
///
/// # Panics
/// If an index is `>= ds.len()`.
pub fn fill_batch(ds: &Dataset, indices: &[usize], images: &mut Vec<f32>, labels: &mut Vec<i64>) {
    images.clear();
    labels.clear();
    images.reserve(indices.len() * ds.shape().pixels());
    labels.reserve(indices.len());
    for &i in indices {
        images.extend(ds.image(i).iter().map(|&p| LUT[usize::from(p)]));
        labels.push(i64::from(ds.label(i)));
    }
}

#[cfg(test)]
mod tests {
    use cnnvar_core::ImageShape;

    use super::*;

    #[test]
    fn scales_and_orders_like_nchw() {
        let shape = ImageShape { channels: 1, height: 1, width: 3 };
        let ds = Dataset::new(vec![0, 255, 51, 1, 2, 3], vec![4, 7], shape, 10).expect("valid");
        let (mut images, mut labels) = (vec![9.0; 100], vec![9; 100]);
        fill_batch(&ds, &[1, 0, 1], &mut images, &mut labels);
        assert_eq!(labels, [7, 4, 7]);
        let expected: Vec<f32> =
            [1u8, 2, 3, 0, 255, 51, 1, 2, 3].iter().map(|&p| p as f32 / 255.0).collect();
        assert_eq!(images, expected);
        assert_eq!(images[4], 1.0);
        fill_batch(&ds, &[], &mut images, &mut labels);
        assert!(images.is_empty() && labels.is_empty());
    }

    #[test]
    fn table_matches_division() {
        for p in 0..=255u8 {
            assert_eq!(LUT[usize::from(p)].to_bits(), (p as f32 / 255.0).to_bits());
        }
    }
}
