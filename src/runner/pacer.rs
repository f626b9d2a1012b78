//! The async side of [`super::load`]: a pacer that lets at most the
//! controller's limit of units (trials, fuzz cases) run at once, and the
//! retry policy for a unit whose connection was dropped.
//!
//! A unit that got no answer is retried, after a backoff, while that can
//! be overload: when the target answered other work since the unit
//! started, or when the connection was refused or reset at once (at the
//! start of a run nothing has been answered yet). A timeout with nothing
//! answered meanwhile is the target being down: no retry, so a dead target
//! ends the run within about one timeout. After [`MAX_ATTEMPTS`] a unit is
//! reported as overload if others were answered, else as the target down.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::load::{Jobs, LoadControl};
use crate::client::Unanswered;

/// Tries of one unit whose connections are dropped under load.
pub const MAX_ATTEMPTS: u32 = 5;
/// The wait before the first retry; it doubles for each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// What to do with a unit whose connection was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// The target answered others meanwhile: try again after this wait.
    After(Duration),
    /// The target answered nothing since the unit started, and it timed
    /// out or was refused [`MAX_ATTEMPTS`] times: it is down.
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
pub struct Pacer {
    permits: Semaphore,
    state: Mutex<State>,
}

/// One admitted unit; dropping it lets the next one in.
pub struct Ticket {
    pacer: Arc<Pacer>,
    started: Instant,
    epoch: u64,
    answered_before: u64,
}

impl Pacer {
    pub fn new(jobs: Jobs) -> Arc<Pacer> {
        let load = LoadControl::new(jobs);
        Arc::new(Pacer {
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
    pub(crate) async fn acquire(self: &Arc<Self>) -> Ticket {
        // The semaphore is never closed, so acquiring cannot fail; the
        // permit is returned by hand in `Ticket::drop`, or kept as debt.
        if let Ok(p) = self.permits.acquire().await {
            p.forget();
        }
        let st = self.lock();
        Ticket {
            pacer: self.clone(),
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
        let mut st = self.pacer.lock();
        st.answered += 1;
        self.pacer.update(&mut st, |l| l.answered(elapsed, requests));
        // Released before `self` drops, which takes the lock again.
        drop(st);
    }

    /// The unit got no answer (`how`) on its `attempt`-th try (from 1).
    pub fn dropped(self, attempt: u32, how: Unanswered) -> Retry {
        let mut st = self.pacer.lock();
        self.pacer.update(&mut st, |l| l.dropped(self.epoch));
        let progressed = st.answered != self.answered_before;
        drop(st);
        match (progressed, how) {
            (false, Unanswered::TimedOut) => Retry::Down,
            _ if attempt < MAX_ATTEMPTS => Retry::After(FIRST_BACKOFF * 2u32.pow(attempt.saturating_sub(1).min(8))),
            (true, _) => Retry::Overloaded,
            (false, Unanswered::Dropped) => Retry::Down,
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut st = self.pacer.lock();
        if st.debt > 0 {
            st.debt -= 1;
        } else {
            self.pacer.permits.add_permits(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::load::START;

    #[tokio::test]
    async fn admits_up_to_the_limit_and_follows_it_down() {
        let pacer = Pacer::new(Jobs::Fixed(2));
        let a = pacer.acquire().await;
        let _b = pacer.acquire().await;
        let third = tokio::time::timeout(Duration::from_millis(50), pacer.acquire()).await;
        assert!(third.is_err(), "a third unit got in at a limit of 2");
        drop(a);
        let _c = tokio::time::timeout(Duration::from_millis(50), pacer.acquire())
            .await
            .expect("a released place admits the next unit");

        let pacer = Pacer::new(Jobs::Adaptive);
        let (a, b) = (pacer.acquire().await, pacer.acquire().await);
        assert_eq!(pacer.limit(), START);
        // Timed out with nothing answered: the limit halves, and the target
        // counts as down at once.
        assert_eq!(a.dropped(1, Unanswered::TimedOut), Retry::Down);
        assert_eq!(pacer.limit(), 1);
        drop(b);
        let _one = pacer.acquire().await;
        let two = tokio::time::timeout(Duration::from_millis(50), pacer.acquire()).await;
        assert!(two.is_err(), "the halved limit admitted two");
    }

    #[tokio::test]
    async fn a_drop_while_others_are_answered_is_retried_then_overload() {
        let pacer = Pacer::new(Jobs::Fixed(2));
        for attempt in 1..=MAX_ATTEMPTS {
            let t = pacer.acquire().await;
            pacer.acquire().await.answered(1);
            let want = match attempt {
                MAX_ATTEMPTS => Retry::Overloaded,
                n => Retry::After(FIRST_BACKOFF * 2u32.pow(n - 1)),
            };
            assert_eq!(t.dropped(attempt, Unanswered::TimedOut), want);
        }
    }

    #[tokio::test]
    async fn a_refusal_with_nothing_answered_is_retried_then_down() {
        let pacer = Pacer::new(Jobs::Fixed(1));
        for attempt in 1..=MAX_ATTEMPTS {
            let want = match attempt {
                MAX_ATTEMPTS => Retry::Down,
                n => Retry::After(FIRST_BACKOFF * 2u32.pow(n - 1)),
            };
            assert_eq!(pacer.acquire().await.dropped(attempt, Unanswered::Dropped), want);
        }
        // A backoff of a dead target's refusals stays short: all of them
        // together are under a few seconds, not a timeout per trial.
        let total: Duration = (1..MAX_ATTEMPTS).map(|n| FIRST_BACKOFF * 2u32.pow(n - 1)).sum();
        assert!(total <= Duration::from_secs(3), "{total:?}");
    }
}
