//! Group-sequential critical values. Lan–DeMets alpha spending fixes how much of a
//! one-sided level is spent by each look's information fraction; the critical values
//! on the normal scale that spend exactly that follow from the joint law of the
//! cumulative statistic (Brownian motion observed at the looks), computed by numerical
//! integration of its sub-density on the continuation region (Simpson's rule on a grid,
//! as in Jennison & Turnbull, *Group Sequential Methods*, 2000, ch. 19). Each critical
//! value becomes a nominal one-sided significance level, which a t-test at the look's
//! degrees of freedom applies (their §3.8 "significance level approach").

use std::f64::consts::{E, SQRT_2};

use serde::{Deserialize, Serialize};
use statrs::function::beta::checked_beta_reg;
use statrs::function::erf::{erfc, erfc_inv};

/// How the error rate is spent over the looks (Lan–DeMets spending functions of the
/// information fraction `t`, for a one-sided level `a`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Spending {
    /// O'Brien–Fleming type, `2 − 2Φ(z_{1−a/2} / √t)`: almost nothing early, nearly the
    /// whole level at the last look (the default: with 3 seeds a t-test has 2 degrees of
    /// freedom, so early looks could use little of what they were given anyway).
    #[default]
    #[serde(rename = "obrien-fleming")]
    OBrienFleming,
    /// Pocock type, `a · ln(1 + (e − 1) t)`: spends evenly, stops big effects sooner at
    /// the cost of power at the last look.
    #[serde(rename = "pocock")]
    Pocock,
}

/// Upper tail of the standard normal, `1 − Φ(z)`.
pub(super) fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / SQRT_2)
}

/// Upper quantile of the standard normal: `z` with `1 − Φ(z) = p`; `+∞` for `p ≤ 0`
/// and for NaN.
pub(super) fn normal_isf(p: f64) -> f64 {
    if p.is_nan() || p <= 0.0 { f64::INFINITY } else { SQRT_2 * erfc_inv(2.0 * p.min(1.0)) }
}

/// The one-sided level `alpha` spent by information fraction `t`.
pub(super) fn spent(spending: Spending, alpha: f64, t: f64) -> f64 {
    if t.is_nan() || t <= 0.0 || alpha.is_nan() || alpha <= 0.0 {
        return 0.0;
    }
    let t = t.min(1.0);
    match spending {
        Spending::OBrienFleming => 2.0 * normal_sf(normal_isf(alpha / 2.0) / t.sqrt()),
        Spending::Pocock => alpha * (1.0 + (E - 1.0) * t).ln(),
    }
}

/// Upper tail of Student's t with `df` degrees of freedom.
pub(super) fn t_sf(x: f64, df: f64) -> f64 {
    let p = checked_beta_reg(df / 2.0, 0.5, df / (df + x * x)).unwrap_or(f64::NAN);
    if x >= 0.0 { 0.5 * p } else { 1.0 - 0.5 * p }
}

/// Upper quantile of Student's t: `x` with `P(T_df > x) = p`, by bisection on `ln x`
/// (no panics; `+∞` for `p ≤ 0`, NaN `p`, `df < 1` or a quantile beyond 10^17; `0`
/// for `p ≥ 0.5`).
pub(super) fn t_isf(p: f64, df: f64) -> f64 {
    if p.is_nan() || p <= 0.0 || df.is_nan() || df < 1.0 {
        return f64::INFINITY;
    }
    if p >= 0.5 {
        return 0.0;
    }
    let (mut lo, mut hi) = (-20.0_f64, 40.0_f64);
    if t_sf(hi.exp(), df) > p {
        return f64::INFINITY;
    }
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if t_sf(mid.exp(), df) > p { lo = mid } else { hi = mid }
    }
    (0.5 * (lo + hi)).exp()
}

/// Standard deviations of the cumulative statistic kept below its mean on the grid
/// (and above it where no boundary cuts the region): the mass beyond is below 1e-15.
const SPAN: f64 = 8.0;
/// Grid points per standard deviation of the narrowest kernel the grid meets.
const PER_SD: f64 = 8.0;
/// Most grid points of one look (reached only with hundreds of looks).
const MAX_POINTS: usize = 4001;

/// Sub-density of the cumulative statistic on a look's continuation region: grid
/// points and density values with Simpson weights folded in.
struct Density {
    s: Vec<f64>,
    w: Vec<f64>,
}

/// Simpson's rule on `[lo, hi]` with spacing at most `h`: points and weights.
fn simpson(lo: f64, hi: f64, h: f64) -> (Vec<f64>, Vec<f64>) {
    if hi.is_nan() || lo.is_nan() || hi <= lo {
        return (Vec::new(), Vec::new());
    }
    let mut n = (((hi - lo) / h).ceil() as usize).clamp(2, MAX_POINTS - 1);
    n += n % 2;
    let step = (hi - lo) / n as f64;
    let points = (0..=n).map(|i| lo + step * i as f64).collect();
    let weights = (0..=n)
        .map(|i| {
            let f = if i == 0 || i == n {
                1.0
            } else if i % 2 == 1 {
                4.0
            } else {
                2.0
            };
            f * step / 3.0
        })
        .collect();
    (points, weights)
}

fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

impl Density {
    /// Probability of crossing `b` at the next look, `Δ` information later.
    fn crossing(&self, b: f64, sd: f64) -> f64 {
        self.s.iter().zip(&self.w).map(|(u, w)| w * normal_sf((b - u) / sd)).sum()
    }

    /// The upper point where the crossing probability first falls to `inc`; `+∞` when
    /// nothing is to be spent.
    fn boundary(&self, inc: f64, sd: f64) -> f64 {
        let top = self.s.last().copied().unwrap_or(0.0);
        let (mut lo, mut hi) =
            (self.s.first().copied().unwrap_or(0.0) - SPAN * sd, top + 40.0 * sd);
        if inc.is_nan() || inc <= 0.0 || self.crossing(hi, sd) >= inc {
            return f64::INFINITY;
        }
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if self.crossing(mid, sd) > inc { lo = mid } else { hi = mid }
        }
        0.5 * (lo + hi)
    }

    /// The sub-density on `[lo, hi]` at the next look, `Δ` information later.
    fn advance(&self, lo: f64, hi: f64, sd: f64, h: f64) -> Density {
        let (s, weights) = simpson(lo, hi, h);
        let w = s
            .iter()
            .zip(weights)
            .map(|(x, wx)| {
                let g: f64 = self
                    .s
                    .iter()
                    .zip(&self.w)
                    .filter(|(u, _)| ((x - *u) / sd).abs() < 12.0)
                    .map(|(u, wu)| wu * normal_pdf((x - u) / sd) / sd)
                    .sum();
                g * wx
            })
            .collect();
        Density { s, w }
    }
}

/// Critical values on the normal scale of a one-sided group-sequential test at level
/// `alpha` with looks at the increasing information `fractions` (the last 1): the
/// test rejects at the first look `k` with `Z_k ≥ c_k`, and the probability of that
/// under the null is the spending function's increment at each look. `+∞` where a look
/// has nothing to spend.
pub(super) fn z_boundaries(fractions: &[f64], alpha: f64, spending: Spending) -> Vec<f64> {
    let mut out = Vec::with_capacity(fractions.len());
    let mut density: Option<Density> = None;
    let mut prev_t = 0.0;
    for (k, &t) in fractions.iter().enumerate() {
        let sd = (t - prev_t).sqrt();
        let inc = spent(spending, alpha, t) - spent(spending, alpha, prev_t);
        let b = match &density {
            None => normal_isf(inc) * t.sqrt(),
            Some(d) => d.boundary(inc, sd),
        };
        out.push(b / t.sqrt());
        let next_sd = fractions.get(k + 1).map_or(sd, |n| (n - t).sqrt());
        let h = sd.min(next_sd).min(t.sqrt()) / PER_SD;
        let (lo, hi) = (-SPAN * t.sqrt(), b.min(SPAN * t.sqrt()));
        density = Some(match &density {
            None => {
                let (s, weights) = simpson(lo, hi, h);
                let w = s.iter().zip(weights).map(|(x, w)| w * normal_pdf(x / sd) / sd).collect();
                Density { s, w }
            }
            Some(d) => d.advance(lo, hi, sd, h),
        });
        prev_t = t;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Two-sided 95% and 99.9% points of Student's t.
        for (df, p, q) in
            [(2.0, 0.025, 4.302_653), (4.0, 0.025, 2.776_445), (19.0, 0.0005, 3.883_406)]
        {
            assert!((t_isf(p, df) - q).abs() < 1e-5, "{df} {p}: {}", t_isf(p, df));
        }
        assert!((t_isf(0.025, 1e6) - 1.959_966).abs() < 1e-4);
        assert_eq!(t_isf(0.0, 3.0), f64::INFINITY);
        assert_eq!(t_isf(f64::NAN, 3.0), f64::INFINITY);
        assert_eq!(t_isf(0.7, 3.0), 0.0);
        assert!(t_isf(1e-300, 1.0).is_infinite());
        assert!((normal_isf(0.025) - 1.959_964).abs() < 1e-6);
    }

    /// Published Lan–DeMets boundaries for five equally spaced looks, two-sided 0.05
    /// (e.g. Jennison & Turnbull, table 7.6; the lower boundary's effect is below 1e-4).
    #[test]
    fn boundaries_match_published_values() {
        let t: Vec<f64> = (1..=5).map(|k| k as f64 / 5.0).collect();
        let obf = z_boundaries(&t, 0.025, Spending::OBrienFleming);
        for (c, want) in obf.iter().zip([4.877, 3.357, 2.680, 2.290, 2.031]) {
            assert!((c - want).abs() < 2e-3, "{obf:?}");
        }
        let pocock = z_boundaries(&t, 0.025, Spending::Pocock);
        for (c, want) in pocock.iter().zip([2.438, 2.427, 2.410, 2.397, 2.386]) {
            assert!((c - want).abs() < 3e-3, "{pocock:?}");
        }
        assert_eq!(z_boundaries(&[1.0], 0.025, Spending::Pocock).len(), 1);
        assert!((z_boundaries(&[1.0], 0.025, Spending::Pocock)[0] - 1.959_964).abs() < 1e-6);
        assert!(z_boundaries(&[0.5, 1.0], 0.0, Spending::Pocock).iter().all(|c| c.is_infinite()));
    }
}
