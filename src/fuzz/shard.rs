//! `--shard K/N`: the K-th of N disjoint slices of one seed's case stream.
//!
//! Case `i` belongs to shard `i % N + 1`, so the slices interleave: with
//! `--runs R` the N shards together run exactly cases `0..R` of the
//! unsharded campaign, each once, and every shard's cases are spread over
//! the whole stream (no shard gets only the early, small cases). A case's
//! index is its index in the unsharded stream, so a finding's case number
//! means the same whichever shard found it.

use std::fmt;
use std::str::FromStr;

/// One slice of a campaign; `Shard::WHOLE` is the unsharded campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based, at most `count`.
    index: u64,
    count: u64,
}

/// A `--shard` value that is not `K/N` with `1 <= K <= N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid shard `{0}`: use K/N with 1 <= K <= N <= 1000000 (e.g. 2/8)")]
pub struct ShardError(String);

impl Shard {
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    pub fn new(index: u64, count: u64) -> Result<Shard, ShardError> {
        if count == 0 || count > 1_000_000 || index == 0 || index > count {
            return Err(ShardError(format!("{index}/{count}")));
        }
        Ok(Shard { index, count })
    }

    pub fn index(self) -> u64 {
        self.index
    }

    pub fn count(self) -> u64 {
        self.count
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// The index in the whole stream of this shard's `j`-th case, or
    /// `None` past `u64::MAX`.
    pub fn case_index(self, j: u64) -> Option<u64> {
        j.checked_mul(self.count)?.checked_add(self.index - 1)
    }

    /// Whether case `i` of the whole stream is this shard's.
    #[cfg(test)]
    fn owns(self, i: u64) -> bool {
        i % self.count == self.index - 1
    }
}

impl Default for Shard {
    fn default() -> Shard {
        Shard::WHOLE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let bad = || ShardError(s.to_string());
        let (k, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let k: u64 = k.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        Shard::new(k, n).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_stream() {
        let shards: Vec<Shard> = (1..=3).map(|k| Shard::new(k, 3).unwrap()).collect();
        for i in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.owns(i)).count(), 1, "case {i}");
        }
        let s2 = shards[1];
        assert_eq!(
            (0..4).map(|j| s2.case_index(j).unwrap()).collect::<Vec<_>>(),
            [1, 4, 7, 10]
        );
        assert!((0..4).all(|j| s2.owns(s2.case_index(j).unwrap())));
    }

    #[test]
    fn bad_shards_are_named_errors() {
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "1/2/3", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.to_string().contains("invalid shard"), "{bad}: {e}");
        }
        assert_eq!("2/8".parse::<Shard>().unwrap().to_string(), "2/8");
        assert!("1/1".parse::<Shard>().unwrap().is_whole());
    }
}
