//! The runner's side of the verdict engine: puts a scenario step's
//! expectation into the engine's terms and its findings into the step.
//! Nothing is judged here; `crate::verdict` does that for run and fuzz alike.

use std::collections::BTreeMap;

use serde_json::Value;

use super::outcome::Mismatch;
use crate::client::{EcsRequest, Exchange, SignatureStyle};
use crate::scenario::Expectation;
use crate::spec::{Match, ModifyRequest, RuleId, match_answer};
use crate::verdict::{
    AnswerExpectation, Check, Finding, change_of, describe, judge_answer, judge_instance, parse_instance,
};
use crate::wire::{Format, parse_body};

/// Instance states of one world by id, as the control protocol answers them.
pub(crate) type States = BTreeMap<String, Value>;

/// The findings of one check.
#[derive(Debug, Default)]
pub struct Findings {
    pub mismatches: Vec<Mismatch>,
    pub warnings: Vec<String>,
}

impl Findings {
    fn add(&mut self, step: &str, found: Vec<Finding>) {
        self.mismatches.extend(found.into_iter().map(|f| Mismatch {
            step: step.to_string(),
            check: f.check,
            at: f.at,
            sent: None,
            expected: f.expected,
            got: f.got,
            rule: None,
        }));
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

/// Judges the answer itself (not the state) through the verdict engine.
pub(crate) fn check_answer(
    label: &str,
    host: &str,
    expect: &Expectation,
    req: &EcsRequest,
    ex: &Exchange,
    strict: bool,
    out: &mut Findings,
) {
    let format = match expect.full.format.as_deref() {
        Some(f) => Format::parse(f).unwrap_or(Format::Json),
        None => expected_format(req),
    };
    let want = AnswerExpectation {
        rule: fired_rule(expect, ex),
        format,
        message_contains: expect.full.message_contains.as_deref(),
        host,
        retry_after_ms: expect.full.retry_after,
    };
    let mut v = judge_answer(&want, ex, strict);
    if !expect.alternatives.is_empty() {
        // None of the rules matched: say which were acceptable.
        let all: Vec<String> = expect.rules().map(describe).collect();
        for f in v.findings.iter_mut().filter(|f| f.check == Check::Answer) {
            f.expected = format!("one of {}", all.join(", "));
        }
    }
    out.add(label, v.findings);
    out.warnings
        .extend(v.warnings.into_iter().map(|w| format!("{label}: {w}")));
}

/// The rule an answer is judged against: for a `one_of` expectation the
/// first of its rules the answer's status and code match (canonically,
/// else as an alias), else the first rule; for an exact one, its rule.
fn fired_rule(expect: &Expectation, ex: &Exchange) -> RuleId {
    if expect.alternatives.is_empty() {
        return expect.rule;
    }
    let ctype = ex.header("content-type").unwrap_or_default();
    let Ok(parsed) = parse_body(Some(ctype), &ex.body) else {
        return expect.rule;
    };
    let code = parsed.code.as_deref();
    let matching = |canonical: bool| {
        expect.rules().find(|r| match match_answer(*r, ex.status, code) {
            Match::Canonical => true,
            Match::Alias(_) => !canonical,
            Match::Mismatch => false,
        })
    };
    matching(true).or_else(|| matching(false)).unwrap_or(expect.rule)
}

/// Judges the states read back after a request: every instance as the
/// oracle's `InstanceState::apply` makes it from the state before (a
/// change only after E1), then the expectation's explicit `state` fields.
pub(crate) fn check_states(
    label: &str,
    expect: &Expectation,
    req: &EcsRequest,
    before: &States,
    got: &States,
    now: i64,
    out: &mut Findings,
) {
    let op = ModifyRequest::from_pairs(req.all_params().iter());
    let change = change_of(expect.rule, &op, now);
    for (id, doc) in before {
        let found = match parse_instance(doc) {
            Ok(mut want) => {
                if let Some(c) = change.as_ref().filter(|c| &c.instance_id == id) {
                    want.apply(c);
                }
                judge_instance(id, &want, got.get(id))
            }
            // The target's own "before" is unreadable: it must at least
            // stay as it was.
            Err(_) if got.get(id) == Some(doc) => Vec::new(),
            Err(e) => vec![Finding::new(Check::State, "an Instance document", e).at(id)],
        };
        out.add(label, found);
    }
    if let Some(fields) = &expect.full.state {
        let id = op.instance_id.unwrap_or_default();
        let g = got.get(&id).cloned().unwrap_or(Value::Null);
        let found = fields.iter().filter_map(|(field, wv)| {
            let gv = g.get(field).unwrap_or(&Value::Null);
            (wv != gv).then(|| Finding::new(Check::State, wv.to_string(), gv.to_string()).at(&format!("{id}.{field}")))
        });
        out.add(label, found.collect());
    }
}
