//! Every rule of behaviour.md section 3 both ways: a request that fires it
//! and the nearest request that passes it, boundaries included.

use super::*;

const BASE: &str = r#"{
  "account": {"overdue_payment": false, "balance_sufficient": true,
              "authorized_instance_types": [], "max_requests_per_minute": null},
  "catalog": {
    "instance_types": [
      {"name": "ecs.g6.large", "family": "ecs.g6", "architecture": "x86_64", "price_rank": 20, "in_stock": true, "requires_authorization": false},
      {"name": "ecs.g6.xlarge", "family": "ecs.g6", "architecture": "x86_64", "price_rank": 40, "in_stock": true, "requires_authorization": false},
      {"name": "ecs.c6.large", "family": "ecs.c6", "architecture": "x86_64", "price_rank": 15, "in_stock": true, "requires_authorization": false},
      {"name": "ecs.g8y.large", "family": "ecs.g8y", "architecture": "arm64", "price_rank": 20, "in_stock": true, "requires_authorization": false},
      {"name": "ecs.gn7.large", "family": "ecs.gn7", "architecture": "x86_64", "price_rank": 90, "in_stock": true, "requires_authorization": true},
      {"name": "ecs.oos.large", "family": "ecs.oos", "architecture": "x86_64", "price_rank": 20, "in_stock": false, "requires_authorization": false},
      {"name": "ecs.ex.large", "family": "ecs.ex", "architecture": "x86_64", "price_rank": 20, "in_stock": true, "requires_authorization": false},
      {"name": "ecs.lonely.large", "family": "ecs.lonely", "architecture": "x86_64", "price_rank": 20, "in_stock": true, "requires_authorization": false}
    ],
    "allowed_changes": {"ecs.g6.large": ["ecs.g6.xlarge", "ecs.c6.large", "ecs.g8y.large", "ecs.gn7.large", "ecs.oos.large", "ecs.ex.large"]},
    "bandwidth_price_plans": {"PayByTraffic": {"max_out": 100, "max_in": 200}, "PayByBandwidth": {"max_out": 50, "max_in": 100}}
  },
  "images": [{"image_id": "img", "architecture": "x86_64", "unsupported_instance_types": ["ecs.ex.large"]}],
  "instances": [
    {"instance_id": "i-1", "status": "Stopped", "instance_type": "ecs.g6.large",
     "instance_charge_type": "PostPaid", "internet_charge_type": "PayByTraffic",
     "internet_max_bandwidth_out": 5, "internet_max_bandwidth_in": 10,
     "network_type": "classic", "image_id": "img", "local_disks": false,
     "unpaid_order": false, "locked_for_security": false, "last_modified_seconds_ago": null}
  ],
  "operation_seconds": 0,
  "faults": {"internal_error_on_instances": []}
}"#;

fn world_with(edit: impl FnOnce(&mut World)) -> WorldState {
    let mut w = World::from_json(BASE.as_bytes()).expect("base world is valid");
    edit(&mut w);
    w.validate().expect("edited world is valid");
    WorldState::new(w)
}

fn inst(edit: impl FnOnce(&mut Instance)) -> WorldState {
    world_with(|w| edit(&mut w.instances[0]))
}

fn req(extra: &[(&str, &str)]) -> ModifyRequest {
    let mut pairs = vec![("InstanceId", "i-1")];
    pairs.extend_from_slice(extra);
    ModifyRequest::from_pairs(pairs)
}

fn rule_of(st: &WorldState, now: i64, extra: &[(&str, &str)]) -> RuleId {
    decide(st, now, &req(extra)).rule
}

const TYPE: &[(&str, &str)] = &[("InstanceType", "ecs.g6.xlarge")];
const OUT: &[(&str, &str)] = &[("InternetMaxBandwidthOut", "6")];

#[test]
fn p1_instance_id_absent_or_empty() {
    let st = world_with(|_| {});
    let none = ModifyRequest::from_pairs([("InstanceType", "ecs.g6.xlarge")]);
    assert_eq!(decide(&st, 0, &none).rule, RuleId::P1);
    let empty = ModifyRequest::from_pairs([("InstanceId", ""), ("InstanceType", "ecs.g6.xlarge")]);
    assert_eq!(decide(&st, 0, &empty).rule, RuleId::P1);
    assert_eq!(rule_of(&st, 0, TYPE), RuleId::E1);
}

#[test]
fn p2_token_length_and_charset() {
    let st = world_with(|_| {});
    let t64 = "a".repeat(64);
    let t65 = "a".repeat(65);
    assert_eq!(rule_of(&st, 0, &[("ClientToken", &t64), TYPE[0]]), RuleId::E1);
    assert_eq!(rule_of(&st, 0, &[("ClientToken", &t65), TYPE[0]]), RuleId::P2);
    assert_eq!(rule_of(&st, 0, &[("ClientToken", "tök"), TYPE[0]]), RuleId::P2);
    assert_eq!(rule_of(&st, 0, &[("ClientToken", "a\tb"), TYPE[0]]), RuleId::P2);
    assert_eq!(rule_of(&st, 0, &[("ClientToken", " ~!"), TYPE[0]]), RuleId::E1);
}

#[test]
fn p3_out_boundaries_and_grammar() {
    let st = world_with(|w| w.catalog.bandwidth_price_plans.get_mut("PayByTraffic").unwrap().max_out = 100);
    for (v, want) in [
        ("-1", RuleId::P3),
        ("0", RuleId::E1),
        ("100", RuleId::E1),
        ("101", RuleId::P3),
    ] {
        assert_eq!(rule_of(&st, 0, &[("InternetMaxBandwidthOut", v)]), want, "Out={v}");
    }
    for v in ["1.5", "+5", " 5", "0x10", "５", "99999999999999999999"] {
        assert_eq!(
            rule_of(&st, 0, &[("InternetMaxBandwidthOut", v)]),
            RuleId::P3,
            "Out={v:?}"
        );
    }
    // Empty is absent, so the request has nothing to change (P6), not P3.
    assert_eq!(rule_of(&st, 0, &[("InternetMaxBandwidthOut", "")]), RuleId::P6);
}

#[test]
fn p4_in_boundaries() {
    let st = world_with(|_| {});
    for (v, want) in [
        ("0", RuleId::P4),
        ("1", RuleId::E1),
        ("200", RuleId::E1),
        ("201", RuleId::P4),
        ("x", RuleId::P4),
    ] {
        assert_eq!(rule_of(&st, 0, &[("InternetMaxBandwidthIn", v)]), want, "In={v}");
    }
}

#[test]
fn p5_type_with_bandwidth() {
    let st = world_with(|_| {});
    assert_eq!(rule_of(&st, 0, &[TYPE[0], OUT[0]]), RuleId::P5);
    assert_eq!(
        rule_of(&st, 0, &[TYPE[0], ("InternetMaxBandwidthIn", "20")]),
        RuleId::P5
    );
    assert_eq!(rule_of(&st, 0, &[OUT[0], ("InternetMaxBandwidthIn", "20")]), RuleId::E1);
    // Precedence: P3 comes before P5.
    assert_eq!(
        rule_of(&st, 0, &[TYPE[0], ("InternetMaxBandwidthOut", "101")]),
        RuleId::P3
    );
}

#[test]
fn p6_nothing_to_change() {
    let st = world_with(|_| {});
    assert_eq!(rule_of(&st, 0, &[]), RuleId::P6);
    assert_eq!(rule_of(&st, 0, &[("InstanceType", "")]), RuleId::P6);
    let d = decide(&st, 0, &req(&[]));
    assert!(d.message.contains("InternetMaxBandwidthIn"));
}

#[test]
fn p7_and_p8_extended_parameters() {
    let st = world_with(|_| {});
    for b in ["DryRun", "Async", "AllowMigrateAcrossZone"] {
        assert_eq!(rule_of(&st, 0, &[TYPE[0], (b, "yes")]), RuleId::P7, "{b}");
        assert_eq!(rule_of(&st, 0, &[TYPE[0], (b, "1")]), RuleId::P7, "{b}");
    }
    assert_eq!(rule_of(&st, 0, &[TYPE[0], ("Async", "TRUE")]), RuleId::E1);
    assert_eq!(
        rule_of(&st, 0, &[TYPE[0], ("SystemDisk.Category", "cloud")]),
        RuleId::P8
    );
    assert_eq!(
        rule_of(&st, 0, &[TYPE[0], ("SystemDisk.Category", "cloud_ssd")]),
        RuleId::E1
    );
    assert_eq!(
        rule_of(&st, 0, &[TYPE[0], ("SystemDisk.Category", "cloud_efficiency")]),
        RuleId::E1
    );
}

fn apply(st: &mut WorldState, now: i64, extra: &[(&str, &str)]) -> Decision {
    let d = decide(st, now, &req(extra));
    if let Some(c) = &d.change {
        st.apply(c);
    }
    d
}

#[test]
fn i1_i2_i3_token_sequences() {
    let mut st = world_with(|w| w.operation_seconds = 30);
    let first = apply(&mut st, 0, &[("ClientToken", "t"), OUT[0]]);
    assert_eq!(first.rule, RuleId::E1);
    // Same fingerprint while processing, then after.
    assert_eq!(apply(&mut st, 29, &[("ClientToken", "t"), OUT[0]]).rule, RuleId::I2);
    let replay = apply(&mut st, 30, &[("ClientToken", "t"), ("InternetMaxBandwidthOut", "06")]);
    assert_eq!((replay.rule, replay.status, replay.change), (RuleId::I3, 200, None));
    // Another fingerprint.
    assert_eq!(
        apply(&mut st, 31, &[("ClientToken", "t"), ("InternetMaxBandwidthOut", "7")]).rule,
        RuleId::I1
    );
    assert_eq!(
        apply(&mut st, 31, &[("ClientToken", "t"), OUT[0], ("DryRun", "false")]).rule,
        RuleId::I1
    );
    // A fresh token reaches T1 (the first change is 31 s old).
    assert_eq!(apply(&mut st, 31, &[("ClientToken", "u"), OUT[0]]).rule, RuleId::T1);
    assert_eq!(st.instance("i-1").unwrap().instance.internet_max_bandwidth_out, 6);
}

#[test]
fn rejected_requests_do_not_record_tokens() {
    let mut st = world_with(|w| w.account.balance_sufficient = false);
    assert_eq!(
        apply(&mut st, 0, &[("ClientToken", "t"), ("InternetMaxBandwidthOut", "50")]).rule,
        RuleId::B4
    );
    assert!(st.tokens.is_empty());
    assert_eq!(
        apply(&mut st, 0, &[("ClientToken", "t"), ("InternetMaxBandwidthOut", "1")]).rule,
        RuleId::E1
    );
}

#[test]
fn r1_unknown_instance() {
    let st = world_with(|_| {});
    let r = ModifyRequest::from_pairs([("InstanceId", "i-2"), ("InstanceType", "ecs.g6.xlarge")]);
    assert_eq!(decide(&st, 0, &r).rule, RuleId::R1);
}

#[test]
fn a_rules_account_and_instance_flags() {
    let cases: [(RuleId, WorldState); 4] = [
        (RuleId::A1, world_with(|w| w.account.overdue_payment = true)),
        (RuleId::A2, inst(|i| i.unpaid_order = true)),
        (RuleId::A3, inst(|i| i.locked_for_security = true)),
        (RuleId::A4, inst(|i| i.instance_charge_type = ChargeType::PrePaid)),
    ];
    for (rule, st) in cases {
        assert_eq!(rule_of(&st, 0, TYPE), rule);
        assert_eq!(rule_of(&st, 0, OUT), rule);
        assert_eq!(decide(&st, 0, &req(TYPE)).status, rule.spec().status);
    }
}

#[test]
fn t1_window_is_300_seconds() {
    let st = inst(|i| i.last_modified_seconds_ago = Some(1));
    assert_eq!(rule_of(&st, 298, OUT), RuleId::T1);
    assert_eq!(rule_of(&st, 299, OUT), RuleId::E1);
    let mut st = world_with(|_| {});
    assert_eq!(apply(&mut st, 10, OUT).rule, RuleId::E1);
    assert_eq!(
        apply(&mut st, 309, &[("InternetMaxBandwidthOut", "7")]).rule,
        RuleId::T1
    );
    assert_eq!(
        apply(&mut st, 310, &[("InternetMaxBandwidthOut", "7")]).rule,
        RuleId::E1
    );
    assert_eq!(st.instance("i-1").unwrap().last_modified_at, Some(310));
}

#[test]
fn s_rules_status() {
    for status in [Status::Pending, Status::Running, Status::Starting, Status::Stopping] {
        assert_eq!(rule_of(&inst(|i| i.status = status), 0, TYPE), RuleId::S1, "{status:?}");
    }
    for status in [Status::Pending, Status::Starting, Status::Stopping] {
        assert_eq!(rule_of(&inst(|i| i.status = status), 0, OUT), RuleId::S2, "{status:?}");
    }
    assert_eq!(rule_of(&inst(|i| i.status = Status::Running), 0, OUT), RuleId::E1);
}

#[test]
fn c_rules_type_change() {
    let st = world_with(|_| {});
    let ty = |t: &'static str| [("InstanceType", t)];
    assert_eq!(rule_of(&st, 0, &ty("ecs.nope.large")), RuleId::C1);
    assert_eq!(rule_of(&st, 0, &ty("ecs.gn7.large")), RuleId::C2);
    let auth = world_with(|w| w.account.authorized_instance_types = vec!["ecs.gn7.large".into()]);
    assert_eq!(rule_of(&auth, 0, &ty("ecs.gn7.large")), RuleId::E1);
    assert_eq!(rule_of(&inst(|i| i.local_disks = true), 0, TYPE), RuleId::C3);
    assert_eq!(
        rule_of(&st, 0, &ty("ecs.g6.large")),
        RuleId::C4,
        "the current type is never allowed"
    );
    assert_eq!(rule_of(&st, 0, &ty("ecs.lonely.large")), RuleId::C4);
    assert_eq!(rule_of(&st, 0, &ty("ecs.g8y.large")), RuleId::C5);
    assert_eq!(rule_of(&st, 0, &ty("ecs.ex.large")), RuleId::C6);
    assert_eq!(rule_of(&st, 0, &ty("ecs.oos.large")), RuleId::C7);
    let poor = world_with(|w| w.account.balance_sufficient = false);
    assert_eq!(rule_of(&poor, 0, &ty("ecs.g6.xlarge")), RuleId::C8);
    assert_eq!(
        rule_of(&poor, 0, &ty("ecs.c6.large")),
        RuleId::E1,
        "a downgrade needs no balance"
    );
    assert_eq!(rule_of(&poor, 0, &ty("ecs.ex.large")), RuleId::C6, "equal rank");
}

#[test]
fn b_rules_bandwidth_change() {
    let vpc = inst(|i| i.network_type = NetworkType::Vpc);
    assert_eq!(rule_of(&vpc, 0, &[("InternetMaxBandwidthIn", "20")]), RuleId::B1);
    assert_eq!(rule_of(&vpc, 0, OUT), RuleId::E1);
    let odd = inst(|i| i.internet_charge_type = "PayByHour".into());
    assert_eq!(rule_of(&odd, 0, OUT), RuleId::B2);
    let plan = inst(|i| i.internet_charge_type = "PayByBandwidth".into());
    assert_eq!(rule_of(&plan, 0, &[("InternetMaxBandwidthOut", "51")]), RuleId::B3);
    assert_eq!(rule_of(&plan, 0, &[("InternetMaxBandwidthOut", "50")]), RuleId::E1);
    assert_eq!(rule_of(&plan, 0, &[("InternetMaxBandwidthIn", "101")]), RuleId::B3);
    let no_plan = world_with(|w| {
        w.catalog.bandwidth_price_plans.remove("PayByTraffic");
    });
    assert_eq!(rule_of(&no_plan, 0, OUT), RuleId::B3);
    let poor = world_with(|w| w.account.balance_sufficient = false);
    assert_eq!(rule_of(&poor, 0, &[("InternetMaxBandwidthOut", "6")]), RuleId::B4);
    assert_eq!(
        rule_of(&poor, 0, &[("InternetMaxBandwidthOut", "5")]),
        RuleId::E1,
        "equal is no increase"
    );
    assert_eq!(rule_of(&poor, 0, &[("InternetMaxBandwidthIn", "11")]), RuleId::B4);
    assert_eq!(rule_of(&poor, 0, &[("InternetMaxBandwidthIn", "9")]), RuleId::E1);
}

#[test]
fn d1_dry_run_changes_nothing() {
    let st = world_with(|_| {});
    let d = decide(&st, 0, &req(&[TYPE[0], ("DryRun", "True")]));
    assert_eq!((d.rule, d.status, d.change), (RuleId::D1, 400, None));
    assert_eq!(rule_of(&st, 0, &[TYPE[0], ("DryRun", "false")]), RuleId::E1);
    // A dry run still reports the first failing check.
    assert_eq!(
        rule_of(&st, 0, &[("InstanceType", "ecs.oos.large"), ("DryRun", "true")]),
        RuleId::C7
    );
}

#[test]
fn f1_fault_injection() {
    let st = world_with(|w| w.faults.internal_error_on_instances = vec!["i-1".into()]);
    let d = decide(&st, 0, &req(TYPE));
    assert_eq!((d.rule, d.status, d.change), (RuleId::F1, 500, None));
}

#[test]
fn e1_applies_type_and_bandwidth() {
    let mut st = world_with(|_| {});
    assert_eq!(apply(&mut st, 0, TYPE).rule, RuleId::E1);
    assert_eq!(st.instance("i-1").unwrap().instance.instance_type, "ecs.g6.xlarge");
    let mut st = world_with(|_| {});
    apply(
        &mut st,
        0,
        &[("InternetMaxBandwidthOut", "0"), ("InternetMaxBandwidthIn", "200")],
    );
    let i = &st.instance("i-1").unwrap().instance;
    assert_eq!((i.internet_max_bandwidth_out, i.internet_max_bandwidth_in), (0, 200));
}

#[test]
fn every_refusal_leaves_the_world_unchanged() {
    // The oracle never returns a change with a refusal (mutants aside).
    let worlds = [
        world_with(|w| w.account.overdue_payment = true),
        inst(|i| i.status = Status::Running),
        world_with(|w| w.account.balance_sufficient = false),
    ];
    for st in &worlds {
        for extra in [
            TYPE,
            OUT,
            &[("InstanceType", "ecs.oos.large")][..],
            &[("InternetMaxBandwidthOut", "99")][..],
        ] {
            let d = decide(st, 0, &req(extra));
            if !d.is_success() {
                assert_eq!(d.change, None, "{:?}", d.rule);
            }
        }
    }
}

#[test]
fn mutants_change_the_answer_they_name() {
    let st = world_with(|w| w.catalog.bandwidth_price_plans.get_mut("PayByTraffic").unwrap().max_out = 200);
    let m = |name: &str, extra: &[(&str, &str)]| decide_with(&st, 0, &req(extra), Some(name.parse().unwrap()));
    assert_eq!(
        m("P3-upper-accepts-101", &[("InternetMaxBandwidthOut", "101")]).rule,
        RuleId::E1
    );
    assert_eq!(
        m("P4-wrong-code", &[("InternetMaxBandwidthIn", "0")]).code,
        Some("InvalidParameter")
    );
    let locked = inst(|i| i.locked_for_security = true);
    let d = decide_with(&locked, 0, &req(TYPE), Some("A3-status-400".parse().unwrap()));
    assert_eq!((d.code, d.status), (Some("InstanceLockedForSecurity"), 400));
    assert_eq!(
        m("P5-before-P3", &[TYPE[0], ("InternetMaxBandwidthOut", "101")]).rule,
        RuleId::P5
    );
    assert!(m("D1-dry-run-applies", &[TYPE[0], ("DryRun", "true")]).change.is_some());
}
