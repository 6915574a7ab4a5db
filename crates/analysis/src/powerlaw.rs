//! Learning-curve fits: test error against training-set size as a power law,
//! `error ≈ a · n^(−b)`, fitted by least squares on log–log axes over every run.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::stats::CONFIDENCE;
use crate::ExperimentStats;

/// A fitted power law.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PowerLaw {
    /// Scale `a`.
    pub scale: f64,
    /// Exponent `b` (error falls as n^−b).
    pub exponent: f64,
    /// 95% interval of the exponent.
    pub exponent_ci: (f64, f64),
    /// R² of the log–log fit.
    pub r_squared: f64,
    /// Runs used.
    pub n: usize,
}

/// Fits `error = a · size^(−b)` to (size, error) points (sizes and errors > 0).
pub fn fit(points: &[(f64, f64)]) -> Option<PowerLaw> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|(s, e)| *s > 0.0 && *e > 0.0 && s.is_finite() && e.is_finite())
        .map(|(s, e)| (s.ln(), e.ln()))
        .collect();
    let n = pts.len();
    if n < 3 {
        return None;
    }
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let ss_res: f64 = pts.iter().map(|p| (p.1 - intercept - slope * p.0).powi(2)).sum();
    let ss_tot: f64 = pts.iter().map(|p| (p.1 - my).powi(2)).sum();
    let se = (ss_res / (n - 2) as f64 / sxx).sqrt();
    let t = StudentsT::new(0.0, 1.0, (n - 2) as f64).ok()?.inverse_cdf(0.5 + CONFIDENCE / 2.0);
    Some(PowerLaw {
        scale: intercept.exp(),
        exponent: -slope,
        exponent_ci: (-slope - t * se, -slope + t * se),
        r_squared: if ss_tot > 0.0 { 1.0 - ss_res / ss_tot } else { 1.0 },
        n,
    })
}

/// The power-law fit of an experiment that varies `train_size` alone, over every
/// non-diverged run (levels whose label is the size).
pub fn learning_curve(exp: &ExperimentStats) -> Option<PowerLaw> {
    if exp.factors.as_slice() != ["train_size"] {
        return None;
    }
    let points: Vec<(f64, f64)> = exp
        .levels
        .iter()
        .filter_map(|l| l.label.parse::<f64>().ok().map(|n| (n, l)))
        .flat_map(|(n, l)| l.accuracies.iter().map(move |a| (n, 1.0 - a)))
        .collect();
    fit(&points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_power_law() {
        // error = 2 · n^-0.5, with small multiplicative noise.
        let noise = [1.01, 0.99, 1.02, 0.98, 1.0];
        let pts: Vec<(f64, f64)> = [250.0, 1000.0, 4000.0, 16000.0, 60000.0]
            .iter()
            .flat_map(|&n: &f64| noise.iter().map(move |k| (n, 2.0 * n.powf(-0.5) * k)))
            .collect();
        let f = fit(&pts).unwrap();
        assert!((f.exponent - 0.5).abs() < 0.01, "{}", f.exponent);
        assert!((f.scale - 2.0).abs() < 0.1, "{}", f.scale);
        assert!(f.exponent_ci.0 < 0.5 && 0.5 < f.exponent_ci.1);
        assert!(f.exponent_ci.1 - f.exponent_ci.0 < 0.05);
        assert!(f.r_squared > 0.99);
    }

    #[test]
    fn too_few_points() {
        assert!(fit(&[(1.0, 0.5), (2.0, 0.4)]).is_none());
        assert!(fit(&[(5.0, 0.5), (5.0, 0.4), (5.0, 0.3)]).is_none());
    }
}
