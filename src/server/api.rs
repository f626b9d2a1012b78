//! The ECS API endpoint as a plain function from a raw request to an
//! answer: gateway, then G10–G12 under the world's lock, then the oracle.
//!
//! No HTTP types here, so the fuzzer and the benchmarks can drive the exact
//! code the server runs without a socket.

use std::sync::Arc;
use std::time::Instant;

use super::gateway;
use super::planted::Planted;
use super::respond::{Answer, error_answer, success_answer};
use super::store::{Store, WorldInner, WorldSlot};
use crate::gate::{self, Admitted, Books, Quota, RawRequest};
use crate::spec::{Decision, MODIFY_WINDOW_SECONDS, ModifyRequest, Mutant, RuleId, decide, decide_with};
use crate::wire::{Format, ParamList};

/// Sliding window of the G12 quota, in world seconds.
use crate::protocol::QUOTA_WINDOW_SECONDS;

/// The ECS API of one server.
pub struct Service {
    pub store: Arc<Store>,
    /// Whether the `auth` capability (G2, G4, G6–G10) is enforced.
    pub auth: bool,
    pub mutant: Option<Mutant>,
}

impl Service {
    fn is(&self, m: Mutant) -> bool {
        self.mutant == Some(m)
    }

    /// Answers one ModifyInstanceSpec request.
    pub fn handle(&self, req: &RawRequest) -> Answer {
        let host = req.header("host").unwrap_or_default().to_string();
        let planted = Planted(self.mutant);
        let admitted = match gateway::admit(&self.store, self.auth, planted, req) {
            Ok(a) => a,
            Err(r) => return self.refuse(r.rule, r.format, r.detail, &host),
        };
        let format = admitted.format;
        let op = operation(&admitted.params, self.is(Mutant::WLastOccurrenceWins));
        let mut w = admitted.world.lock();
        match self.settle(&admitted, &mut w) {
            Ok(()) => {}
            Err(Halt::Rule(rule, retry)) => {
                let a = self.refuse(rule, format, None, &host);
                return match retry {
                    Some(ms) => a.with_retry_after(ms, self.mutant),
                    None => a,
                };
            }
            Err(Halt::NonceStoreFull(why)) => return nonce_store_full(why),
        }
        let d = decide_with(&w.state, w.now, &op, self.mutant);
        if let Some(change) = &d.change {
            w.state.apply(change);
        }
        let retry = (d.rule == RuleId::T1).then(|| t1_retry_after_ms(&w, &op)).flatten();
        drop(w);
        if d.rule == RuleId::R1 && self.is(Mutant::R1OtherWorldVisible) {
            if let Some(d2) = self.decide_elsewhere(&admitted.world.world_id, &op) {
                return self.answer(&d2, format, &host, None);
            }
        }
        self.answer(&d, format, &host, retry)
    }

    /// A gateway refusal in the rules table's words (plus any detail).
    fn refuse(&self, rule: RuleId, format: Format, detail: Option<String>, host: &str) -> Answer {
        let spec = rule.spec();
        let status = if rule == RuleId::G5 && self.is(Mutant::G5UnknownKey403) {
            403
        } else {
            spec.status
        };
        let message = format!("{}{}", spec.message, detail.unwrap_or_default());
        let code = spec.code.unwrap_or_default();
        error_answer(rule, status, code, &message, format, host, self.mutant)
    }

    /// G10–G12 under the world's lock (decided by `gate::settle` from the
    /// world's books), with their bookkeeping: the nonce of a verified
    /// request is used whatever G11 and G12 decide, a request past G12
    /// counts against the quota.
    fn settle(&self, a: &Admitted<Arc<WorldSlot>>, w: &mut WorldInner) -> Result<(), Halt> {
        let now = Instant::now();
        let books = Books {
            nonce_used: self.auth && a.nonce.as_ref().is_some_and(|n| w.nonce_used(n, now)),
            quota: quota_books(w),
        };
        let planted = Planted(self.mutant);
        let refusal = gate::settle(a.bad_format, a.nonce.is_some(), self.auth, &books, &planted);
        if refusal == Some(RuleId::G10) {
            return Err(Halt::Rule(RuleId::G10, None));
        }
        if let (true, Some(n)) = (self.auth, &a.nonce) {
            if !w.record_nonce(n, now) {
                return Err(Halt::NonceStoreFull(w.nonce_store_full()));
            }
        }
        let at = w.now;
        match refusal {
            Some(RuleId::G12) => {
                if self.is(Mutant::G12ThrottledCount) {
                    w.quota_window.push_back(at);
                }
                Err(Halt::Rule(RuleId::G12, Some(retry_after_ms(w))))
            }
            Some(rule) => Err(Halt::Rule(rule, None)),
            None => {
                if books.quota.is_some() {
                    w.quota_window.push_back(at);
                }
                Ok(())
            }
        }
    }

    fn answer(&self, d: &Decision, format: Format, host: &str, retry_ms: Option<i64>) -> Answer {
        if d.is_success() {
            return success_answer(d.rule, format);
        }
        let code = d.code.unwrap_or_default();
        let a = error_answer(d.rule, d.status, code, d.message, format, host, self.mutant);
        match retry_ms {
            Some(ms) => a.with_retry_after(ms, self.mutant),
            None => a,
        }
    }

    /// The `R1-other-world-visible` bug: look the instance up elsewhere.
    fn decide_elsewhere(&self, own_world: &str, op: &ModifyRequest) -> Option<Decision> {
        let id = op.instance_id.as_deref()?;
        let other = self.store.other_world_with_instance(own_world, id)?;
        let mut w = other.lock();
        let d = decide(&w.state, w.now, op);
        if let Some(change) = &d.change {
            w.state.apply(change);
        }
        Some(d)
    }
}

/// Why a request stops between the gateway and the oracle.
enum Halt {
    /// A rule refuses it (with `x-acs-retry-after` milliseconds for G12).
    Rule(RuleId, Option<i64>),
    /// No room for one more nonce: the store's words.
    NonceStoreFull(String),
}

/// The answer when G10 cannot remember one more nonce: outside the
/// contract (behaviour.md 6: the rules table has no code for a server's
/// capacity), so plain text and no `Code`, like the HTTP layer's limits.
/// Refusing keeps G10 exact; forgetting old nonces would let replays in.
fn nonce_store_full(why: String) -> Answer {
    Answer {
        status: 503,
        content_type: "text/plain; charset=utf-8",
        body: why,
        retry_after_ms: None,
        rule: RuleId::G10,
        code: None,
    }
}

/// The operation parameters; the first occurrence wins unless mutated.
fn operation(params: &ParamList, last_wins: bool) -> ModifyRequest {
    if last_wins {
        ModifyRequest::from_pairs(params.iter().collect::<Vec<_>>().into_iter().rev())
    } else {
        ModifyRequest::from_pairs(params.iter())
    }
}

/// G12's books: the window pruned to the world clock, its count and
/// the quota, if the account has one.
fn quota_books(w: &mut WorldInner) -> Option<Quota> {
    let max = w.state.world.account.max_requests_per_minute? as usize;
    let now = w.now;
    while w.quota_window.front().is_some_and(|t| now - t >= QUOTA_WINDOW_SECONDS) {
        w.quota_window.pop_front();
    }
    Some(Quota {
        counted: w.quota_window.len(),
        max,
    })
}

/// Milliseconds until the oldest request of the G12 window leaves it.
fn retry_after_ms(w: &WorldInner) -> i64 {
    let oldest = w.quota_window.front().copied().unwrap_or(w.now);
    (oldest + QUOTA_WINDOW_SECONDS - w.now).max(0) * 1000
}

/// Milliseconds until T1 would allow a change of the requested instance.
fn t1_retry_after_ms(w: &WorldInner, op: &ModifyRequest) -> Option<i64> {
    let at = w.state.instance(op.instance_id.as_deref()?)?.last_modified_at?;
    Some((at + MODIFY_WINDOW_SECONDS - w.now).max(0) * 1000)
}
