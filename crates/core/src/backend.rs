//! [`Backend`]: which burn backend a run uses, and the one function that makes its
//! `burn::tensor::Device`.

use serde::{Deserialize, Serialize};

use crate::spec::named_enum;
#[cfg(feature = "burn")]
use crate::{Error, Result};

named_enum! {
    /// A burn backend. Every variant parses in every build; `Backend::device` fails
    /// with the Cargo feature to enable when the build lacks it.
    Backend {
        /// burn-flex: pure-Rust CPU backend (feature `flex`, the default).
        Flex => "flex",
        /// burn-ndarray: CPU backend (feature `ndarray`; deprecated upstream).
        Ndarray => "ndarray",
        /// LibTorch on the CPU (feature `tch`; needs LibTorch 2.9 or PyTorch 2.9).
        Tch => "tch",
        /// LibTorch on the first CUDA GPU (feature `tch`).
        TchCuda => "tch-cuda",
        /// wgpu pinned to Vulkan, default adapter (feature `vulkan`); lavapipe on CPU-only machines.
        Vulkan => "vulkan",
        /// wgpu on whatever graphics API the machine offers (feature `wgpu`).
        Wgpu => "wgpu",
        /// wgpu pinned to Metal, for Apple GPUs (feature `metal`).
        Metal => "metal",
        /// CubeCL CUDA on the first GPU (feature `cuda`).
        Cuda => "cuda",
    }
}

impl Default for Backend {
    /// The first compiled-in backend of flex, tch, ndarray, cuda, metal, vulkan, wgpu;
    /// flex when none is.
    fn default() -> Self {
        Backend::compiled().first().copied().unwrap_or(Backend::Flex)
    }
}

impl Backend {
    /// The Cargo feature that compiles this backend in.
    pub fn feature(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            Backend::Tch | Backend::TchCuda => "tch",
            Backend::Vulkan => "vulkan",
            Backend::Wgpu => "wgpu",
            Backend::Metal => "metal",
            Backend::Cuda => "cuda",
        }
    }

    /// Whether this build contains the backend.
    pub fn is_compiled(self) -> bool {
        match self {
            Backend::Flex => cfg!(feature = "flex"),
            Backend::Ndarray => cfg!(feature = "ndarray"),
            Backend::Tch | Backend::TchCuda => cfg!(feature = "tch"),
            Backend::Vulkan => cfg!(feature = "vulkan"),
            Backend::Wgpu => cfg!(feature = "wgpu"),
            Backend::Metal => cfg!(feature = "metal"),
            Backend::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// The backends compiled into this build, preferred first.
    pub fn compiled() -> Vec<Backend> {
        [
            Backend::Flex,
            Backend::Tch,
            Backend::Ndarray,
            Backend::Cuda,
            Backend::Metal,
            Backend::Vulkan,
            Backend::Wgpu,
            Backend::TchCuda,
        ]
        .into_iter()
        .filter(|b| b.is_compiled())
        .collect()
    }

    /// Whether this backend runs on the CPU (so thread settings apply to it).
    pub fn is_cpu(self) -> bool {
        matches!(self, Backend::Flex | Backend::Ndarray | Backend::Tch)
    }

    /// Makes the burn device (without autodiff) for this backend, or says which
    /// feature the build lacks.
    #[cfg(feature = "burn")]
    #[allow(deprecated)] // ndarray and tch are deprecated upstream; the user asked for them.
    pub fn device(self) -> Result<burn::tensor::Device> {
        use burn::tensor::Device;
        #[allow(unused_imports)]
        use burn::tensor::DeviceKind;
        let device: Option<Device> = match self {
            #[cfg(feature = "flex")]
            Backend::Flex => Some(Device::flex()),
            #[cfg(feature = "ndarray")]
            Backend::Ndarray => Some(Device::ndarray()),
            #[cfg(feature = "tch")]
            Backend::Tch => Some(Device::libtorch()),
            #[cfg(feature = "tch")]
            Backend::TchCuda => Some(Device::libtorch_cuda(0usize)),
            #[cfg(feature = "vulkan")]
            Backend::Vulkan => Some(Device::vulkan(DeviceKind::DefaultDevice)),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Some(Device::wgpu(DeviceKind::DefaultDevice)),
            #[cfg(feature = "metal")]
            Backend::Metal => Some(Device::metal(DeviceKind::DefaultDevice)),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Some(Device::cuda(0usize)),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        device.ok_or_else(|| Error::BackendNotCompiled {
            backend: self.as_str().into(),
            feature: self.feature().into(),
        })
    }
}

/// How many CPU threads one process uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadConfig {
    /// Threads for the compute pools (rayon for flex and ndarray, intra-op for LibTorch).
    pub threads: usize,
}

/// Sets the compute thread count of this process for every compiled-in CPU backend.
/// Call it once, before the first tensor operation. Returns the count in effect,
/// which differs from `threads` if the pool was already started.
pub fn configure_threads(threads: usize) -> ThreadConfig {
    let threads = threads.max(1);
    // Fails only if the global pool already exists; then we report what it has.
    let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
    #[cfg(feature = "tch")]
    {
        tch::set_num_threads(threads as i32);
        tch::set_num_interop_threads(1);
    }
    ThreadConfig { threads: rayon::current_num_threads() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in Backend::ALL {
            assert_eq!(b.as_str().parse::<Backend>().unwrap(), *b);
        }
        assert!("gpu".parse::<Backend>().unwrap_err().contains("flex"));
    }

    #[cfg(feature = "burn")]
    #[test]
    fn missing_backend_names_feature() {
        for b in Backend::ALL {
            if !b.is_compiled() {
                let e = b.device().unwrap_err().to_string();
                assert!(e.contains(&format!("--features {}", b.feature())), "{e}");
            }
        }
    }
}
