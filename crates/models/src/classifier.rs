//! The model harness: what a model must do to be trained, evaluated and seeded by
//! cnnvar ([`Classifier`]), the same with its type erased for the training loop
//! ([`DynClassifier`]), and the registry of models by name ([`Models`]).
//!
//! # Seeding
//!
//! A run's weights depend on its `init_seed` alone: the training loop seeds the device
//! with it, builds the model ([`Models::build`]), and only then re-seeds the device for
//! the run's dropout stream. [`Models::build`] draws every parameter a model left lazy
//! (burn's layer configs create lazily initialised parameters) right after
//! [`Classifier::build`] returns, in the module's field order, so a model's weights are
//! drawn from the init seed's stream however it was built.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Bool, Device, Int, Tensor};
use cnnvar_core::{Error, ImageShape, ModelName, Nudge, Result, RunSpec};

use crate::Cnn;

/// What a model is built for: the shape of its input images and how many classes it
/// tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelInput {
    /// Colour channels of an image (1 grey, 3 RGB).
    pub channels: usize,
    /// Image height in pixels.
    pub height: usize,
    /// Image width in pixels.
    pub width: usize,
    /// Classes: the model's logits have this many columns.
    pub classes: usize,
}

impl ModelInput {
    /// Images of `shape`, `classes` classes.
    pub fn new(shape: ImageShape, classes: usize) -> ModelInput {
        let ImageShape { channels, height, width } = shape;
        ModelInput { channels, height, width, classes }
    }

    /// The shape of one image.
    pub fn shape(&self) -> ImageShape {
        ImageShape { channels: self.channels, height: self.height, width: self.width }
    }
}

/// A model cnnvar can train: an image classifier built as a burn [`Module`].
///
/// Implement it for your own module and register it in a [`Models`] registry under a
/// name; a spec's `model = "<name>"` then trains it (`cnnvar_cli::main_with` gives your
/// binary the whole command line). [`Cnn`] implements it for the standard models.
///
/// ```no_run
/// use burn::module::Module;
/// use burn::nn::{Linear, LinearConfig};
/// use burn::tensor::{Device, Tensor};
/// use cnnvar_core::{Result, RunSpec};
/// use cnnvar_models::{Classifier, ModelInput, Models};
///
/// /// A linear classifier over the pixels.
/// #[derive(Module, Debug)]
/// struct Linear1 {
///     dense: Linear,
/// }
///
/// impl Classifier for Linear1 {
///     fn build(input: &ModelInput, _spec: &RunSpec, device: &Device) -> Result<Self> {
///         let pixels = input.channels * input.height * input.width;
///         Ok(Linear1 { dense: LinearConfig::new(pixels, input.classes).init(device) })
///     }
///
///     fn forward(&self, images: Tensor<4>) -> Tensor<2> {
///         self.dense.forward(images.flatten(1, 3))
///     }
/// }
///
/// let models = Models::standard().with::<Linear1>("linear");
/// assert!(models.names().contains(&"linear"));
/// ```
pub trait Classifier: Module + Sized + 'static {
    /// Builds the model for `input` on `device`. The device has just been seeded with
    /// the run's `init_seed`; parameters left lazy are drawn right after this returns
    /// (see the [module docs](self#seeding)), so the weights depend on that seed alone.
    /// `spec` is the run's: a model may read its options (`dropout`, `width`, `depth`,
    /// `kernel`, `preset`, …); it must not draw from any other source of randomness.
    fn build(input: &ModelInput, spec: &RunSpec, device: &Device) -> Result<Self>;

    /// Logits `[batch, classes]` for images `[batch, channels, height, width]` (pixels
    /// in `[0, 1]`). On an autodiff device the model is training (dropout and batch
    /// statistics on); after `valid()`, on the plain device, it is evaluating.
    fn forward(&self, images: Tensor<4>) -> Tensor<2>;

    /// Trainable parameters, for the record (default: burn's count of the module's
    /// float parameters).
    fn params(&self) -> usize {
        self.num_params()
    }

    /// Forward FLOPs per example, for the record and the sweep's cost model (default 0:
    /// unknown, which the cost model then does not calibrate on).
    fn flops(&self) -> u64 {
        0
    }
}

/// A [`Classifier`] with its type erased, as the training loop, evaluation and the
/// registry hold it: every `Classifier` is one.
pub trait DynClassifier: Send + fmt::Debug {
    /// [`Classifier::forward`].
    fn forward(&self, images: Tensor<4>) -> Tensor<2>;

    /// The gradients of `loss` (computed from this model's output on an autodiff device)
    /// with respect to this model's parameters.
    fn gradients(&self, loss: &Tensor<1>) -> GradientsParams;

    /// The model after one step of `optimizer` at learning rate `lr` along `grads`.
    fn step(
        self: Box<Self>,
        optimizer: &mut ModuleOptimizer,
        lr: f64,
        grads: GradientsParams,
    ) -> Box<dyn DynClassifier>;

    /// The model for evaluation: on the plain device, not training (burn's `valid`).
    fn valid(&self) -> Box<dyn DynClassifier>;

    /// The model with every parameter copied, value for value, onto the autodiff device
    /// `device`, which may belong to another backend, ready to train there (burn's
    /// `fork`, then `train`, which turns gradients back on: the copies are new leaves).
    /// Call it on a [`valid`] model: burn moves a tensor between backends only off
    /// autodiff.
    ///
    /// [`valid`]: DynClassifier::valid
    fn fork_to(self: Box<Self>, device: &Device) -> Box<dyn DynClassifier>;

    /// [`Classifier::params`].
    fn params(&self) -> usize;

    /// [`Classifier::flops`].
    fn flops(&self) -> u64;

    /// The model with the one weight `seed` chooses moved by one unit in the last place,
    /// and which weight that was ([`crate::nudge()`]: the `nudge` variance source).
    fn nudge(self: Box<Self>, seed: u64) -> Result<(Box<dyn DynClassifier>, Nudge)>;

    /// Every float parameter with its path and values, in visiting order
    /// ([`crate::float_parameters`]).
    fn float_parameters(&self) -> Result<Vec<(String, Vec<f32>)>>;
}

impl<M: Classifier> DynClassifier for M {
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        Classifier::forward(self, images)
    }

    fn gradients(&self, loss: &Tensor<1>) -> GradientsParams {
        GradientsParams::from_grads(loss.backward(), self)
    }

    fn step(
        self: Box<Self>,
        optimizer: &mut ModuleOptimizer,
        lr: f64,
        grads: GradientsParams,
    ) -> Box<dyn DynClassifier> {
        Box::new(optimizer.step(lr, *self, grads))
    }

    fn valid(&self) -> Box<dyn DynClassifier> {
        Box::new(Module::valid(self))
    }

    fn fork_to(self: Box<Self>, device: &Device) -> Box<dyn DynClassifier> {
        Box::new(Module::train(Module::fork(*self, device)))
    }

    fn params(&self) -> usize {
        Classifier::params(self)
    }

    fn flops(&self) -> u64 {
        Classifier::flops(self)
    }

    fn nudge(self: Box<Self>, seed: u64) -> Result<(Box<dyn DynClassifier>, Nudge)> {
        let (model, nudge) = crate::nudge::nudge(*self, seed)?;
        Ok((Box::new(model), nudge))
    }

    fn float_parameters(&self) -> Result<Vec<(String, Vec<f32>)>> {
        crate::nudge::float_parameters(self)
    }
}

/// Draws every lazily initialised parameter of a module, in field order.
struct Materialize;

impl ModuleVisitor for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }

    fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<D, Int>>) {
        let _ = param.val();
    }

    fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<D, Bool>>) {
        let _ = param.val();
    }
}

/// How a registered model is built.
type Builder =
    Arc<dyn Fn(&ModelInput, &RunSpec, &Device) -> Result<Box<dyn DynClassifier>> + Send + Sync>;

/// Models by name: the standard ones ([`Models::standard`]) and those a program adds
/// ([`Models::with`]). A spec's `model` names one; [`Models::build`] builds it.
#[derive(Clone)]
pub struct Models {
    builders: BTreeMap<String, Builder>,
}

impl Models {
    /// A registry with no model at all.
    pub fn empty() -> Models {
        Models { builders: BTreeMap::new() }
    }

    /// The standard models: the write-up's `simple`, `two-conv` and `complex`, and the
    /// configurable `cnn` family, all built as a [`Cnn`] from the spec
    /// ([`crate::Architecture::for_spec`]).
    pub fn standard() -> Models {
        let mut models = Models::empty();
        for name in ModelName::ALL {
            models.builders.insert(name.as_str().to_string(), erased::<Cnn>());
        }
        models
    }

    /// This registry with `M` registered as `name`.
    ///
    /// # Panics
    /// If `name` is taken or not a possible custom model name ([`Models::register`]
    /// says why): a mistake in the program, found when it starts.
    pub fn with<M: Classifier>(mut self, name: &str) -> Models {
        if let Err(e) = self.register::<M>(name) {
            panic!("{e}");
        }
        self
    }

    /// Registers `M` as `name`: lower-case ASCII letters, digits, `-` and `_`, starting
    /// with a letter, neither a standard model's name nor one registered already.
    pub fn register<M: Classifier>(&mut self, name: &str) -> Result<()> {
        self.register_builder(name, erased::<M>())
    }

    /// Registers a function that builds the model `name` (for a model type that needs
    /// more than [`Classifier::build`], e.g. one type under several names).
    pub fn register_fn<F>(&mut self, name: &str, build: F) -> Result<()>
    where
        F: Fn(&ModelInput, &RunSpec, &Device) -> Result<Box<dyn DynClassifier>>
            + Send
            + Sync
            + 'static,
    {
        self.register_builder(name, Arc::new(build))
    }

    fn register_builder(&mut self, name: &str, builder: Builder) -> Result<()> {
        let bad = |why: String| Err(Error::model(name, format!("cannot register it: {why}")));
        match ModelName::parse(name) {
            Ok(ModelName::Custom(_)) => {}
            Ok(_) => return bad("that is a standard model's name".into()),
            Err(e) => return bad(e),
        }
        if self.builders.contains_key(name) {
            return bad("a model of that name is registered already".into());
        }
        self.builders.insert(name.to_string(), builder);
        Ok(())
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.builders.keys().map(String::as_str).collect()
    }

    /// Whether `model` is registered.
    pub fn contains(&self, model: &ModelName) -> bool {
        self.builders.contains_key(model.as_str())
    }

    /// An error unless `model` is registered, naming `location` (a file or flag) and
    /// the models that are.
    pub fn check(&self, model: &ModelName, location: &str) -> Result<()> {
        if self.contains(model) {
            return Ok(());
        }
        Err(Error::field(
            location,
            "model",
            format!(
                "`{model}` is not a model of this program; it knows {} (a custom model is \
                 trained by the program that registers it)",
                self.names().join(", ")
            ),
        ))
    }

    /// Builds the model `spec.model` for `input` on `device` (seeded by the caller with
    /// the run's `init_seed`), and draws every parameter it left lazy, in field order,
    /// before returning (see the [module docs](self#seeding)).
    pub fn build(
        &self,
        input: &ModelInput,
        spec: &RunSpec,
        device: &Device,
    ) -> Result<Box<dyn DynClassifier>> {
        self.check(&spec.model, "spec")?;
        let build = &self.builders[spec.model.as_str()];
        build(input, spec, device)
    }
}

/// The builder of `M`: [`Classifier::build`], then every lazy parameter drawn.
fn erased<M: Classifier>() -> Builder {
    Arc::new(|input, spec, device| {
        let model = M::build(input, spec, device)?;
        model.visit(&mut Materialize);
        Ok(Box::new(model) as Box<dyn DynClassifier>)
    })
}

impl Default for Models {
    /// [`Models::standard`].
    fn default() -> Models {
        Models::standard()
    }
}

impl fmt::Debug for Models {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Models").field(&self.names()).finish()
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use burn::nn::{Linear, LinearConfig};

    use super::*;

    /// A model built with burn's (lazy) layer configs.
    #[derive(Module, Debug)]
    struct Lazy {
        dense: Linear,
    }

    impl Classifier for Lazy {
        fn build(input: &ModelInput, _: &RunSpec, device: &Device) -> Result<Self> {
            let pixels = input.channels * input.height * input.width;
            Ok(Lazy { dense: LinearConfig::new(pixels, input.classes).init(device) })
        }

        fn forward(&self, images: Tensor<4>) -> Tensor<2> {
            self.dense.forward(images.flatten(1, 3))
        }
    }

    /// Counts the parameters of a module that are (not) initialised yet.
    #[derive(Default)]
    struct Initialised {
        yes: usize,
        no: usize,
    }

    impl ModuleVisitor for Initialised {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if param.is_initialized() { self.yes += 1 } else { self.no += 1 }
        }
    }

    /// burn's layer configs leave parameters lazy, to be drawn at first use (after the
    /// device is re-seeded for dropout); the registry's build draws them all at once,
    /// while the device still holds the init seed. (Checked structurally: the device's
    /// seed is process-global, and other tests draw from it concurrently.)
    #[test]
    fn lazy_parameters_are_drawn_when_the_model_is_built() {
        let device = Device::flex();
        let spec = RunSpec { model: ModelName::Custom("lazy".into()), ..RunSpec::default() };
        let input = ModelInput { channels: 1, height: 2, width: 2, classes: 3 };
        let mut lazy = Initialised::default();
        Lazy::build(&input, &spec, &device).expect("builds").visit(&mut lazy);
        assert_eq!((lazy.yes, lazy.no), (0, 2), "burn's Linear is lazy");

        let models = Models::standard().with::<Probe>("probe");
        let spec = RunSpec { model: ModelName::Custom("probe".into()), ..spec };
        let built = models.build(&input, &spec, &device).expect("builds");
        assert_eq!(built.params(), 4 * 3 + 3);
        let x = Tensor::<4>::ones([1, 1, 2, 2], &device);
        let counts = built.forward(x).into_data().try_to_vec::<f32>().expect("f32");
        assert_eq!(counts, [2.0, 0.0], "initialised and lazy parameters at the first forward");
    }

    /// A [`Lazy`] whose output is how many of its parameters are initialised and how
    /// many are not, as it finds them (before touching any).
    #[derive(Module, Debug)]
    struct Probe {
        inner: Lazy,
    }

    impl Classifier for Probe {
        fn build(input: &ModelInput, spec: &RunSpec, device: &Device) -> Result<Self> {
            Ok(Probe { inner: Lazy::build(input, spec, device)? })
        }

        fn forward(&self, images: Tensor<4>) -> Tensor<2> {
            let mut count = Initialised::default();
            self.visit(&mut count);
            let data =
                burn::tensor::TensorData::new(vec![count.yes as f32, count.no as f32], [1, 2]);
            Tensor::from_data(data, &images.device())
        }
    }

    /// Standard names are the standard models; custom names must be free and well
    /// formed; an unknown model is refused naming the known ones.
    #[test]
    fn the_registry_names_its_models() {
        let models = Models::standard().with::<Lazy>("lazy");
        assert_eq!(models.names(), ["cnn", "complex", "lazy", "simple", "two-conv"]);
        let mut again = models.clone();
        for name in ["lazy", "simple", "Bad Name"] {
            let e = again.register::<Lazy>(name).expect_err(name).to_string();
            assert!(e.contains(name), "{e}");
        }
        let unknown = RunSpec { model: ModelName::Custom("resnet".into()), ..RunSpec::default() };
        let device = Device::flex();
        let input = ModelInput::new(ImageShape::MNIST, 10);
        let e = models.build(&input, &unknown, &device).expect_err("unknown").to_string();
        assert!(e.contains("`resnet`") && e.contains("cnn, complex, lazy"), "{e}");
        let simple = models.build(&input, &RunSpec::default(), &device).expect("simple");
        assert_eq!(simple.params(), 54_410);
        assert_eq!(
            format!("{models:?}"),
            "Models([\"cnn\", \"complex\", \"lazy\", \"simple\", \"two-conv\"])"
        );
    }
}
