//! [`Architecture`]: a plain description of a CNN, with its shape arithmetic,
//! parameter count and FLOPs.

use cnnvar_core::{Downsample, Error, ImageShape, ModelName, Result, RunSpec};
use serde::{Deserialize, Serialize};

/// How a conv block reduces its spatial size after the convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pool {
    /// No pooling.
    None,
    /// 2×2 max pooling, stride 2 (Keras `MaxPooling2D()`).
    Max,
    /// 2×2 average pooling, stride 2.
    Avg,
}

/// One conv block: `Conv2d(filters, kernel×kernel, stride, zero padding)`, ReLU,
/// then the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvBlock {
    /// Output channels.
    pub filters: usize,
    /// Square kernel size.
    pub kernel: usize,
    /// Convolution stride.
    pub stride: usize,
    /// Zero padding on each side (0: Keras's `valid`; `kernel / 2`: `same`).
    #[serde(default)]
    pub padding: usize,
    /// Pooling after the activation.
    pub pool: Pool,
}

/// A CNN: conv blocks, flatten, hidden dense ReLU layers, a dense output layer.
/// Dropout (when > 0) is applied to the flattened features and after each hidden
/// layer, in training only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// Input image shape.
    pub input: ImageShape,
    /// Conv blocks in order.
    pub blocks: Vec<ConvBlock>,
    /// Widths of hidden dense layers.
    pub hidden: Vec<usize>,
    /// Dropout probability.
    pub dropout: f64,
    /// Output classes.
    pub classes: usize,
}

const fn block(filters: usize, pool: Pool) -> ConvBlock {
    ConvBlock { filters, kernel: 3, stride: 1, padding: 0, pool }
}

impl Architecture {
    /// One of the write-up's models for `input`, exactly as its Keras code builds them.
    pub fn for_model(model: ModelName, input: ImageShape) -> Result<Architecture> {
        let (blocks, hidden) = match model {
            ModelName::Simple => (vec![block(32, Pool::Max)], vec![]),
            ModelName::TwoConv => (vec![block(32, Pool::Max), block(64, Pool::Max)], vec![]),
            ModelName::Complex => (
                vec![block(64, Pool::Max), block(128, Pool::Max), block(256, Pool::None)],
                vec![512],
            ),
            // The family's defaults.
            ModelName::Cnn => {
                let spec = RunSpec { model: ModelName::Cnn, ..RunSpec::default() };
                return Architecture::for_spec(&spec, input);
            }
            ModelName::Custom(name) => {
                return Err(Error::field(
                    "model",
                    "model",
                    format!("`{name}` is a registered model, not one of the standard CNNs"),
                ));
            }
        };
        let arch = Architecture { input, blocks, hidden, dropout: 0.0, classes: 10 };
        arch.check()?;
        Ok(arch)
    }

    /// The architecture `spec` asks for on `input`: one of the write-up's models or
    /// the `cnn` family (blocks of `width`, 2×`width`, … filters, `same` padding, each
    /// halving the map by `downsample`), with the spec's dropout.
    pub fn for_spec(spec: &RunSpec, input: ImageShape) -> Result<Architecture> {
        let mut arch = if spec.model == ModelName::Cnn {
            let r = spec.resolved();
            let (depth, width, kernel, down) = (r.depth, r.width, r.kernel, r.downsample);
            let blocks = (0..depth)
                .map(|i| ConvBlock {
                    filters: width.saturating_mul(1 << i.min(16)),
                    kernel,
                    stride: if down == Downsample::Stride { 2 } else { 1 },
                    padding: kernel / 2,
                    pool: match down {
                        Downsample::Max => Pool::Max,
                        Downsample::Avg => Pool::Avg,
                        Downsample::Stride => Pool::None,
                    },
                })
                .collect();
            Architecture { input, blocks, hidden: vec![], dropout: 0.0, classes: 10 }
        } else {
            Architecture::for_model(spec.model.clone(), input)?
        };
        arch.dropout = spec.resolved().dropout;
        arch.check()?;
        Ok(arch)
    }

    /// Checks that every layer has a non-empty output and the fields are in range.
    pub fn check(&self) -> Result<()> {
        let bad = |field: &str, msg: String| Err(Error::field("model", field, msg));
        if !(0.0..1.0).contains(&self.dropout) {
            return bad("dropout", format!("must be in [0, 1), got {}", self.dropout));
        }
        if self.classes < 2 {
            return bad("classes", format!("need at least 2 classes, got {}", self.classes));
        }
        for (i, b) in self.blocks.iter().enumerate() {
            if b.filters == 0 || b.kernel == 0 || b.stride == 0 {
                return bad(
                    "blocks",
                    format!("block {}: filters, kernel and stride must be ≥ 1", i + 1),
                );
            }
        }
        if self.hidden.contains(&0) {
            return bad("hidden", "dense widths must be ≥ 1".into());
        }
        self.feature_shapes().map(|_| ())
    }

    /// Shapes (channels, height, width) after each block, input first.
    pub fn feature_shapes(&self) -> Result<Vec<(usize, usize, usize)>> {
        let mut shapes = vec![(self.input.channels, self.input.height, self.input.width)];
        let (_, mut h, mut w) = shapes[0];
        for (i, b) in self.blocks.iter().enumerate() {
            let (hp, wp) = (h + 2 * b.padding, w + 2 * b.padding);
            if hp < b.kernel || wp < b.kernel {
                return Err(Error::field(
                    "model",
                    "blocks",
                    format!(
                        "block {} gets a {h}×{w} input, smaller than its {k}×{k} kernel; \
                         the {} input is too small for this many blocks",
                        i + 1,
                        self.input,
                        k = b.kernel
                    ),
                ));
            }
            h = (hp - b.kernel) / b.stride + 1;
            w = (wp - b.kernel) / b.stride + 1;
            if b.pool != Pool::None {
                if h < 2 || w < 2 {
                    return Err(Error::field(
                        "model",
                        "blocks",
                        format!("block {} pools a {h}×{w} map; the input is too small", i + 1),
                    ));
                }
                h /= 2;
                w /= 2;
            }
            shapes.push((b.filters, h, w));
        }
        Ok(shapes)
    }

    /// Length of the flattened features that enter the dense layers.
    pub fn flat_features(&self) -> usize {
        self.feature_shapes().ok().and_then(|s| s.last().map(|&(c, h, w)| c * h * w)).unwrap_or(0)
    }

    /// Widths of the dense layers' inputs and outputs, flattened features first.
    fn dense_widths(&self) -> Vec<usize> {
        let mut widths = vec![self.flat_features()];
        widths.extend(&self.hidden);
        widths.push(self.classes);
        widths
    }

    /// Trainable parameters (weights and biases).
    pub fn params(&self) -> usize {
        let mut c_in = self.input.channels;
        let mut total = 0;
        for b in &self.blocks {
            total += b.kernel * b.kernel * c_in * b.filters + b.filters;
            c_in = b.filters;
        }
        total + self.dense_widths().windows(2).map(|w| w[0] * w[1] + w[1]).sum::<usize>()
    }

    /// Forward FLOPs per example: 2 × the multiply-accumulates of the conv and dense
    /// layers (activations, pooling and biases are not counted).
    pub fn flops(&self) -> u64 {
        let Ok(shapes) = self.feature_shapes() else { return 0 };
        let mut macs = 0u64;
        for (i, b) in self.blocks.iter().enumerate() {
            let (c_in, h_in, w_in) = shapes[i];
            let h_out = (h_in + 2 * b.padding - b.kernel) / b.stride + 1;
            let w_out = (w_in + 2 * b.padding - b.kernel) / b.stride + 1;
            macs += (b.kernel * b.kernel * c_in * b.filters * h_out * w_out) as u64;
        }
        macs += self.dense_widths().windows(2).map(|w| (w[0] * w[1]) as u64).sum::<u64>();
        2 * macs
    }

    /// One line, e.g. `conv32-max → 10`.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .blocks
            .iter()
            .map(|b| {
                let mut s = format!("conv{}k{}", b.filters, b.kernel);
                if b.padding != 0 {
                    s += &format!("p{}", b.padding);
                }
                if b.stride != 1 {
                    s += &format!("s{}", b.stride);
                }
                match b.pool {
                    Pool::None => {}
                    Pool::Max => s += "-max",
                    Pool::Avg => s += "-avg",
                }
                s
            })
            .collect();
        parts.extend(self.hidden.iter().map(|h| format!("dense{h}")));
        parts.push(format!("dense{}", self.classes));
        parts.join(" → ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parameter counts as Keras's `model.summary()` prints them for the write-up's code.
    #[test]
    fn write_up_parameter_counts() {
        let p = |m| Architecture::for_model(m, ImageShape::MNIST).unwrap().params();
        assert_eq!(p(ModelName::Simple), 54_410);
        assert_eq!(p(ModelName::TwoConv), 34_826);
        assert_eq!(p(ModelName::Complex), 1_554_954);
        let c = |m| Architecture::for_model(m, ImageShape::CIFAR10).unwrap().params();
        assert_eq!(c(ModelName::Simple), 896 + 72_010);
        assert_eq!(c(ModelName::TwoConv), 896 + 18_496 + 23_050);
        assert_eq!(c(ModelName::Complex), 1_792 + 73_856 + 295_168 + 2_097_664 + 5_130);
    }

    #[test]
    fn flops_of_simple() {
        let a = Architecture::for_model(ModelName::Simple, ImageShape::MNIST).unwrap();
        assert_eq!(a.flops(), 2 * (9 * 32 * 26 * 26 + 5408 * 10) as u64);
    }

    #[test]
    fn cnn_family_shapes() {
        let spec = |depth, down| RunSpec {
            model: ModelName::Cnn,
            depth: Some(depth),
            width: Some(8),
            kernel: Some(5),
            downsample: Some(down),
            ..RunSpec::default()
        };
        let a = Architecture::for_spec(&spec(4, Downsample::Max), ImageShape::MNIST).unwrap();
        let shapes = a.feature_shapes().unwrap();
        assert_eq!(shapes.last(), Some(&(64, 1, 1)));
        assert_eq!(shapes[1], (8, 14, 14));
        let s = Architecture::for_spec(&spec(2, Downsample::Stride), ImageShape::MNIST).unwrap();
        assert_eq!(s.feature_shapes().unwrap()[1..], [(8, 14, 14), (16, 7, 7)]);
        // conv 5×5×1×8 + bias, conv 5×5×8×16 + bias, dense 784×10 + bias.
        assert_eq!(s.params(), 208 + 3216 + 7850);
        assert_eq!(s.flops(), 2 * (25 * 8 * 196 + 25 * 8 * 16 * 49 + 784 * 10) as u64);
        let e = Architecture::for_spec(&spec(5, Downsample::Max), ImageShape::MNIST);
        assert!(e.unwrap_err().to_string().contains("too small"));
        let d = RunSpec { dropout: Some(0.25), ..RunSpec::default() };
        assert_eq!(Architecture::for_spec(&d, ImageShape::MNIST).unwrap().dropout, 0.25);
    }

    #[test]
    fn too_small_input_is_an_error() {
        let tiny = ImageShape { channels: 1, height: 8, width: 8 };
        let e = Architecture::for_model(ModelName::Complex, tiny).unwrap_err().to_string();
        assert!(e.contains("too small"), "{e}");
    }
}
