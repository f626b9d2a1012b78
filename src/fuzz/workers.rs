//! The campaign's workers: each takes the next case of the seed's stream
//! once the pacer (`runner::Pacer`: adaptive or `--jobs N` at once) admits
//! one, runs it, retries it while its connections are dropped under load,
//! and hands the result to the collector.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::case::Case;
use super::error::FuzzError;
use super::exec::{CaseRun, Runner};
use super::generator::Profile;
use super::shard::Shard;
use super::steer::case_at;
use crate::runner::{Pacer, Retry, Ticket};

/// A case's index, the case and how its run went.
pub type Message = (u64, Case, Result<CaseRun, FuzzError>);

/// What the campaign's workers share: the case stream and the pacer that
/// sets how many cases run at once.
pub(crate) struct Work {
    pub runner: Runner,
    pub profile: Profile,
    pub seed: u64,
    pub shard: Shard,
    /// The next position in the shard's slice of the stream.
    pub next: AtomicU64,
    /// Cases at or past this index are not started.
    pub limit: AtomicU64,
    pub deadline: Option<Instant>,
    pub pacer: Arc<Pacer>,
    /// Steered generation (`steer.rs`): case `i` still depends only on
    /// (seed, i), so a retry or a replay is the same case.
    pub steer: bool,
}

impl Work {
    /// Takes the next case once the pacer admits one, until none is left.
    pub(crate) async fn worker(self: Arc<Self>, tx: tokio::sync::mpsc::UnboundedSender<Message>) {
        loop {
            let ticket = self.pacer.acquire().await;
            // The shard's j-th case is case i of the whole stream.
            let Some(i) = self.shard.case_index(self.next.fetch_add(1, Ordering::Relaxed)) else {
                break;
            };
            if i >= self.limit.load(Ordering::Relaxed) || self.deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let Some(case) = case_at(self.seed, i, self.profile, &self.runner.defaults, self.steer) else {
                continue;
            };
            let result = self.run_case(&case, ticket).await;
            if tx.send((i, case, result)).is_err() {
                break;
            }
            // The in-process driver never waits; let the collector run.
            tokio::task::yield_now().await;
        }
    }

    /// Runs a case, again while its connections are dropped under load:
    /// the case depends only on (seed, i), so a retry is the same case,
    /// and a case is never dropped or judged on a connection that failed.
    async fn run_case(&self, case: &Case, mut ticket: Ticket) -> Result<CaseRun, FuzzError> {
        let mut attempt = 1;
        loop {
            let (e, how) = match self.runner.run(case).await {
                Ok(run) => {
                    // The world's creation and deletion besides the requests.
                    ticket.answered(run.sent.len() + 2);
                    return Ok(run);
                }
                Err(e) => match e.unanswered() {
                    Some(how) => (e, how),
                    None => return Err(e),
                },
            };
            match ticket.dropped(attempt, how) {
                Retry::After(wait) => tokio::time::sleep(wait).await,
                Retry::Down => return Err(e),
                Retry::Overloaded => {
                    return Err(FuzzError::Overloaded {
                        attempts: attempt,
                        last: Box::new(e),
                    });
                }
            }
            attempt += 1;
            ticket = self.pacer.acquire().await;
        }
    }
}
