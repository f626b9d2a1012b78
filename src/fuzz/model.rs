//! The expected answers of a case: the gateway rules for the protocol
//! damage the generator makes, then the `decide` oracle over the world,
//! with the clock moved and every accepted change applied.
//!
//! Architecture invariant: like `spec`, this module does no I/O; it is the
//! executable contract for a whole sequence, not one request.

use std::collections::{HashSet, VecDeque};

use super::case::{Case, CaseRequest, CaseStep};
use crate::client::SignatureStyle;
use crate::protocol::{ACTION, V1_REQUIRED, V3_REQUIRED, VERSION};
use crate::spec::{Decision, ModifyRequest, RuleId, World, WorldState, decide};
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
    /// World times of the requests counted against the G12 quota.
    quota: VecDeque<i64>,
}

impl Model {
    pub fn new(world: World, auth: bool) -> Self {
        Model {
            state: WorldState::new(world),
            now: 0,
            auth,
            nonces: HashSet::new(),
            quota: VecDeque::new(),
        }
    }

    /// Moves the world clock.
    pub fn advance(&mut self, seconds: u64) {
        self.now = self.now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
    }

    /// Answers one request and applies what it changes.
    pub fn request(&mut self, req: &CaseRequest) -> Expected {
        let format = expected_format(req);
        let rule = match self.transport(req) {
            Some(rule) => rule,
            None => {
                let op = ModifyRequest::from_pairs(req.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                let d: Decision = decide(&self.state, self.now, &op);
                if let Some(change) = &d.change {
                    self.state.apply(change);
                }
                d.rule
            }
        };
        Expected { rule, format }
    }

    /// G1–G12, with the bookkeeping of G10 and G12.
    fn transport(&mut self, req: &CaseRequest) -> Option<RuleId> {
        if let Some(rule) = gateway(req, self.auth) {
            return Some(rule);
        }
        if self.auth {
            if let Some(nonce) = &req.damage.nonce {
                if !self.nonces.insert(nonce.clone()) {
                    return Some(RuleId::G10);
                }
            }
        }
        let format = req.format.as_deref().filter(|f| !f.is_empty());
        if format.is_some_and(|f| Format::parse(f).is_none()) {
            return Some(RuleId::G11);
        }
        if let Some(max) = self.state.world.account.max_requests_per_minute {
            let now = self.now;
            while self.quota.front().is_some_and(|t| now - t >= QUOTA_WINDOW) {
                self.quota.pop_front();
            }
            if self.quota.len() >= max as usize {
                return Some(RuleId::G12);
            }
            self.quota.push_back(now);
        }
        None
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
/// of damage gets the earliest rule; each check reads only the damage
/// fields of its own rule.
pub fn gateway(req: &CaseRequest, auth: bool) -> Option<RuleId> {
    let d = &req.damage;
    let v1 = req.style == SignatureStyle::V1;
    if !matches!(req.method.as_str(), "GET" | "POST") {
        return Some(RuleId::G1);
    }
    let set = |k: &str| d.set.get(k).map(String::as_str);
    if auth {
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
        let emptied = required.iter().any(|k| set(k) == Some(""));
        // G2 is about host and the required x-acs-* headers only; other
        // headers may be left out of SignedHeaders (behaviour.md section 6).
        let unsigned = !v1
            && d.unsigned_headers
                .iter()
                .any(|h| h == "host" || V3_REQUIRED.contains(&h.as_str()));
        if omitted || emptied || unsigned {
            return Some(RuleId::G2);
        }
    }
    if set("Action").is_some_and(|a| a != ACTION) {
        return Some(RuleId::G3);
    }
    if !auth {
        return d.unknown_key.then_some(RuleId::G5);
    }
    if set("Version").is_some_and(|v| v != VERSION) {
        return Some(RuleId::G4);
    }
    if d.unknown_key {
        return Some(RuleId::G5);
    }
    if set("Timestamp").is_some_and(|t| sign_v1::parse_timestamp(t).is_none()) {
        return Some(RuleId::G6);
    }
    if d.timestamp_offset.is_some_and(|o| o.abs() > TIMESTAMP_WINDOW) {
        return Some(RuleId::G7);
    }
    let method_bad = if v1 {
        set("SignatureMethod").is_some_and(|m| m != "HMAC-SHA1")
    } else {
        d.algorithm.as_deref().is_some_and(|a| a != sign_v3::ALGORITHM)
    };
    if method_bad {
        return Some(RuleId::G8);
    }
    let tampered = d.after_signing.iter().any(|(k, v)| req.param(k) != Some(v.as_str()));
    let body = d.body.as_deref().unwrap_or_default().as_bytes();
    let hash_lies = d
        .content_sha256
        .as_deref()
        .is_some_and(|h| !h.eq_ignore_ascii_case(&sign_v3::hex_sha256(body)));
    if d.wrong_secret || tampered || (!v1 && hash_lies) {
        return Some(RuleId::G9);
    }
    None
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
