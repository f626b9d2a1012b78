//! The expected answers of a case: the gateway rules for the protocol
//! damage the generator makes, then the `decide` oracle over the world,
//! with the clock moved and every accepted change applied.
//!
//! Architecture invariant: like `spec`, this module does no I/O; it is the
//! executable contract for a whole sequence, not one request.

use std::collections::{HashSet, VecDeque};

use super::case::{Case, CaseRequest, CaseStep};
use super::reach::{Boundaries, Boundary, oracle_boundaries};
use crate::client::SignatureStyle;
use crate::protocol::{ACTION, V1_REQUIRED, V3_REQUIRED, VERSION};
use crate::spec::{Decision, ModifyRequest, RuleId, World, WorldState, decide, rules_met};
use crate::wire::{Format, sign_v1, sign_v3};

/// How far a signed timestamp may be from the wall clock (G7), seconds.
const TIMESTAMP_WINDOW: i64 = 15 * 60;
/// The G12 quota's sliding window, world seconds.
const QUOTA_WINDOW: i64 = 60;

/// What a conforming target answers to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    pub rule: RuleId,
    /// The body format of the answer.
    pub format: Format,
    /// The rule that would answer if `rule` were put right, when the
    /// request breaks both and they are of one layer (two gateway rules, or
    /// two of P1–F1): the precedence pair the documented order decided.
    /// A gateway refusal's operation verdict is not paired with it: every
    /// damaged request has one, so such pairs would say nothing.
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
        let format = expected_format(req);
        let (gate, quota_edges) = self.transport(req);
        if let Some(&rule) = gate.first() {
            // Refused at the gateway: its own order decides, and no
            // boundary behind it was judged.
            let boundaries = quota_edges.judged_by(rule);
            return Expected {
                rule,
                format,
                runner_up: gate.get(1).copied(),
                boundaries,
            };
        }
        let op = ModifyRequest::from_pairs(req.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let d: Decision = decide(&self.state, self.now, &op);
        let met = rules_met(&self.state, self.now, &op);
        let boundaries = oracle_boundaries(&self.state, self.now, &op, d.rule).union(quota_edges);
        if let Some(change) = &d.change {
            self.state.apply(change);
        }
        Expected {
            rule: d.rule,
            format,
            runner_up: met.get(1).copied(),
            boundaries,
        }
    }

    /// The gateway rules G1–G12 the request meets, in order, with the
    /// bookkeeping of G10 and G12 for a request that passes them all, and
    /// the boundaries of G10 and G12.
    fn transport(&mut self, req: &CaseRequest) -> (Vec<RuleId>, Boundaries) {
        let mut met = gateway_met(req, self.auth);
        let mut nonce_edge = Boundaries::default();
        if let Some(nonce) = req.damage.nonce.as_ref().filter(|_| self.auth) {
            // The nonce of a request whose signature verified is kept; one
            // refused at or before G9 is not, and may be used again.
            if self.nonces.contains(nonce) {
                met.push(RuleId::G10);
            } else if met.is_empty() {
                if self.refused_nonces.contains(nonce) {
                    nonce_edge.insert(Boundary::NonceAfterRefused);
                }
                self.nonces.insert(nonce.clone());
            } else {
                self.refused_nonces.insert(nonce.clone());
            }
        }
        let format = req.format.as_deref().filter(|f| !f.is_empty());
        if format.is_some_and(|f| Format::parse(f).is_none()) {
            met.push(RuleId::G11);
        }
        let passed = met.is_empty();
        let (throttled, edges) = self.quota(passed);
        if throttled {
            met.push(RuleId::G12);
        }
        (met, edges.union(nonce_edge))
    }

    /// G12: whether the account's quota is exhausted, with its
    /// bookkeeping (a request that `passed` G1–G11 and is allowed counts;
    /// a throttled one does not) and its boundaries.
    fn quota(&mut self, passed: bool) -> (bool, Boundaries) {
        let mut edges = Boundaries::default();
        let Some(max) = self.state.world.account.max_requests_per_minute else {
            return (false, edges);
        };
        let (max, now) = (max as usize, self.now);
        let age = |q: &VecDeque<i64>| q.front().map(|t| now - t);
        if self.quota.len() >= max && age(&self.quota) == Some(QUOTA_WINDOW) {
            edges.insert(Boundary::QuotaOldest60);
        }
        for q in [&mut self.quota, &mut self.throttled] {
            while q.front().is_some_and(|t| now - t >= QUOTA_WINDOW) {
                q.pop_front();
            }
        }
        let count = self.quota.len();
        match max.checked_sub(count) {
            Some(0) => edges.insert(Boundary::QuotaFull),
            Some(1) => edges.insert(Boundary::QuotaLast),
            _ => {}
        }
        let full = count >= max;
        if full && age(&self.quota) == Some(QUOTA_WINDOW - 1) {
            edges.insert(Boundary::QuotaOldest59);
        }
        // Allowed only because throttled requests do not count.
        if !full && count + self.throttled.len() >= max {
            edges.insert(Boundary::QuotaThrottledNotCounted);
        }
        if passed {
            let q = if full { &mut self.throttled } else { &mut self.quota };
            q.push_back(now);
        }
        (full, edges)
    }
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

/// G1–G9 for the damage kinds the generator makes; `None` if all pass.
///
/// The checks follow behaviour.md's order, so a request with several kinds
/// of damage gets the earliest rule.
pub fn gateway(req: &CaseRequest, auth: bool) -> Option<RuleId> {
    gateway_met(req, auth).first().copied()
}

/// Every rule of G1–G9 the request meets, in order: each check reads only
/// the damage fields of its own rule, so each is judged on its own. A
/// target without `auth` checks only G1, G3 and G5.
pub fn gateway_met(req: &CaseRequest, auth: bool) -> Vec<RuleId> {
    let d = &req.damage;
    let set = |k: &str| d.set.get(k).map(String::as_str);
    // (rule, met, checked by this target)
    let checks = [
        (RuleId::G1, !matches!(req.method.as_str(), "GET" | "POST"), true),
        (RuleId::G2, signature_incomplete(req), auth),
        (RuleId::G3, set("Action").is_some_and(|a| a != ACTION), true),
        (RuleId::G4, set("Version").is_some_and(|v| v != VERSION), auth),
        (RuleId::G5, d.unknown_key, true),
        (
            RuleId::G6,
            set("Timestamp").is_some_and(|t| sign_v1::parse_timestamp(t).is_none()),
            auth,
        ),
        (
            RuleId::G7,
            d.timestamp_offset.is_some_and(|o| o.abs() > TIMESTAMP_WINDOW),
            auth,
        ),
        (RuleId::G8, method_bad(req), auth),
        (RuleId::G9, forged(req), auth),
    ];
    checks
        .into_iter()
        .filter(|(_, met, checked)| *met && *checked)
        .map(|(rule, ..)| rule)
        .collect()
}

/// G2: a required common parameter or header missing, empty or unsigned.
fn signature_incomplete(req: &CaseRequest) -> bool {
    let d = &req.damage;
    let v1 = req.style == SignatureStyle::V1;
    let required: &[&str] = if v1 {
        &V1_REQUIRED
    } else {
        &[
            "Signature",
            "Action",
            "Version",
            "Timestamp",
            "SignatureNonce",
            "x-acs-content-sha256",
        ]
    };
    let omitted = d.omit.iter().any(|o| required.contains(&o.as_str()));
    let emptied = required.iter().any(|k| d.set.get(*k).is_some_and(String::is_empty));
    // G2 is about host and the required x-acs-* headers only; other
    // headers may be left out of SignedHeaders (behaviour.md section 6).
    let unsigned = !v1
        && d.unsigned_headers
            .iter()
            .any(|h| h == "host" || V3_REQUIRED.contains(&h.as_str()));
    omitted || emptied || unsigned
}

/// G8: a signature method (V1) or algorithm (V3) other than the one served.
fn method_bad(req: &CaseRequest) -> bool {
    let d = &req.damage;
    match req.style {
        SignatureStyle::V1 => d.set.get("SignatureMethod").is_some_and(|m| m != "HMAC-SHA1"),
        SignatureStyle::V3 => d.algorithm.as_deref().is_some_and(|a| a != sign_v3::ALGORITHM),
    }
}

/// G9: signed with another secret, changed after signing, or (V3) a body
/// hash that is not the body's.
fn forged(req: &CaseRequest) -> bool {
    let d = &req.damage;
    let tampered = d.after_signing.iter().any(|(k, v)| req.param(k) != Some(v.as_str()));
    let body = d.body.as_deref().unwrap_or_default().as_bytes();
    let hash_lies = d
        .content_sha256
        .as_deref()
        .is_some_and(|h| !h.eq_ignore_ascii_case(&sign_v3::hex_sha256(body)));
    d.wrong_secret || tampered || (req.style == SignatureStyle::V3 && hash_lies)
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
