//! The seeded byte source of `modspec fuzz`: case `i` of seed `s` is always
//! generated from the same bytes, whatever ran before it or beside it.
//!
//! Deriving each case's bytes from `(seed, index)` instead of drawing from
//! one shared stream is what makes a concurrent campaign reproducible: the
//! order in which workers pick cases does not change any case.

/// Bytes handed to `arbitrary` per case; a case that needs more sees zeros,
/// which `arbitrary` turns into the simplest choices.
pub const CASE_BYTES: usize = 2048;

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, well mixed, and
/// stable forever, unlike a library RNG whose stream may change between
/// versions and silently change every seed's cases.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// The input bytes of case `index` of the campaign with `seed`.
pub fn case_bytes(seed: u64, index: u64) -> Vec<u8> {
    // Two rounds of mixing decorrelate neighbouring seeds and indices.
    let mut outer = SplitMix64::new(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let mut rng = SplitMix64::new(outer.next_u64() ^ index);
    let mut buf = vec![0u8; CASE_BYTES];
    rng.fill(&mut buf);
    buf
}

/// The input bytes of the `k`-th candidate for case `index` (steering,
/// `steer.rs`): candidate 0 is the unsteered case itself, the others come
/// from streams of their own, so every candidate depends on
/// `(seed, index, k)` alone.
pub fn candidate_bytes(seed: u64, index: u64, k: u64) -> Vec<u8> {
    case_bytes(seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15), index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_fixed() {
        // The published SplitMix64 reference values for seed 0; if these
        // change, every recorded seed would mean different cases.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn cases_depend_on_seed_and_index_only() {
        assert_eq!(case_bytes(1, 7), case_bytes(1, 7));
        assert_ne!(case_bytes(1, 7), case_bytes(1, 8));
        assert_ne!(case_bytes(1, 7), case_bytes(2, 7));
        assert_eq!(case_bytes(3, 0).len(), CASE_BYTES);
        assert_eq!(candidate_bytes(1, 7, 0), case_bytes(1, 7));
        assert_ne!(candidate_bytes(1, 7, 1), case_bytes(1, 7));
        assert_ne!(candidate_bytes(1, 7, 1), candidate_bytes(1, 7, 2));
    }
}
