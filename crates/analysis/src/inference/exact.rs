//! Exact tests of count tables, for divergence: how many runs of each level diverged.
//! Fisher's exact test of a 2×2 table and the Freeman–Halton extension to k×2
//! (levels × diverged / not), conditional on both margins.

use statrs::function::gamma::ln_gamma;

/// A table counts toward the p-value when its probability is at most the observed
/// one times `1 + TIE_TOLERANCE`, so that tables equally likely in exact arithmetic
/// are not split by rounding (as R's `fisher.test`; scipy uses 1e-14 in the 2×2 case).
const TIE_TOLERANCE: f64 = 1e-7;

/// Most search nodes the Freeman–Halton enumeration visits before giving up.
pub const MAX_NODES: usize = 20_000_000;

/// Most counts in all a Freeman–Halton table may hold (its bounds take time
/// growing with the square of the total).
pub const MAX_TOTAL: u64 = 5_000;

/// Most rows × (total + 1) cells the Freeman–Halton bounds may take.
const MAX_CELLS: usize = 1_000_000;

/// `ln C(n, x)`.
fn ln_choose(n: u64, x: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(x as f64 + 1.0) - ln_gamma((n - x) as f64 + 1.0)
}

/// Fisher's exact two-sided p-value of the 2×2 table `[[a, b], [c, d]]`: the
/// probability, given both margins, of the tables no more likely than this one,
/// summed over every table with those margins. Equals
/// `scipy.stats.fisher_exact(table)[1]`. `None` when the counts total more than
/// 100 × [`MAX_TOTAL`] (the sum runs over up to that many tables).
pub fn fisher_exact(table: [[u64; 2]; 2]) -> Option<f64> {
    let [[a, b], [c, d]] = table;
    let (row0, row1) = (a.checked_add(b)?, c.checked_add(d)?);
    let total = row0.checked_add(row1).filter(|&t| t <= 100 * MAX_TOTAL)?;
    let events = a + c;
    let ln_p = |x: u64| ln_choose(row0, x) + ln_choose(row1, events - x) - ln_choose(total, events);
    let threshold = ln_p(a) + TIE_TOLERANCE.ln_1p();
    let low = events.saturating_sub(row1);
    let p: f64 = (low..=events.min(row0)).map(ln_p).filter(|&l| l <= threshold).map(f64::exp).sum();
    Some(p.min(1.0))
}

/// The Freeman–Halton exact two-sided p-value of a k×2 table, row `i` being
/// `[events, non-events]` of level `i` (for divergence: `[diverged, did not]`): the
/// probability, given the row totals `n_i` and the total events `D`, of the tables
/// no more likely than the observed one, each table having probability
/// `Π_i C(n_i, x_i) / C(N, D)`. An empty table or one whose margins leave a single
/// possible table gives 1. `None` if the counts total more than [`MAX_TOTAL`], the
/// rows times the total exceed a million, or the search would visit more than
/// [`MAX_NODES`] nodes.
///
/// The tables are enumerated row by row, cut short by the most and least likely
/// completions of each partial table (computed once per row and events left): when
/// even the most likely completion is no more likely than the observed table, all
/// completions count, and their total is known in closed form (Vandermonde's
/// identity, `Σ Π C(n_j, x_j) = C(Σ n_j, d)`); when even the least likely is more
/// likely, none count.
pub fn freeman_halton(rows: &[[u64; 2]]) -> Option<f64> {
    let rows: Vec<[u64; 2]> = rows.iter().copied().filter(|r| *r != [0, 0]).collect();
    let sizes: Vec<u64> = rows.iter().map(|r| r[0].checked_add(r[1])).collect::<Option<_>>()?;
    let total: u64 = sizes.iter().try_fold(0u64, |s, n| s.checked_add(*n))?;
    if total > MAX_TOTAL || rows.len() * (total as usize + 1) > MAX_CELLS {
        return None;
    }
    let events: u64 = rows.iter().map(|r| r[0]).sum();
    let observed: f64 = rows.iter().zip(&sizes).map(|(r, &n)| ln_choose(n, r[0])).sum();
    let mut search =
        Search::new(&sizes, observed + TIE_TOLERANCE.ln_1p(), ln_choose(total, events));
    Some(search.count(0, events, 0.0)?.min(1.0))
}

/// The pruned enumeration of [`freeman_halton`]; the partial log-probabilities
/// omit the common denominator `ln C(N, D)`, which the counted masses include.
struct Search {
    /// `ln C(n_i, x)` for each row `i` and `x = 0..=n_i`.
    ln_choose: Vec<Vec<f64>>,
    /// Row totals from row `i` on (`remaining[k] = 0`).
    remaining: Vec<u64>,
    /// Most likely completion from row `i` with `d` events left (−∞ if impossible).
    best: Vec<Vec<f64>>,
    /// Least likely completion likewise (+∞ if impossible).
    worst: Vec<Vec<f64>>,
    /// Tables at most this log-likely count.
    threshold: f64,
    /// `ln C(N, D)`.
    denominator: f64,
    /// Nodes visited so far.
    nodes: usize,
}

impl Search {
    fn new(sizes: &[u64], threshold: f64, denominator: f64) -> Self {
        let k = sizes.len();
        let ln_choose_rows: Vec<Vec<f64>> =
            sizes.iter().map(|&n| (0..=n).map(|x| ln_choose(n, x)).collect()).collect();
        let mut remaining = vec![0u64; k + 1];
        for i in (0..k).rev() {
            remaining[i] = remaining[i + 1] + sizes[i];
        }
        let width = remaining[0] as usize + 1;
        let mut best = vec![vec![f64::NEG_INFINITY; width]; k + 1];
        let mut worst = vec![vec![f64::INFINITY; width]; k + 1];
        (best[k][0], worst[k][0]) = (0.0, 0.0);
        for i in (0..k).rev() {
            for d in 0..=remaining[i] as usize {
                for (x, lc) in ln_choose_rows[i].iter().enumerate().take(d + 1) {
                    let (b, w) = (best[i + 1][d - x], worst[i + 1][d - x]);
                    best[i][d] = best[i][d].max(lc + b);
                    worst[i][d] = worst[i][d].min(lc + w);
                }
            }
        }
        Self { ln_choose: ln_choose_rows, remaining, best, worst, threshold, denominator, nodes: 0 }
    }

    /// The summed probability of the qualifying completions from row `i` with `d`
    /// events left and log-probability `s` so far.
    fn count(&mut self, i: usize, d: u64, s: f64) -> Option<f64> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return None;
        }
        if d > self.remaining[i] {
            return Some(0.0);
        }
        let du = d as usize;
        if s + self.best[i][du] <= self.threshold {
            return Some((s + ln_choose(self.remaining[i], d) - self.denominator).exp());
        }
        if s + self.worst[i][du] > self.threshold {
            return Some(0.0);
        }
        let n = self.ln_choose[i].len() as u64 - 1;
        let low = d.saturating_sub(self.remaining[i + 1]);
        let mut sum = 0.0;
        for x in low..=d.min(n) {
            let lc = self.ln_choose[i][x as usize];
            sum += self.count(i + 1, d - x, s + lc)?;
        }
        Some(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{cases, f, near_rel, reference};
    use super::*;

    fn table(v: &serde_json::Value) -> Vec<[u64; 2]> {
        let rows = v.as_array().expect("rows");
        rows.iter()
            .map(|r| [r[0].as_u64().expect("count"), r[1].as_u64().expect("count")])
            .collect()
    }

    /// Against `scipy.stats.fisher_exact`.
    #[test]
    fn fisher_matches_scipy() {
        for c in cases(&reference(), "fisher") {
            let t = table(&c["table"]);
            let p = fisher_exact([t[0], t[1]]).expect("a p-value");
            near_rel(p, f(&c["p"]), 1e-9, &format!("Fisher {t:?}"));
        }
    }

    /// Against the reference script's brute-force enumeration of every k×2 table.
    #[test]
    fn freeman_halton_matches_brute_force() {
        for c in cases(&reference(), "freeman_halton") {
            let t = table(&c["table"]);
            let p = freeman_halton(&t).expect("a p-value");
            near_rel(p, f(&c["p"]), 1e-9, &format!("Freeman–Halton {t:?}"));
        }
    }

    #[test]
    fn edge_tables() {
        assert_eq!(freeman_halton(&[]), Some(1.0));
        assert_eq!(freeman_halton(&[[0, 5], [0, 5], [0, 5]]), Some(1.0), "nothing diverged");
        assert_eq!(freeman_halton(&[[3, 0]]), Some(1.0), "one row");
        let all_in_one = freeman_halton(&[[5, 0], [0, 5], [0, 5]]).expect("p");
        // Only the 3 tables with all 5 events in one level are that extreme.
        near_rel(all_in_one, 3.0 / 3003.0, 1e-12, "all events in one of three levels");
        assert!(freeman_halton(&[[u64::MAX, 1]]).is_none(), "overflow");
        assert!(freeman_halton(&[[3000, 0], [0, 3000]]).is_none(), "too large");
        assert!(freeman_halton(&[[1, 1]; 1000]).is_none(), "too many cells");
        assert!(fisher_exact([[u64::MAX, 1], [0, 0]]).is_none(), "overflow");
        assert_eq!(fisher_exact([[0, 0], [0, 0]]), Some(1.0));
    }

    /// The 2×2 sum and the pruned k×2 search agree on every 2×2 table with small
    /// margins.
    #[test]
    fn fisher_and_freeman_halton_agree_on_two_rows() {
        for a in 0..6 {
            for b in 0..6 {
                for c in 0..6 {
                    for d in 0..4 {
                        let t = [[a, b], [c, d]];
                        let (x, y) = (fisher_exact(t).expect("p"), freeman_halton(&t).expect("p"));
                        assert!((x - y).abs() < 1e-12, "{t:?}: {x} vs {y}");
                    }
                }
            }
        }
    }

    /// A large table finishes within the node budget thanks to the pruning.
    #[test]
    fn nine_levels_of_twenty_seeds_finish() {
        let rows =
            [[0, 20], [1, 19], [3, 17], [0, 20], [20, 0], [5, 15], [2, 18], [0, 20], [9, 11]];
        let p = freeman_halton(&rows).expect("within the budget");
        assert!(p < 1e-10, "{p}");
        let even =
            [[2, 18], [3, 17], [2, 18], [1, 19], [2, 18], [3, 17], [2, 18], [2, 18], [3, 17]];
        assert!(freeman_halton(&even).expect("within the budget") > 0.9);
    }
}
