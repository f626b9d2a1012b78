//! Unit tests of the fuzzer's pieces; the campaign and the targets are
//! tested end to end in `tests/fuzz_*.rs`.

use arbitrary::Unstructured;

use super::*;
use crate::client::SignatureStyle;
use crate::scenario::build_world;
use crate::spec::RuleId;
use crate::wire::Damage;

fn case(seed: u64, i: u64) -> Case {
    let bytes = case_bytes(seed, i);
    generate(&mut Unstructured::new(&bytes), Profile::FULL).unwrap_or_default()
}

#[test]
fn generated_cases_print_as_scenarios_that_load_back_the_same() {
    let defaults = default_world().unwrap();
    for i in 0..400 {
        let c = case(11, i);
        let yaml = scenario_yaml(&c, defaults, RuleId::E1, "d", &["c".into()]).unwrap();
        if let Err(e) = round_trip(&yaml, &c, defaults) {
            panic!("case {i}: {e}\n{yaml}\n{c:#?}");
        }
    }
}

#[test]
fn world_variants_patch_like_they_apply() {
    let defaults = default_world().unwrap();
    for i in 0..400 {
        let c = case(12, i);
        let patch = c.world.patch().unwrap();
        let patched = build_world(defaults, &[&patch]).unwrap();
        assert_eq!(patched, c.world.world(defaults), "case {i}: {:#?}", c.world);
    }
}

#[test]
fn the_same_seed_gives_the_same_cases() {
    for i in 0..50 {
        assert_eq!(case(5, i), case(5, i));
    }
    assert_ne!(case(5, 1), case(6, 1));
}

#[test]
fn generated_cases_reach_many_rules() {
    let defaults = default_world().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..5000 {
        let c = case(13, i);
        let (want, _) = expected(&c, c.world.world(defaults), true);
        seen.extend(want.iter().map(|e| e.rule));
    }
    let missing: Vec<RuleId> = RuleId::all().filter(|r| !seen.contains(r)).collect();
    assert!(missing.is_empty(), "rules never expected in 5000 cases: {missing:?}");
}

fn request(style: SignatureStyle, damage: Damage) -> CaseRequest {
    CaseRequest {
        params: vec![
            ("InstanceId".into(), "i-running".into()),
            ("InternetMaxBandwidthOut".into(), "6".into()),
        ],
        style,
        damage,
        ..CaseRequest::default()
    }
}

#[test]
fn gateway_expectations_follow_the_damage() {
    let d = |f: &dyn Fn(&mut Damage)| {
        let mut d = Damage::default();
        f(&mut d);
        d
    };
    let v1 = |damage| gateway(&request(SignatureStyle::V1, damage), true);
    let v3 = |damage| gateway(&request(SignatureStyle::V3, damage), true);
    assert_eq!(v3(Damage::default()), None);
    assert_eq!(v1(d(&|d| d.plus_for_space = true)), None);
    assert_eq!(v1(d(&|d| d.omit.push("SignatureNonce".into()))), Some(RuleId::G2));
    assert_eq!(v3(d(&|d| d.unsigned_headers.push("host".into()))), Some(RuleId::G2));
    assert_eq!(
        v3(d(&|d| drop(d.set.insert("Action".into(), String::new())))),
        Some(RuleId::G2)
    );
    assert_eq!(
        v3(d(&|d| drop(d.set.insert("Action".into(), "X".into())))),
        Some(RuleId::G3)
    );
    assert_eq!(
        v1(d(&|d| drop(d.set.insert("Version".into(), "1".into())))),
        Some(RuleId::G4)
    );
    assert_eq!(v1(d(&|d| d.unknown_key = true)), Some(RuleId::G5));
    assert_eq!(v3(d(&|d| d.timestamp_offset = Some(-960))), Some(RuleId::G7));
    assert_eq!(v3(d(&|d| d.timestamp_offset = Some(600))), None);
    assert_eq!(
        v3(d(&|d| d.algorithm = Some("ACS3-HMAC-SHA1".into()))),
        Some(RuleId::G8)
    );
    assert_eq!(v1(d(&|d| d.wrong_secret = true)), Some(RuleId::G9));
    assert_eq!(v3(d(&|d| d.body = Some("x=1".into()))), None);
    let mut put = request(SignatureStyle::V3, d(&|d| d.wrong_secret = true));
    put.method = "PUT".into();
    assert_eq!(gateway(&put, true), Some(RuleId::G1), "G1 comes first");
}

#[test]
fn a_reused_nonce_is_g10_once_verified() {
    let defaults = default_world().unwrap();
    let r = request(
        SignatureStyle::V3,
        Damage {
            nonce: Some("n".into()),
            ..Damage::default()
        },
    );
    let c = Case {
        world: WorldVariant::default(),
        steps: vec![CaseStep::Request(r.clone()), CaseStep::Request(r)],
    };
    let (want, _) = expected(&c, defaults.clone(), true);
    assert_eq!(
        want.iter().map(|e| e.rule).collect::<Vec<_>>(),
        [RuleId::E1, RuleId::G10]
    );
}

#[test]
fn durations_take_units() {
    assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
    assert_eq!(parse_duration("10m").unwrap().as_secs(), 600);
    assert_eq!(parse_duration("1h").unwrap().as_secs(), 3600);
    assert!(parse_duration("1d").is_err());
    assert!(parse_duration("m").is_err());
}

#[test]
fn shrinking_candidates_are_smaller() {
    for i in 0..100 {
        let c = case(14, i);
        for s in candidates(&c) {
            assert!(s.size() < c.size());
        }
    }
}

#[tokio::test]
async fn the_reference_server_agrees_in_process() {
    let runner = Runner {
        driver: Driver::in_process(None),
        defaults: default_world().unwrap().clone(),
        auth: true,
        check_state: true,
    };
    for i in 0..300 {
        let c = case(15, i);
        let run = runner.run(&c).await.unwrap();
        assert!(run.disagreement.is_none(), "case {i}: {:?}\n{c:#?}", run.disagreement);
    }
}

#[test]
fn cases_stay_within_the_target_profile() {
    let core = Profile {
        auth: false,
        xml: false,
        clock: false,
        extended: false,
        faults: false,
    };
    let mut outside = 0;
    for i in 0..500 {
        let bytes = case_bytes(16, i);
        let c = generate(&mut Unstructured::new(&bytes), core).unwrap_or_default();
        assert!(fits(&c, core), "case {i} needs more than core: {c:#?}");
        outside += usize::from(!fits(&case(16, i), core));
    }
    assert!(
        outside > 250,
        "full-profile cases should mostly need more than core ({outside})"
    );
}

/// The in-process driver goes through the server's router: a request over
/// one of its limits (parameters in the query, in a form body, the body's
/// size) gets the answer it gets over HTTP, byte for byte.
#[tokio::test]
async fn a_request_over_a_server_limit_is_answered_alike_in_process_and_over_http() {
    use crate::client::EcsRequest;
    use crate::server::{Limits, ServerConfig};
    use crate::wire::ParamList;

    let embedded = crate::runner::start_embedded(&ServerConfig::default()).await.unwrap();
    let timeout = std::time::Duration::from_secs(10);
    let (http, _) = Driver::connect(&embedded.url, None, timeout, &Default::default())
        .await
        .unwrap();
    let local = Driver::in_process(None);
    let limits = Limits::default();
    let many: ParamList = (0..=limits.max_params)
        .map(|i| (format!("P{i}"), "1".to_string()))
        .collect();
    let mut in_query = EcsRequest::modify(SignatureStyle::V1, many.clone());
    in_query.form_body = false;
    let in_form = EcsRequest::modify(SignatureStyle::V1, many);
    let big: ParamList = [("InstanceId".to_string(), "i".repeat(limits.max_body_bytes))]
        .into_iter()
        .collect();
    let too_big = EcsRequest::modify(SignatureStyle::V1, big);
    for (req, status) in [(in_query, 414), (in_form, 413), (too_big, 413)] {
        let mut answers = Vec::new();
        for driver in [&http, &local] {
            let s = driver.create(default_world().unwrap()).await.unwrap();
            let (_, ex) = driver.send(&s, &req).await.unwrap();
            driver.delete(&s).await;
            answers.push((ex.status, ex.header("content-type").map(str::to_string), ex.body));
        }
        assert_eq!(answers[0].0, status, "{}", String::from_utf8_lossy(&answers[0].2));
        assert_eq!(answers[0], answers[1], "HTTP first, in-process second");
    }
}
