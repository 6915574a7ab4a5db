//! The `nudge` variance source: one weight of an initialised model moved by one unit
//! in the last place before training ([`cnnvar_core::RunSpec::nudge_seed`]).
//!
//! Which weight, from the nudge seed alone: a splitmix64 stream seeded with it draws
//! `k` uniformly (multiply-shift) from `[0, N)`, where `N` counts the non-zero elements
//! of all the model's float parameters, taken in the module's visiting order (its
//! fields' order) and each parameter in row-major order; the `k`-th such element moves.
//! The stream's next draw says which way: its top bit set moves the magnitude up (the
//! bit pattern plus one), else down (minus one), so the value changes to an adjacent
//! `f32` and its bits differ by exactly one ([`nudge_value`]). Zeros are never chosen:
//! the nearest non-zero `f32` to a zero is a subnormal of 1.4e-45, which vanishes in
//! the first update it is added to (and which some devices flush to zero), so moving
//! a zero (the Keras preset's biases) would leave the run the reference run. A model's
//! weights must be `f32` to be nudged.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{DType, Tensor, TensorData};
use cnnvar_core::{Error, Nudge, Result};

/// The adjacent `f32` of `x` of larger magnitude (`up`) or smaller: the bit pattern
/// plus or minus one. The largest finite magnitude only moves down, so the result is
/// always finite; a zero or a non-finite `x` is returned as it is (never nudged).
pub fn nudge_value(x: f32, up: bool) -> f32 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let bits = x.to_bits();
    let up = up && (bits & 0x7fff_ffff) < f32::MAX.to_bits();
    f32::from_bits(if up { bits + 1 } else { bits - 1 })
}

/// Whether an element may be nudged: non-zero and finite.
fn candidate(x: f32) -> bool {
    x != 0.0 && x.is_finite()
}

/// Every float parameter of a module with its path (`blocks.0.conv.weight`) and
/// values, in visiting order; stops at the first parameter that is not `f32`.
#[derive(Default)]
struct Census {
    path: Vec<String>,
    params: Vec<(String, Vec<f32>)>,
    error: Option<String>,
}

impl ModuleVisitor for Census {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.error.is_some() {
            return;
        }
        let name = self.path.join(".");
        match param.val().into_data().try_to_vec::<f32>() {
            Ok(values) => self.params.push((name, values)),
            Err(e) => self.error = Some(format!("parameter `{name}` is not f32: {e:?}")),
        }
    }
}

/// Every float parameter of `module`, with its path in the module's fields
/// (`dense.0.weight`) and its values in row-major order, in visiting order.
pub fn float_parameters<M: Module>(module: &M) -> Result<Vec<(String, Vec<f32>)>> {
    let mut census = Census::default();
    module.visit(&mut census);
    match census.error {
        Some(e) => Err(Error::compute("reading the weights", e)),
        None => Ok(census.params),
    }
}

/// Which element `seed` moves, and which way, among `params` (path and values, in
/// visiting order): the parameter's position, the element's index in it, and `up`.
/// `None` when no element is a candidate (every weight zero).
fn choose(params: &[(String, Vec<f32>)], seed: u64) -> Option<(usize, usize, bool)> {
    let total: usize =
        params.iter().map(|(_, v)| v.iter().filter(|x| candidate(**x)).count()).sum();
    if total == 0 {
        return None;
    }
    let mut rng = cnnvar_core::SplitMix64(seed);
    let mut k = rng.below_scaled(total);
    let up = rng.next() >> 63 == 1;
    for (p, (_, values)) in params.iter().enumerate() {
        let here = values.iter().filter(|x| candidate(**x)).count();
        if k < here {
            let index =
                values.iter().enumerate().filter(|(_, x)| candidate(**x)).nth(k).map(|(i, _)| i)?;
            return Some((p, index, up));
        }
        k -= here;
    }
    None
}

/// Replaces element `index` of the `target`-th float parameter (in visiting order) by
/// `value`, keeping the parameter's id, device and whether it takes gradients.
struct SetOne {
    seen: usize,
    target: usize,
    index: usize,
    value: f32,
    error: Option<String>,
}

impl ModuleMapper for SetOne {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let ordinal = self.seen;
        self.seen += 1;
        if ordinal != self.target {
            return param;
        }
        let (id, tensor, mapper) = param.consume();
        if tensor.dtype() != DType::F32 {
            self.error = Some(format!("the weights are {:?}, not f32", tensor.dtype()));
            return Param::from_mapped_value(id, tensor, mapper);
        }
        let (device, require_grad) = (tensor.device(), tensor.is_require_grad());
        let mut data: TensorData = tensor.clone().into_data();
        match data.as_mut_slice::<f32>() {
            Ok(values) if self.index < values.len() => values[self.index] = self.value,
            Ok(values) => {
                self.error = Some(format!("index {} beyond {} weights", self.index, values.len()));
                return Param::from_mapped_value(id, tensor, mapper);
            }
            Err(e) => {
                self.error = Some(format!("the weights cannot be written: {e:?}"));
                return Param::from_mapped_value(id, tensor, mapper);
            }
        }
        let mut moved = Tensor::<D>::from_data(data, (&device, DType::F32));
        if require_grad {
            moved = moved.require_grad();
        }
        Param::from_mapped_value(id, moved, mapper)
    }
}

/// `module` with the one weight `seed` chooses moved by one unit in the last place
/// (see the [module docs](self)), and which weight that was. An error when the
/// module has no non-zero weight or its weights are not `f32`.
pub fn nudge<M: Module>(module: M, seed: u64) -> Result<(M, Nudge)> {
    let params = float_parameters(&module)?;
    let (target, index, up) = choose(&params, seed)
        .ok_or_else(|| Error::compute("nudge_seed", "the model has no non-zero weight to move"))?;
    let (name, values) = &params[target];
    let before = values[index];
    let after = nudge_value(before, up);
    let mut set = SetOne { seen: 0, target, index, value: after, error: None };
    let module = module.map(&mut set);
    if let Some(e) = set.error {
        return Err(Error::compute("nudge_seed", format!("parameter `{name}`: {e}")));
    }
    Ok((module, Nudge { parameter: name.clone(), index, before, after }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One ulp each way: the bits differ by one, the magnitude moves as asked, the sign
    /// stays, and nothing becomes infinite or is moved from zero.
    #[test]
    fn a_nudge_moves_one_unit_in_the_last_place() {
        for x in [1.0f32, -1.0, 0.3, -2.5e-3, 1e-38, -7e-45, f32::MAX, f32::MIN_POSITIVE] {
            for up in [true, false] {
                let y = nudge_value(x, up);
                assert_eq!(x.to_bits().abs_diff(y.to_bits()), 1, "{x} {up}: {y}");
                assert!(y.is_finite() && y.is_sign_negative() == x.is_sign_negative());
                let bigger = y.abs() > x.abs();
                let at_max = x.abs() == f32::MAX;
                assert_eq!(bigger, up && !at_max, "{x} {up}: {y}");
            }
        }
        assert_eq!(nudge_value(1.0, true), 1.0 + f32::EPSILON);
        assert_eq!(nudge_value(0.0, true).to_bits(), 0);
        assert!(nudge_value(f32::NAN, true).is_nan());
    }

    /// The choice is uniform over the non-zero weights, skips zeros, and depends on the
    /// seed alone.
    #[test]
    fn the_seed_chooses_a_non_zero_weight() {
        let params = vec![
            ("a".to_string(), vec![0.0, 1.0, 0.0, 2.0]),
            ("b".to_string(), vec![0.0; 3]),
            ("c".to_string(), vec![3.0, 0.0, 4.0, 5.0]),
        ];
        let mut hits = std::collections::BTreeMap::new();
        let mut ups = 0;
        for seed in 0..5000u64 {
            let (p, i, up) = choose(&params, seed).expect("a candidate");
            assert_ne!(params[p].1[i], 0.0);
            *hits.entry((p, i)).or_insert(0usize) += 1;
            ups += usize::from(up);
            assert_eq!(choose(&params, seed), Some((p, i, up)));
        }
        assert_eq!(hits.len(), 5, "{hits:?}");
        assert!(hits.values().all(|&n| (850..1150).contains(&n)), "{hits:?}");
        assert!((2300..2700).contains(&ups), "{ups}");
        assert_eq!(choose(&[("z".into(), vec![0.0; 4])], 1), None);
    }
}
