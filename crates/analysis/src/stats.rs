//! Statistics on small samples of run results: summaries with Student-t intervals,
//! Welch comparisons, effect sizes and spread intervals. Non-finite values (diverged
//! runs) never enter them: callers filter them out and report them separately.

use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF, StudentsT};

/// Confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// A sample's summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Values summarised.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1); `None` for n < 2.
    pub sd: Option<f64>,
    /// 95% Student-t interval of the mean; `None` for n < 2.
    pub ci: Option<(f64, f64)>,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn variance(xs: &[f64]) -> f64 {
    let m = mean(xs);
    xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() as f64 - 1.0)
}

/// The two-sided critical t value for `df` degrees of freedom.
fn t_critical(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).map(|t| t.inverse_cdf(0.5 + CONFIDENCE / 2.0)).unwrap_or(f64::NAN)
}

/// Summarises `xs` (finite values only); `None` for an empty sample.
pub fn summarize(xs: &[f64]) -> Option<Summary> {
    if xs.is_empty() {
        return None;
    }
    let m = mean(xs);
    let (sd, ci) = if xs.len() >= 2 {
        let sd = variance(xs).sqrt();
        let half = t_critical(xs.len() as f64 - 1.0) * sd / (xs.len() as f64).sqrt();
        (Some(sd), Some((m - half, m + half)))
    } else {
        (None, None)
    };
    Some(Summary {
        n: xs.len(),
        mean: m,
        sd,
        ci,
        min: xs.iter().copied().fold(f64::INFINITY, f64::min),
        max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// 95% interval of a standard deviation from a normal sample (chi-square based).
pub fn sd_interval(xs: &[f64]) -> Option<(f64, f64)> {
    if xs.len() < 2 {
        return None;
    }
    let df = xs.len() as f64 - 1.0;
    let s2 = variance(xs);
    let chi = ChiSquared::new(df).ok()?;
    let alpha = 1.0 - CONFIDENCE;
    let lo = (df * s2 / chi.inverse_cdf(1.0 - alpha / 2.0)).sqrt();
    let hi = (df * s2 / chi.inverse_cdf(alpha / 2.0)).sqrt();
    Some((lo, hi))
}

/// Sample A against sample B.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Mean of A minus mean of B.
    pub diff: f64,
    /// 95% Welch interval of the difference; `None` if either sample has n < 2.
    pub ci: Option<(f64, f64)>,
    /// Welch's two-sided t-test p-value; `None` if either sample has n < 2.
    pub p: Option<f64>,
    /// Probability that a run of A beats a run of B, over all pairs (ties count half).
    pub prob_a_beats_b: f64,
    /// 95% interval of `prob_a_beats_b` ([`superiority_interval`]).
    pub prob_ci: (f64, f64),
    /// Cohen's d with the pooled standard deviation; `None` if undefined.
    pub cohen_d: Option<f64>,
}

/// Welch comparison of A and B (finite values only); `None` if either is empty.
pub fn compare(a: &[f64], b: &[f64]) -> Option<Comparison> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let diff = mean(a) - mean(b);
    let wins: f64 = a
        .iter()
        .flat_map(|x| {
            b.iter().map(move |y| {
                if x > y {
                    1.0
                } else if x == y {
                    0.5
                } else {
                    0.0
                }
            })
        })
        .sum();
    let prob = wins / (a.len() * b.len()) as f64;
    let prob_ci = superiority_interval(prob, a.len(), b.len());
    if a.len() < 2 || b.len() < 2 {
        return Some(Comparison {
            diff,
            ci: None,
            p: None,
            prob_a_beats_b: prob,
            prob_ci,
            cohen_d: None,
        });
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (va, vb) = (variance(a), variance(b));
    let se2 = va / na + vb / nb;
    let (ci, p) = if se2 > 0.0 {
        let se = se2.sqrt();
        let df = se2 * se2 / ((va / na).powi(2) / (na - 1.0) + (vb / nb).powi(2) / (nb - 1.0));
        let t = diff / se;
        let dist = StudentsT::new(0.0, 1.0, df).ok()?;
        let p = (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0);
        let half = t_critical(df) * se;
        (Some((diff - half, diff + half)), Some(p))
    } else {
        // Both samples constant: the difference is exact.
        (Some((diff, diff)), Some(if diff == 0.0 { 1.0 } else { 0.0 }))
    };
    let pooled = (((na - 1.0) * va + (nb - 1.0) * vb) / (na + nb - 2.0)).sqrt();
    let cohen_d = (pooled > 0.0).then(|| diff / pooled);
    Some(Comparison { diff, ci, p, prob_a_beats_b: prob, prob_ci, cohen_d })
}

/// 95% interval of the probability θ that a run of A (`m` runs) beats a run of B (`n`
/// runs), from its estimate `theta`: Newcombe's (2006) score-type inversion of the
/// Hanley–McNeil variance with both sample sizes replaced by their mean N = (m + n)/2,
/// V(θ) = θ(1 − θ)/(mn) · [1 + (N − 1)((1 − θ)/(2 − θ) + θ/(1 + θ))], solving
/// (θ̂ − θ)² = z² V(θ) on each side of θ̂. Unlike a Wald or bootstrap interval it does
/// not collapse to a point when every run of A beats every run of B: 5 against 5 gives
/// about [0.64, 1].
pub fn superiority_interval(theta: f64, m: usize, n: usize) -> (f64, f64) {
    let z = statrs::distribution::Normal::standard().inverse_cdf(0.5 + CONFIDENCE / 2.0);
    let (mn, big_n) = ((m * n) as f64, (m + n) as f64 / 2.0);
    let variance = |t: f64| {
        t * (1.0 - t) / mn * (1.0 + (big_n - 1.0) * ((1.0 - t) / (2.0 - t) + t / (1.0 + t)))
    };
    // Positive outside the interval, negative inside (at θ̂ it is −z²V(θ̂) ≤ 0).
    let score = |t: f64| (theta - t).powi(2) - z * z * variance(t);
    (root(score, 0.0, theta), root(score, 1.0, theta))
}

/// The root of `f` between `outside` (where `f` ≥ 0) and `inside` (where `f` ≤ 0), by
/// bisection to 1e-12; `outside` itself when `f` is not positive there.
fn root(f: impl Fn(f64) -> f64, mut outside: f64, mut inside: f64) -> f64 {
    if f(outside) <= 0.0 {
        return outside;
    }
    while (outside - inside).abs() > 1e-12 {
        let mid = 0.5 * (outside + inside);
        if f(mid) > 0.0 {
            outside = mid;
        } else {
            inside = mid;
        }
    }
    0.5 * (outside + inside)
}

/// Holm–Bonferroni adjustment of a family of p-values (same order as given).
pub fn holm(ps: &[f64]) -> Vec<f64> {
    let m = ps.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| ps[i].total_cmp(&ps[j]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        let v = ((m - rank) as f64 * ps[i]).min(1.0);
        running = running.max(v);
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn summary_of_a_known_sample() {
        let s = summarize(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!((s.n, s.mean, s.min, s.max), (5, 3.0, 1.0, 5.0));
        assert!(close(s.sd.unwrap(), 1.5811388, 1e-6));
        // t(0.975, 4) = 2.776445; half-width = 2.776445 * 1.5811388 / sqrt(5) = 1.963243
        let (lo, hi) = s.ci.unwrap();
        assert!(close(lo, 3.0 - 1.963243, 1e-5) && close(hi, 3.0 + 1.963243, 1e-5), "{lo} {hi}");
    }

    #[test]
    fn single_sample_has_no_interval() {
        let s = summarize(&[0.8]).unwrap();
        assert_eq!((s.n, s.mean, s.sd, s.ci), (1, 0.8, None, None));
        assert!(summarize(&[]).is_none());
        let c = compare(&[0.8], &[0.7, 0.75]).unwrap();
        assert!(c.p.is_none() && c.ci.is_none());
        assert!(close(c.diff, 0.075, 1e-12));
    }

    #[test]
    fn welch_on_a_known_difference() {
        // Two samples with a known difference of 1 (checked against
        // scipy.stats.ttest_ind(a, b, equal_var=False): t = 1, p = 0.346594).
        let a = [2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 2.0, 3.0, 4.0, 5.0];
        let c = compare(&a, &b).unwrap();
        assert!(close(c.diff, 1.0, 1e-12));
        let p = c.p.unwrap();
        // se = sqrt(2.5/5 + 2.5/5) = 1, t = 1, df = 8 -> p = 0.346594
        assert!(close(p, 0.346594, 1e-5), "{p}");
        let (lo, hi) = c.ci.unwrap();
        // t(0.975, 8) = 2.306004
        assert!(close(lo, 1.0 - 2.306004, 1e-5) && close(hi, 1.0 + 2.306004, 1e-5));
        assert!(close(c.cohen_d.unwrap(), 1.0 / 2.5f64.sqrt(), 1e-9));
    }

    #[test]
    fn a_clear_difference_is_significant() {
        let a = [0.90, 0.91, 0.92, 0.905, 0.915];
        let b = [0.80, 0.81, 0.82, 0.805, 0.815];
        let c = compare(&a, &b).unwrap();
        assert!(c.p.unwrap() < 1e-6);
        assert_eq!(c.prob_a_beats_b, 1.0);
        let (lo, hi) = c.ci.unwrap();
        assert!(lo > 0.08 && hi < 0.12);
    }

    /// The interval of P(A beats B) matches scipy's root finder on the same equation
    /// (reference.json, scripts/reference/stats_reference.py), holds its estimate, and
    /// does not collapse when A always wins.
    #[test]
    fn superiority_interval_matches_the_reference() {
        let r: serde_json::Value =
            serde_json::from_str(include_str!("reference.json")).expect("valid reference JSON");
        let cases = r["superiority"].as_array().expect("superiority cases");
        assert!(cases.len() >= 4);
        let nums = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
        };
        for c in cases {
            let (a, b) = (nums(&c["a"]), nums(&c["b"]));
            let got = compare(&a, &b).expect("compares");
            let want_theta = c["theta"].as_f64().expect("theta");
            assert!(close(got.prob_a_beats_b, want_theta, 1e-12), "{a:?} {b:?}");
            let want = nums(&c["ci95"]);
            let (lo, hi) = got.prob_ci;
            assert!(close(lo, want[0], 1e-9) && close(hi, want[1], 1e-9), "{lo} {hi} {want:?}");
            assert!(lo <= want_theta && want_theta <= hi);
        }
        let (lo, hi) = superiority_interval(1.0, 5, 5);
        assert!(hi == 1.0 && (0.6..0.9).contains(&lo), "[{lo}, {hi}]");
        let (lo, hi) = superiority_interval(0.5, 20, 20);
        assert!(close(0.5 - lo, hi - 0.5, 1e-9) && hi - lo < 0.4, "[{lo}, {hi}]");
    }

    /// On simulated normal outcomes (a true difference of one sd, so θ = Φ(1/√2)), the
    /// interval covers θ in about 95% of 2 000 studies of 5 against 5 runs.
    #[test]
    fn superiority_interval_covers_the_truth() {
        use crate::splitmix::SplitMix;
        let truth = statrs::distribution::Normal::standard().cdf(1.0 / 2f64.sqrt());
        let mut rng = SplitMix(17);
        let studies = 2000;
        let covered = (0..studies)
            .filter(|_| {
                let a: Vec<f64> = (0..5).map(|_| 1.0 + rng.normal()).collect();
                let b: Vec<f64> = (0..5).map(|_| rng.normal()).collect();
                let (lo, hi) = compare(&a, &b).expect("compares").prob_ci;
                lo <= truth && truth <= hi
            })
            .count();
        let coverage = covered as f64 / studies as f64;
        assert!((0.92..0.99).contains(&coverage), "coverage {coverage}");
    }

    #[test]
    fn identical_samples() {
        let a = [0.85, 0.86, 0.87];
        let c = compare(&a, &a).unwrap();
        assert_eq!(c.diff, 0.0);
        assert!(close(c.p.unwrap(), 1.0, 1e-12));
        assert_eq!(c.prob_a_beats_b, 0.5);
        let constant = compare(&[0.5, 0.5], &[0.5, 0.5]).unwrap();
        assert_eq!((constant.p, constant.cohen_d), (Some(1.0), None));
    }

    #[test]
    fn sd_interval_contains_the_sample_sd() {
        let xs = [0.81, 0.83, 0.80, 0.84, 0.82];
        let (lo, hi) = sd_interval(&xs).unwrap();
        let sd = summarize(&xs).unwrap().sd.unwrap();
        assert!(lo < sd && sd < hi);
        // chi2(0.975, 4) = 11.1433, chi2(0.025, 4) = 0.484419
        assert!(close(lo, sd * (4.0f64 / 11.1433).sqrt(), 1e-4));
        assert!(close(hi, sd * (4.0f64 / 0.484419).sqrt(), 1e-3));
    }

    #[test]
    fn holm_adjusts_in_order() {
        let adj = holm(&[0.01, 0.04, 0.03]);
        assert!(close(adj[0], 0.03, 1e-12));
        assert!(close(adj[2], 0.06, 1e-12));
        assert!(close(adj[1], 0.06, 1e-12));
    }
}

#[cfg(test)]
mod coverage {
    use super::*;

    /// Standard normal draws from a fixed xorshift stream (Box–Muller).
    struct Normal(u64);

    impl Normal {
        fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }
        fn next(&mut self) -> f64 {
            let (u, v) = (self.uniform(), self.uniform());
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        }
    }

    /// On simulated normal data (5 seeds, as a study arm has), the 95% interval of the
    /// mean contains the true mean in 95% ± 1.5% of 4000 trials, the Welch interval
    /// of a difference too, and Welch's test rejects a true null about 5% of the time.
    #[test]
    fn intervals_cover_at_the_nominal_rate() {
        let mut rng = Normal(0x9e37_79b9_7f4a_7c15);
        let trials = 4000;
        let (mut mean_hits, mut diff_hits, mut rejections) = (0, 0, 0);
        for _ in 0..trials {
            let a: Vec<f64> = (0..5).map(|_| 0.80 + 0.01 * rng.next()).collect();
            let b: Vec<f64> = (0..5).map(|_| 0.78 + 0.02 * rng.next()).collect();
            let (lo, hi) = summarize(&a).and_then(|s| s.ci).expect("n = 5");
            mean_hits += usize::from(lo <= 0.80 && 0.80 <= hi);
            let c = compare(&a, &b).expect("comparable");
            let (lo, hi) = c.ci.expect("interval");
            diff_hits += usize::from(lo <= 0.02 && 0.02 <= hi);
            let null: Vec<f64> = (0..5).map(|_| 0.78 + 0.02 * rng.next()).collect();
            let p = compare(&b, &null).and_then(|c| c.p).expect("p-value");
            rejections += usize::from(p < 0.05);
        }
        let rate = |hits: usize| hits as f64 / trials as f64;
        assert!((0.935..=0.965).contains(&rate(mean_hits)), "mean CI coverage {}", rate(mean_hits));
        assert!(
            (0.935..=0.965).contains(&rate(diff_hits)),
            "Welch CI coverage {}",
            rate(diff_hits)
        );
        assert!((0.035..=0.065).contains(&rate(rejections)), "type I error {}", rate(rejections));
    }
}
