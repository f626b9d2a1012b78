//! One step of a case file, resolved for one examples row: `${vars}`
//! filled in every text the step holds, its expectation parsed into rule
//! ids, and every error pointed at the node it is about.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::error::LoadError;
use super::model::{Expect, ExpectFull, ParamValue, RequestSpec, Step};
use super::spans::Locator;
use super::trial::{Expectation, TrialStep};
use crate::spec::{INSTANCE_FIELDS, RuleId, World, rule_hint};

/// Fills `${vars}` in one text; an unknown name is a located error.
pub(super) type Fill<'a> = dyn Fn(&str) -> Result<String, LoadError> + 'a;

pub(super) fn resolve_step(
    i: usize,
    step: &Step,
    fill: &Fill,
    worlds: &BTreeMap<String, Arc<World>>,
    at: &Locator,
) -> Result<TrialStep, LoadError> {
    if let Some(s) = step.advance {
        return Ok(TrialStep::Advance(s));
    }
    let (Some(req), Some(expect)) = (&step.request, &step.expect) else {
        return Err(at.in_step(i, "", "incomplete step"));
    };
    let request = resolve_request(i, req, fill, worlds, at)?;
    let expect = resolve_expect(i, expect, fill, at)?;
    let label = match &step.name {
        Some(n) => fill(n)?,
        None => format!("step {}", i + 1),
    };
    Ok(TrialStep::Request {
        label,
        request: Box::new(request),
        expect: Box::new(expect),
        repeat: step.repeat.unwrap_or(1),
    })
}

fn fill_pairs<'p>(
    pairs: impl Iterator<Item = (&'p String, &'p String)>,
    fill: &Fill,
) -> Result<Vec<(String, String)>, LoadError> {
    pairs.map(|(k, v)| Ok((fill(k)?, fill(v)?))).collect()
}

fn fill_params<'p>(
    params: impl Iterator<Item = (&'p String, &'p ParamValue)>,
    fill: &Fill,
) -> Result<indexmap::IndexMap<String, ParamValue>, LoadError> {
    params
        .map(|(k, v)| Ok((fill(k)?, ParamValue::Text(fill(&v.to_text())?))))
        .collect()
}

fn resolve_request(
    i: usize,
    req: &RequestSpec,
    fill: &Fill,
    worlds: &BTreeMap<String, Arc<World>>,
    at: &Locator,
) -> Result<RequestSpec, LoadError> {
    let mut request = req.clone();
    request.params = fill_params(req.params.iter(), fill)?;
    request.query = fill_params(req.query.iter(), fill)?;
    request.pairs = fill_pairs(req.pairs.iter().map(|(k, v)| (k, v)), fill)?;
    request.headers = fill_pairs(req.headers.iter(), fill)?.into_iter().collect();
    request.method = req.method.as_deref().map(fill).transpose()?;
    request.format = req.format.as_deref().map(fill).transpose()?;
    request.signature = req.signature.as_deref().map(fill).transpose()?;
    if let Some(sig) = &request.signature {
        if request.signature_style().is_none() {
            let m = format!("signature must be v1 or v3, not `{sig}`");
            return Err(at.in_step(i, "request.signature", m));
        }
    }
    if let Some(name) = &request.as_world {
        if !worlds.contains_key(name) {
            let m = format!("`as: {name}` names no world in `worlds`");
            return Err(at.in_step(i, "request.as", m));
        }
    }
    if let Some(d) = &mut request.protocol {
        // Every text of the damage may use the examples' columns.
        for map in [&mut d.set, &mut d.after_signing] {
            *map = fill_pairs(map.iter(), fill)?.into_iter().collect();
        }
        let lists = d.omit.iter_mut().chain(d.unsigned_headers.iter_mut());
        let texts = [
            &mut d.nonce,
            &mut d.algorithm,
            &mut d.content_sha256,
            &mut d.body,
            &mut d.timestamp_fraction,
        ];
        for v in lists.chain(texts.into_iter().flatten()) {
            *v = fill(v)?;
        }
    }
    Ok(request)
}

/// The expected rule (or `one_of` rules), and the rest of `expect` filled.
fn resolve_expect(i: usize, expect: &Expect, fill: &Fill, at: &Locator) -> Result<Expectation, LoadError> {
    let (mut full, short) = match expect {
        Expect::Rule(r) => (
            ExpectFull {
                rule: Some(r.clone()),
                ..ExpectFull::default()
            },
            true,
        ),
        Expect::Full(f) => (f.clone(), false),
    };
    let parse = |text: &str, node: &str| -> Result<RuleId, LoadError> {
        let text = fill(text)?;
        text.parse::<RuleId>()
            .map_err(|e| at.in_step(i, node, format!("expect: {e}{}", rule_hint(&text))))
    };
    let (rule, alternatives) = match (&full.rule, &full.one_of) {
        (Some(_), Some(_)) => {
            return Err(at.in_step(i, "expect.one_of", "`expect` takes `rule` or `one_of`, not both"));
        }
        (None, None) => return Err(at.in_step(i, "expect", "`expect` needs a `rule`")),
        (Some(r), None) => {
            let rule = parse(r, if short { "expect" } else { "expect.rule" })?;
            full.rule = Some(fill(r)?);
            (rule, Vec::new())
        }
        (None, Some(list)) => one_of(i, list, &parse, at)?,
    };
    full.format = full.format.as_deref().map(fill).transpose()?;
    if let Some(f) = &full.format {
        if !f.eq_ignore_ascii_case("json") && !f.eq_ignore_ascii_case("xml") {
            let m = format!("expect.format must be json or xml, not `{f}`");
            return Err(at.in_step(i, "expect.format", m));
        }
    }
    if let Some(state) = &mut full.state {
        fill_state(i, state, fill, at)?;
    }
    Ok(Expectation {
        rule,
        alternatives,
        full,
    })
}

/// `one_of`: error rules only (a success changes state, so it is expected
/// alone), at least one.
fn one_of(
    i: usize,
    list: &[String],
    parse: &dyn Fn(&str, &str) -> Result<RuleId, LoadError>,
    at: &Locator,
) -> Result<(RuleId, Vec<RuleId>), LoadError> {
    let mut rules = Vec::with_capacity(list.len());
    for (k, r) in list.iter().enumerate() {
        let node = format!("expect.one_of.{k}");
        let rule = parse(r, &node)?;
        if !rule.spec().is_error() {
            let m = format!("expect.one_of cannot list {rule}: a success changes state, so it must be expected alone");
            return Err(at.in_step(i, &node, m));
        }
        rules.push(rule);
    }
    let Some((first, rest)) = rules.split_first() else {
        return Err(at.in_step(i, "expect.one_of", "expect.one_of lists no rule"));
    };
    Ok((*first, rest.to_vec()))
}

/// `expect.state`: known instance fields only; `${vars}` in text values.
fn fill_state(
    i: usize,
    state: &mut BTreeMap<String, serde_json::Value>,
    fill: &Fill,
    at: &Locator,
) -> Result<(), LoadError> {
    for (field, v) in state.iter_mut() {
        if !INSTANCE_FIELDS.contains(&field.as_str()) {
            let hint = crate::util::closest(field, INSTANCE_FIELDS.iter().copied())
                .map(|h| format!(" (did you mean `{h}`?)"))
                .unwrap_or_default();
            let m = format!("expect.state: unknown instance field `{field}`{hint}");
            let node = format!("steps.{i}.expect.state.{field}");
            return Err(at.at_key(&node, format!("steps[{i}]: {m}")));
        }
        if let serde_json::Value::String(s) = v {
            *s = fill(s)?;
        }
    }
    Ok(())
}
