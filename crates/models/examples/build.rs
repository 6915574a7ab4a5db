//! Builds the write-up's three models for MNIST- and CIFAR-shaped input, prints their
//! parameter counts and FLOPs, and runs one forward pass.
//!
//! `cargo run -p cnnvar-models --example build`

use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use cnnvar_core::{Backend, ImageShape, ModelName, Preset};
use cnnvar_models::{Architecture, Cnn};

fn main() -> Result<(), cnnvar_core::Error> {
    let device = Backend::default().device()?;
    device.seed(0);
    for input in [ImageShape::MNIST, ImageShape::CIFAR10] {
        for model in ModelName::ALL {
            let arch = Architecture::for_model(model.clone(), input)?;
            let cnn = Cnn::new(&arch, Preset::Keras, &device)?;
            let x = Tensor::<4>::random(
                [2, input.channels, input.height, input.width],
                Distribution::Default,
                &device,
            );
            let logits = cnn.forward(x);
            println!(
                "{input} {model:<8} {:>9} params ({} in the module), {:>11} FLOPs, logits {:?}: {}",
                arch.params(),
                cnn.num_params(),
                arch.flops(),
                logits.dims(),
                arch.summary()
            );
        }
    }
    Ok(())
}
