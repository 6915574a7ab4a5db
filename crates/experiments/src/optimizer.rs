//! Builds burn's optimizer for a [`RunSpec`], with the constants of its [`Preset`].

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, RmsPropConfig, SgdConfig};
use cnnvar_core::{OptimizerName, Preset, RunSpec};

/// The optimizer constants a spec resolves to and training applies. They are not stored
/// in the record: they follow from the spec (its preset), which the record holds.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OptimizerSettings {
    /// Which optimizer.
    pub optimizer: OptimizerName,
    /// Epsilon (Adam, RMSprop).
    pub epsilon: f32,
    /// Momentum (SGD, RMSprop).
    pub momentum: f64,
    /// Momentum dampening (SGD).
    pub dampening: f64,
    /// Decay of the squared-gradient average (RMSprop's rho / alpha).
    pub rho: f32,
    /// L2 penalty added to each gradient (coupled weight decay, as PyTorch's
    /// `weight_decay`); 0: none.
    pub weight_decay: f64,
}

/// Resolves the optimizer constants of `spec` from its preset: `keras` takes Keras 3's
/// defaults (epsilon 1e-7, RMSprop rho 0.9), `burn` burn 0.22's own configs' (epsilon
/// 1e-5, rho 0.99).
pub fn settings(spec: &RunSpec) -> OptimizerSettings {
    let keras = spec.preset == Preset::Keras;
    let resolved = spec.resolved();
    OptimizerSettings {
        optimizer: spec.optimizer,
        epsilon: if keras { 1e-7 } else { 1e-5 },
        momentum: resolved.momentum,
        dampening: if keras { 0.0 } else { 0.1 },
        rho: if keras { 0.9 } else { 0.99 },
        weight_decay: resolved.weight_decay,
    }
}

/// The burn optimizer for `spec`.
pub fn build(spec: &RunSpec) -> ModuleOptimizer {
    let s = settings(spec);
    let decay = (s.weight_decay > 0.0).then(|| WeightDecayConfig::new(s.weight_decay as f32));
    match s.optimizer {
        OptimizerName::Adam => {
            AdamConfig::new().with_epsilon(s.epsilon).with_weight_decay(decay).init()
        }
        OptimizerName::Sgd => {
            let momentum = (s.momentum > 0.0).then_some(MomentumConfig {
                momentum: s.momentum,
                dampening: s.dampening,
                nesterov: false,
            });
            SgdConfig::new().with_momentum(momentum).with_weight_decay(decay).init()
        }
        OptimizerName::Rmsprop => RmsPropConfig::new()
            .with_alpha(s.rho)
            .with_momentum(s.momentum as f32)
            .with_epsilon(s.epsilon)
            .with_weight_decay(decay)
            .init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_preset_matches_keras_defaults() {
        let spec = RunSpec { optimizer: OptimizerName::Rmsprop, ..RunSpec::default() };
        let s = settings(&spec);
        assert_eq!((s.epsilon, s.momentum, s.rho), (1e-7, 0.0, 0.9));
        let burn = settings(&RunSpec { preset: Preset::Burn, ..spec });
        assert_eq!((burn.epsilon, burn.momentum, burn.rho), (1e-5, 0.9, 0.99));
    }
}
