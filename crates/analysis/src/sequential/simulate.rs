//! Simulated sequential studies: error rates, power and seeds used by a design, from
//! outcomes drawn with known level means. Deterministic for a seed (its own xoshiro256++
//! generator).

use serde::Serialize;

use super::rng::Rng;
use super::{SequentialDesign, Verdict, decide_with};

/// The seed-to-seed noise of simulated outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Noise {
    /// Normal.
    Normal,
    /// Student's t with the given degrees of freedom (heavy tails), scaled to the
    /// setting's standard deviation when that is finite (df ≥ 3), else by it; 0 df is 1.
    StudentT(u32),
}

/// One simulated experiment: true level means and the spread of a seed's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Setting {
    /// True mean of each level, in the design's units.
    pub means: Vec<f64>,
    /// Standard deviation of one seed's outcome around its level's mean.
    pub sd: f64,
    /// Shape of the noise.
    pub noise: Noise,
}

impl Setting {
    /// `levels` levels with mean 0, except the last at `diff`.
    pub fn shifted(levels: usize, diff: f64, sd: f64, noise: Noise) -> Self {
        let mut means = vec![0.0; levels];
        if let Some(last) = means.last_mut() {
            *last = diff;
        }
        Self { means, sd, noise }
    }
}

/// What a design did over many simulated studies of one setting.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SimulationSummary {
    /// Studies simulated.
    pub studies: usize,
    /// Share of studies with a Larger or Smaller decision on a pair of equal means, or
    /// against the true direction (the type I error of difference claims).
    pub false_difference: f64,
    /// Share of studies with an Equivalent decision on a pair at least delta apart.
    pub false_equivalence: f64,
    /// Share of studies with any wrong decision (the family-wise error).
    pub familywise_error: f64,
    /// Over pairs whose means differ: share decided in the true direction.
    pub power: Option<f64>,
    /// Over pairs of equal means: share decided Equivalent.
    pub equivalence: Option<f64>,
    /// Share of pairs still undecided at the last look.
    pub undecided: f64,
    /// Mean seeds per level an experiment used.
    pub mean_seeds: f64,
    /// Share of studies that went to the design's maximum of seeds.
    pub at_max: f64,
}

/// One seed's noise.
pub(super) fn draw(rng: &mut Rng, noise: Noise, sd: f64) -> f64 {
    match noise {
        Noise::Normal => sd * rng.normal(),
        Noise::StudentT(df) => {
            let df = df.max(1);
            let chi2: f64 = (0..df).map(|_| rng.normal().powi(2)).sum();
            let scale = if df > 2 { (f64::from(df - 2) / f64::from(df)).sqrt() } else { 1.0 };
            sd * scale * rng.normal() / (chi2 / f64::from(df)).sqrt()
        }
    }
}

/// Tallies over studies.
#[derive(Default)]
struct Tally {
    false_difference: usize,
    false_equivalence: usize,
    familywise: usize,
    right: usize,
    differing: usize,
    equivalent: usize,
    equal: usize,
    undecided: usize,
    pairs: usize,
    seeds: usize,
    at_max: usize,
}

impl Tally {
    /// Adds one study's final decisions.
    fn add(&mut self, means: &[f64], delta: f64, d: &super::Decisions, seeds: usize, max: usize) {
        let (mut false_diff, mut false_equiv) = (false, false);
        for p in &d.pairs {
            let mu = means[p.a] - means[p.b];
            let equal = mu.abs() < 1e-12;
            let (larger, smaller) = (p.verdict == Verdict::Larger, p.verdict == Verdict::Smaller);
            false_diff |= (larger && mu <= 1e-12) || (smaller && mu >= -1e-12);
            false_equiv |= p.verdict == Verdict::Equivalent && mu.abs() >= delta - 1e-12;
            if equal {
                self.equal += 1;
                self.equivalent += usize::from(p.verdict == Verdict::Equivalent);
            } else {
                self.differing += 1;
                self.right += usize::from((larger && mu > 0.0) || (smaller && mu < 0.0));
            }
            self.undecided += usize::from(p.verdict == Verdict::Undecided);
            self.pairs += 1;
        }
        self.false_difference += usize::from(false_diff);
        self.false_equivalence += usize::from(false_equiv);
        self.familywise += usize::from(false_diff || false_equiv);
        self.seeds += seeds;
        self.at_max += usize::from(seeds >= max);
    }

    fn summary(&self, studies: usize) -> SimulationSummary {
        let share = |k: usize, n: usize| if n == 0 { 0.0 } else { k as f64 / n as f64 };
        SimulationSummary {
            studies,
            false_difference: share(self.false_difference, studies),
            false_equivalence: share(self.false_equivalence, studies),
            familywise_error: share(self.familywise, studies),
            power: (self.differing > 0).then(|| share(self.right, self.differing)),
            equivalence: (self.equal > 0).then(|| share(self.equivalent, self.equal)),
            undecided: share(self.undecided, self.pairs),
            mean_seeds: share(self.seeds, studies),
            at_max: share(self.at_max, studies),
        }
    }
}

/// Runs `studies` sequential studies of `setting` under `design` as a sweep would —
/// `min` seeds, then batches while [`super::decide`] asks for them — and summarises
/// their decisions. Deterministic for `seed`; a setting of fewer than two levels, or
/// no studies, gives an empty summary.
pub fn simulate(
    design: &SequentialDesign,
    setting: &Setting,
    studies: usize,
    seed: u64,
) -> SimulationSummary {
    let levels = setting.means.len();
    if levels < 2 || studies == 0 {
        return SimulationSummary { studies, ..SimulationSummary::default() };
    }
    let bounds = design.boundaries(levels);
    let (delta, max) = (bounds.design.delta, bounds.design.max_seeds);
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    for _ in 0..studies {
        let mut outcomes = vec![Vec::with_capacity(max); levels];
        let decisions = loop {
            let d = decide_with(&bounds, &outcomes);
            if d.batch == 0 {
                break d;
            }
            for _ in 0..d.batch {
                for (level, mean) in outcomes.iter_mut().zip(&setting.means) {
                    level.push(mean + draw(&mut rng, setting.noise, setting.sd));
                }
            }
        };
        tally.add(&setting.means, delta, &decisions, outcomes[0].len(), max);
    }
    tally.summary(studies)
}

/// One row of the design's standard table: one experiment shape and noise, at true
/// differences of 0, delta and 2·delta (the last level against the others).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableRow {
    /// Levels of the experiment.
    pub levels: usize,
    /// Noise of a seed's outcome.
    pub noise: Noise,
    /// Its standard deviation.
    pub sd: f64,
    /// No level differs.
    pub null: SimulationSummary,
    /// The last level differs by delta.
    pub at_delta: SimulationSummary,
    /// The last level differs by 2·delta.
    pub at_two_delta: SimulationSummary,
}

/// The standard table: 2 and 4 levels, normal and t (3 df) noise, seed standard
/// deviations `sds`, each at differences 0, delta, 2·delta, `studies` studies apiece.
pub fn table(design: &SequentialDesign, sds: &[f64], studies: usize, seed: u64) -> Vec<TableRow> {
    let delta = design.normalized().delta;
    let mut rows = Vec::new();
    let mut run = 0u64;
    let mut sim = |setting: Setting| {
        run += 1;
        simulate(design, &setting, studies, seed.wrapping_add(run.wrapping_mul(0x9E37_79B9)))
    };
    for levels in [2, 4] {
        for noise in [Noise::Normal, Noise::StudentT(3)] {
            for &sd in sds {
                rows.push(TableRow {
                    levels,
                    noise,
                    sd,
                    null: sim(Setting::shifted(levels, 0.0, sd, noise)),
                    at_delta: sim(Setting::shifted(levels, delta, sd, noise)),
                    at_two_delta: sim(Setting::shifted(levels, 2.0 * delta, sd, noise)),
                });
            }
        }
    }
    rows
}

/// The table in Markdown: per row, the type I error, the share of equal pairs decided
/// Equivalent, the false-equivalence rate at delta, the power at delta and 2·delta,
/// and the mean seeds per level at each difference.
pub fn markdown_table(rows: &[TableRow]) -> String {
    let mut out = String::from(
        "| levels | noise | seed sd | type I error | equivalent at 0 | false equivalent at δ | \
         power at δ | power at 2δ | mean seeds (0 / δ / 2δ) |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let opt = |x: Option<f64>| x.map_or_else(|| "–".to_string(), pct);
    for r in rows {
        let noise = match r.noise {
            Noise::Normal => "normal".to_string(),
            Noise::StudentT(df) => format!("t ({df} df)"),
        };
        out += &format!(
            "| {} | {noise} | {} | {} | {} | {} | {} | {} | {:.1} / {:.1} / {:.1} |\n",
            r.levels,
            r.sd,
            pct(r.null.false_difference),
            opt(r.null.equivalence),
            pct(r.at_delta.false_equivalence),
            opt(r.at_delta.power),
            opt(r.at_two_delta.power),
            r.null.mean_seeds,
            r.at_delta.mean_seeds,
            r.at_two_delta.mean_seeds,
        );
    }
    out
}
