//! The fuzzer's side of the verdict engine: an answer or a final state is
//! judged by `crate::verdict`, exactly as the runner judges it (default
//! mode), and the first finding becomes the case's disagreement.

use std::fmt;

use serde_json::Value;

use super::model::Expected;
use crate::client::Exchange;
use crate::spec::{InstanceState, RuleId};
use crate::verdict::{AnswerExpectation, Finding, describe, judge_answer, judge_instance};

/// What was wrong: the verdict engine's check.
pub use crate::verdict::Check as Kind;

/// One disagreement between a target and the contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// Index of the request (0-based) or, for `State`, the instance id.
    pub at: String,
    pub kind: Kind,
    pub expected_rule: RuleId,
    pub expected: String,
    pub got: String,
    /// The target's status and code, for the report.
    pub got_status: u16,
    pub got_code: Option<String>,
    /// The instance field, for `State`.
    pub field: Option<String>,
}

impl Disagreement {
    /// What stays the same while a finding is shrunk, and what identifies
    /// a bug: the rule the oracle expected, the check that failed and, for
    /// a state, the field (not the instance). Not the target's answer, so
    /// one bug gives one finding whatever the target answers.
    pub fn signature(&self) -> (RuleId, Kind, String) {
        (self.expected_rule, self.kind, self.field.clone().unwrap_or_default())
    }

    fn from_finding(at: String, rule: RuleId, f: Finding, ex: Option<&Exchange>) -> Self {
        let field =
            f.at.as_deref()
                .and_then(|a| a.split_once('.'))
                .map(|(_, field)| field.to_string());
        let parsed = ex.and_then(|e| crate::wire::parse_body(e.header("content-type"), &e.body).ok());
        Disagreement {
            at,
            kind: f.check,
            expected_rule: rule,
            expected: match &field {
                Some(name) => format!("{name}={}", f.expected),
                None => f.expected,
            },
            got: match &field {
                Some(name) => format!("{name}={}", f.got),
                None => f.got,
            },
            got_status: ex.map_or(0, |e| e.status),
            got_code: parsed.and_then(|p| p.code),
            field,
        }
    }
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: expected {}, got {}",
            self.at, self.kind, self.expected, self.got
        )
    }
}

/// Checks one answer to a request sent to `host`; the first finding is
/// the disagreement.
pub fn judge(step: usize, want: &Expected, host: &str, ex: &Exchange) -> Option<Disagreement> {
    let expectation = AnswerExpectation {
        rule: want.rule,
        format: want.format,
        message_contains: None,
        retry_after_ms: None,
        host,
    };
    let v = judge_answer(&expectation, ex, false);
    let first = v.findings.into_iter().next()?;
    let mut d = Disagreement::from_finding(format!("request {}", step + 1), want.rule, first, Some(ex));
    if d.kind == Kind::Answer {
        // Status and code only: a finding's text must not change with the
        // target's RequestId (the same seed gives the same files).
        d.expected = describe(want.rule);
        d.got = format!("{} {}", ex.status, d.got_code.as_deref().unwrap_or("success"));
    }
    Some(d)
}

/// Compares an instance's final state with the model's (typed, through
/// the verdict engine); `rule` is what the last request to the instance
/// was due to answer.
pub(crate) fn judge_state(id: &str, rule: RuleId, want: &InstanceState, got: Option<&Value>) -> Option<Disagreement> {
    let first = judge_instance(id, want, got).into_iter().next()?;
    Some(Disagreement::from_finding(format!("instance {id}"), rule, first, None))
}
