//! The async side of [`super::load`]: a gate that lets at most the
//! controller's limit of units (trials, fuzz cases) run at once, and the
//! retry policy for a unit whose connection was dropped.
//!
//! A dropped connection is overload when the target answered other work
//! since the unit started (retry it, after a backoff), and the target
//! being down when it answered nothing meanwhile (no retry: a dead target
//! must end the run within about one timeout). A unit still dropped after
//! [`MAX_ATTEMPTS`] while others were answered is reported as overload.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::load::{Jobs, LoadControl};

/// Tries of one unit whose connections are dropped under load.
pub const MAX_ATTEMPTS: u32 = 5;
/// The wait before the first retry; it doubles for each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// What to do with a unit whose connection was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// The target answered others meanwhile: try again after this wait.
    After(Duration),
    /// The target answered nothing since the unit started: it is down.
    Down,
    /// Still dropped after [`MAX_ATTEMPTS`] while others were answered.
    Overloaded,
}

struct State {
    load: LoadControl,
    /// Permits owed back: the limit fell below the units running.
    debt: usize,
    /// Units answered so far.
    answered: u64,
}

/// Admits units up to the controller's limit.
pub struct Gate {
    permits: Semaphore,
    state: Mutex<State>,
}

/// One admitted unit; dropping it lets the next one in.
pub struct Ticket {
    gate: Arc<Gate>,
    started: Instant,
    epoch: u64,
    answered_before: u64,
}

impl Gate {
    pub fn new(jobs: Jobs) -> Arc<Gate> {
        let load = LoadControl::new(jobs);
        Arc::new(Gate {
            permits: Semaphore::new(load.limit()),
            state: Mutex::new(State {
                load,
                debt: 0,
                answered: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding it leaves plain counters: still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current limit (for messages and tests).
    pub fn limit(&self) -> usize {
        self.lock().load.limit()
    }

    /// Waits for room, first come first served.
    pub async fn acquire(self: &Arc<Self>) -> Ticket {
        // The semaphore is never closed, so acquiring cannot fail; the
        // permit is returned by hand in `Ticket::drop`, or kept as debt.
        if let Ok(p) = self.permits.acquire().await {
            p.forget();
        }
        let st = self.lock();
        Ticket {
            gate: self.clone(),
            started: Instant::now(),
            epoch: st.load.epoch(),
            answered_before: st.answered,
        }
    }

    /// Applies a change of the controller to the permits.
    fn update(&self, st: &mut State, change: impl FnOnce(&mut LoadControl)) {
        let old = st.load.limit();
        change(&mut st.load);
        let new = st.load.limit();
        if new > old {
            let paid = st.debt.min(new - old);
            st.debt -= paid;
            self.permits.add_permits(new - old - paid);
        } else {
            st.debt += old - new;
        }
    }
}

impl Ticket {
    /// The unit got its answers, `requests` of them.
    pub fn answered(self, requests: usize) {
        let elapsed = self.started.elapsed();
        let mut st = self.gate.lock();
        st.answered += 1;
        self.gate.update(&mut st, |l| l.answered(elapsed, requests));
        // Released before `self` drops, which takes the lock again.
        drop(st);
    }

    /// The unit's connection was dropped on its `attempt`-th try (from 1).
    pub fn dropped(self, attempt: u32) -> Retry {
        let mut st = self.gate.lock();
        self.gate.update(&mut st, |l| l.dropped(self.epoch));
        let progressed = st.answered != self.answered_before;
        drop(st);
        if !progressed {
            Retry::Down
        } else if attempt >= MAX_ATTEMPTS {
            Retry::Overloaded
        } else {
            Retry::After(FIRST_BACKOFF * 2u32.pow(attempt.saturating_sub(1).min(8)))
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut st = self.gate.lock();
        if st.debt > 0 {
            st.debt -= 1;
        } else {
            self.gate.permits.add_permits(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::load::START;

    #[tokio::test]
    async fn admits_up_to_the_limit_and_follows_it_down() {
        let gate = Gate::new(Jobs::Fixed(2));
        let a = gate.acquire().await;
        let _b = gate.acquire().await;
        let third = tokio::time::timeout(Duration::from_millis(50), gate.acquire()).await;
        assert!(third.is_err(), "a third unit got in at a limit of 2");
        drop(a);
        let _c = tokio::time::timeout(Duration::from_millis(50), gate.acquire())
            .await
            .expect("a released place admits the next unit");

        let gate = Gate::new(Jobs::Adaptive);
        let (a, b) = (gate.acquire().await, gate.acquire().await);
        assert_eq!(gate.limit(), START);
        // Both dropped, nothing answered: the limit halves, and the target
        // counts as down.
        assert_eq!(a.dropped(1), Retry::Down);
        assert_eq!(gate.limit(), 1);
        drop(b);
        let _one = gate.acquire().await;
        let two = tokio::time::timeout(Duration::from_millis(50), gate.acquire()).await;
        assert!(two.is_err(), "the halved limit admitted two");
    }

    #[tokio::test]
    async fn a_drop_while_others_are_answered_is_retried_then_overload() {
        let gate = Gate::new(Jobs::Fixed(2));
        for attempt in 1..=MAX_ATTEMPTS {
            let t = gate.acquire().await;
            gate.acquire().await.answered(1);
            let want = match attempt {
                MAX_ATTEMPTS => Retry::Overloaded,
                n => Retry::After(FIRST_BACKOFF * 2u32.pow(n - 1)),
            };
            assert_eq!(t.dropped(attempt), want);
        }
    }
}
