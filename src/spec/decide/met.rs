//! Every rule a request meets, not only the first: what the documented
//! order chose between when a request breaks several rules at once.
//!
//! `decide` stops at the first rule that fires, which is all a server
//! needs. The fuzzer also wants to know which rule came second (the
//! precedence pair the order decided), so here each rule's condition is
//! judged on its own. No mutants: this is the contract's view, like the
//! fuzzer's model.

use super::{BANDWIDTH_IN_RANGE, BANDWIDTH_OUT_RANGE, Ctx, Kind};
use crate::spec::request::{ModifyRequest, parse_bool, parse_int};
use crate::spec::rules::RuleId::{self, *};
use crate::spec::state::WorldState;

/// Every rule from P1 to F1 whose condition holds for `req`, each judged
/// on its own, in the documented order.
///
/// The first is `decide`'s verdict (E1 when the list is empty); the second
/// is the rule that would answer if the first were put right. Conditions
/// that need what an earlier rule refused are not judged: without an
/// `InstanceId` there is no instance to look up (no R1, A, T, S, C, B, F1),
/// and an unknown instance has no state. D1 and F1 count as met when
/// `DryRun` is true and when the instance's fault is injected, so that a
/// dry run or a fault behind a refusal is a pair like any other.
pub fn rules_met(world: &WorldState, now: i64, req: &ModifyRequest) -> Vec<RuleId> {
    let cx = Ctx {
        world,
        now,
        req,
        mutant: None,
    };
    let mut met: Vec<RuleId> = cx
        .params_met()
        .into_iter()
        .filter_map(|(r, m)| m.then_some(r))
        .collect();
    match cx.idempotency() {
        Err(refusal) => met.push(refusal.rule),
        Ok(Some(_)) => met.push(I3),
        Ok(None) => {}
    }
    let Some(id) = cx.get(&req.instance_id) else {
        return met;
    };
    let Some(inst) = world.instance(id) else {
        met.push(R1);
        return met;
    };
    let order: Vec<RuleId> = match cx.lenient_kind() {
        Some(kind) => {
            let order = cx.instance_order(&kind);
            order.into_iter().filter(|r| cx.fires(*r, inst, &kind)).collect()
        }
        // P6: no kind of change, so only the rules every change meets.
        None => {
            let any = Kind::Bandwidth { out: None, inb: None };
            let common = [A1, A2, A3, A4, T1];
            common.into_iter().filter(|r| cx.fires(*r, inst, &any)).collect()
        }
    };
    met.extend(order);
    if cx.get(&req.dry_run).and_then(parse_bool) == Some(true) {
        met.push(D1);
    }
    if world.world.faults.internal_error_on_instances.iter().any(|i| i == id) {
        met.push(F1);
    }
    met
}

impl<'a> Ctx<'a> {
    /// P1–P8, each judged on its own (the conditions are `params.rs`'s).
    fn params_met(&self) -> [(RuleId, bool); 8] {
        [
            (P1, self.p1_id_missing()),
            (P2, self.p2_token_bad()),
            (P3, self.bandwidth_out().is_err()),
            (P4, self.bandwidth_in().is_err()),
            (P5, self.p5_type_and_bandwidth()),
            (P6, self.p6_nothing_asked()),
            (P7, self.p7_boolean_bad()),
            (P8, self.p8_category_bad()),
        ]
    }

    /// The kind of change asked for, as `parameters` would read it, with
    /// out-of-range values left out instead of refused; `None` under P6.
    fn lenient_kind(&self) -> Option<Kind<'a>> {
        let r: &'a ModifyRequest = self.req;
        if let Some(t) = self.get(&r.instance_type) {
            return Some(Kind::Type(t));
        }
        let valid = |v: &'a Option<String>, range: &std::ops::RangeInclusive<i64>| {
            self.get(v).and_then(parse_int).filter(|n| range.contains(n))
        };
        let asked = self.get(&r.bandwidth_out).is_some() || self.get(&r.bandwidth_in).is_some();
        asked.then(|| Kind::Bandwidth {
            out: valid(&r.bandwidth_out, &BANDWIDTH_OUT_RANGE),
            inb: valid(&r.bandwidth_in, &BANDWIDTH_IN_RANGE),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::decide::decide;
    use crate::spec::world::{ChargeType, Status, sample_world};

    fn state(edit: impl FnOnce(&mut crate::spec::World)) -> WorldState {
        let mut w = sample_world();
        edit(&mut w);
        WorldState::new(w)
    }

    fn req(pairs: &[(&str, &str)]) -> ModifyRequest {
        ModifyRequest::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn a_prepaid_instance_changed_recently_meets_a4_then_t1() {
        let st = state(|w| {
            w.instances[0].instance_charge_type = ChargeType::PrePaid;
            w.instances[0].last_modified_seconds_ago = Some(10);
            w.instances[0].status = Status::Running;
        });
        let r = req(&[
            ("InstanceId", "i-conf0001"),
            ("InstanceType", "ecs.g6.xlarge"),
            ("DryRun", "true"),
        ]);
        assert_eq!(rules_met(&st, 0, &r), [A4, T1, S1, D1]);
        assert_eq!(decide(&st, 0, &r).rule, A4);
    }

    #[test]
    fn parameter_rules_are_judged_each_on_its_own() {
        let st = state(|_| {});
        let long = "t".repeat(65);
        let r = req(&[
            ("InstanceId", "i-none"),
            ("ClientToken", &long),
            ("InternetMaxBandwidthOut", "101"),
            ("InternetMaxBandwidthIn", "x"),
            ("InstanceType", "ecs.g6.xlarge"),
            ("Async", "yes"),
        ]);
        assert_eq!(rules_met(&st, 0, &r), [P2, P3, P4, P5, P7, R1]);
        // No InstanceId: nothing to look up, so no R1 behind P1.
        assert_eq!(rules_met(&st, 0, &req(&[("InternetMaxBandwidthOut", "1")])), [P1]);
        assert_eq!(rules_met(&st, 0, &req(&[("InstanceId", "i-conf0002")])), [P6]);
        assert!(
            rules_met(
                &st,
                0,
                &req(&[("InstanceId", "i-conf0002"), ("InternetMaxBandwidthOut", "6")])
            )
            .is_empty()
        );
    }

    /// The first rule met is the oracle's verdict, over a grid of
    /// requests in worlds that break the account, instance and catalog
    /// rules.
    #[test]
    fn the_first_rule_met_is_the_verdict() {
        let worlds = [
            state(|_| {}),
            state(|w| {
                w.account.balance_sufficient = false;
                w.instances[1].last_modified_seconds_ago = Some(100);
                w.instances[0].local_disks = true;
            }),
            state(|w| {
                w.account.overdue_payment = true;
                w.instances[0].instance_charge_type = ChargeType::PrePaid;
                w.instances[1].internet_charge_type = "PayByHour".into();
                w.faults.internal_error_on_instances = vec!["i-conf0002".into()];
            }),
        ];
        let ids = ["", "i-conf0001", "i-conf0002", "i-none"];
        let types = ["", "ecs.g6.xlarge", "ecs.c6.large", "ecs.none"];
        let outs = ["", "0", "6", "100", "101", "x"];
        let ins = ["", "0", "11", "201"];
        let extras: [&[(&str, &str)]; 4] = [
            &[],
            &[("DryRun", "TRUE")],
            &[("ClientToken", "tok\u{7f}")],
            &[("SystemDisk.Category", "cloud")],
        ];
        let mut checked = 0;
        for st in &worlds {
            for id in ids {
                for ty in types {
                    for (out, inb) in outs.iter().flat_map(|o| ins.iter().map(move |i| (*o, *i))) {
                        for extra in extras {
                            let mut pairs = vec![
                                ("InstanceId", id),
                                ("InstanceType", ty),
                                ("InternetMaxBandwidthOut", out),
                                ("InternetMaxBandwidthIn", inb),
                            ];
                            pairs.extend_from_slice(extra);
                            let r = req(&pairs);
                            let met = rules_met(st, 0, &r);
                            let verdict = decide(st, 0, &r).rule;
                            assert_eq!(met.first().copied().unwrap_or(E1), verdict, "{pairs:?}: {met:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 3 * 4 * 4 * 6 * 4 * 4);
    }
}
