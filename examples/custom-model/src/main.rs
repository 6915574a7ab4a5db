//! `my-cnnvar`: the whole `cnnvar` command line, with one more model, `my-resnet`, a
//! small residual network with batch norm defined here.
//!
//! ```text
//! cargo run -p cnnvar-example-custom-model --release -- \
//!     sweep examples/custom-model/study.toml --out runs
//! cargo run -p cnnvar-example-custom-model --release -- \
//!     train --model my-resnet --train-size 500 --epochs 1
//! ```
//!
//! Three steps make a model of your own trainable, comparable and reproducible by cnnvar:
//! a burn module, an implementation of [`Classifier`] (build it for the input, forward
//! images to logits), and a name in the [`Models`] registry handed to
//! [`cnnvar_cli::main_with`]. Sweeps start this binary as their workers, so they know the
//! model too; runs are seeded as any other (the weights come from the run's `init_seed`
//! alone) and their specs say `model = "my-resnet"`.

use std::process::ExitCode;

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use cnnvar_core::{Error, Result, RunSpec};
use cnnvar_models::{Classifier, ModelInput, Models};

/// A 3×3 convolution (stride `stride`, padding 1, no bias) and batch norm.
#[derive(Module, Debug)]
struct ConvBn {
    conv: Conv2d,
    norm: BatchNorm,
}

impl ConvBn {
    fn new(c_in: usize, c_out: usize, kernel: usize, stride: usize, device: &Device) -> ConvBn {
        let pad = kernel / 2;
        ConvBn {
            conv: Conv2dConfig::new([c_in, c_out], [kernel, kernel])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .with_bias(false)
                .init(device),
            norm: BatchNormConfig::new(c_out).init(device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.norm.forward(self.conv.forward(x))
    }
}

/// A residual block: two conv-bn layers with a ReLU between, added to the input (through
/// a strided 1×1 conv-bn where the block halves the map or changes the width).
#[derive(Module, Debug)]
struct Residual {
    first: ConvBn,
    second: ConvBn,
    shortcut: Option<ConvBn>,
}

impl Residual {
    fn new(c_in: usize, c_out: usize, stride: usize, device: &Device) -> Residual {
        let reshaped = stride != 1 || c_in != c_out;
        Residual {
            first: ConvBn::new(c_in, c_out, 3, stride, device),
            second: ConvBn::new(c_out, c_out, 3, 1, device),
            shortcut: reshaped.then(|| ConvBn::new(c_in, c_out, 1, stride, device)),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let skip = match &self.shortcut {
            Some(s) => s.forward(x.clone()),
            None => x.clone(),
        };
        relu(self.second.forward(relu(self.first.forward(x))) + skip)
    }
}

/// `my-resnet`: a conv-bn stem of `width` filters, then `depth` stages of two residual
/// blocks each (every stage after the first halves the map and doubles the width),
/// global average pooling, dropout and a dense layer. `width` (default 16) and `depth`
/// (default 2) come from the spec, as for the `cnn` family; weights use burn's default
/// initialisation whatever the preset.
#[derive(Module, Debug)]
pub struct MyResNet {
    stem: ConvBn,
    blocks: Vec<Residual>,
    dropout: Dropout,
    head: Linear,
}

impl Classifier for MyResNet {
    fn build(input: &ModelInput, spec: &RunSpec, device: &Device) -> Result<MyResNet> {
        // Its own default width; the depth and dropout a spec leaves unset are the
        // `cnn` family's.
        let width = spec.width.unwrap_or(16);
        let depth = spec.resolved().depth;
        if input.height >> (depth - 1) == 0 || input.width >> (depth - 1) == 0 {
            return Err(Error::field(
                "spec",
                "depth",
                format!("{depth} stages halve {}×{} images to nothing", input.height, input.width),
            ));
        }
        let stem = ConvBn::new(input.channels, width, 3, 1, device);
        let mut blocks = Vec::new();
        let mut c = width;
        for stage in 0..depth {
            let c_out = width << stage;
            blocks.push(Residual::new(c, c_out, if stage == 0 { 1 } else { 2 }, device));
            blocks.push(Residual::new(c_out, c_out, 1, device));
            c = c_out;
        }
        Ok(MyResNet {
            stem,
            blocks,
            dropout: DropoutConfig::new(spec.resolved().dropout).init(),
            head: LinearConfig::new(c, input.classes).init(device),
        })
    }

    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let mut x = relu(self.stem.forward(images));
        for block in &self.blocks {
            x = block.forward(x);
        }
        // Global average pooling: [batch, c, h, w] → [batch, c].
        let pooled: Tensor<2> = x.mean_dim(3).mean_dim(2).flatten(1, 3);
        self.head.forward(self.dropout.forward(pooled))
    }
}

fn main() -> ExitCode {
    cnnvar_cli::main_with(Models::standard().with::<MyResNet>("my-resnet"))
}
