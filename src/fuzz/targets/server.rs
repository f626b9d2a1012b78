//! `server`: the reference server in-process, no socket: structured
//! cases through its router (as `modspec fuzz` runs them in-process), raw
//! requests straight into its handler (`Service::handle`), which takes
//! bytes an HTTP library would refuse to build.

use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;

use super::super::case::{Case, default_world};
use super::super::driver::Driver;
use super::super::exec::Runner;
use crate::client::{EcsRequest, Exchange, Secret, SignatureStyle, prepare};
use crate::server::{RawRequest, Service};
use crate::spec::{Match, match_answer};
use crate::wire::{Format, ParamList, parse_body};

/// Header names a raw request picks from (and sometimes a free one).
const HEADERS: &[&str] = &[
    "authorization",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
    "content-type",
    "host",
];

/// A request as bytes, before any interpretation.
#[derive(Arbitrary, Debug)]
pub struct RawInput {
    pub method: String,
    pub query: Option<String>,
    /// (index into the known names, or a free name; value)
    pub headers: Vec<(u8, Option<String>, String)>,
    pub body: Vec<u8>,
    /// Sign a valid request first and then apply the raw parts on top, so
    /// the damage lands past the gateway's first checks.
    pub signed: Option<(bool, Vec<(String, String)>)>,
}

/// What the `server` target gets.
#[derive(Arbitrary, Debug)]
pub enum ServerInput {
    /// Structured: the answers must be the oracle's.
    Case(Case),
    /// Raw: the answer must be well-formed and consistent.
    Raw(RawInput),
}

struct Shared {
    /// The router reads bodies under a timeout: it needs tokio's timer.
    rt: tokio::runtime::Runtime,
    driver: Driver,
    runner: Runner,
    service: Arc<Service>,
}

fn shared() -> Option<&'static Shared> {
    static SHARED: OnceLock<Option<Shared>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .ok()?;
            let driver = Driver::in_process(None);
            let Driver::InProcess { service, .. } = &driver else {
                return None;
            };
            let service = service.clone();
            let runner = Runner {
                driver: driver.clone(),
                defaults: default_world().ok()?.clone(),
                auth: true,
                check_state: true,
            };
            Some(Shared {
                rt,
                driver,
                runner,
                service,
            })
        })
        .as_ref()
}

/// Properties of the reference server's handler:
///
/// - it never panics;
/// - every answer is a well-formed JSON or XML body in the format its
///   content type names, with a RequestId, whose (status, code) is exactly
///   the rules table's for the rule that decided it;
/// - for structured cases (well-signed unless damaged on purpose) every
///   (status, code), format and final state is the oracle's.
pub fn server(input: &ServerInput) {
    let Some(s) = shared() else { return };
    match input {
        ServerInput::Case(case) => {
            let Ok(run) = s.rt.block_on(s.runner.run(case)) else {
                return;
            };
            if let Some(d) = run.disagreement {
                panic!("the reference server disagrees with the oracle: {d}\ncase: {case:#?}");
            }
        }
        ServerInput::Raw(raw) => {
            let Ok(session) = s.rt.block_on(s.driver.create(&s.runner.defaults)) else {
                return;
            };
            let req = raw_request(raw, &session.access_key_id, &session.secret);
            let answer = s.service.handle(&req);
            s.rt.block_on(s.driver.delete(&session));
            let ex = Exchange {
                status: answer.status,
                headers: vec![("content-type".into(), answer.content_type.into())],
                body: answer.body.into_bytes(),
            };
            well_formed(&ex, answer.rule);
        }
    }
}

fn raw_request(raw: &RawInput, key: &str, secret: &Secret) -> RawRequest {
    let mut req = RawRequest {
        method: raw.method.clone(),
        query: raw.query.clone(),
        headers: Vec::new(),
        body: raw.body.clone(),
    };
    if let Some((v1, params)) = &raw.signed {
        let style = if *v1 { SignatureStyle::V1 } else { SignatureStyle::V3 };
        let list: ParamList = params.iter().take(16).cloned().collect();
        let p = prepare(&EcsRequest::modify(style, list), key, secret, "modspec.invalid");
        req.query = match (&raw.query, p.query.is_empty()) {
            (Some(extra), false) => Some(format!("{}&{extra}", p.query)),
            (Some(extra), true) => Some(extra.clone()),
            (None, _) => Some(p.query).filter(|q| !q.is_empty()),
        };
        req.headers = p.headers;
        if raw.body.is_empty() {
            req.body = p.body;
        }
        if raw.method.is_empty() {
            req.method = p.method;
        }
    }
    for (i, free, value) in raw.headers.iter().take(16) {
        let name = match free {
            Some(n) => n.clone(),
            None => HEADERS[usize::from(*i) % HEADERS.len()].to_string(),
        };
        req.headers.push((name, value.clone()));
    }
    req
}

/// Asserts that an answer is well-formed and says what its rule says.
pub(crate) fn well_formed(ex: &Exchange, rule: crate::spec::RuleId) {
    let ctype = ex.header("content-type").unwrap_or_default();
    let parsed = match parse_body(Some(ctype), &ex.body) {
        Ok(p) => p,
        Err(e) => panic!("malformed answer ({e}): {:?}", String::from_utf8_lossy(&ex.body)),
    };
    let want_format = if ctype.contains("xml") {
        Format::Xml
    } else {
        Format::Json
    };
    assert_eq!(parsed.format, want_format, "body format vs content type {ctype}");
    assert!(
        parsed.request_id.as_deref().is_some_and(|r| !r.is_empty()),
        "no RequestId"
    );
    assert_eq!(
        match_answer(rule, ex.status, parsed.code.as_deref()),
        Match::Canonical,
        "{rule}: answered {} {:?}",
        ex.status,
        parsed.code
    );
}
