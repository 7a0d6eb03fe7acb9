//! Bitsets as `u64` words: bit `i` is bit `i % 64` of word `i / 64`.

/// Sets bit `i` of `bits`.
#[inline(always)]
pub(crate) fn set(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

/// Sets bit `i` of `bits`; whether it was clear before (test-and-set).
#[inline(always)]
pub(crate) fn insert(bits: &mut [u64], i: usize) -> bool {
    let (word, bit) = (&mut bits[i / 64], 1u64 << (i % 64));
    let clear = *word & bit == 0;
    *word |= bit;
    clear
}

/// The indices of the bits set in word `w` of a bitset (bit `b` of word
/// `w` is index `w * 64 + b`), lowest first.
#[inline(always)]
pub(crate) fn ones(w: usize, mut bits: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (bits != 0).then(|| {
            let b = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            w * 64 + b
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_insert_and_ones_agree_with_a_set_of_indices() {
        let mut rng = crate::testing::Lcg::new(11);
        for _ in 0..200 {
            let mut bits = vec![0u64; 4];
            let mut reference = std::collections::BTreeSet::new();
            for _ in 0..rng.below(300) {
                let i = rng.below(256);
                if rng.below(2) == 0 {
                    set(&mut bits, i);
                    reference.insert(i);
                } else {
                    assert_eq!(insert(&mut bits, i), reference.insert(i));
                }
            }
            let found: Vec<usize> = bits.iter().enumerate().flat_map(|(w, &b)| ones(w, b)).collect();
            assert_eq!(found, reference.into_iter().collect::<Vec<_>>());
        }
    }
}
