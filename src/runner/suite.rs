//! Runs many trials concurrently and collects their results in order.

use std::sync::{Arc, Mutex};

use super::exec::{RunContext, run_trial};
use super::outcome::{Outcome, TrialResult};
use crate::scenario::{LoadError, Trial};

/// Runs `trials` with at most `jobs` at once; results keep the input order.
///
/// Once a trial finds the target not answering (a timeout or a refused
/// connection), the trials not yet started are not sent: they end as
/// Errors naming that first cause. A dead target thus costs one timeout,
/// not one per scenario.
pub async fn run_all(ctx: &RunContext, trials: &[Trial], jobs: usize) -> Vec<TrialResult> {
    let sem = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let ctx = Arc::new(ctx.clone());
    let down: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let mut set = tokio::task::JoinSet::new();
    for (i, trial) in trials.iter().cloned().enumerate() {
        let (sem, ctx, down) = (sem.clone(), ctx.clone(), down.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let first = down.lock().map(|d| d.clone()).unwrap_or_default();
            if let Some(cause) = first {
                let mut r = empty_result(&trial);
                r.outcome = Outcome::Error {
                    cause: format!("not run: the target stopped answering ({cause})"),
                };
                return (i, r);
            }
            let r = run_trial(&ctx, &trial).await;
            if let Outcome::Error { cause } = &r.outcome {
                if cause.contains(crate::client::DEAD_TARGET_MARK) {
                    if let Ok(mut d) = down.lock() {
                        d.get_or_insert_with(|| format!("{}: {cause}", trial.id));
                    }
                }
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
