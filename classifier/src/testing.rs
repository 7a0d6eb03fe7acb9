//! Random test inputs, the same on every run: the tests that compare a fast
//! path with its reference on many generated texts draw them from here.

/// A linear congruential generator (Knuth's MMIX constants).
pub(crate) struct Lcg(u64);

impl Lcg {
    pub(crate) fn new(seed: u64) -> Lcg {
        Lcg(seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407))
    }

    /// The next state.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0
    }

    /// A number below `n`, from the state's high bits.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() >> 33) as usize % n
    }
}

/// `seed % max_len` items drawn from `alphabet`.
pub(crate) fn random_seq<T: Copy>(seed: u64, alphabet: &[T], max_len: u64) -> Vec<T> {
    let mut rng = Lcg::new(seed);
    (0..seed % max_len).map(|_| alphabet[rng.below(alphabet.len())]).collect()
}
