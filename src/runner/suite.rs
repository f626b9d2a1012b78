//! Runs many trials concurrently and collects their results in order,
//! within an optional deadline, counting progress as trials end.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::context::RunContext;
use super::exec::run_trial;
use super::load::Jobs;
use super::outcome::{HarnessError, Outcome, TrialResult};
use super::pacer::{Pacer, Retry};
use crate::scenario::{LoadError, Trial};

/// How every skip reason of a trial the deadline kept from running starts.
pub const NOT_RUN: &str = "not run:";

/// The whole run's time bound (`--deadline`): trials not started by then
/// are not run, trials still running are cut off; both are Skipped with
/// a reason starting with [`NOT_RUN`], and the results of the others stay.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    pub at: Instant,
    /// As given, for the reasons.
    pub after: Duration,
}

/// Trials ended so far, by outcome; read by a progress printer while the
/// run goes on.
#[derive(Debug, Default)]
pub struct Progress {
    pub total: AtomicUsize,
    pub passed: AtomicUsize,
    pub failed: AtomicUsize,
    pub errors: AtomicUsize,
    pub skipped: AtomicUsize,
}

impl Progress {
    fn count(&self, r: &TrialResult) {
        let n = match r.outcome {
            Outcome::Pass => &self.passed,
            Outcome::Fail { .. } => &self.failed,
            Outcome::Error(_) => &self.errors,
            Outcome::Skipped { .. } => &self.skipped,
        };
        n.fetch_add(1, Ordering::Relaxed);
    }

    /// `progress: 120/1734 scenarios done (117 passed, 2 failed, 1 errors, 0 skipped)`.
    pub fn line(&self) -> String {
        let get = |n: &AtomicUsize| n.load(Ordering::Relaxed);
        let (p, f, e, s) = (
            get(&self.passed),
            get(&self.failed),
            get(&self.errors),
            get(&self.skipped),
        );
        format!(
            "progress: {}/{} scenarios done ({p} passed, {f} failed, {e} errors, {s} skipped)",
            p + f + e + s,
            get(&self.total)
        )
    }
}

/// A run's pace: its deadline and where it counts progress, if anywhere.
#[derive(Clone, Debug, Default)]
pub struct Pace {
    pub deadline: Option<Deadline>,
    pub progress: Option<Arc<Progress>>,
}

/// Runs `trials`, as many at once as `jobs` allows (adaptive: as many as
/// the target keeps up with); results keep the input order.
///
/// Once a trial finds the target not answering (a timeout or a refused
/// connection with nothing else answered meanwhile), the trials not yet
/// started are not sent: they end as Errors naming that first cause. A dead
/// target thus costs one timeout, not one per scenario. A trial whose
/// connection was dropped while others were answered is overload: it is
/// retried (see [`Pacer`]).
pub async fn run_all(ctx: &RunContext, trials: &[Trial], jobs: Jobs) -> Vec<TrialResult> {
    run_paced(ctx, trials, jobs, &Pace::default()).await
}

/// [`run_all`] within `pace.deadline`, counting into `pace.progress`.
pub async fn run_paced(ctx: &RunContext, trials: &[Trial], jobs: Jobs, pace: &Pace) -> Vec<TrialResult> {
    if let Some(p) = &pace.progress {
        p.total.fetch_add(trials.len(), Ordering::Relaxed);
    }
    let shared = Arc::new(Shared {
        ctx: ctx.clone(),
        pacer: Pacer::new(jobs),
        down: Mutex::new(None),
        deadline: pace.deadline,
    });
    let mut set = tokio::task::JoinSet::new();
    for (i, trial) in trials.iter().cloned().enumerate() {
        let (shared, progress) = (shared.clone(), pace.progress.clone());
        set.spawn(async move {
            let r = shared.trial(&trial).await;
            if let Some(p) = &progress {
                p.count(&r);
            }
            (i, r)
        });
    }
    let mut results: Vec<Option<TrialResult>> = vec![None; trials.len()];
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, r)) => results[i] = Some(r),
            // A panicking trial is a harness bug; its slot becomes an Error below.
            Err(e) => tracing::error!("trial task failed: {e}"),
        }
    }
    results
        .into_iter()
        .zip(trials)
        .map(|(r, t)| {
            r.unwrap_or_else(|| TrialResult {
                outcome: Outcome::Error(HarnessError::Other(
                    "the harness crashed while running this trial".into(),
                )),
                ..empty_result(t)
            })
        })
        .collect()
}

/// What the trials of one run share.
struct Shared {
    ctx: RunContext,
    pacer: Arc<Pacer>,
    /// The first cause of a target found down.
    down: Mutex<Option<String>>,
    deadline: Option<Deadline>,
}

impl Shared {
    /// One trial, retried while its connections are dropped under load.
    async fn trial(&self, trial: &Trial) -> TrialResult {
        let mut attempt = 1;
        loop {
            let ticket = self.pacer.acquire().await;
            let mut r = self.attempt(trial).await;
            let (cause, how) = match &r.outcome {
                Outcome::Pass | Outcome::Fail { .. } => {
                    ticket.answered(r.recorded.len());
                    return r;
                }
                Outcome::Error(HarnessError::TargetDown { cause, how }) => (cause.clone(), *how),
                _ => return r,
            };
            match ticket.dropped(attempt, how) {
                Retry::After(wait) => {
                    self.sleep(wait).await;
                    attempt += 1;
                }
                Retry::Overloaded => {
                    r.outcome = Outcome::Error(HarnessError::Overloaded {
                        cause,
                        attempts: attempt,
                    });
                    return r;
                }
                Retry::Down => {
                    if let Ok(mut d) = self.down.lock() {
                        d.get_or_insert_with(|| format!("{}: {cause}", trial.id));
                    }
                    return r;
                }
            }
        }
    }

    /// A backoff, cut short by the deadline (the next attempt then ends
    /// as not run).
    async fn sleep(&self, wait: std::time::Duration) {
        let until = Instant::now() + wait;
        let until = self.deadline.map_or(until, |d| until.min(d.at));
        tokio::time::sleep_until(until).await;
    }

    /// One try: not run after the deadline or once the target is down,
    /// cut off at the deadline.
    async fn attempt(&self, trial: &Trial) -> TrialResult {
        let not_run = |reason: String| TrialResult {
            outcome: Outcome::Skipped { reason },
            ..empty_result(trial)
        };
        if let Some(d) = self.deadline.filter(|d| Instant::now() >= d.at) {
            return not_run(format!("{NOT_RUN} the run's --deadline ({:?}) had passed", d.after));
        }
        let first = self.down.lock().map(|d| d.clone()).unwrap_or_default();
        if let Some(cause) = first {
            return TrialResult {
                outcome: Outcome::Error(HarnessError::NotSent(cause)),
                ..empty_result(trial)
            };
        }
        match self.deadline {
            Some(d) => match tokio::time::timeout_at(d.at, run_trial(&self.ctx, trial)).await {
                Ok(r) => r,
                // Its worlds stay on the target: deleting them could take
                // another timeout each, past the deadline.
                Err(_) => not_run(format!("{NOT_RUN} cut off at the run's --deadline ({:?})", d.after)),
            },
            None => run_trial(&self.ctx, trial).await,
        }
    }
}

fn empty_result(t: &Trial) -> TrialResult {
    TrialResult {
        id: t.id.clone(),
        file: t.file.display().to_string(),
        outcome: Outcome::Pass,
        warnings: Vec::new(),
        duration: Default::default(),
        recorded: Vec::new(),
    }
}

/// A case file that did not load, as a result of its own.
pub fn load_error_result(e: &LoadError) -> TrialResult {
    // Folder-level errors (an unreadable folder, a link not followed) have
    // no trial id: the path names them.
    let id = e.id.clone().unwrap_or_else(|| e.path.display().to_string());
    TrialResult {
        id,
        file: e.path.display().to_string(),
        outcome: Outcome::Error(HarnessError::Other(e.to_string())),
        warnings: Vec::new(),
        duration: Default::default(),
        recorded: Vec::new(),
    }
}
