//! Every gateway rule both ways: a request it refuses and the nearest one
//! it admits. Requests are signed here with `wire`'s primitives, damaged
//! before or after signing as each rule needs.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::*;
use crate::protocol::ACTION;
use crate::wire::{sign_v1, sign_v3};

const KEY: &str = "LTAIgatekey";
const SECRET: &str = "gate-secret";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

fn stamp(offset: i64) -> String {
    (now() + TimeDelta::seconds(offset))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A signed V1 GET; `edit` changes the pairs before signing.
fn v1(edit: impl FnOnce(&mut Vec<(String, String)>)) -> RawRequest {
    let date = stamp(0);
    let mut p = pairs(&[
        ("InstanceId", "i-1"),
        ("Action", ACTION),
        ("Version", VERSION),
        ("AccessKeyId", KEY),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", "n-1"),
        ("Timestamp", &date),
    ]);
    edit(&mut p);
    let mut list = ParamList::from(p);
    list.push(
        "Signature",
        sign_v1::sign(SECRET, &sign_v1::string_to_sign("GET", &list)),
    );
    RawRequest {
        method: "GET".into(),
        query: Some(list.to_query_string()),
        ..RawRequest::default()
    }
}

/// A signed V3 POST; `edit` changes the headers before signing, and
/// `unsigned` names headers left out of SignedHeaders.
fn v3(edit: impl FnOnce(&mut Vec<(String, String)>), unsigned: &[&str], algorithm: &str) -> RawRequest {
    let body = b"".to_vec();
    let date = stamp(0);
    let hash = sign_v3::hex_sha256(&body);
    let mut headers = pairs(&[
        ("host", "ecs.example"),
        ("x-acs-action", ACTION),
        ("x-acs-version", VERSION),
        ("x-acs-date", &date),
        ("x-acs-signature-nonce", "n-3"),
        ("x-acs-content-sha256", &hash),
        ("user-agent", "gate-test"),
    ]);
    edit(&mut headers);
    let query = ParamList::from(pairs(&[("InstanceId", "i-1")]));
    let mut signed: Vec<String> = headers
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| !unsigned.contains(&k.as_str()))
        .collect();
    signed.sort();
    let cr = sign_v3::canonical_request("POST", "/", &query, &headers, &signed, &hash);
    let auth = sign_v3::Authorization {
        algorithm: algorithm.into(),
        access_key_id: KEY.into(),
        signature: sign_v3::signature(SECRET, &sign_v3::string_to_sign(&cr)),
        signed_headers: signed,
    };
    headers.push(("authorization".into(), auth.to_header_value()));
    RawRequest {
        method: "POST".into(),
        query: Some(query.to_query_string()),
        headers,
        body,
    }
}

fn good_v3() -> RawRequest {
    v3(|_| {}, &[], sign_v3::ALGORITHM)
}

fn set(h: &mut [(String, String)], name: &str, value: &str) {
    h.iter_mut()
        .filter(|(k, _)| k == name)
        .for_each(|(_, v)| *v = value.into());
}

fn ctx(auth: bool) -> Context<'static, Specified> {
    Context {
        auth,
        now: now(),
        bounds: Bounds {
            max_signed_headers: 64,
            max_canonical_request_bytes: 64 * 1024,
        },
        bends: &Specified,
    }
}

fn run_with(req: &RawRequest, auth: bool, books: Books) -> Result<Admitted<&'static str>, Refused> {
    check(req, &ctx(auth), |k| (k == KEY).then_some(SECRET), |_| books)
}

/// The rule that refuses `req` with fresh books and `auth` on, if any.
fn rule(req: &RawRequest) -> Option<RuleId> {
    run_with(req, true, Books::default()).err().map(|r| r.rule)
}

#[test]
fn well_signed_requests_pass_in_the_style_s_format() {
    let a = run_with(&v1(|_| {}), true, Books::default()).unwrap();
    assert_eq!(
        (a.style, a.format, a.nonce.as_deref()),
        (Style::V1, Format::Xml, Some("n-1"))
    );
    assert_eq!(a.params.get("InstanceId"), Some("i-1"));
    let a = run_with(&good_v3(), true, Books::default()).unwrap();
    assert_eq!(
        (a.style, a.format, a.nonce.as_deref()),
        (Style::V3, Format::Json, Some("n-3"))
    );
}

#[test]
fn g1_only_get_and_post() {
    let mut put = v1(|_| {});
    put.method = "PUT".into();
    let refused = run_with(&put, true, Books::default()).unwrap_err();
    // The style is unknown yet: no V3 header, so the V1 default.
    assert_eq!((refused.rule, refused.format), (RuleId::G1, Format::Xml));
    assert_eq!(rule(&v1(|_| {})), None);
}

#[test]
fn g2_every_common_parameter_and_signed_header() {
    assert_eq!(
        rule(&v1(|p| p.retain(|(k, _)| k != "SignatureNonce"))),
        Some(RuleId::G2)
    );
    assert_eq!(rule(&v1(|p| set(p, "Timestamp", ""))), Some(RuleId::G2));
    assert_eq!(
        rule(&v3(|h| h.retain(|(k, _)| k != "x-acs-date"), &[], sign_v3::ALGORITHM)),
        Some(RuleId::G2)
    );
    assert_eq!(rule(&v3(|_| {}, &["host"], sign_v3::ALGORITHM)), Some(RuleId::G2));
    let refused = run_with(
        &v3(|_| {}, &["x-acs-version"], sign_v3::ALGORITHM),
        true,
        Books::default(),
    );
    assert_eq!(refused.unwrap_err().format, Format::Json, "a V3-looking request");
    // Other headers may stay unsigned (behaviour.md section 6).
    assert_eq!(rule(&v3(|_| {}, &["user-agent"], sign_v3::ALGORITHM)), None);
    // Without auth, completeness is not checked.
    let bare = v1(|p| p.retain(|(k, _)| k != "SignatureNonce"));
    assert!(run_with(&bare, false, Books::default()).is_ok());
}

#[test]
fn g3_the_one_action_exactly() {
    assert_eq!(rule(&v1(|p| set(p, "Action", "DescribeRegions"))), Some(RuleId::G3));
    assert_eq!(rule(&v1(|p| set(p, "Action", "modifyinstancespec"))), Some(RuleId::G3));
    let v3_other = v3(|h| set(h, "x-acs-action", "StopInstance"), &[], sign_v3::ALGORITHM);
    assert_eq!(rule(&v3_other), Some(RuleId::G3));
}

#[test]
fn g4_the_version_under_auth_only() {
    let other = v1(|p| set(p, "Version", "2014-05-27"));
    assert_eq!(rule(&other), Some(RuleId::G4));
    assert!(run_with(&other, false, Books::default()).is_ok());
    assert_eq!(
        rule(&v3(|h| set(h, "x-acs-version", "2016"), &[], sign_v3::ALGORITHM)),
        Some(RuleId::G4)
    );
}

#[test]
fn g5_the_key_must_name_a_world_with_or_without_auth() {
    let stranger = v1(|p| set(p, "AccessKeyId", "LTAIstranger"));
    assert_eq!(rule(&stranger), Some(RuleId::G5));
    let refused = run_with(&stranger, false, Books::default()).unwrap_err();
    assert_eq!(refused.rule, RuleId::G5);
}

#[test]
fn g6_g7_the_timestamp_parses_and_is_within_15_minutes() {
    assert_eq!(rule(&v1(|p| set(p, "Timestamp", "yesterday"))), Some(RuleId::G6));
    let late = stamp(901);
    assert_eq!(rule(&v1(|p| set(p, "Timestamp", &late))), Some(RuleId::G7));
    let early = stamp(-901);
    assert_eq!(
        rule(&v3(|h| set(h, "x-acs-date", &early), &[], sign_v3::ALGORITHM)),
        Some(RuleId::G7)
    );
    let edge = stamp(900);
    assert_eq!(rule(&v1(|p| set(p, "Timestamp", &edge))), None);
}

#[test]
fn g8_the_signature_method() {
    assert_eq!(
        rule(&v1(|p| set(p, "SignatureMethod", "HMAC-SHA256"))),
        Some(RuleId::G8)
    );
    assert_eq!(rule(&v3(|_| {}, &[], "ACS3-HMAC-SM3")), Some(RuleId::G8));
}

#[test]
fn g9_the_signature_and_what_it_covers() {
    let mut tampered = v1(|_| {});
    tampered.query = tampered.query.map(|q| q.replace("i-1", "i-2"));
    let refused = run_with(&tampered, true, Books::default()).unwrap_err();
    assert_eq!(refused.rule, RuleId::G9);
    assert!(
        refused
            .detail
            .unwrap()
            .starts_with(" server string to sign is:GET&%2F&")
    );
    let mut body = good_v3();
    body.body = b"InstanceId=i-2".to_vec();
    assert_eq!(rule(&body), Some(RuleId::G9), "the body's own hash");
    let wrong = check(&good_v3(), &ctx(true), |_| Some("other-secret"), |_| Books::default());
    assert_eq!(wrong.unwrap_err().rule, RuleId::G9);
    // Beyond the bounds, a signature is refused unverified, with the bound.
    let tight = Context {
        bounds: Bounds {
            max_signed_headers: 3,
            ..Bounds::NONE
        },
        ..ctx(true)
    };
    let refused = admit(&good_v3(), &tight, |_| Some(SECRET)).unwrap_err();
    assert_eq!(refused.rule, RuleId::G9);
    assert!(refused.detail.unwrap().contains("limit of 3"));
}

/// The server's own V3 bounds (outside the contract) admit a request
/// exactly at them and refuse one a header or a byte over.
#[test]
fn the_v3_bounds_admit_a_request_exactly_at_them() {
    let req = good_v3();
    let auth = sign_v3::parse_authorization(req.header("authorization").unwrap()).unwrap();
    let n = auth.signed_headers.len();
    let query = ParamList::from_query_and_body(req.query.as_deref(), None);
    let payload = sign_v3::hex_sha256(&req.body);
    let len = sign_v3::canonical_request(&req.method, "/", &query, &req.headers, &auth.signed_headers, &payload).len();
    let within = |max_signed_headers, max_canonical_request_bytes| Context {
        bounds: Bounds {
            max_signed_headers,
            max_canonical_request_bytes,
        },
        ..ctx(true)
    };
    assert!(admit(&req, &within(n, len), |_| Some(SECRET)).is_ok());
    for (h, b) in [(n - 1, len), (n, len - 1)] {
        assert_eq!(
            admit(&req, &within(h, b), |_| Some(SECRET)).unwrap_err().rule,
            RuleId::G9
        );
    }
}

#[test]
fn g10_a_used_nonce_under_auth_only() {
    let used = Books {
        nonce_used: true,
        quota: None,
    };
    assert_eq!(run_with(&good_v3(), true, used).unwrap_err().rule, RuleId::G10);
    assert!(run_with(&good_v3(), false, used).is_ok());
}

#[test]
fn g11_format_json_or_xml_in_any_case() {
    let yaml = v1(|p| p.push(("Format".into(), "YAML".into())));
    let refused = run_with(&yaml, true, Books::default()).unwrap_err();
    assert_eq!((refused.rule, refused.format), (RuleId::G11, Format::Xml));
    let json = v1(|p| p.push(("Format".into(), "json".into())));
    assert_eq!(run_with(&json, true, Books::default()).unwrap().format, Format::Json);
}

#[test]
fn g12_the_quota_counts_what_passed() {
    let full = |counted| Books {
        nonce_used: false,
        quota: Some(Quota { counted, max: 2 }),
    };
    assert_eq!(run_with(&good_v3(), true, full(2)).unwrap_err().rule, RuleId::G12);
    assert!(run_with(&good_v3(), true, full(1)).is_ok());
    // G10 and G11 come first.
    let both = Books {
        nonce_used: true,
        ..full(2)
    };
    assert_eq!(run_with(&good_v3(), true, both).unwrap_err().rule, RuleId::G10);
}

#[test]
fn a_bend_changes_only_its_own_rule() {
    struct PutToo;
    impl Bends for PutToo {
        fn method_allowed(&self, m: &str) -> bool {
            m != "DELETE"
        }
    }
    let mut put = v1(|_| {});
    put.method = "PUT".into();
    let bent = Context {
        auth: true,
        now: now(),
        bounds: Bounds::NONE,
        bends: &PutToo,
    };
    // Admitted past G1, and then refused by G9: PUT was not what was signed.
    let refused = admit(&put, &bent, |_| Some(SECRET)).unwrap_err();
    assert_eq!(refused.rule, RuleId::G9);
}

#[test]
fn the_timestamp_window_is_exact_to_the_subsecond() {
    use super::signature::outside_window;
    let whole = now();
    let at = whole + TimeDelta::milliseconds(300);
    let w = crate::protocol::TIMESTAMP_WINDOW_SECONDS;
    // 901 s ahead of a whole second is 900.7 s from x.3: beyond 900 s.
    assert!(outside_window(at, whole + TimeDelta::seconds(901), w));
    assert!(outside_window(at, whole - TimeDelta::seconds(900), w), "900.3 s ago");
    assert!(!outside_window(at, whole + TimeDelta::seconds(900), w), "899.7 s ahead");
    assert!(
        !outside_window(whole, whole - TimeDelta::seconds(900), w),
        "exactly 900 s"
    );
    assert!(outside_window(whole, whole + TimeDelta::milliseconds(900_001), w));
}
