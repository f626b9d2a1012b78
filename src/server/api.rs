//! The ECS API endpoint as a plain function from a raw request to an
//! answer: gateway, then G10–G12 under the world's lock, then the oracle.
//!
//! No HTTP types here, so the fuzzer and the benchmarks can drive the exact
//! code the server runs without a socket.

use std::sync::Arc;
use std::time::Instant;

use super::gateway::{self, RawRequest};
use super::respond::{Answer, error_answer, success_answer};
use super::store::{Store, WorldInner};
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
        let fail = |rule: RuleId, format: Format, detail: Option<String>| {
            let spec = rule.spec();
            let status = if rule == RuleId::G5 && self.is(Mutant::G5UnknownKey403) {
                403
            } else {
                spec.status
            };
            let message = format!("{}{}", spec.message, detail.unwrap_or_default());
            error_answer(
                rule,
                status,
                spec.code.unwrap_or_default(),
                &message,
                format,
                &host,
                self.mutant,
            )
        };
        let admitted = match gateway::admit(&self.store, self.auth, self.mutant, req) {
            Ok(a) => a,
            Err(r) => return fail(r.rule, r.format, r.detail),
        };
        let format = admitted.format;
        let op = operation(&admitted.params, self.is(Mutant::WLastOccurrenceWins));
        let mut w = admitted.slot.lock();
        if self.auth {
            if let Some(nonce) = &admitted.nonce {
                let now = Instant::now();
                if w.nonce_used(nonce, now) && !self.is(Mutant::G10NonceUnchecked) {
                    return fail(RuleId::G10, format, None);
                }
                if !w.record_nonce(nonce, now) {
                    return nonce_store_full(w.nonce_store_full());
                }
            }
        }
        if admitted.bad_format && !self.is(Mutant::G11FormatUnchecked) {
            return fail(RuleId::G11, format, None);
        }
        if let Some(retry_ms) = self.quota(&mut w) {
            return fail(RuleId::G12, format, None).with_retry_after(retry_ms, self.mutant);
        }
        let d = decide_with(&w.state, w.now, &op, self.mutant);
        if let Some(change) = &d.change {
            w.state.apply(change);
        }
        let retry = (d.rule == RuleId::T1).then(|| t1_retry_after_ms(&w, &op)).flatten();
        drop(w);
        if d.rule == RuleId::R1 && self.is(Mutant::R1OtherWorldVisible) {
            if let Some(d2) = self.decide_elsewhere(&admitted.slot.world_id, &op) {
                return self.answer(&d2, format, &host, None);
            }
        }
        self.answer(&d, format, &host, retry)
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

    /// G12: counts this request against the world's quota, or returns the
    /// milliseconds until it would be allowed.
    fn quota(&self, w: &mut WorldInner) -> Option<i64> {
        let max = w.state.world.account.max_requests_per_minute? as usize;
        let now = w.now;
        while w.quota_window.front().is_some_and(|t| now - t >= QUOTA_WINDOW_SECONDS) {
            w.quota_window.pop_front();
        }
        let allowed = if self.is(Mutant::G12QuotaOffByOne) {
            max + 1
        } else {
            max
        };
        if w.quota_window.len() >= allowed {
            if self.is(Mutant::G12ThrottledCount) {
                w.quota_window.push_back(now);
            }
            let oldest = w.quota_window.front().copied().unwrap_or(now);
            return Some((oldest + QUOTA_WINDOW_SECONDS - now).max(0) * 1000);
        }
        w.quota_window.push_back(now);
        None
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

/// Milliseconds until T1 would allow a change of the requested instance.
fn t1_retry_after_ms(w: &WorldInner, op: &ModifyRequest) -> Option<i64> {
    let at = w.state.instance(op.instance_id.as_deref()?)?.last_modified_at?;
    Some((at + MODIFY_WINDOW_SECONDS - w.now).max(0) * 1000)
}
