//! What each connection is doing and the registry of all of them (the
//! connection layer's bookkeeping; `conn` runs the connections).
//!
//! Every connection is in one phase at a time, each with its own clock:
//! - `Head`: from accept (or from the first byte after a keep-alive pause)
//!   until the request head is complete: `head_timeout` in total, TLS
//!   handshake included, so a client dripping a head byte by byte is cut off.
//! - `Idle`: between an answer and the next request's first byte:
//!   `idle_timeout` (keep-alive).
//! - `Body`: a handler waits for body bytes: the whole body must come
//!   within `body_timeout` ([`super::body`] answers 408); twice that
//!   without a byte closes the connection here, as a backstop.
//! - `Busy`: a handler is working; never timed out or evicted.
//!
//! At most `max_connections` connections are open (sized below the file
//! descriptor limit). When a new one arrives at the limit, the connection
//! that has been quiet longest and is not busy is closed to make room (as
//! nginx reuses idle keep-alive connections), so idle or stalled clients
//! cannot lock everyone else out; if every connection is busy, the new one
//! waits up to a second for a slot and is then closed unanswered.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::limits::ConnLimits;

/// How long a new connection waits for a slot when every open connection
/// is busy, before it is closed unanswered.
const ADMIT_WAIT: Duration = Duration::from_secs(1);
/// How often the connection-limit warning may be logged.
const WARN_EVERY_MS: u64 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Head = 0,
    Idle = 1,
    Body = 2,
    Busy = 3,
}

impl Phase {
    fn from_bits(b: u64) -> Phase {
        match b & 3 {
            0 => Phase::Head,
            1 => Phase::Idle,
            2 => Phase::Body,
            _ => Phase::Busy,
        }
    }
}

/// What one connection is doing, shared by its task, its I/O, its request
/// bodies and the registry that may evict it.
pub(super) struct Activity {
    epoch: Instant,
    /// `since_ms << 2 | phase`, one word so phase and clock change together.
    state: AtomicU64,
    /// Milliseconds since `epoch` of the last byte read.
    last_read: AtomicU64,
    pub(super) evicting: AtomicBool,
    pub(super) evict: Notify,
}

impl Activity {
    fn new(epoch: Instant) -> Self {
        let a = Activity {
            epoch,
            state: AtomicU64::new(0),
            last_read: AtomicU64::new(0),
            evicting: AtomicBool::new(false),
            evict: Notify::new(),
        };
        a.set(Phase::Head);
        a.last_read.store(a.now_ms(), Ordering::Relaxed);
        a
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    pub(super) fn get(&self) -> (Phase, u64) {
        let s = self.state.load(Ordering::Acquire);
        (Phase::from_bits(s), s >> 2)
    }

    pub(super) fn set(&self, p: Phase) {
        self.state.store(self.now_ms() << 2 | p as u64, Ordering::Release);
    }

    /// Moves from `from` to `to`; any other phase stays.
    pub(super) fn shift(&self, from: Phase, to: Phase) {
        let cur = self.state.load(Ordering::Acquire);
        if Phase::from_bits(cur) == from {
            let _ =
                self.state
                    .compare_exchange(cur, self.now_ms() << 2 | to as u64, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    pub(super) fn on_read(&self) {
        self.last_read.store(self.now_ms(), Ordering::Relaxed);
        self.shift(Phase::Idle, Phase::Head);
    }
}

/// The open connections of one server (all its listeners).
pub(super) struct Registry {
    max: usize,
    epoch: Instant,
    conns: Mutex<HashMap<u64, Arc<Activity>>>,
    next_id: AtomicU64,
    pub(super) freed: Notify,
    last_warning: AtomicU64,
}

/// A connection's place in the registry, given back when dropped.
pub(super) struct Slot {
    pub(super) registry: Arc<Registry>,
    id: u64,
    pub(super) activity: Arc<Activity>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
        self.registry.freed.notify_waiters();
    }
}

impl Registry {
    pub(super) fn new(max: usize) -> Arc<Self> {
        Arc::new(Registry {
            max: max.max(1),
            epoch: Instant::now(),
            conns: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            freed: Notify::new(),
            last_warning: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Activity>>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a new connection: at once below the limit; at the limit
    /// after evicting the quietest connection that is not busy; `None` if
    /// every connection stays busy for [`ADMIT_WAIT`].
    pub(super) async fn admit(self: &Arc<Self>) -> Option<Slot> {
        let deadline = tokio::time::Instant::now() + ADMIT_WAIT;
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut conns = self.lock();
                if conns.len() < self.max {
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    let activity = Arc::new(Activity::new(self.epoch));
                    conns.insert(id, activity.clone());
                    return Some(Slot {
                        registry: self.clone(),
                        id,
                        activity,
                    });
                }
                self.evict_quietest(&conns);
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                tracing::warn!(
                    target: "modspec::conn",
                    "all {} connections are busy: a new connection was closed unanswered",
                    self.max
                );
                return None;
            }
        }
    }

    /// Asks the connection that has read nothing for longest (and is not
    /// busy) to close, unless one is already closing.
    fn evict_quietest(&self, conns: &HashMap<u64, Arc<Activity>>) {
        if conns.values().any(|a| a.evicting.load(Ordering::Relaxed)) {
            return;
        }
        let victim = conns
            .values()
            .filter(|a| a.get().0 != Phase::Busy)
            .min_by_key(|a| a.last_read.load(Ordering::Relaxed));
        if let Some(v) = victim {
            v.evicting.store(true, Ordering::Relaxed);
            v.evict.notify_one();
            self.warn_at_limit();
        }
    }

    /// Logs the limit being reached, at most every [`WARN_EVERY_MS`].
    fn warn_at_limit(&self) {
        // `last_warning` holds milliseconds + 1; 0 means never.
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        let last = self.last_warning.load(Ordering::Relaxed);
        if (last == 0 || now >= last + WARN_EVERY_MS)
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                target: "modspec::conn",
                "at the connection limit ({}): closing the quietest connections to admit new ones (--max-connections)",
                self.max
            );
        }
    }

    /// Resolves when no connection is open.
    pub(super) async fn drained(&self) {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if self.lock().is_empty() {
                return;
            }
            freed.await;
        }
    }
}

/// Resolves when the connection has stayed in one timed phase too long.
pub(super) async fn watchdog(a: &Activity, limits: &ConnLimits) -> Phase {
    loop {
        let (phase, since) = a.get();
        let limit = match phase {
            Phase::Head => limits.head_timeout,
            Phase::Idle => limits.idle_timeout,
            // A backstop: `read_body` answers 408 at `body_timeout` first.
            Phase::Body => limits.body_timeout * 2,
            // A handler at work: look again later.
            Phase::Busy => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let end = since + limit.as_millis() as u64;
        let now = a.now_ms();
        if now >= end {
            return phase;
        }
        tokio::time::sleep(Duration::from_millis(end - now)).await;
    }
}
