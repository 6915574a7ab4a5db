//! SplitMix64 (Steele, Lea and Flood 2014): the one small deterministic generator of
//! cnnvar's own draws (which weight a nudge moves, the analysis's bootstraps and
//! simulations), so that a seed means the same stream everywhere and reported numbers do
//! not move with a dependency's version.

/// SplitMix64 from a seed (the state); each call of [`SplitMix64::next`] advances it.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// An index below `n` (`n` > 0) by the remainder (the analysis's resampling; its
    /// reference scripts draw the same way).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// An index below `n` by multiply-shift (bias below n / 2⁶⁴; the nudge's choice of
    /// weight).
    pub fn below_scaled(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first outputs from seed 0 are the published reference values.
    #[test]
    fn it_is_the_standard_stream() {
        let mut rng = SplitMix64(0);
        assert_eq!(rng.next(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(rng.next(), 0x06c4_5d18_8009_454f);
    }

    /// Both index draws stay below `n`, and differ as documented.
    #[test]
    fn indices_stay_below_n() {
        let (mut a, mut b) = (SplitMix64(7), SplitMix64(7));
        for n in [1, 2, 3, 10, 1000] {
            let (x, y) = (a.below(n), b.below_scaled(n));
            assert!(x < n && y < n);
        }
        let first = SplitMix64(0).clone().next();
        assert_eq!(SplitMix64(0).below(10), (first % 10) as usize);
        assert_eq!(SplitMix64(0).below_scaled(10), ((u128::from(first) * 10) >> 64) as usize);
    }
}
