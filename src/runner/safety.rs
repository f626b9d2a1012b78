//! Real-cloud safety: which live requests cannot change an instance, so
//! they may be sent to a target that could be a real account.

use super::request::{as_sent, build_request};
use crate::client::EcsRequest;
use crate::gate::{self, Books, Bounds, Context, Specified};
use crate::scenario::{Expectation, RequestSpec, Signature, Trial, TrialStep};
use crate::spec::{ModifyRequest, RuleId, WorldState, decide, parse_bool, present, sample_world};

/// The account the safety filter signs its copy of a request for.
const STAND_IN_KEY: &str = "LTAIsafetystandin";
const STAND_IN_SECRET: &str = "safety-stand-in";

/// Which request of the trial could change an instance, if any.
pub(crate) fn trial_risk(trial: &Trial, signature: Signature) -> Option<String> {
    trial.steps.iter().find_map(|step| match step {
        TrialStep::Request { request, expect, .. } => change_risk(request, expect, signature),
        TrialStep::Advance(_) => None,
    })
}

/// Why this request could change a real instance, or `None` if it cannot
/// succeed. Safe are: `DryRun=true`; parameters the oracle refuses on their
/// own (P rules, checked here rather than trusted from the case); a
/// gateway refusal its damage brings about (decided by `gate`, not trusted
/// from the case either); an unknown instance (R1). Everything else is
/// assumed to reach an instance.
pub fn change_risk(spec: &RequestSpec, expect: &Expectation, signature: Signature) -> Option<String> {
    let req = build_request(spec, signature);
    let damage = &req.damage;
    let mut sent: Vec<(String, String)> = req
        .all_params()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (k, v) in &damage.after_signing {
        match sent.iter_mut().find(|(n, _)| n == k) {
            Some(slot) => slot.1.clone_from(v),
            None => sent.push((k.clone(), v.clone())),
        }
    }
    // The oracle reads the first occurrence of a repeated parameter; a real
    // service might read another, so repeats (and a V3 body of the case's
    // own, which may carry parameters) get no benefit of the doubt.
    let mut names: Vec<&str> = sent.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    let repeated = names.windows(2).any(|w| w[0] == w[1]);
    if damage.body.is_none() && !repeated {
        let op = ModifyRequest::from_pairs(sent.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if present(&op.dry_run).and_then(parse_bool) == Some(true) {
            return None;
        }
        let mut empty = sample_world();
        empty.instances.clear();
        if decide(&WorldState::new(empty), 0, &op).rule.as_str().starts_with('P') {
            return None;
        }
    }
    if refused_by_gate(&req).is_some() || expect.rule == RuleId::R1 {
        return None;
    }
    Some(format!("a request expects {}", expect.rule))
}

/// The gateway rule that refuses this request whoever's account it is
/// sent to: it is signed with a stand-in account's own secret and checked
/// with fresh books (no nonce used, no quota), so only its damage can
/// refuse it (G1–G9, G11); a used nonce or a quota (G10, G12) depends on a
/// real account's state and never counts. No server bounds are assumed.
fn refused_by_gate(req: &EcsRequest) -> Option<RuleId> {
    let raw = as_sent(req, STAND_IN_KEY, STAND_IN_SECRET, "safety.invalid");
    let ctx = Context {
        auth: true,
        now: chrono::Utc::now(),
        bounds: Bounds::NONE,
        bends: &Specified,
    };
    let lookup = |key: &str| (key == STAND_IN_KEY).then_some(STAND_IN_SECRET);
    gate::check(&raw, &ctx, lookup, |_| Books::default())
        .err()
        .map(|r| r.rule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Damage, ExpectFull, ParamValue};

    fn risk(params: &[(&str, &str)], pairs: &[(&str, &str)], damage: Option<Damage>, rule: RuleId) -> bool {
        let spec = RequestSpec {
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), ParamValue::Text(v.to_string())))
                .collect(),
            pairs: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            protocol: damage,
            ..RequestSpec::default()
        };
        let expect = Expectation::exact(rule, ExpectFull::default());
        change_risk(&spec, &expect, Signature::V3).is_some()
    }

    const CHANGE: &[(&str, &str)] = &[("InstanceId", "i-running"), ("InternetMaxBandwidthOut", "20")];

    #[test]
    fn only_requests_that_cannot_succeed_are_safe() {
        let dry = [CHANGE, &[("DryRun", "TRUE")]].concat();
        let p3 = [("InstanceId", "i-running"), ("InternetMaxBandwidthOut", "101")];
        let forged = Damage {
            wrong_secret: true,
            ..Damage::default()
        };
        let nonce_only = Damage {
            nonce: Some("n-1".into()),
            ..Damage::default()
        };
        // Safe: dry run, a P rule the oracle confirms, R1, a damaged G9.
        assert!(!risk(&dry, &[], None, RuleId::D1));
        assert!(!risk(&p3, &[], None, RuleId::E1), "the oracle, not the case, decides P");
        assert!(!risk(CHANGE, &[], None, RuleId::R1));
        assert!(!risk(CHANGE, &[], Some(forged), RuleId::G9));
        // Unsafe: a change, a case claiming P for valid parameters, a G rule
        // without damage, a reused nonce, a quota, a repeated DryRun or
        // bandwidth another reader could take the other way.
        assert!(risk(CHANGE, &[], None, RuleId::E1));
        assert!(risk(CHANGE, &[], None, RuleId::P3));
        assert!(risk(CHANGE, &[], None, RuleId::G9));
        assert!(risk(CHANGE, &[], Some(nonce_only), RuleId::G10));
        assert!(risk(CHANGE, &[], Some(Damage::default()), RuleId::G12));
        assert!(risk(&dry, &[("DryRun", "false")], None, RuleId::D1));
        assert!(risk(&p3, &[("InternetMaxBandwidthOut", "20")], None, RuleId::P3));
    }

    #[test]
    fn the_gate_not_the_case_decides_what_damage_refuses() {
        let unsigned_agent = Damage {
            unsigned_headers: vec!["user-agent".into()],
            ..Damage::default()
        };
        let unsigned_host = Damage {
            unsigned_headers: vec!["host".into()],
            ..Damage::default()
        };
        let stale = Damage {
            timestamp_offset: Some(-901),
            ..Damage::default()
        };
        let bad_version = Damage {
            set: [("Version".to_string(), "2016-01-01".to_string())].into(),
            ..Damage::default()
        };
        // Damage that no gateway refuses is no protection, whatever the case expects.
        assert!(risk(CHANGE, &[], Some(unsigned_agent), RuleId::G2));
        assert!(risk(
            CHANGE,
            &[],
            Some(Damage {
                timestamp_offset: Some(-600),
                ..Damage::default()
            }),
            RuleId::G7
        ));
        // Damage the gate refuses is, whatever the case expects.
        assert!(!risk(CHANGE, &[], Some(unsigned_host), RuleId::E1));
        assert!(!risk(CHANGE, &[], Some(stale), RuleId::G7));
        assert!(!risk(CHANGE, &[], Some(bad_version), RuleId::G4));
        let put = RequestSpec {
            method: Some("PUT".into()),
            ..RequestSpec::default()
        };
        let expect = Expectation::exact(RuleId::G1, ExpectFull::default());
        assert!(change_risk(&put, &expect, Signature::V1).is_none());
    }
}
