//! Judges instance states read back from a target: the expected state is
//! the oracle's own (`InstanceState::apply` of the change an accepted
//! request makes), compared as typed values, field by field in reports.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Finding;
use super::check::Check;
use crate::spec::{Change, INSTANCE_FIELDS, InstanceState, ModifyRequest, RuleId, parse_int, present};

/// Reads a target's instance document (control protocol: the Instance
/// object plus `last_modified_at`) as the oracle's type. Unknown fields are
/// the target's own business and are ignored.
pub fn parse_instance(doc: &Value) -> Result<InstanceState, String> {
    let Value::Object(map) = doc else {
        return Err(format!("not a JSON object: {doc}"));
    };
    let mut fields = map.clone();
    let last = fields.remove("last_modified_at").unwrap_or(Value::Null);
    let last_modified_at = match last {
        Value::Null => None,
        v => Some(
            v.as_i64()
                .ok_or_else(|| format!("last_modified_at is not an integer: {v}"))?,
        ),
    };
    // Instance rejects unknown fields (it is also the World document's
    // type); keep only its own.
    fields.retain(|name, _| INSTANCE_FIELDS.contains(&name.as_str()));
    let instance = serde_json::from_value(Value::Object(fields)).map_err(|e| e.to_string())?;
    Ok(InstanceState {
        instance,
        last_modified_at,
    })
}

/// The change an accepted (E1) request makes, as the oracle would write
/// it; `None` for every other rule (a refused request changes nothing, a
/// replay I3 nothing more).
pub fn change_of(rule: RuleId, req: &ModifyRequest, now: i64) -> Option<Change> {
    if rule != RuleId::E1 {
        return None;
    }
    let num = |v: &Option<String>| present(v).and_then(parse_int).and_then(|n| u32::try_from(n).ok());
    Some(Change {
        instance_id: present(&req.instance_id)?.to_string(),
        instance_type: present(&req.instance_type).map(str::to_string),
        bandwidth_out: num(&req.bandwidth_out),
        bandwidth_in: num(&req.bandwidth_in),
        modified_at: Some(now),
        token: None,
    })
}

/// Compares one instance's state with the expected one; one finding per
/// field that differs, or one if the target's document is unreadable or
/// missing.
pub fn judge_instance(id: &str, want: &InstanceState, got: Option<&Value>) -> Vec<Finding> {
    let Some(doc) = got else {
        return vec![Finding::new(Check::State, "the instance", "no such instance").at(id)];
    };
    let got = match parse_instance(doc) {
        Ok(g) => g,
        Err(e) => return vec![Finding::new(Check::State, "an Instance document", e).at(id)],
    };
    if &got == want {
        return Vec::new();
    }
    // Typed comparison above; the fields that differ, for the report.
    let (w, g) = (to_map(want), to_map(&got));
    w.iter()
        .filter(|(field, wv)| g.get(*field) != Some(*wv))
        .map(|(field, wv)| {
            let gv = g.get(field).cloned().unwrap_or(Value::Null);
            Finding::new(Check::State, wv.to_string(), gv.to_string()).at(&format!("{id}.{field}"))
        })
        .collect()
}

fn to_map(s: &InstanceState) -> BTreeMap<String, Value> {
    match serde_json::to_value(s) {
        Ok(Value::Object(m)) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::sample_world;

    fn state() -> InstanceState {
        InstanceState {
            instance: sample_world().instances[0].clone(),
            last_modified_at: None,
        }
    }

    #[test]
    fn a_reference_document_reads_back_equal_and_extra_fields_are_free() {
        let mut doc = serde_json::to_value(state()).unwrap();
        assert!(judge_instance("i", &state(), Some(&doc)).is_empty());
        doc["vendor_extra"] = Value::from(1);
        assert!(judge_instance("i", &state(), Some(&doc)).is_empty());
    }

    #[test]
    fn the_e1_change_is_the_oracles_and_a_wrong_field_is_named() {
        let req = ModifyRequest::from_pairs([("InstanceId", "i-1"), ("InternetMaxBandwidthOut", "7")]);
        let change = change_of(RuleId::E1, &req, 42).unwrap();
        assert_eq!(change_of(RuleId::P3, &req, 42), None);
        let mut want = state();
        want.apply(&change);
        assert_eq!(want.instance.internet_max_bandwidth_out, 7);
        assert_eq!(want.last_modified_at, Some(42));
        let doc = serde_json::to_value(state()).unwrap();
        let found = judge_instance("i-1", &want, Some(&doc));
        let fields: Vec<_> = found.iter().map(|f| f.at.clone().unwrap_or_default()).collect();
        assert_eq!(fields, ["i-1.internet_max_bandwidth_out", "i-1.last_modified_at"]);
        assert!(judge_instance("i-1", &want, None)[0].got.contains("no such"));
        let bad = serde_json::json!({"instance_id": 5});
        assert_eq!(judge_instance("i-1", &want, Some(&bad)).len(), 1);
    }
}
