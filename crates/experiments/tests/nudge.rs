//! The `rerun`, `nudge` and `backend` variance sources in the training harness, on flex
//! and every other CPU backend compiled in: the same seeds give bit-identical initial
//! weights (a rerun's number changes nothing) and bit-identical training; a nudge seed
//! moves exactly one weight by exactly one unit in the last place, which still trains;
//! weights drawn on one backend train on another unchanged. Backends' seeds are
//! process-global, so these tests take turns ([`DEVICE`]) and live in their own test
//! binary.
#![cfg(feature = "flex")]

use std::sync::Mutex;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Distribution, Int, Tensor, TensorData};
use cnnvar_core::{Backend, ImageShape, Nudge, Preset, RunSpec};
use cnnvar_experiments::optimizer;
use cnnvar_experiments::train::initial_model;
use cnnvar_models::{DynClassifier, ModelInput, Models};

/// Held while a test seeds and draws from the device.
static DEVICE: Mutex<()> = Mutex::new(());

type Weights = Vec<(String, Vec<f32>)>;

fn spec() -> RunSpec {
    RunSpec {
        backend: Backend::Flex,
        init_seed: 11,
        order_seed: 12,
        subset_seed: 13,
        ..RunSpec::default()
    }
}

/// The model of `spec` as the harness starts training it, on the autodiff device.
fn initial(spec: &RunSpec) -> (Box<dyn DynClassifier>, Option<Nudge>, burn::tensor::Device) {
    let device = spec.backend.device().expect("a compiled backend");
    let ad = device.clone().autodiff();
    let input = ModelInput::new(ImageShape::MNIST, 10);
    let (model, nudge) =
        initial_model(spec, &Models::standard(), &input, &device, &ad).expect("builds");
    (model, nudge, ad)
}

fn weights(spec: &RunSpec) -> (Weights, Option<Nudge>) {
    let _turn = DEVICE.lock().unwrap_or_else(|e| e.into_inner());
    let (model, nudge, _) = initial(spec);
    (model.float_parameters().expect("f32 weights"), nudge)
}

/// Every element at which `a` and `b` differ: parameter, index and both values.
fn differences(a: &Weights, b: &Weights) -> Vec<(String, usize, f32, f32)> {
    assert_eq!(a.len(), b.len());
    let mut out = Vec::new();
    for ((name, x), (other, y)) in a.iter().zip(b) {
        assert_eq!((name, x.len()), (other, y.len()));
        for (i, (u, v)) in x.iter().zip(y).enumerate() {
            if u.to_bits() != v.to_bits() {
                out.push((name.clone(), i, *u, *v));
            }
        }
    }
    out
}

/// Two builds from the same seeds are bit-identical, a rerun number changes nothing,
/// another init seed changes (nearly) everything.
#[test]
fn the_same_seeds_give_bit_identical_initial_weights() {
    let (a, none) = weights(&spec());
    let (b, _) = weights(&spec());
    assert_eq!(none, None);
    assert_eq!(a.len(), 4, "{:?}", a.iter().map(|(n, _)| n).collect::<Vec<_>>());
    assert!(differences(&a, &b).is_empty());
    let (rerun, _) = weights(&RunSpec { rerun: 3, ..spec() });
    assert!(differences(&a, &rerun).is_empty(), "a rerun trains as the run it repeats");
    let (other, _) = weights(&RunSpec { init_seed: 99, ..spec() });
    assert!(differences(&a, &other).len() > 50_000, "another init seed, other weights");
}

/// A nudge seed moves exactly one weight, a non-zero one, to the adjacent `f32` (bits
/// differ by one), and the run says which; different seeds move different weights.
#[test]
fn a_nudge_moves_exactly_one_weight_by_one_ulp() {
    for preset in [Preset::Keras, Preset::Burn] {
        let base = RunSpec { preset, ..spec() };
        let (plain, _) = weights(&base);
        let mut moved = std::collections::BTreeSet::new();
        for seed in [0u64, 1, 2, 3, 2_412_040_665_073_568] {
            let (nudged, nudge) = weights(&RunSpec { nudge_seed: Some(seed), ..base.clone() });
            let diff = differences(&plain, &nudged);
            assert_eq!(diff.len(), 1, "{preset:?} seed {seed}: {diff:?}");
            let (name, index, before, after) = diff[0].clone();
            assert_eq!(before.to_bits().abs_diff(after.to_bits()), 1, "{before} → {after}");
            assert_ne!(before, 0.0);
            let nudge = nudge.expect("the record's nudge");
            assert_eq!(nudge, Nudge { parameter: name.clone(), index, before, after });
            moved.insert((name, index));
        }
        assert_eq!(moved.len(), 5, "{moved:?}");
    }
}

/// The nudged parameter still takes gradients: one Adam step moves every parameter.
#[test]
fn a_nudged_model_trains_every_parameter() {
    let _turn = DEVICE.lock().unwrap_or_else(|e| e.into_inner());
    let spec = RunSpec { nudge_seed: Some(7), ..spec() };
    let (model, nudge, ad) = initial(&spec);
    let before = model.float_parameters().expect("f32");
    let x = Tensor::<4>::random([8, 1, 28, 28], Distribution::Uniform(0.0, 1.0), &ad);
    let y = Tensor::<1, Int>::from_data(TensorData::new((0..8i64).collect::<Vec<_>>(), [8]), &ad);
    let loss = CrossEntropyLossConfig::new().init(&ad).forward(model.forward(x), y);
    let grads = model.gradients(&loss);
    let mut adam = optimizer::build(&spec);
    let stepped = model.step(&mut adam, spec.lr, grads);
    let after = stepped.float_parameters().expect("f32");
    for ((name, a), (_, b)) in before.iter().zip(&after) {
        assert!(a.iter().zip(b).any(|(u, v)| u != v), "`{name}` did not move");
    }
    let nudge = nudge.expect("nudged");
    let (_, moved) = after.iter().find(|(n, _)| *n == nudge.parameter).expect("the parameter");
    assert_ne!(moved[nudge.index].to_bits(), nudge.after.to_bits(), "the nudged weight trains");
}

/// The dropout masks follow the spec's dropout stream and nothing else: an explicit
/// `dropout_seed` equal to the stream an unset one derives from the order seed trains
/// alike (so runs without the field are unchanged), another seed draws other masks, and
/// neither touches the initial weights.
#[test]
fn dropout_masks_follow_their_own_seed() {
    let _turn = DEVICE.lock().unwrap_or_else(|e| e.into_inner());
    let base = RunSpec { dropout: Some(0.5), ..spec() };
    let forward = |s: &RunSpec| -> (Weights, Vec<f32>) {
        let (model, _, ad) = initial(s);
        let x = Tensor::<4>::ones([4, 1, 28, 28], &ad);
        let out = model.forward(x).into_data().try_to_vec::<f32>().expect("f32 logits");
        (model.float_parameters().expect("f32 weights"), out)
    };
    let (weights, unset) = forward(&base);
    let derived = RunSpec { dropout_seed: Some(base.dropout_stream_seed()), ..base.clone() };
    assert_eq!(derived.dropout_stream_seed(), base.order_seed ^ RunSpec::DROPOUT_SCRAMBLE);
    let (same_weights, same) = forward(&derived);
    assert!(differences(&weights, &same_weights).is_empty());
    assert_eq!(
        unset.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        same.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    let (other_weights, other) = forward(&RunSpec { dropout_seed: Some(5), ..base.clone() });
    assert!(differences(&weights, &other_weights).is_empty(), "the weights are the init seed's");
    assert_ne!(unset, other, "another dropout seed, other masks");
    // The same input twice through one model draws two masks: dropout is on.
    let (_, again) = forward(&base);
    assert_eq!(unset, again);
}

/// The CPU backends this build has, flex first.
fn cpu_backends() -> Vec<Backend> {
    [Backend::Flex, Backend::Ndarray, Backend::Tch]
        .into_iter()
        .filter(|b| b.is_compiled())
        .collect()
}

/// The weights of `spec`'s initial model after `steps` Adam steps on fixed batches
/// (pixels and labels from a fixed formula, nothing drawn from the device).
fn trained(spec: &RunSpec, steps: usize) -> Weights {
    let (mut model, _, ad) = initial(spec);
    let mut adam = optimizer::build(spec);
    for step in 0..steps {
        let pixels: Vec<f32> =
            (0..8 * 28 * 28).map(|i| ((i * 7 + step * 13) % 256) as f32 / 255.0).collect();
        let x = Tensor::<4>::from_data(TensorData::new(pixels, [8, 1, 28, 28]), &ad);
        let labels: Vec<i64> = (0..8).map(|i| ((i + step) % 10) as i64).collect();
        let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [8]), &ad);
        let loss = CrossEntropyLossConfig::new().init(&ad).forward(model.forward(x), y);
        let grads = model.gradients(&loss);
        model = model.step(&mut adam, spec.lr, grads);
    }
    model.float_parameters().expect("f32 weights")
}

/// A rerun trains bit-identically to the run it repeats on every CPU backend compiled
/// in (flex, ndarray, tch): the `rerun` source's zero spread is a property of the
/// backend, checked here, not assumed. Each backend's training really moves the weights.
#[test]
fn a_rerun_trains_bit_identically_on_each_cpu_backend() {
    let _turn = DEVICE.lock().unwrap_or_else(|e| e.into_inner());
    for backend in cpu_backends() {
        let spec = RunSpec { backend, ..spec() };
        let (start, _, _) = initial(&spec);
        let start = start.float_parameters().expect("f32");
        let first = trained(&spec, 3);
        let again = trained(&RunSpec { rerun: 1, ..spec.clone() }, 3);
        assert!(differences(&first, &again).is_empty(), "{backend}: a rerun differs");
        let moved = differences(&start, &first).len();
        assert!(moved > 40_000, "{backend}: training moved {moved} weights");
    }
}

/// A spec with a `weights_backend` starts from exactly the weights that backend draws
/// (bit for bit, whatever the training backend would draw itself) and trains them on
/// its own backend; for the same start, two backends' training differs only in the
/// arithmetic (a little, not everywhere as another init seed would).
#[test]
fn weights_drawn_on_one_backend_train_on_another() {
    let _turn = DEVICE.lock().unwrap_or_else(|e| e.into_inner());
    let flex = spec();
    let (drawn, _, _) = initial(&flex);
    let drawn = drawn.float_parameters().expect("f32");
    let flex_trained = trained(&flex, 2);
    for other in cpu_backends().into_iter().filter(|b| *b != Backend::Flex) {
        let moved =
            RunSpec { backend: other, weights_backend: Some(Backend::Flex), ..flex.clone() };
        let (model, _, _) = initial(&moved);
        let start = model.float_parameters().expect("f32");
        assert!(differences(&drawn, &start).is_empty(), "{other}: not flex's weights");
        let own = RunSpec { backend: other, ..flex.clone() };
        let (own_model, _, _) = initial(&own);
        if other == Backend::Tch {
            let own_start = own_model.float_parameters().expect("f32");
            assert!(differences(&drawn, &own_start).len() > 50_000, "tch draws its own weights");
        }
        let other_trained = trained(&moved, 2);
        let changed = differences(&flex_trained, &other_trained);
        let total: usize = drawn.iter().map(|(_, v)| v.len()).sum();
        for (name, i, a, b) in &changed {
            let scale = a.abs().max(b.abs()).max(1e-3);
            assert!((a - b).abs() <= 1e-3 * scale, "{other}: `{name}`[{i}] {a} vs {b}");
        }
        assert!(changed.len() < total, "{other}: every weight differs");
        // Nothing of flex's own run changed by training on another backend in between.
        assert!(differences(&flex_trained, &trained(&flex, 2)).is_empty());
    }
}
