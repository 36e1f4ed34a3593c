//! MT19937 as numpy's legacy `RandomState` uses it, for KitNET's weight initialisation.
//!
//! Hand-written (no crate reproduces numpy's legacy seeding and 53-bit doubles exactly): the
//! generator is Matsumoto & Nishimura's reference algorithm, seeded with `init_genrand` as
//! `RandomState(int)` does, and doubles are numpy's `random_sample`: two 32-bit draws
//! `(a >> 5, b >> 6)` combined as `(a · 2^26 + b) / 2^53`.

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// The Mersenne Twister state.
#[derive(Clone)]
pub struct Mt19937 {
    mt: [u32; N],
    index: usize,
}

impl Mt19937 {
    /// Seeds as numpy's `RandomState(seed)` does for an integer seed (`init_genrand`).
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; N];
        mt[0] = seed;
        for i in 1..N {
            mt[i] = 1_812_433_253u32
                .wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { mt, index: N }
    }

    fn twist(&mut self) {
        for i in 0..N {
            let y = (self.mt[i] & UPPER_MASK) | (self.mt[(i + 1) % N] & LOWER_MASK);
            let mut v = self.mt[(i + M) % N] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= MATRIX_A;
            }
            self.mt[i] = v;
        }
        self.index = 0;
    }

    /// The next 32-bit output.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            self.twist();
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// numpy's `random_sample()`: a double in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    /// numpy's `uniform(low, high)`: `low + (high - low) · random_sample()`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next_f64()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn matches_reference_mt19937_outputs() {
        // Reference outputs of init_genrand(5489), the algorithm's default seed.
        let mut mt = Mt19937::new(5489);
        assert_eq!(mt.next_u32(), 3_499_211_612);
        assert_eq!(mt.next_u32(), 581_869_302);
        assert_eq!(mt.next_u32(), 3_890_346_734);
    }

    #[test]
    fn matches_numpy_random_sample_for_seed_1234() {
        // numpy: np.random.RandomState(1234).random_sample(3)
        let mut mt = Mt19937::new(1234);
        let got = [mt.next_f64(), mt.next_f64(), mt.next_f64()];
        let want = [0.1915194503788923, 0.6221087710398319, 0.4377277390071145];
        for (g, w) in got.iter().zip(want) {
            assert_eq!(*g, w);
        }
    }
}
