//! Reading request bodies within bounds: a size limit per request, a time
//! limit for the whole body, and one budget shared by every body the server
//! is buffering at once (ECS API and control protocol alike), so many
//! unfinished large bodies cannot add up to gigabytes.
//!
//! The budget charges the buffer's capacity, not only its length, and the
//! charge lasts as long as the [`Buffered`] body lives: until the handler
//! is done with it.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::http::HeaderMap;

/// Why a request body was not read.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum BodyRead {
    TooLarge,
    /// The client broke the body off (or sent a broken chunk).
    Broken,
    /// The whole body did not arrive within the body timeout.
    TimedOut,
    /// Taking it would put the bodies buffered at once over the budget.
    OverBudget,
}

/// The shared budget and the time limit of request bodies.
#[derive(Debug)]
pub(super) struct BodyGate {
    budget: usize,
    used: AtomicUsize,
    pub(super) timeout: Duration,
}

impl BodyGate {
    pub(super) fn new(budget: usize, timeout: Duration) -> Arc<Self> {
        Arc::new(BodyGate {
            budget,
            used: AtomicUsize::new(0),
            timeout,
        })
    }

    pub(super) fn budget(&self) -> usize {
        self.budget
    }

    /// Bytes charged right now (for tests and the limits benchmark).
    #[cfg(test)]
    pub(super) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    fn charge(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|t| *t <= self.budget)
            })
            .is_ok()
    }

    fn release(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// A request body in memory, charged against the budget until dropped.
pub(super) struct Buffered {
    pub(super) bytes: Vec<u8>,
    charged: usize,
    gate: Arc<BodyGate>,
}

impl Buffered {
    fn empty(gate: &Arc<BodyGate>) -> Self {
        Buffered {
            bytes: Vec::new(),
            charged: 0,
            gate: gate.clone(),
        }
    }

    /// Appends `data`, growing (and charging) the buffer at most to `limit`.
    fn append(&mut self, data: &[u8], limit: usize) -> Result<(), BodyRead> {
        let need = self.bytes.len() + data.len();
        if need > limit {
            return Err(BodyRead::TooLarge);
        }
        if need > self.bytes.capacity() {
            let cap = need.max(self.bytes.capacity().saturating_mul(2)).min(limit);
            let extra = cap - self.charged;
            if !self.gate.charge(extra) {
                return Err(BodyRead::OverBudget);
            }
            self.charged = cap;
            self.bytes.reserve_exact(cap - self.bytes.len());
        }
        self.bytes.extend_from_slice(data);
        Ok(())
    }
}

impl Drop for Buffered {
    fn drop(&mut self) {
        self.gate.release(self.charged);
    }
}

/// Reads a request body of at most `limit` bytes within the gate's time
/// limit; a declared length over the limit fails before anything is read.
/// Handlers read bodies this way, rather than through axum's
/// `DefaultBodyLimit`, so every refusal is answered in the server's own
/// words (plain text on the ECS API, JSON on the control protocol).
pub(super) async fn read_body(
    gate: &Arc<BodyGate>,
    headers: &HeaderMap,
    mut body: Body,
    limit: usize,
) -> Result<Buffered, BodyRead> {
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyRead::TooLarge);
    }
    let deadline = tokio::time::Instant::now() + gate.timeout;
    let mut out = Buffered::empty(gate);
    loop {
        let next = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx));
        let frame = match tokio::time::timeout_at(deadline, next).await {
            Err(_) => return Err(BodyRead::TimedOut),
            Ok(None) => return Ok(out),
            Ok(Some(frame)) => frame.map_err(|_| BodyRead::Broken)?,
        };
        if let Ok(data) = frame.into_data() {
            out.append(&data, limit)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers() -> HeaderMap {
        HeaderMap::new()
    }

    #[tokio::test]
    async fn bodies_are_charged_while_held_and_released_when_dropped() {
        let gate = BodyGate::new(1000, Duration::from_secs(5));
        let a = read_body(&gate, &headers(), Body::from(vec![1u8; 600]), 800)
            .await
            .unwrap();
        assert_eq!(a.bytes.len(), 600);
        assert!(gate.used() >= 600 && gate.used() <= 800, "{}", gate.used());
        // A second body does not fit beside the first.
        let b = read_body(&gate, &headers(), Body::from(vec![1u8; 600]), 800).await;
        assert_eq!(b.err(), Some(BodyRead::OverBudget));
        drop(a);
        assert_eq!(gate.used(), 0);
        let c = read_body(&gate, &headers(), Body::from(vec![1u8; 600]), 800).await;
        assert!(c.is_ok());
    }

    #[tokio::test]
    async fn a_body_over_the_limit_or_too_slow_is_refused() {
        let gate = BodyGate::new(1 << 20, Duration::from_millis(100));
        let big = read_body(&gate, &headers(), Body::from(vec![1u8; 801]), 800).await;
        assert_eq!(big.err(), Some(BodyRead::TooLarge));
        let stalled = Body::new(Stalled);
        let slow = read_body(&gate, &headers(), stalled, 800).await;
        assert_eq!(slow.err(), Some(BodyRead::TimedOut));
        assert_eq!(gate.used(), 0);
    }

    /// A body whose next byte never comes.
    struct Stalled;

    impl HttpBody for Stalled {
        type Data = axum::body::Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
            std::task::Poll::Pending
        }
    }
}
