//! [`ImageShape`]: the shape of one input image.

use serde::{Deserialize, Serialize};

/// Shape of one image, channels first (the layout burn's convolutions take).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageShape {
    /// Colour channels (1 for MNIST-style sets, 3 for CIFAR-10).
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

impl ImageShape {
    /// 28×28 grey, as MNIST and Fashion-MNIST.
    pub const MNIST: ImageShape = ImageShape { channels: 1, height: 28, width: 28 };
    /// 32×32 colour, as CIFAR-10.
    pub const CIFAR10: ImageShape = ImageShape { channels: 3, height: 32, width: 32 };

    /// Values per image: channels × height × width.
    pub fn pixels(&self) -> usize {
        self.channels * self.height * self.width
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{}×{}", self.height, self.width, self.channels)
    }
}
