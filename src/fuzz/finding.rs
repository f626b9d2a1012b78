//! A finding as files: a ready-to-commit scenario (the case's world patch
//! and steps, each request expecting the oracle's rule) and the raw
//! exchange that showed the disagreement.
//!
//! The YAML is built as a `serde_yaml` value, never by pasting text, so
//! every hostile string is quoted by the library; `round_trip` then loads
//! it back with the scenario loader and checks that it sends the very
//! requests the fuzzer sent.

use std::path::Path;

use serde_yaml::{Mapping, Value};

use super::case::{Case, CaseStep};
use super::error::FuzzError;
use super::exec::CaseRun;
use super::model::expected;
use crate::client::Prepared;
use crate::runner::build_request;
use crate::scenario::{Signature, TrialStep, load_text};
use crate::spec::{RuleId, World};

/// Renders `case` as a scenario file; `comment` lines go at the top.
/// `rule` is the rule the finding is about (the scenario's `rules`).
pub fn scenario_yaml(
    case: &Case,
    defaults: &World,
    rule: RuleId,
    description: &str,
    comment: &[String],
) -> Result<String, FuzzError> {
    let world = case.world.world(defaults);
    let (want, _) = expected(case, world, true);
    let yaml = |e: serde_yaml::Error| FuzzError::Scenario(format!("cannot render the scenario: {e}"));
    let mut root = Mapping::new();
    root.insert("description".into(), description.into());
    root.insert("rules".into(), Value::Sequence(vec![rule.to_string().into()]));
    root.insert("tags".into(), Value::Sequence(vec!["fuzz".into()]));
    let patch = case.world.patch_json();
    if patch.as_object().is_some_and(|m| !m.is_empty()) {
        root.insert("world".into(), serde_yaml::to_value(&patch).map_err(yaml)?);
    }
    let mut steps = Vec::new();
    let mut i = 0;
    for step in &case.steps {
        let mut m = Mapping::new();
        match step {
            CaseStep::Advance(s) => {
                m.insert("advance".into(), (*s).into());
            }
            CaseStep::Request(r) => {
                let spec = serde_yaml::to_value(r.to_spec()).map_err(yaml)?;
                m.insert("request".into(), prune(spec));
                let rule = want.get(i).map(|e| e.rule.to_string()).unwrap_or_default();
                m.insert("expect".into(), rule.into());
                i += 1;
            }
        }
        steps.push(Value::Mapping(m));
    }
    root.insert("steps".into(), Value::Sequence(steps));
    let body = serde_yaml::to_string(&Value::Mapping(root)).map_err(yaml)?;
    let mut text = String::from("# yaml-language-server: $schema=../../schema.json\n");
    for line in comment {
        text.push_str(&format!("# {line}\n"));
    }
    text.push_str(&body);
    Ok(text)
}

/// Drops what a reader need not see: nulls, empty lists and maps, and
/// `false` flags (every flag of a request defaults to false).
fn prune(v: Value) -> Value {
    match v {
        Value::Mapping(m) => Value::Mapping(
            m.into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| match v {
                    Value::Null | Value::Bool(false) => false,
                    Value::Sequence(s) => !s.is_empty(),
                    Value::Mapping(m) => !m.is_empty(),
                    _ => true,
                })
                .collect(),
        ),
        other => other,
    }
}

/// Loads `yaml` with the scenario loader and checks that it describes
/// `case`: the same world and, step by step, the same requests and moves.
pub fn round_trip(yaml: &str, case: &Case, defaults: &World) -> Result<(), FuzzError> {
    let bad = |m: String| FuzzError::Scenario(format!("the finding's scenario does not describe the case: {m}"));
    let trials =
        load_text("fuzz/finding", Path::new("finding.yaml"), yaml, defaults).map_err(|e| bad(e.to_string()))?;
    let [trial] = trials.as_slice() else {
        return Err(bad(format!("{} trials", trials.len())));
    };
    if trial.worlds.get("").map(|w| w.as_ref()) != Some(&case.world.world(defaults)) {
        return Err(bad("the world differs".into()));
    }
    if trial.steps.len() != case.steps.len() {
        return Err(bad("the number of steps differs".into()));
    }
    for (i, (t, c)) in trial.steps.iter().zip(&case.steps).enumerate() {
        let same = match (t, c) {
            (TrialStep::Advance(a), CaseStep::Advance(b)) => a == b,
            (TrialStep::Request { request, .. }, CaseStep::Request(r)) => {
                // EcsRequest has no PartialEq; its Debug text covers every field.
                format!("{:?}", build_request(request, Signature::V3)) == format!("{:?}", r.to_ecs())
            }
            _ => false,
        };
        if !same {
            return Err(bad(format!("step {} differs", i + 1)));
        }
    }
    Ok(())
}

/// The exchanges of a run as text, signatures redacted.
pub fn exchange_text(run: &CaseRun) -> String {
    let mut out = String::new();
    for (i, s) in run.sent.iter().enumerate() {
        let e = &s.expected;
        let spec = e.rule.spec();
        out.push_str(&format!(
            "### request {}: expected {} ({} {}), {:?} body\n",
            i + 1,
            e.rule,
            spec.status,
            spec.code.unwrap_or("success"),
            e.format
        ));
        write_request(&mut out, &s.prepared);
        let ex = &s.exchange;
        out.push_str(&format!("< {}\n", ex.status));
        for (k, v) in &ex.headers {
            out.push_str(&format!("< {k}: {v}\n"));
        }
        out.push_str(&format!("<\n< {}\n\n", String::from_utf8_lossy(&ex.body)));
    }
    if let Some(d) = &run.disagreement {
        out.push_str(&format!("### disagreement: {d}\n"));
    }
    out
}

fn write_request(out: &mut String, p: &Prepared) {
    let query = if p.query.is_empty() {
        String::new()
    } else {
        format!("?{}", redact_pairs(&p.query))
    };
    out.push_str(&format!("> {} /{query}\n", p.method));
    for (k, v) in &p.headers {
        let v = match (k.eq_ignore_ascii_case("authorization"), v.find("Signature=")) {
            (true, Some(at)) => format!("{}Signature=<redacted>", &v[..at]),
            _ => v.clone(),
        };
        out.push_str(&format!("> {k}: {v}\n"));
    }
    out.push_str(&format!(">\n> {}\n", redact_pairs(&String::from_utf8_lossy(&p.body))));
}

/// Hides the value of a `Signature=` pair in an encoded parameter list.
fn redact_pairs(s: &str) -> String {
    s.split('&')
        .map(|pair| match pair.strip_prefix("Signature=") {
            Some(_) => "Signature=<redacted>",
            None => pair,
        })
        .collect::<Vec<_>>()
        .join("&")
}
