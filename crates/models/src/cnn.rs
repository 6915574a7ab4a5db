//! [`Cnn`]: the burn module built from an [`Architecture`].

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Tensor};
use cnnvar_core::{Backend, Preset, Result, RunSpec};

use crate::{Architecture, Classifier, ModelInput, Pool};

/// One conv block as a module: convolution, ReLU, optional pooling.
#[derive(Module, Debug)]
pub struct Block {
    conv: Conv2d,
    max_pool: Option<MaxPool2d>,
    avg_pool: Option<AvgPool2d>,
}

/// A CNN built from an [`Architecture`]; `forward` returns raw logits.
#[derive(Module, Debug)]
pub struct Cnn {
    blocks: Vec<Block>,
    dense: Vec<Linear>,
    dropout: Dropout,
    /// Whether inference pools with [`max_pool_2x2`] instead of `MaxPool2d`.
    #[module(skip)]
    reshape_pool: bool,
    /// The architecture's parameter count and forward FLOPs per example.
    #[module(skip)]
    cost: (usize, u64),
}

/// Weights and bias drawn now (not lazily), so that the order of random draws is
/// fixed by construction and the init seed alone decides them.
fn init_params<const D: usize>(
    shape: [usize; D],
    bias_len: usize,
    fan_in: usize,
    fan_out: usize,
    preset: Preset,
    device: &Device,
) -> (Param<Tensor<D>>, Param<Tensor<1>>) {
    let uniform = |bound: f64| Distribution::Uniform(-bound, bound);
    match preset {
        // Keras: Glorot uniform weights, zero biases.
        Preset::Keras => {
            let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
            (
                Param::from_tensor(Tensor::random(shape, uniform(bound), device)),
                Param::from_tensor(Tensor::zeros([bias_len], device)),
            )
        }
        // burn (and PyTorch): Kaiming uniform with gain 1/sqrt(3), i.e. U(±1/sqrt(fan_in)),
        // for weights and biases.
        Preset::Burn => {
            let bound = 1.0 / (fan_in as f64).sqrt();
            (
                Param::from_tensor(Tensor::random(shape, uniform(bound), device)),
                Param::from_tensor(Tensor::random([bias_len], uniform(bound), device)),
            )
        }
    }
}

/// 2×2 max pooling with stride 2 (floor), as a reshape and two reductions: the same
/// values as `MaxPool2d`, and on burn-flex 0.22 a 1.28× faster evaluation of the simple
/// model (4764 vs 3728 samples/s, 1 thread); its backward pass is slower than the
/// pooling kernel's, so training keeps `MaxPool2d`. LibTorch's pooling kernel is faster
/// than its reductions, so this is chosen per backend ([`Cnn::with_reshape_pool`]).
fn max_pool_2x2(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    let (h2, w2) = (h / 2, w / 2);
    let x = if h % 2 == 1 || w % 2 == 1 { x.slice([0..b, 0..c, 0..2 * h2, 0..2 * w2]) } else { x };
    x.reshape([b, c, h2, 2, w2, 2]).max_dim(5).max_dim(3).reshape([b, c, h2, w2])
}

impl Cnn {
    /// Builds the module on `device`, drawing every weight immediately in layer order.
    /// Seed the device first for reproducible weights.
    pub fn new(arch: &Architecture, preset: Preset, device: &Device) -> Result<Cnn> {
        arch.check()?;
        let mut c_in = arch.input.channels;
        let mut blocks = Vec::with_capacity(arch.blocks.len());
        for b in &arch.blocks {
            let mut conv = Conv2dConfig::new([c_in, b.filters], [b.kernel, b.kernel])
                .with_stride([b.stride, b.stride])
                .with_padding(PaddingConfig2d::Explicit(b.padding, b.padding, b.padding, b.padding))
                .init(device);
            let k2 = b.kernel * b.kernel;
            let (w, bias) = init_params(
                [b.filters, c_in, b.kernel, b.kernel],
                b.filters,
                c_in * k2,
                b.filters * k2,
                preset,
                device,
            );
            conv.weight = w;
            conv.bias = Some(bias);
            blocks.push(Block {
                conv,
                max_pool: (b.pool == Pool::Max).then(|| MaxPool2dConfig::new([2, 2]).init()),
                avg_pool: (b.pool == Pool::Avg).then(|| AvgPool2dConfig::new([2, 2]).init()),
            });
            c_in = b.filters;
        }
        let mut widths = vec![arch.flat_features()];
        widths.extend(&arch.hidden);
        widths.push(arch.classes);
        let dense = widths
            .windows(2)
            .map(|w| {
                let mut linear = LinearConfig::new(w[0], w[1]).init(device);
                let (weight, bias) = init_params([w[0], w[1]], w[1], w[0], w[1], preset, device);
                linear.weight = weight;
                linear.bias = Some(bias);
                linear
            })
            .collect();
        Ok(Cnn {
            blocks,
            dense,
            dropout: DropoutConfig::new(arch.dropout).init(),
            reshape_pool: false,
            cost: (arch.params(), arch.flops()),
        })
    }

    /// Whether inference (a device without autodiff) computes 2×2 max pooling as a
    /// reshape and two reductions ([`max_pool_2x2`]: faster on burn-flex) instead of
    /// burn's pooling kernel (faster on LibTorch). Training always uses the kernel.
    /// The values are the same either way.
    pub fn with_reshape_pool(mut self, on: bool) -> Cnn {
        self.reshape_pool = on;
        self
    }

    /// Logits `[batch, classes]` for images `[batch, channels, height, width]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let mut x = images;
        for block in &self.blocks {
            x = block.conv.forward(x);
            if let Some(pool) = &block.max_pool {
                // Max pooling and ReLU commute exactly (both monotone), so pooling first
                // gives the same values and gradients with ReLU on a quarter of the
                // elements. In training burn's pooling with indices has the cheaper
                // backward pass.
                let reshape = self.reshape_pool && !x.device().is_autodiff();
                x = relu(if reshape { max_pool_2x2(x) } else { pool.forward(x) });
            } else {
                x = relu(x);
            }
            if let Some(pool) = &block.avg_pool {
                x = pool.forward(x);
            }
        }
        let mut x: Tensor<2> = x.flatten(1, 3);
        let last = self.dense.len().saturating_sub(1);
        for (i, layer) in self.dense.iter().enumerate() {
            x = layer.forward(self.dropout.forward(x));
            if i < last {
                x = relu(x);
            }
        }
        x
    }
}

/// The standard models through the harness: the architecture `spec` asks for
/// ([`Architecture::for_spec`]) with `input`'s classes, with the spec's preset; its
/// inference pools by reshape on burn-flex, where that is faster.
impl Classifier for Cnn {
    fn build(input: &ModelInput, spec: &RunSpec, device: &Device) -> Result<Cnn> {
        let mut arch = Architecture::for_spec(spec, input.shape())?;
        arch.classes = input.classes;
        arch.check()?;
        let flex = spec.backend == Backend::Flex;
        Ok(Cnn::new(&arch, spec.preset, device)?.with_reshape_pool(flex))
    }

    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        Cnn::forward(self, images)
    }

    fn params(&self) -> usize {
        self.cost.0
    }

    fn flops(&self) -> u64 {
        self.cost.1
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;

    /// flex's direct max pooling for windows that stay inside the input (the vendored
    /// patch: no padding, no dilation, no ceil mode) gives its generic path's values and
    /// indices bit for bit: ties keep the first maximum, a NaN wins. The generic path is
    /// reached with ceil mode on sizes where it adds no window.
    #[test]
    fn direct_max_pooling_matches_the_generic_path() {
        use burn::tensor::module::max_pool2d_with_indices;
        use burn::tensor::ops::MaxPoolOptions;
        let device = Device::flex();
        for ([h, w], k, stride) in [([26, 26], 2, 2), ([12, 10], 2, 2), ([9, 7], 3, 1)] {
            // Few distinct values, so windows tie; one NaN.
            let mut values: Vec<f32> =
                (0..3 * 4 * h * w).map(|i| ((i * 7919) % 5) as f32 - 2.0).collect();
            values[17] = f32::NAN;
            let x = Tensor::<4>::from_data(
                burn::tensor::TensorData::new(values, [3, 4, h, w]),
                &device,
            );
            let pool = |ceil_mode| {
                let options = MaxPoolOptions {
                    kernel_size: [k, k],
                    stride: [stride, stride],
                    padding: [(0, 0); 2],
                    dilation: [1, 1],
                    ceil_mode,
                };
                let (v, i) = max_pool2d_with_indices(x.clone(), options);
                let v: Vec<u32> = v
                    .into_data()
                    .try_to_vec::<f32>()
                    .unwrap()
                    .iter()
                    .map(|f| f.to_bits())
                    .collect();
                (v, i.into_data().iter::<i64>().collect::<Vec<_>>())
            };
            let (direct, generic) = (pool(false), pool(true));
            assert_eq!(direct.0.len(), generic.0.len(), "{h}×{w}");
            assert_eq!(direct, generic, "{h}×{w}, kernel {k}, stride {stride}");
        }
    }

    /// The reshape form gives exactly `MaxPool2d`'s values, odd sizes included.
    #[test]
    fn reshape_pool_matches_the_kernel() {
        let device = Device::flex();
        device.seed(7);
        let kernel = MaxPool2dConfig::new([2, 2]).init();
        for [h, w] in [[26, 26], [11, 11], [5, 8], [3, 2]] {
            let x = Tensor::<4>::random([3, 4, h, w], Distribution::Normal(0.0, 1.0), &device);
            let expected = kernel.forward(x.clone()).into_data();
            max_pool_2x2(x).into_data().assert_eq(&expected, true);
        }
    }

    /// Pooling before ReLU (as `forward` does) gives bit-identical values and input
    /// gradients to the textbook ReLU before pooling, zeros and ties included.
    #[test]
    fn pool_then_relu_equals_relu_then_pool() {
        let device = Device::flex().autodiff();
        device.seed(11);
        let kernel = MaxPool2dConfig::new([2, 2]).init();
        // Rounded to a coarse grid so that exact zeros and ties within a window occur.
        let x = Tensor::<4>::random([4, 3, 9, 10], Distribution::Normal(0.0, 1.0), &device)
            .mul_scalar(2.0)
            .round()
            .require_grad();
        let upstream = Tensor::<4>::random([4, 3, 4, 5], Distribution::Normal(0.0, 1.0), &device);
        let textbook = kernel.forward(relu(x.clone()));
        let ours = relu(kernel.forward(x.clone()));
        ours.clone().into_data().assert_eq(&textbook.clone().into_data(), true);
        let grad = |y: Tensor<4>| {
            let g = y.mul(upstream.clone()).sum().backward();
            x.grad(&g).expect("x has a gradient").into_data().convert::<f32>()
        };
        let (a, b) = (grad(textbook), grad(ours));
        // -0.0 and 0.0 compare equal: the same gradient for the update.
        let (a, b) = (a.try_to_vec::<f32>().expect("f32"), b.try_to_vec::<f32>().expect("f32"));
        assert_eq!(a, b);
        assert!(a.iter().any(|&v| v != 0.0) && a.contains(&0.0));
    }
}
