//! Multiplicity corrections over a family of tests (a study's factors, a factor's
//! pairs): adjusted p-values, compared with the unadjusted level `α`. A test is
//! rejected at family-wise level `α` when its adjusted p-value is at most `α`, as in
//! statsmodels' `multipletests`.

/// Whether every p-value is a probability (NaN is not).
fn probabilities(p: &[f64]) -> bool {
    p.iter().all(|p| (0.0..=1.0).contains(p))
}

/// Holm's step-down adjusted p-values, in the input order: with the p-values sorted
/// ascending, `p̃_(i) = min(1, max_{j ≤ i} (m − j + 1) p_(j))` (1-based), so they are
/// monotone in the p-values and never below the raw ones. Equals statsmodels'
/// `multipletests(p, method="holm")[1]`. Controls the family-wise error rate under
/// any dependence, and rejects everything Bonferroni rejects. `None` when a value
/// is not in `[0, 1]` (NaN included); empty in, empty out.
pub fn holm(p: &[f64]) -> Option<Vec<f64>> {
    if !probabilities(p) {
        return None;
    }
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    Some(adjusted)
}

/// Bonferroni adjusted p-values `min(1, m·p)`, in the input order (statsmodels'
/// `method="bonferroni"`). `None` when a value is not in `[0, 1]`.
pub fn bonferroni(p: &[f64]) -> Option<Vec<f64>> {
    if !probabilities(p) {
        return None;
    }
    let m = p.len() as f64;
    Some(p.iter().map(|p| (p * m).min(1.0)).collect())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{cases, floats, near, reference};
    use super::*;

    /// Against statsmodels' `multipletests`.
    #[test]
    fn matches_statsmodels_multipletests() {
        for c in cases(&reference(), "multipletests") {
            let p = floats(&c["p"]);
            let h = holm(&p).expect("probabilities");
            let b = bonferroni(&p).expect("probabilities");
            for (got, want) in h.iter().zip(floats(&c["holm"])) {
                near(*got, want, 1e-12, "Holm");
            }
            for (got, want) in b.iter().zip(floats(&c["bonferroni"])) {
                near(*got, want, 1e-12, "Bonferroni");
            }
        }
    }

    #[test]
    fn holm_is_monotone_capped_and_between_raw_and_bonferroni() {
        let p = [0.04, 0.001, 0.3, 0.0125, 0.9, 0.02];
        let h = holm(&p).expect("probabilities");
        let b = bonferroni(&p).expect("probabilities");
        for i in 0..p.len() {
            assert!(p[i] <= h[i] && h[i] <= b[i] && h[i] <= 1.0, "{i}: {} {} {}", p[i], h[i], b[i]);
            for j in 0..p.len() {
                if p[i] <= p[j] {
                    assert!(h[i] <= h[j], "monotone at {i}, {j}");
                }
            }
        }
        assert_eq!(h[1], 0.006);
        assert_eq!(h[4], 0.9);
    }

    #[test]
    fn bad_input_gives_none_and_empty_gives_empty() {
        assert!(holm(&[0.1, f64::NAN]).is_none() && bonferroni(&[1.5]).is_none());
        assert!(holm(&[-0.1]).is_none());
        assert_eq!(holm(&[]), Some(vec![]));
    }
}
