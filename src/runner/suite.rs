//! Runs many trials concurrently and collects their results in order,
//! within an optional deadline, counting progress as trials end.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::exec::{RunContext, run_trial};
use super::outcome::{Outcome, TrialResult};
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
            Outcome::Error { .. } => &self.errors,
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

/// Runs `trials` with at most `jobs` at once; results keep the input order.
///
/// Once a trial finds the target not answering (a timeout or a refused
/// connection), the trials not yet started are not sent: they end as
/// Errors naming that first cause. A dead target thus costs one timeout,
/// not one per scenario.
pub async fn run_all(ctx: &RunContext, trials: &[Trial], jobs: usize) -> Vec<TrialResult> {
    run_paced(ctx, trials, jobs, &Pace::default()).await
}

/// [`run_all`] within `pace.deadline`, counting into `pace.progress`.
pub async fn run_paced(ctx: &RunContext, trials: &[Trial], jobs: usize, pace: &Pace) -> Vec<TrialResult> {
    if let Some(p) = &pace.progress {
        p.total.fetch_add(trials.len(), Ordering::Relaxed);
    }
    let sem = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let ctx = Arc::new(ctx.clone());
    let down: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let mut set = tokio::task::JoinSet::new();
    for (i, trial) in trials.iter().cloned().enumerate() {
        let (sem, ctx, down, pace) = (sem.clone(), ctx.clone(), down.clone(), pace.clone());
        set.spawn(async move {
            let r = paced_trial(&ctx, &trial, &sem, &down, pace.deadline).await;
            if let Some(p) = &pace.progress {
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
                outcome: Outcome::Error {
                    cause: "the harness crashed while running this trial".into(),
                },
                ..empty_result(t)
            })
        })
        .collect()
}

/// One trial once a job is free: not run after the deadline or once the
/// target is down, cut off at the deadline.
async fn paced_trial(
    ctx: &RunContext,
    trial: &Trial,
    sem: &Arc<tokio::sync::Semaphore>,
    down: &Mutex<Option<String>>,
    deadline: Option<Deadline>,
) -> TrialResult {
    let _permit = sem.acquire().await;
    let not_run = |reason: String| TrialResult {
        outcome: Outcome::Skipped { reason },
        ..empty_result(trial)
    };
    if let Some(d) = deadline.filter(|d| Instant::now() >= d.at) {
        return not_run(format!("{NOT_RUN} the run's --deadline ({:?}) had passed", d.after));
    }
    let first = down.lock().map(|d| d.clone()).unwrap_or_default();
    if let Some(cause) = first {
        let mut r = empty_result(trial);
        r.outcome = Outcome::Error {
            cause: format!("not run: the target stopped answering ({cause})"),
        };
        return r;
    }
    let r = match deadline {
        Some(d) => match tokio::time::timeout_at(d.at, run_trial(ctx, trial)).await {
            Ok(r) => r,
            // Its worlds stay on the target: deleting them could take
            // another timeout each, past the deadline.
            Err(_) => return not_run(format!("{NOT_RUN} cut off at the run's --deadline ({:?})", d.after)),
        },
        None => run_trial(ctx, trial).await,
    };
    if let Outcome::Error { cause } = &r.outcome {
        if cause.contains(crate::client::DEAD_TARGET_MARK) {
            if let Ok(mut d) = down.lock() {
                d.get_or_insert_with(|| format!("{}: {cause}", trial.id));
            }
        }
    }
    r
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
        outcome: Outcome::Error { cause: e.to_string() },
        warnings: Vec::new(),
        duration: Default::default(),
        recorded: Vec::new(),
    }
}
