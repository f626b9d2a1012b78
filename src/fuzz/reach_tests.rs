//! Boundaries, precedence pairs and steering: counted on hand-made cases,
//! consistent with the oracle on generated ones, deterministic per
//! `(seed, i)`, and measurably leaning toward what is rare.

use super::reach::Boundary::{self, *};
use super::*;
use crate::spec::{ChargeType, ModifyRequest, RuleId, rules_met};

fn req(params: &[(&str, &str)]) -> CaseRequest {
    CaseRequest {
        params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..CaseRequest::default()
    }
}

fn on(id: &str, field: InstanceField) -> WorldField {
    WorldField::Instance(id.into(), field)
}

fn run(world: Vec<WorldField>, steps: Vec<CaseStep>) -> Vec<Expected> {
    let case = Case {
        world: WorldVariant(world),
        steps,
    };
    expected(&case, case.world.world(default_world().unwrap()), true).0
}

fn edges(e: &Expected) -> Vec<Boundary> {
    e.boundaries.iter().collect()
}

#[test]
fn a_recently_changed_prepaid_instance_is_the_pair_a4_over_t1() {
    let world = vec![
        on("i-stopped", InstanceField::ChargeType(ChargeType::PrePaid)),
        on("i-stopped", InstanceField::LastModifiedAgo(Some(100))),
    ];
    let ty = req(&[("InstanceId", "i-stopped"), ("InstanceType", "ecs.g6.xlarge")]);
    let got = run(world, vec![CaseStep::Request(ty)]);
    assert_eq!((got[0].rule, got[0].runner_up), (RuleId::A4, Some(RuleId::T1)));
    let mut cov = Coverage::default();
    cov.add(&got[0]);
    assert_eq!(cov.pair(RuleId::A4, RuleId::T1), 1);
    assert_eq!(cov.pair(RuleId::T1, RuleId::A4), 0);
    assert!(cov.table().contains("A4   > T1 1"), "{}", cov.table());
}

#[test]
fn the_five_minute_window_edges_are_299_and_300_seconds() {
    let world = vec![on("i-running", InstanceField::LastModifiedAgo(Some(0)))];
    let out = req(&[("InstanceId", "i-running"), ("InternetMaxBandwidthOut", "100")]);
    let steps = vec![
        CaseStep::Advance(299),
        CaseStep::Request(out.clone()),
        CaseStep::Advance(1),
        CaseStep::Request(out),
    ];
    let got = run(world, steps);
    assert_eq!(got[0].rule, RuleId::T1);
    // Refused by T1: P3 was judged (100 is its upper end), B3 was not.
    assert_eq!(edges(&got[0]), [OutMax, Window299]);
    assert_eq!(got[1].rule, RuleId::E1);
    assert_eq!(edges(&got[1]), [OutMax, Window300, OutPlanMax]);
}

#[test]
fn a_boundary_behind_an_earlier_refusal_is_not_reached() {
    let long = "t".repeat(65);
    let r = req(&[
        ("InstanceId", "i-running"),
        ("ClientToken", &long),
        ("InternetMaxBandwidthOut", "101"),
    ]);
    let mut forged = r.clone();
    forged.damage.wrong_secret = true;
    let got = run(vec![], vec![CaseStep::Request(r), CaseStep::Request(forged)]);
    assert_eq!((got[0].rule, got[0].runner_up), (RuleId::P2, Some(RuleId::P3)));
    assert_eq!(edges(&got[0]), [TokenLen65], "P3's edge sits behind P2");
    // Behind a gateway refusal nothing of the operation was judged, and a
    // gateway rule is not paired with the operation's verdict.
    assert_eq!((got[1].rule, got[1].runner_up), (RuleId::G9, None));
    assert!(edges(&got[1]).is_empty());
}

#[test]
fn a_nonce_refused_with_a_forged_signature_may_be_used_again() {
    let mut r = req(&[("InstanceId", "i-running"), ("InternetMaxBandwidthOut", "6")]);
    r.damage.nonce = Some("n-1".into());
    let mut forged = r.clone();
    forged.damage.wrong_secret = true;
    let got = run(
        vec![],
        vec![
            CaseStep::Request(forged),
            CaseStep::Request(r.clone()),
            CaseStep::Request(r),
        ],
    );
    let rules: Vec<RuleId> = got.iter().map(|e| e.rule).collect();
    assert_eq!(rules, [RuleId::G9, RuleId::E1, RuleId::G10]);
    assert_eq!(edges(&got[1]), [NonceAfterRefused]);
    assert!(edges(&got[2]).is_empty());
}

#[test]
fn the_quota_edges_follow_its_window_and_ignore_throttled_requests() {
    let world = vec![WorldField::Quota(Some(1))];
    let p6 = || CaseStep::Request(req(&[("InstanceId", "i-running")]));
    let steps = vec![
        p6(),                  // t=0: counted, the last allowed
        CaseStep::Advance(59), // t=59: refused, oldest 59 s old
        p6(),
        CaseStep::Advance(1), // t=60: the first leaves, the throttled one stays
        p6(),
    ];
    let got = run(world, steps);
    let rules: Vec<RuleId> = got.iter().map(|e| e.rule).collect();
    assert_eq!(rules, [RuleId::P6, RuleId::G12, RuleId::P6]);
    assert_eq!(edges(&got[0]), [QuotaLast]);
    assert_eq!(edges(&got[1]), [QuotaFull, QuotaOldest59]);
    assert_eq!(edges(&got[2]), [QuotaLast, QuotaOldest60, QuotaThrottledNotCounted]);
}

#[test]
fn bandwidth_edges_name_the_plan_and_the_current_value() {
    let world = vec![WorldField::Balance(false)];
    let step = |out: &str| CaseStep::Request(req(&[("InstanceId", "i-running"), ("InternetMaxBandwidthOut", out)]));
    // i-running: out 5 on PayByTraffic (max_out 100); each success
    // starts the 5-minute window, so the clock moves past it between.
    let got = run(world, vec![step("5"), CaseStep::Advance(300), step("6"), step("0")]);
    assert_eq!((got[0].rule, edges(&got[0])), (RuleId::E1, vec![OutCurrent]));
    assert_eq!(
        (got[1].rule, edges(&got[1])),
        (RuleId::B4, vec![Window300, OutCurrentAbove])
    );
    assert_eq!((got[2].rule, edges(&got[2])), (RuleId::E1, vec![OutMin, Window300]));
}

/// The pair's winner is the verdict: `rules_met` agrees with `decide` on
/// every request of generated cases that the gateway lets through, tokens
/// and clock moves included.
#[test]
fn the_first_rule_met_is_the_verdict_on_generated_cases() {
    let defaults = default_world().unwrap();
    let mut checked = 0;
    for i in 0..1500 {
        let Some(c) = case_at(31, i, Profile::FULL, defaults, false) else {
            continue;
        };
        let mut model = Model::new(c.world.world(defaults), false);
        for step in &c.steps {
            match step {
                CaseStep::Advance(s) => model.advance(*s),
                CaseStep::Request(r) => {
                    let op = ModifyRequest::from_pairs(r.params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                    let met = rules_met(&model.state, model.now, &op);
                    let e = model.request(r);
                    // Without `auth` a change after signing goes through: the
                    // oracle judges the parameters as sent, not these.
                    if e.rule >= RuleId::P1 && r.damage.after_signing.is_empty() {
                        assert_eq!(met.first().copied().unwrap_or(RuleId::E1), e.rule, "case {i}: {met:?}");
                        assert_eq!(met.get(1).copied(), e.runner_up, "case {i}");
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 2000, "only {checked} requests reached the oracle");
}

#[test]
fn a_steered_case_depends_on_seed_and_index_only() {
    let defaults = default_world().unwrap();
    let forward: Vec<Option<Case>> = (0..40).map(|i| case_at(3, i, Profile::FULL, defaults, true)).collect();
    let backward: Vec<Option<Case>> = (0..40)
        .rev()
        .map(|i| case_at(3, i, Profile::FULL, defaults, true))
        .collect();
    assert!(forward.iter().all(Option::is_some));
    assert!(forward.iter().eq(backward.iter().rev()), "order changed a case");
    // Unsteered, case i is the plain generator's case from (seed, i).
    for i in 0..40 {
        let bytes = case_bytes(3, i);
        let plain = generate(&mut arbitrary::Unstructured::new(&bytes), Profile::FULL).ok();
        assert_eq!(case_at(3, i, Profile::FULL, defaults, false), plain);
    }
    let differs = (0..40)
        .filter(|i| forward[*i as usize] != case_at(3, *i, Profile::FULL, defaults, false))
        .count();
    assert!(
        differs > 20,
        "steering chose another candidate in only {differs} of 40 cases"
    );
}

/// Cases of `n` from seed 9 that reach what `hit` looks for.
fn reached(n: u64, steer: bool, hit: impl Fn(&CaseReach) -> bool) -> usize {
    let defaults = default_world().unwrap();
    (0..n)
        .filter_map(|i| case_at(9, i, Profile::FULL, defaults, steer))
        .filter(|c| hit(&case_reach(c, defaults, true)))
        .count()
}

#[test]
fn steering_raises_the_reach_of_rare_rules() {
    // Each decides a request in fewer than 1 plain case of 90 (weights.rs).
    for rule in [RuleId::I2, RuleId::C3] {
        let hit = |r: &CaseReach| r.rules.contains(&rule);
        let (plain, steered) = (reached(1000, false, hit), reached(1000, true, hit));
        assert!(
            steered >= 3 * plain.max(1),
            "{rule}: {steered} steered cases of 1000 against {plain} plain"
        );
    }
    // A common rule stays common: steering adds, it does not starve.
    let e1 = |r: &CaseReach| r.rules.contains(&RuleId::E1);
    assert!(reached(300, true, e1) * 2 >= reached(300, false, e1));
}

#[test]
fn steering_raises_the_reach_of_rare_boundaries_and_pairs_together() {
    // Everything that fewer than 1 plain case in 500 reaches, counted once
    // per case and item.
    let rare = |r: &CaseReach| {
        let b = r.boundaries.iter().filter(|b| weight_of_boundary(*b) >= 500).count();
        let p = r.pairs.iter().filter(|p| weight_of_pair(**p) >= 500).count();
        b + p
    };
    let defaults = default_world().unwrap();
    let total = |steer: bool| -> usize {
        (0..1000)
            .filter_map(|i| case_at(9, i, Profile::FULL, defaults, steer))
            .map(|c| rare(&case_reach(&c, defaults, true)))
            .sum()
    };
    let (plain, steered) = (total(false), total(true));
    assert!(
        steered >= 3 * plain.max(1),
        "{steered} rare items steered against {plain} plain"
    );
}

/// The weight steering gives one boundary or pair alone.
fn weight_of_boundary(b: Boundary) -> u64 {
    let mut r = CaseReach::default();
    r.boundaries.insert(b);
    weight(&r)
}

fn weight_of_pair(p: (RuleId, RuleId)) -> u64 {
    let mut r = CaseReach::default();
    r.pairs.insert(p);
    weight(&r)
}
