//! Runs many trials concurrently and collects their results in order.

use std::sync::Arc;

use super::exec::{RunContext, run_trial};
use super::outcome::{Outcome, TrialResult};
use crate::scenario::{LoadError, Trial};

/// Runs `trials` with at most `jobs` at once; results keep the input order.
pub async fn run_all(ctx: &RunContext, trials: &[Trial], jobs: usize) -> Vec<TrialResult> {
    let sem = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let ctx = Arc::new(ctx.clone());
    let mut set = tokio::task::JoinSet::new();
    for (i, trial) in trials.iter().cloned().enumerate() {
        let (sem, ctx) = (sem.clone(), ctx.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            (i, run_trial(&ctx, &trial).await)
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
                id: t.id.clone(),
                file: t.file.display().to_string(),
                outcome: Outcome::Error {
                    cause: "the harness crashed while running this trial".into(),
                },
                warnings: Vec::new(),
                duration: Default::default(),
                recorded: Vec::new(),
            })
        })
        .collect()
}

/// A case file that did not load, as a result of its own.
pub fn load_error_result(e: &LoadError, cases_root: &std::path::Path) -> TrialResult {
    let id = e
        .path
        .strip_prefix(cases_root)
        .unwrap_or(&e.path)
        .with_extension("")
        .to_string_lossy()
        .replace('\\', "/");
    TrialResult {
        id,
        file: e.path.display().to_string(),
        outcome: Outcome::Error { cause: e.to_string() },
        warnings: Vec::new(),
        duration: Default::default(),
        recorded: Vec::new(),
    }
}
