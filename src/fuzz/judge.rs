//! Compares a target's answer with the expected one, and a final instance
//! state with the model's.
//!
//! The checks are the runner's answer checks that a fuzzer can afford per
//! request: (status, code) through the rules table with its aliases, the
//! body's format and well-formedness, the content type, the XML prolog,
//! RequestId, and `x-acs-retry-after` on Throttling. A disagreement names
//! its kind so the shrinker can keep the same one.

use std::fmt;

use serde_json::Value;

use super::model::Expected;
use crate::client::Exchange;
use crate::spec::{Match, RuleId, match_answer};
use crate::wire::{Format, JSON_CONTENT_TYPE, XML_CONTENT_TYPE, parse_body};

const XML_PROLOG: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// What was wrong with an answer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// (status, code) is not the rule's, nor an accepted alias.
    Answer,
    /// The body is not well-formed JSON or XML.
    Body,
    /// JSON where XML was due, or the reverse.
    Format,
    ContentType,
    /// RequestId, the XML prolog or `x-acs-retry-after` is missing.
    Shape,
    /// An instance's final state differs from the model's.
    State,
}

/// One disagreement between a target and the contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// Index of the request (0-based) or, for `State`, the instance id.
    pub at: String,
    pub kind: Kind,
    pub expected_rule: RuleId,
    pub expected: String,
    pub got: String,
    /// The target's status and code, which identify the disagreement.
    pub got_status: u16,
    pub got_code: Option<String>,
}

impl Disagreement {
    /// What stays the same while a finding is shrunk: the oracle's verdict,
    /// the kind of disagreement and the target's (status, code).
    pub fn signature(&self) -> (RuleId, Kind, u16, Option<String>, String) {
        let field = match self.kind {
            // The field that differs, not the instance it belongs to.
            Kind::State => self.expected.split('=').next().unwrap_or_default().to_string(),
            _ => String::new(),
        };
        (
            self.expected_rule,
            self.kind.clone(),
            self.got_status,
            self.got_code.clone(),
            field,
        )
    }
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:?}: expected {} ({}), got {}",
            self.at, self.kind, self.expected, self.expected_rule, self.got
        )
    }
}

fn describe(rule: RuleId) -> String {
    let s = rule.spec();
    match s.code {
        Some(code) => format!("{} {code}", s.status),
        None => format!("{} success", s.status),
    }
}

/// Checks one answer; the first thing wrong is the disagreement.
pub fn judge(step: usize, want: &Expected, ex: &Exchange) -> Option<Disagreement> {
    let ctype = ex.header("content-type").unwrap_or_default();
    let mut d = Disagreement {
        at: format!("request {}", step + 1),
        kind: Kind::Answer,
        expected_rule: want.rule,
        expected: describe(want.rule),
        got: String::new(),
        got_status: ex.status,
        got_code: None,
    };
    let parsed = match parse_body(Some(ctype), &ex.body) {
        Ok(p) => p,
        Err(e) => {
            d.kind = Kind::Body;
            d.got = format!("{} with an unreadable body ({e})", ex.status);
            return Some(d);
        }
    };
    d.got_code.clone_from(&parsed.code);
    let code = parsed.code.as_deref();
    if match_answer(want.rule, ex.status, code) == Match::Mismatch {
        d.got = format!("{} {}", ex.status, code.unwrap_or("success"));
        return Some(d);
    }
    if parsed.format != want.format {
        d.kind = Kind::Format;
        d.expected = format!("{:?} body", want.format);
        d.got = format!("{:?} body", parsed.format);
        return Some(d);
    }
    let compact = ctype.replace(' ', "").to_ascii_lowercase();
    let ctype_ok = match parsed.format {
        Format::Xml => compact == XML_CONTENT_TYPE,
        Format::Json => compact.starts_with("application/json"),
    };
    if !ctype_ok {
        d.kind = Kind::ContentType;
        d.expected = match parsed.format {
            Format::Xml => XML_CONTENT_TYPE,
            Format::Json => JSON_CONTENT_TYPE,
        }
        .to_string();
        d.got = if ctype.is_empty() {
            "none".into()
        } else {
            ctype.to_string()
        };
        return Some(d);
    }
    d.kind = Kind::Shape;
    if parsed.format == Format::Xml && !ex.body.starts_with(XML_PROLOG) {
        d.expected = "the XML prolog".into();
        d.got = "a body without it".into();
        return Some(d);
    }
    if parsed.request_id.as_deref().is_none_or(str::is_empty) {
        d.expected = "a RequestId".into();
        d.got = "none".into();
        return Some(d);
    }
    let throttling = code == Some("Throttling");
    if throttling
        && ex
            .header("x-acs-retry-after")
            .is_none_or(|v| v.trim().parse::<u64>().is_err())
    {
        d.expected = "x-acs-retry-after in milliseconds".into();
        d.got = ex.header("x-acs-retry-after").unwrap_or("none").to_string();
        return Some(d);
    }
    None
}

/// Compares an instance's final state with the model's, field by field;
/// `rule` is what the last request to the instance was due to answer.
pub fn judge_state(id: &str, rule: RuleId, want: &Value, got: Option<&Value>) -> Option<Disagreement> {
    let Value::Object(fields) = want else {
        return None;
    };
    let null = Value::Null;
    for (field, w) in fields {
        let g = got.and_then(|g| g.get(field)).unwrap_or(&null);
        if w != g {
            return Some(Disagreement {
                at: format!("instance {id}"),
                kind: Kind::State,
                expected_rule: rule,
                expected: format!("{field}={w}"),
                got: format!("{field}={g}"),
                got_status: 0,
                got_code: None,
            });
        }
    }
    None
}
