//! [`Backend`]: which burn backend a run uses, and the one function that makes its
//! `burn::tensor::Device`.

use serde::{Deserialize, Serialize};

use crate::spec::named_enum;
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
    /// The fastest CPU backend compiled in: tch (LibTorch trains the write-up's models
    /// 2–4× faster than flex on the CPU, `bench/results`), then flex, then ndarray; a
    /// build with none of them takes its first GPU backend; flex when none is compiled.
    /// GPU backends are preferred only by [`BackendChoice::Auto`], which checks they
    /// start.
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

    /// Whether this build can run the backend: `Ok`, or
    /// [`Error::BackendNotCompiled`], whose text names the feature to rebuild with and
    /// the backends this build has. The one answer to that question, wherever a backend
    /// is chosen (a study's `backend` field, a front end's choice); it starts no device.
    pub fn check_compiled(self) -> Result<()> {
        if self.is_compiled() {
            return Ok(());
        }
        Err(Error::BackendNotCompiled {
            backend: self.as_str().into(),
            feature: self.feature().into(),
        })
    }

    /// [`Backend::check_compiled`] for planning runs: in a build without burn, which
    /// trains nothing (a planner, a reader of studies), every backend passes, left to
    /// the workers that will train.
    pub(crate) fn check_plannable(self) -> Result<()> {
        if cfg!(feature = "burn") { self.check_compiled() } else { Ok(()) }
    }

    /// The text of [`Backend::check_compiled`]'s error (empty when the backend is
    /// compiled in).
    pub fn not_compiled_reason(self) -> String {
        self.check_compiled().err().map(|e| e.to_string()).unwrap_or_default()
    }

    /// The backends compiled into this build, preferred first (CPU backends fastest
    /// first, then the GPU backends).
    pub fn compiled() -> Vec<Backend> {
        [
            Backend::Tch,
            Backend::Flex,
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

    /// [`BackendChoice::Auto`] resolved: the first GPU backend compiled in that starts
    /// on this machine, else the fastest CPU backend compiled in. Starts GPU devices.
    #[cfg(feature = "burn")]
    pub fn auto() -> Backend {
        BackendChoice::Auto.resolve()
    }

    /// The first GPU backend compiled in that starts on this machine: cuda, then
    /// tch-cuda, then metal, each tried with [`Backend::device`].
    #[cfg(feature = "burn")]
    fn first_gpu_that_starts() -> Option<Backend> {
        [Backend::Cuda, Backend::TchCuda, Backend::Metal]
            .into_iter()
            .find(|b| b.is_compiled() && b.device().is_ok())
    }

    /// Without burn no backend is compiled in, so none starts.
    #[cfg(not(feature = "burn"))]
    fn first_gpu_that_starts() -> Option<Backend> {
        None
    }

    /// Whether this backend runs on the CPU (so thread settings apply to it).
    pub fn is_cpu(self) -> bool {
        matches!(self, Backend::Flex | Backend::Ndarray | Backend::Tch)
    }

    /// Makes the burn device (without autodiff) for this backend, or says which
    /// feature the build lacks ([`Error::BackendNotCompiled`]) or why it could not
    /// start ([`Error::BackendUnavailable`]: no driver, no GPU, no library; burn panics
    /// then, on the first operation, and the panic is caught here).
    #[cfg(feature = "burn")]
    pub fn device(self) -> Result<burn::tensor::Device> {
        let device = self.make_device()?;
        self.start(&device)?;
        Ok(device)
    }

    /// The device a GPU backend runs on, for a run's provenance: its name as the backend
    /// reports it (wgpu's adapter name, CUDA's device name) and whether it is software
    /// on the CPU rather than a card (wgpu's CPU adapters: lavapipe, llvmpipe, which
    /// report no card behind them). `None` for the CPU backends, for a backend that does
    /// not say (LibTorch), and in a build without a CubeCL GPU backend.
    #[cfg(feature = "burn")]
    pub fn adapter(self, device: &burn::tensor::Device) -> Option<crate::Adapter> {
        if self.is_cpu() {
            return None;
        }
        #[cfg(any(feature = "wgpu", feature = "vulkan", feature = "metal", feature = "cuda"))]
        {
            let identity = device.identity()?;
            Some(crate::Adapter { name: identity.name, software: identity.physical.is_none() })
        }
        #[cfg(not(any(
            feature = "wgpu",
            feature = "vulkan",
            feature = "metal",
            feature = "cuda"
        )))]
        {
            let _ = device;
            None
        }
    }

    /// Runs a first tiny operation on `device`, turning a panic of the backend's start
    /// into [`Error::BackendUnavailable`] with the panic's message.
    #[cfg(feature = "burn")]
    fn start(self, device: &burn::tensor::Device) -> Result<()> {
        use burn::tensor::Tensor;
        if self.is_cpu() {
            // CPU backends have nothing to start that could fail.
            return Ok(());
        }
        let first_op = || Tensor::<1>::from_floats([1.0f32], device).sum().into_data();
        // The default hook would print the panic and, with RUST_BACKTRACE, a trace.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(first_op));
        std::panic::set_hook(hook);
        started.map(|_| ()).map_err(|payload| Error::BackendUnavailable {
            backend: self.as_str().into(),
            message: panic_message(payload.as_ref()),
        })
    }

    #[cfg(feature = "burn")]
    #[allow(deprecated)] // ndarray and tch are deprecated upstream; the user asked for them.
    fn make_device(self) -> Result<burn::tensor::Device> {
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

/// A backend as a user chooses it: a named one, or `auto`, resolved only when a run is
/// about to be made ([`BackendChoice::resolve`]), since finding out which GPU backend
/// works means starting it. Parsing a choice ("auto" or a backend's name) starts
/// nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    /// The fastest backend that works here: a GPU backend compiled in that starts (cuda,
    /// then tch-cuda, then metal), else the fastest CPU backend compiled in
    /// ([`Backend::default`]).
    Auto,
    /// This backend.
    Named(Backend),
}

impl BackendChoice {
    /// The choice itself, or the error of [`Backend::check_compiled`] for a named
    /// backend this build lacks; `auto` always passes. Starts no device: for checking a
    /// choice as soon as it is made, before anything is planned.
    pub fn check_compiled(self) -> Result<BackendChoice> {
        match self {
            BackendChoice::Named(b) => b.check_compiled().map(|()| self),
            BackendChoice::Auto => Ok(self),
        }
    }

    /// The backend: a named one as it is, `auto` the first GPU backend compiled in that
    /// starts on this machine (starting each one tried), else [`Backend::default`].
    /// Call it once, when the runs it decides are about to be made or planned.
    pub fn resolve(self) -> Backend {
        match self {
            BackendChoice::Named(b) => b,
            BackendChoice::Auto => Backend::first_gpu_that_starts().unwrap_or_default(),
        }
    }
}

impl std::fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackendChoice::Auto => f.write_str("auto"),
            BackendChoice::Named(b) => f.write_str(b.as_str()),
        }
    }
}

impl std::str::FromStr for BackendChoice {
    type Err = String;
    /// `auto`, or a backend's name (compiled in or not: see
    /// [`BackendChoice::check_compiled`]).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(BackendChoice::Auto),
            _ => s.parse().map(BackendChoice::Named).map_err(|e| format!("{e}, or auto")),
        }
    }
}

/// The names of the backends compiled into this build, preferred first, for messages;
/// `none` when there are none.
pub(crate) fn compiled_names() -> String {
    let names: Vec<&str> = Backend::compiled().iter().map(|b| b.as_str()).collect();
    if names.is_empty() { "none".into() } else { names.join(", ") }
}

/// The text of a caught panic, on one line.
#[cfg(feature = "burn")]
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "it panicked without a message".into());
    // LibTorch appends its C++ stack ("Exception raised from …", escaped); burn wraps
    // the reason in an unwrap's words.
    let text = text.split("\\nException raised from").next().unwrap_or_default();
    let text = text.trim_start_matches("called `Result::unwrap()` on an `Err` value: ");
    let text = text.replace("\\n", " ");
    let mut line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 400 {
        line = line.chars().take(400).collect::<String>() + "…";
    }
    line
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

    /// A caught start panic reads as one short line: LibTorch's C++ stack and the
    /// unwrap's words are cut.
    #[cfg(feature = "burn")]
    #[test]
    fn panic_messages_are_one_short_line() {
        let torch = "called `Result::unwrap()` on an `Err` value: Torch(\"Found no NVIDIA \
                     driver on your system.\\nException raised from device_count_impl at \
                     CUDAFunctions.cpp:40\\nframe #0: c10::Error\")";
        let m = panic_message(&String::from(torch));
        assert_eq!(m, "Torch(\"Found no NVIDIA driver on your system.");
        assert_eq!(panic_message(&"no adapter\nfound"), "no adapter found");
        assert_eq!(panic_message(&7), "it panicked without a message");
    }

    /// The default is the fastest CPU backend compiled in; auto is a compiled backend.
    #[test]
    fn default_prefers_tch_then_flex_then_ndarray() {
        let expected =
            [Backend::Tch, Backend::Flex, Backend::Ndarray].into_iter().find(|b| b.is_compiled());
        if let Some(b) = expected {
            assert_eq!(Backend::default(), b);
        }
        #[cfg(feature = "burn")]
        assert!(Backend::auto().is_compiled() || Backend::compiled().is_empty());
    }

    /// A choice parses without starting anything; a named one resolves to itself, and
    /// `auto` to a backend this build has (or the default when it has none).
    #[test]
    fn choices_parse_and_resolve() {
        assert_eq!("auto".parse::<BackendChoice>().unwrap(), BackendChoice::Auto);
        for b in Backend::ALL {
            let choice: BackendChoice = b.as_str().parse().unwrap();
            assert_eq!(choice, BackendChoice::Named(*b));
            assert_eq!(choice.to_string(), b.as_str());
            assert_eq!(choice.resolve(), *b);
        }
        let e = "gpu".parse::<BackendChoice>().unwrap_err();
        assert!(e.contains("flex") && e.contains("auto"), "{e}");
        let auto = BackendChoice::Auto.resolve();
        assert!(auto.is_compiled() || Backend::compiled().is_empty(), "{auto}");
        assert_eq!(BackendChoice::Auto.check_compiled().unwrap(), BackendChoice::Auto);
    }

    /// One answer and one text for a backend this build lacks, naming the feature and
    /// what the build has instead.
    #[test]
    fn a_missing_backend_has_one_error_text() {
        for b in Backend::ALL {
            let named = BackendChoice::Named(*b).check_compiled();
            assert_eq!(b.check_compiled().is_ok(), b.is_compiled(), "{b}");
            assert_eq!(named.is_ok(), b.is_compiled(), "{b}");
            if let (Err(e), Err(n)) = (b.check_compiled(), named) {
                let text = e.to_string();
                assert!(matches!(e, Error::BackendNotCompiled { .. }), "{e:?}");
                assert!(text.contains(&format!("--features {}", b.feature())), "{text}");
                assert!(text.contains(&format!("compiled in: {}", compiled_names())), "{text}");
                assert_eq!(n.to_string(), text);
                assert_eq!(b.not_compiled_reason(), text);
            }
        }
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
