//! The expected answers of a case: the gateway rules (`gate`, over the
//! request as the client puts it on the wire), then the `decide` oracle
//! over the world, with the clock moved and every accepted change applied.
//!
//! Architecture invariant: like `spec`, this module does no I/O; it is the
//! executable contract for a whole sequence, not one request.

use std::collections::{HashSet, VecDeque};

use super::case::{Case, CaseRequest, CaseStep};
use super::reach::{Boundaries, Boundary, oracle_boundaries};
use crate::client::SignatureStyle;
use crate::gate::{self, Admitted, Books, Bounds, Context, Quota, RawRequest, Specified};
use crate::protocol::QUOTA_WINDOW_SECONDS;
use crate::runner;
use crate::spec::{Decision, ModifyRequest, RuleId, World, WorldState, decide, rules_met};
use crate::wire::Format;

/// The credentials the model signs its copy of each request with; only
/// the gate's lookup knows them.
const MODEL_KEY: &str = "LTAImodelkey";
const MODEL_SECRET: &str = "model-secret";
/// The host the model's copy is addressed to (no rule reads it).
const MODEL_HOST: &str = "model.invalid";

/// What a conforming target answers to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    pub rule: RuleId,
    /// The body format of the answer.
    pub format: Format,
    /// The rule that would answer if `rule` were put right, when the
    /// request breaks both and both are of P1–F1: the precedence pair the
    /// documented order decided. Gateway refusals have none: the gate
    /// stops at the first rule a request breaks, and every damaged request
    /// also has an operation verdict behind it, which would say nothing.
    pub runner_up: Option<RuleId>,
    /// The boundaries of section 3 this request reached (`reach`).
    pub boundaries: Boundaries,
}

/// A world as the contract sees it while a case runs.
#[derive(Clone, Debug)]
pub struct Model {
    pub state: WorldState,
    /// World clock, seconds since the world was created.
    pub now: i64,
    /// Whether the target checks signatures, timestamps and nonces.
    auth: bool,
    /// Nonces of requests whose signature verified (G10).
    nonces: HashSet<String>,
    /// Nonces of requests refused at or before G9 (not recorded).
    refused_nonces: HashSet<String>,
    /// World times of the requests counted against the G12 quota.
    quota: VecDeque<i64>,
    /// World times of the requests G12 refused within the last 60 s (they
    /// do not count; kept to know when that decides).
    throttled: VecDeque<i64>,
}

impl Model {
    pub fn new(world: World, auth: bool) -> Self {
        Model {
            state: WorldState::new(world),
            now: 0,
            auth,
            nonces: HashSet::new(),
            refused_nonces: HashSet::new(),
            quota: VecDeque::new(),
            throttled: VecDeque::new(),
        }
    }

    /// Moves the world clock.
    pub fn advance(&mut self, seconds: u64) {
        self.now = self.now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
    }

    /// Answers one request and applies what it changes.
    pub fn request(&mut self, req: &CaseRequest) -> Expected {
        let admitted = match gate::admit(&as_sent(req), &context(self.auth), lookup) {
            Ok(a) => a,
            Err(r) => {
                // Refused at or before G9: a nonce it carried stays unused.
                if let Some(n) = req.damage.nonce.as_ref().filter(|_| self.auth) {
                    self.refused_nonces.insert(n.clone());
                }
                return Expected {
                    rule: r.rule,
                    format: r.format,
                    runner_up: None,
                    boundaries: Boundaries::default(),
                };
            }
        };
        let format = admitted.format;
        let mut edges = self.quota_edges();
        let books = self.books(&admitted);
        let nonce = admitted.nonce.as_deref();
        if nonce.is_some_and(|n| self.auth && !books.nonce_used && self.refused_nonces.contains(n)) {
            edges.insert(Boundary::NonceAfterRefused);
        }
        let refusal = gate::settle(admitted.bad_format, nonce.is_some(), self.auth, &books, &Specified);
        // A verified signature uses its nonce whatever G11 and G12 decide.
        if let (true, Some(n), false) = (self.auth, nonce, refusal == Some(RuleId::G10)) {
            self.nonces.insert(n.to_string());
        }
        if let Some(rule) = refusal {
            if rule == RuleId::G12 {
                self.throttled.push_back(self.now);
            }
            let boundaries = edges.judged_by(rule);
            return Expected {
                rule,
                format,
                runner_up: None,
                boundaries,
            };
        }
        if books.quota.is_some() {
            self.quota.push_back(self.now);
        }
        let op = ModifyRequest::from_pairs(admitted.params.iter());
        let d: Decision = decide(&self.state, self.now, &op);
        let runner_up = rules_met(&self.state, self.now, &op).get(1).copied();
        let boundaries = oracle_boundaries(&self.state, self.now, &op, d.rule).union(edges);
        if let Some(change) = &d.change {
            self.state.apply(change);
        }
        Expected {
            rule: d.rule,
            format,
            runner_up,
            boundaries,
        }
    }

    /// The G12 boundaries the request meets as the books stand; prunes
    /// both windows to the world clock on the way, so `books` reads them
    /// pruned.
    fn quota_edges(&mut self) -> Boundaries {
        let mut edges = Boundaries::default();
        let max = self.state.world.account.max_requests_per_minute.map(|m| m as usize);
        let now = self.now;
        let age = |q: &VecDeque<i64>| q.front().map(|t| now - t);
        // Judged before pruning: a full window whose oldest request is
        // exactly 60 s old is about to free a place.
        if max.is_some_and(|m| self.quota.len() >= m) && age(&self.quota) == Some(QUOTA_WINDOW_SECONDS) {
            edges.insert(Boundary::QuotaOldest60);
        }
        for q in [&mut self.quota, &mut self.throttled] {
            while q.front().is_some_and(|t| now - t >= QUOTA_WINDOW_SECONDS) {
                q.pop_front();
            }
        }
        let Some(max) = max else {
            return edges;
        };
        let count = self.quota.len();
        match max.checked_sub(count) {
            Some(0) => edges.insert(Boundary::QuotaFull),
            Some(1) => edges.insert(Boundary::QuotaLast),
            _ => {}
        }
        let full = count >= max;
        if full && age(&self.quota) == Some(QUOTA_WINDOW_SECONDS - 1) {
            edges.insert(Boundary::QuotaOldest59);
        }
        // Allowed only because throttled requests do not count.
        if !full && count + self.throttled.len() >= max {
            edges.insert(Boundary::QuotaThrottledNotCounted);
        }
        edges
    }

    /// The books of G10 and G12 as they stand (`quota_edges` has pruned
    /// the quota window).
    fn books(&self, a: &Admitted<&str>) -> Books {
        let max = self.state.world.account.max_requests_per_minute;
        Books {
            nonce_used: a.nonce.as_ref().is_some_and(|n| self.nonces.contains(n)),
            quota: max.map(|m| Quota {
                counted: self.quota.len(),
                max: m as usize,
            }),
        }
    }
}

fn lookup(key: &str) -> Option<&'static str> {
    (key == MODEL_KEY).then_some(MODEL_SECRET)
}

fn context(auth: bool) -> Context<'static, Specified> {
    Context {
        auth,
        now: chrono::Utc::now(),
        bounds: Bounds::NONE,
        bends: &Specified,
    }
}

/// The request as the client puts it on the wire, signed with the
/// model's credentials: the gate reads the bytes, not the damage.
fn as_sent(req: &CaseRequest) -> RawRequest {
    runner::as_sent(&req.to_ecs(), MODEL_KEY, MODEL_SECRET, MODEL_HOST)
}

/// The format a conforming server answers in: a valid `Format` wins, else
/// the style's default (V3 JSON, V1 XML). For G1/G2 the server guesses the
/// style from the headers, which for the requests made here gives the same.
pub fn expected_format(req: &CaseRequest) -> Format {
    req.format
        .as_deref()
        .and_then(Format::parse)
        .unwrap_or(match req.style {
            SignatureStyle::V1 => Format::Xml,
            SignatureStyle::V3 => Format::Json,
        })
}

/// G1–G9 for a request as sent; `None` if all pass.
pub fn gateway(req: &CaseRequest, auth: bool) -> Option<RuleId> {
    gate::admit(&as_sent(req), &context(auth), lookup).err().map(|r| r.rule)
}

/// The expected answer of every request of a case, in order, and the
/// model after the last step (for the final state check).
pub fn expected(case: &Case, world: World, auth: bool) -> (Vec<Expected>, Model) {
    let mut model = Model::new(world, auth);
    let mut out = Vec::with_capacity(case.steps.len());
    for step in &case.steps {
        match step {
            CaseStep::Advance(s) => model.advance(*s),
            CaseStep::Request(r) => out.push(model.request(r)),
        }
    }
    (out, model)
}
