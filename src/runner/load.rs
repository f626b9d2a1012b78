//! How many trials (or fuzz cases) run at once: a pure AIMD controller,
//! used by `run` and `fuzz` alike through [`super::pacer::Pacer`].
//!
//! It starts low, so a mock on a one-thread server with a listen backlog
//! of 5 is never flooded, and raises the limit by one after each window of
//! answered work with no dropped connection while the latency per request
//! has not grown much (a target that keeps up answers more at once as fast
//! as fewer; one that queues answers slower). A dropped connection
//! (refused, reset, timed out) halves it, once per decrease: work started
//! before a decrease does not halve it again. `--jobs N` fixes it at N.

use std::time::Duration;

/// Where the adaptive limit starts.
pub const START: usize = 2;
/// The adaptive limit's ceiling: beyond it a loopback target gains
/// nothing and a remote one is better served by `--jobs`.
pub const CEILING: usize = 32;
/// A window is at least this many answered units (or the limit, if more),
/// so a few short or long units do not decide alone.
const MIN_WINDOW: usize = 8;
/// "Latency has not grown much": a window's mean latency per request is
/// within this factor of the best window's.
const GROWTH: f64 = 1.5;

/// How many units run at once: adaptive, or fixed by `--jobs N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jobs {
    Adaptive,
    Fixed(usize),
}

impl Jobs {
    /// The most that can ever run at once.
    pub fn most(self) -> usize {
        match self {
            Jobs::Adaptive => CEILING,
            Jobs::Fixed(n) => n.max(1),
        }
    }
}

/// The controller's state: the limit and the window being measured.
#[derive(Clone, Debug)]
pub struct LoadControl {
    limit: usize,
    fixed: bool,
    /// Counts decreases; a unit remembers the epoch it started in.
    epoch: u64,
    answered: usize,
    latency_sum: Duration,
    /// The best (lowest) window mean latency per request seen.
    best: Option<Duration>,
}

impl LoadControl {
    pub fn new(jobs: Jobs) -> Self {
        let (limit, fixed) = match jobs {
            Jobs::Adaptive => (START, false),
            Jobs::Fixed(n) => (n.max(1), true),
        };
        LoadControl {
            limit,
            fixed,
            epoch: 0,
            answered: 0,
            latency_sum: Duration::ZERO,
            best: None,
        }
    }

    /// Units allowed at once now.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The current epoch, for a unit starting now.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// A unit was answered: it took `elapsed` for `requests` requests.
    /// At the end of a window the limit rises by one if latency held.
    pub fn answered(&mut self, elapsed: Duration, requests: usize) {
        if self.fixed {
            return;
        }
        self.latency_sum += elapsed / requests.max(1) as u32;
        self.answered += 1;
        if self.answered < self.limit.max(MIN_WINDOW) {
            return;
        }
        let mean = self.latency_sum / self.answered as u32;
        let best = *self.best.get_or_insert(mean);
        self.best = Some(best.min(mean));
        if mean.as_secs_f64() <= best.as_secs_f64() * GROWTH {
            self.limit = (self.limit + 1).min(CEILING);
        }
        self.reset_window();
    }

    /// A unit started in `epoch` lost its connection (refused, reset,
    /// timed out): halve the limit, unless a decrease happened since.
    pub fn dropped(&mut self, epoch: u64) {
        if self.fixed {
            return;
        }
        self.reset_window();
        if epoch == self.epoch {
            self.limit = (self.limit / 2).max(1);
            self.epoch += 1;
        }
    }

    fn reset_window(&mut self) {
        self.answered = 0;
        self.latency_sum = Duration::ZERO;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Answers a whole window at the current limit, `per` per request.
    fn window(c: &mut LoadControl, per: Duration) {
        for _ in 0..c.limit().max(MIN_WINDOW) {
            c.answered(per * 3, 3);
        }
    }

    #[test]
    fn raises_by_one_per_healthy_window_up_to_the_ceiling() {
        let mut c = LoadControl::new(Jobs::Adaptive);
        assert_eq!(c.limit(), START);
        // One unit short of a window changes nothing.
        for _ in 0..MIN_WINDOW - 1 {
            c.answered(MS, 1);
        }
        assert_eq!(c.limit(), START);
        c.answered(MS, 1);
        assert_eq!(c.limit(), START + 1);
        for _ in 0..100 {
            window(&mut c, MS);
        }
        assert_eq!(c.limit(), CEILING);
    }

    #[test]
    fn holds_while_latency_has_grown() {
        let mut c = LoadControl::new(Jobs::Adaptive);
        window(&mut c, MS);
        let held = c.limit();
        // Twice as slow per request: the target is queueing, not keeping up.
        for _ in 0..5 {
            window(&mut c, MS * 2);
        }
        assert_eq!(c.limit(), held);
        // Latency per request, not per unit: longer units are not slower.
        for _ in 0..MIN_WINDOW {
            c.answered(MS * 20, 20);
        }
        assert_eq!(c.limit(), held + 1);
    }

    #[test]
    fn halves_on_a_dropped_connection_once_per_decrease() {
        let mut c = LoadControl::new(Jobs::Adaptive);
        for _ in 0..14 {
            window(&mut c, MS);
        }
        assert_eq!(c.limit(), 16);
        let started = c.epoch();
        c.dropped(started);
        assert_eq!(c.limit(), 8);
        // Units in flight when it dropped fail too: no second halving.
        c.dropped(started);
        c.dropped(started);
        assert_eq!(c.limit(), 8);
        // A unit started after the decrease halves it again, down to one.
        for _ in 0..5 {
            c.dropped(c.epoch());
        }
        assert_eq!(c.limit(), 1);
        // A drop restarts the window: the partial window does not count.
        for _ in 0..MIN_WINDOW - 1 {
            c.answered(MS, 1);
        }
        c.dropped(started);
        c.answered(MS, 1);
        assert_eq!(c.limit(), 1);
        window(&mut c, MS);
        assert_eq!(c.limit(), 2);
    }

    #[test]
    fn fixed_jobs_never_change() {
        let mut c = LoadControl::new(Jobs::Fixed(5));
        for _ in 0..10 {
            window(&mut c, MS);
        }
        c.dropped(c.epoch());
        assert_eq!(c.limit(), 5);
        assert_eq!(Jobs::Fixed(5).most(), 5);
        assert_eq!(Jobs::Fixed(0).most(), 1);
        assert_eq!(Jobs::Adaptive.most(), CEILING);
    }
}
