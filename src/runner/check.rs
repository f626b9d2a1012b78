//! Compares one answer with its expectation: status and code (through the
//! rules table and its aliases), body shape and format, content type,
//! `x-acs-retry-after`, and the instance state before and after.

use std::collections::BTreeMap;

use serde_json::Value;

use super::outcome::Mismatch;
use crate::client::{EcsRequest, Exchange, SignatureStyle};
use crate::scenario::Expectation;
use crate::spec::{Match, ModifyRequest, RuleId, match_answer, parse_int, present};
use crate::wire::{Format, JSON_CONTENT_TYPE, XML_CONTENT_TYPE, parse_body};

/// Every XML answer starts with this (behaviour.md 2.2).
const XML_PROLOG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Instance states of one world by id, as the control protocol answers them.
pub type States = BTreeMap<String, Value>;

/// The findings of one check.
#[derive(Debug, Default)]
pub struct Findings {
    pub mismatches: Vec<Mismatch>,
    pub warnings: Vec<String>,
}

impl Findings {
    fn miss(&mut self, step: &str, what: &str, expected: impl Into<String>, got: impl Into<String>) {
        self.mismatches.push(Mismatch {
            step: step.to_string(),
            what: what.to_string(),
            expected: expected.into(),
            got: got.into(),
            rule: None,
        });
    }
}

/// The answer format a conforming server uses for this request.
pub fn expected_format(req: &EcsRequest) -> Format {
    req.format
        .as_deref()
        .and_then(Format::parse)
        .unwrap_or(match req.style {
            SignatureStyle::V3 => Format::Json,
            SignatureStyle::V1 => Format::Xml,
        })
}

fn describe_rule(rule: RuleId) -> String {
    let s = rule.spec();
    match s.code {
        Some(code) => format!("{} {code} ({rule})", s.status),
        None => format!("{} success ({rule})", s.status),
    }
}

fn describe(expect: &Expectation) -> String {
    if expect.alternatives.is_empty() {
        return describe_rule(expect.rule);
    }
    let all: Vec<String> = expect.rules().map(describe_rule).collect();
    format!("one of {}", all.join(", "))
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]).replace('\n', " ");
    if body.len() > 200 { format!("{text}…") } else { text }
}

/// Checks the answer itself (not the state).
pub fn check_answer(
    label: &str,
    host: &str,
    expect: &Expectation,
    req: &EcsRequest,
    ex: &Exchange,
    strict: bool,
    out: &mut Findings,
) {
    if (300..400).contains(&ex.status) {
        // The harness never follows a redirect: the answer is the target's.
        let to = ex
            .header("location")
            .map_or("no Location".to_string(), |l| format!("Location: {l}"));
        out.miss(
            label,
            "answer",
            describe(expect),
            format!("{} redirect ({to}), not followed", ex.status),
        );
        return;
    }
    let ctype = ex.header("content-type").unwrap_or_default().to_string();
    let parsed = match parse_body(Some(&ctype), &ex.body) {
        Ok(p) => p,
        Err(e) => {
            out.miss(
                label,
                "answer",
                describe(expect),
                format!("{} with an unreadable body ({e}): {}", ex.status, excerpt(&ex.body)),
            );
            return;
        }
    };
    let code = parsed.code.as_deref();
    // The best match over the rules that may fire: canonical, else an alias.
    let matched = expect
        .rules()
        .map(|r| (r, match_answer(r, ex.status, code)))
        .min_by_key(|(_, m)| match m {
            Match::Canonical => 0,
            Match::Alias(_) => 1,
            Match::Mismatch => 2,
        })
        .map_or(Match::Mismatch, |(_, m)| m);
    let fired = expect
        .rules()
        .find(|r| matches!(match_answer(*r, ex.status, code), Match::Canonical | Match::Alias(_)))
        .unwrap_or(expect.rule);
    match matched {
        Match::Canonical => {}
        Match::Alias(a) if !strict => {
            out.warnings.push(format!(
                "{label}: answered {} {} for {}: an accepted alias ({})",
                a.status, a.code, fired, a.why
            ));
        }
        Match::Alias(_) | Match::Mismatch => {
            let got = format!("{} {}", ex.status, code.unwrap_or("(no Code)"));
            out.miss(
                label,
                "answer",
                describe(expect),
                format!("{got}: {}", excerpt(&ex.body)),
            );
        }
    }
    let want = match expect.full.format.as_deref() {
        Some(f) => Format::parse(f).unwrap_or(Format::Json),
        None => expected_format(req),
    };
    if parsed.format != want {
        out.miss(
            label,
            "format",
            format!("{want:?} body"),
            format!("{:?} body", parsed.format),
        );
    }
    let want_ctype = match parsed.format {
        Format::Json => JSON_CONTENT_TYPE,
        Format::Xml => XML_CONTENT_TYPE,
    };
    let compact = ctype.replace(' ', "");
    match parsed.format {
        Format::Xml if !compact.eq_ignore_ascii_case(XML_CONTENT_TYPE) => {
            // The SDK parses XML errors only under this exact header (behaviour.md 2.2).
            out.miss(
                label,
                "content-type",
                want_ctype,
                if ctype.is_empty() { "none" } else { &ctype },
            );
        }
        Format::Json if !compact.eq_ignore_ascii_case(JSON_CONTENT_TYPE) => {
            if strict || !compact.to_ascii_lowercase().starts_with("application/json") {
                out.miss(
                    label,
                    "content-type",
                    want_ctype,
                    if ctype.is_empty() { "none" } else { &ctype },
                );
            } else {
                out.warnings.push(format!(
                    "{label}: content-type `{ctype}` instead of `{JSON_CONTENT_TYPE}`"
                ));
            }
        }
        _ => {}
    }
    if parsed.format == Format::Xml && !ex.body.starts_with(XML_PROLOG.as_bytes()) {
        out.miss(label, "xml prolog", XML_PROLOG, excerpt(&ex.body));
    }
    let is_error = expect.rule.spec().is_error();
    let root_ok = match (parsed.format, is_error) {
        (Format::Xml, true) => parsed.root == "Error",
        (Format::Xml, false) => parsed.root == "ModifyInstanceSpecResponse",
        (Format::Json, _) => true,
    };
    if !root_ok && ex.status / 100 == if is_error { 4 } else { 2 } {
        let want = if is_error {
            "<Error>"
        } else {
            "<ModifyInstanceSpecResponse>"
        };
        out.miss(label, "xml root", want, format!("<{}>", parsed.root));
    }
    if parsed.request_id.as_deref().is_none_or(str::is_empty) {
        out.miss(label, "body", "a RequestId", excerpt(&ex.body));
    }
    if is_error && ex.status >= 400 {
        for (field, v) in [("HostId", &parsed.host_id), ("Message", &parsed.message)] {
            if v.is_none() {
                out.miss(label, "body", format!("an error body with {field}"), excerpt(&ex.body));
            }
        }
        if let Some(h) = parsed.host_id.as_deref().filter(|h| *h != host) {
            out.miss(
                label,
                "HostId",
                format!("{host:?} (the host the request was sent to)"),
                format!("{h:?}"),
            );
        }
    }
    if code == Some("Throttling") || expect.rule.spec().code == Some("Throttling") && code.is_some() {
        match ex.header("x-acs-retry-after").map(|v| v.trim().parse::<u64>()) {
            Some(Ok(_)) => {}
            Some(Err(_)) => out.miss(
                label,
                "x-acs-retry-after",
                "milliseconds",
                ex.header("x-acs-retry-after").unwrap_or_default(),
            ),
            None => out.miss(label, "x-acs-retry-after", "a header on Throttling", "none"),
        }
    }
    if strict {
        if let (Some(want), Some(msg)) = (&expect.full.message_contains, &parsed.message) {
            if !msg.contains(want.as_str()) {
                out.miss(label, "message", format!("containing {want:?}"), msg.clone());
            }
        }
    }
}

/// What the world must look like after the request: unchanged after an
/// error or a replay; after E1, the requested change on its instance
/// with `last_modified_at` = now, everything else unchanged.
pub fn expected_states(expect: &Expectation, req: &EcsRequest, before: &States, now: i64) -> States {
    let mut after = before.clone();
    if expect.rule != RuleId::E1 {
        return after;
    }
    let op = ModifyRequest::from_pairs(req.all_params().iter());
    let Some(inst) = present(&op.instance_id).and_then(|id| after.get_mut(id)) else {
        return after;
    };
    if let Some(t) = present(&op.instance_type) {
        inst["instance_type"] = Value::from(t);
    }
    if let Some(v) = present(&op.bandwidth_out).and_then(parse_int) {
        inst["internet_max_bandwidth_out"] = Value::from(v);
    }
    if let Some(v) = present(&op.bandwidth_in).and_then(parse_int) {
        inst["internet_max_bandwidth_in"] = Value::from(v);
    }
    inst["last_modified_at"] = Value::from(now);
    after
}

/// Compares the states read back with what they must be, and the
/// expectation's explicit `state` fields.
pub fn check_states(
    label: &str,
    expect: &Expectation,
    req: &EcsRequest,
    want: &States,
    got: &States,
    out: &mut Findings,
) {
    for (id, w) in want {
        let g = got.get(id).unwrap_or(&Value::Null);
        let (Value::Object(wm), Value::Object(gm)) = (w, g) else {
            if w != g {
                out.miss(label, &format!("state of {id}"), w.to_string(), g.to_string());
            }
            continue;
        };
        for (field, wv) in wm {
            let gv = gm.get(field).unwrap_or(&Value::Null);
            if wv != gv {
                out.miss(label, &format!("state of {id}.{field}"), wv.to_string(), gv.to_string());
            }
        }
    }
    if let Some(fields) = &expect.full.state {
        let op = ModifyRequest::from_pairs(req.all_params().iter());
        let id = op.instance_id.unwrap_or_default();
        let g = got.get(&id).cloned().unwrap_or(Value::Null);
        for (field, wv) in fields {
            let gv = g.get(field).unwrap_or(&Value::Null);
            if wv != gv {
                out.miss(label, &format!("state of {id}.{field}"), wv.to_string(), gv.to_string());
            }
        }
    }
}
