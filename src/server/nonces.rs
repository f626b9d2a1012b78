//! The nonce store of a world (G10): every nonce seen with a verified
//! signature in the last 15 minutes, bounded per world and, through a
//! count shared by every world, in total. A full store refuses new nonces
//! instead of forgetting old ones, which would let replays in.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use sha2::{Digest, Sha256};

/// How long a nonce stays used (G10), on the wall clock.
pub use crate::protocol::NONCE_WINDOW;

/// The nonce store's count across all worlds, shared by every world.
#[derive(Debug)]
pub(super) struct NonceCount {
    used: AtomicUsize,
    max_total: usize,
    max_per_world: usize,
}

/// A nonce as the store keeps it: the first 128 bits of its SHA-256, so a
/// long nonce costs no more than a short one (collisions: ~2^-64 after
/// 2^32 nonces, never within the store's bounds in practice).
type NonceKey = u128;

fn nonce_key(nonce: &str) -> NonceKey {
    let d = Sha256::digest(nonce.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    u128::from_le_bytes(k)
}

impl NonceCount {
    pub(super) fn new(max_per_world: usize, max_total: usize) -> Arc<Self> {
        Arc::new(NonceCount {
            used: AtomicUsize::new(0),
            max_total,
            max_per_world,
        })
    }

    /// Nonces remembered right now, in all worlds.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

/// One world's nonces, oldest first.
#[derive(Debug)]
pub(super) struct Nonces {
    order: VecDeque<(Instant, NonceKey)>,
    set: HashMap<NonceKey, Instant>,
    count: Arc<NonceCount>,
}

impl Nonces {
    pub(super) fn new(count: Arc<NonceCount>) -> Self {
        Nonces {
            order: VecDeque::new(),
            set: HashMap::new(),
            count,
        }
    }

    /// True if the nonce was used within the window; prunes old entries.
    pub(super) fn used(&mut self, nonce: &str, at: Instant) -> bool {
        while let Some((t, _)) = self.order.front() {
            if at.saturating_duration_since(*t) < NONCE_WINDOW {
                break;
            }
            if let Some((t, n)) = self.order.pop_front() {
                if self.set.get(&n) == Some(&t) {
                    self.set.remove(&n);
                }
                self.count.used.fetch_sub(1, Ordering::AcqRel);
            }
        }
        self.set.contains_key(&nonce_key(nonce))
    }

    /// Records a nonce as used now; false (and nothing recorded) when the
    /// world or the server already holds as many nonces as it may.
    pub(super) fn record(&mut self, nonce: &str, at: Instant) -> bool {
        let c = &self.count;
        if self.order.len() >= c.max_per_world
            || c.used
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                    (u < c.max_total).then_some(u + 1)
                })
                .is_err()
        {
            return false;
        }
        let key = nonce_key(nonce);
        self.set.insert(key, at);
        self.order.push_back((at, key));
        true
    }

    /// Why a nonce cannot be recorded, for the refusal's text.
    pub(super) fn full_reason(&self) -> String {
        let c = &self.count;
        if self.order.len() >= c.max_per_world {
            format!(
                "this world holds {} nonces of the last 15 minutes, the server's limit per world: retry later",
                c.max_per_world
            )
        } else {
            format!(
                "the server holds {} nonces of the last 15 minutes, its limit: retry later",
                c.max_total
            )
        }
    }
}

impl Drop for Nonces {
    fn drop(&mut self) {
        self.count.used.fetch_sub(self.order.len(), Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn nonces_expire_after_the_window_and_give_their_count_back() {
        let count = NonceCount::new(2, 3);
        let t0 = Instant::now();
        let mut a = Nonces::new(count.clone());
        assert!(!a.used("n1", t0) && a.record("n1", t0));
        assert!(a.record("n2", t0));
        assert!(a.used("n1", t0 + Duration::from_secs(60)));
        // Per world: full at 2.
        assert!(!a.record("n3", t0));
        assert!(a.full_reason().contains("per world"), "{}", a.full_reason());
        let mut b = Nonces::new(count.clone());
        assert!(b.record("m1", t0));
        // In total: full at 3.
        assert!(!b.record("m2", t0));
        assert!(b.full_reason().contains("the server holds 3"), "{}", b.full_reason());
        // After 15 minutes the old ones are forgotten and counted out.
        let later = t0 + NONCE_WINDOW;
        assert!(!a.used("n1", later));
        assert_eq!(count.held(), 1);
        assert!(b.record("m2", later));
        drop(b);
        assert_eq!(count.held(), 0);
    }
}
