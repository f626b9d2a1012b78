//! The reference server's gateway (behaviour.md 2.1, 2.2 and section 3 "G")
//! over real HTTP. Each rule is checked both ways: a request that breaks it
//! gets the rule's status and code, and the nearest request that keeps it
//! gets through (a dry run answers `DryRunOperation`). Requests are built
//! by the library (`tests/common`) with protocol damage, signed after the
//! damage, so only the rule under test is broken.

mod common;

use common::*;
use modspec::client::EcsRequest;
use modspec::spec::sample_world;
use modspec::wire::{Damage, ParamList, sign_v1, sign_v3};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g1_only_get_and_post_are_served() {
    let (t, w) = start_sample().await;
    for (method, allowed) in [("PUT", false), ("DELETE", false), ("GET", true), ("POST", true)] {
        let r1 = t.send_v1(method, &v1(method, &w, DRY), Via::Query).await;
        let r3 = t.send_v3(&t.v3_with(&w, DRY, |r| r.method = method.into())).await;
        if allowed {
            assert_passed(&t, &r1, XML);
            assert_passed(&t, &r3, JSON);
        } else {
            assert_error(&t, &r1, 400, "UnsupportedHTTPMethod", XML);
            assert_error(&t, &r3, 400, "UnsupportedHTTPMethod", JSON);
            // A valid Format decides the error's format.
            let p = v1_with(method, &w, DRY, |r| r.format = Some("json".into()));
            let r = t.send_v1(method, &p, Via::Query).await;
            assert_error(&t, &r, 400, "UnsupportedHTTPMethod", JSON);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g2_incomplete_signature() {
    let (t, w) = start_sample().await;
    let omit = |name: &'static str| move |r: &mut EcsRequest| r.damage.omit.push(name.into());
    let unsigned = v1_with("GET", &w, DRY, omit("Signature"));
    assert_eq!(unsigned.get("Signature"), None);
    assert_error(&t, &t.get(&unsigned).await, 400, "IncompleteSignature", XML);
    for name in ["SignatureNonce", "Timestamp", "SignatureVersion"] {
        let p = v1_with("GET", &w, DRY, omit(name));
        assert_error(&t, &t.get(&p).await, 400, "IncompleteSignature", XML);
        // An empty common parameter counts as missing.
        let p = v1_with("GET", &w, DRY, damage_set(name, ""));
        assert_error(&t, &t.get(&p).await, 400, "IncompleteSignature", XML);
    }
    // SignatureVersion must be present; its value is not checked.
    let p = v1_with("GET", &w, DRY, damage_set("SignatureVersion", "9.9"));
    assert_passed(&t, &t.get(&p).await, XML);
    assert_passed(&t, &t.get(&v1("GET", &w, DRY)).await, XML);

    // V3: no Authorization, or a required header missing or not signed; the
    // request has x-acs-* headers, so the error is JSON.
    for missing in ["authorization", "x-acs-date"] {
        let mut r3 = t.v3(&w, DRY);
        r3.remove_header(missing);
        assert_error(&t, &t.send_v3(&r3).await, 400, "IncompleteSignature", JSON);
    }
    let mut r3 = t.v3(&w, &[("Format", "XML")]);
    r3.remove_header("authorization");
    assert_error(&t, &t.send_v3(&r3).await, 400, "IncompleteSignature", XML);
    let signing = |list: Vec<&'static str>| {
        let list: Vec<String> = list.into_iter().map(String::from).collect();
        move |r: &mut EcsRequest| r.damage.signed_headers = Some(list)
    };
    for left_out in ["host", "x-acs-signature-nonce", "x-acs-content-sha256", "x-acs-action"] {
        let signed: Vec<&str> = V3_SIGNED.iter().copied().filter(|h| *h != left_out).collect();
        let r3 = t.v3_with(&w, DRY, signing(signed));
        assert_error(&t, &t.send_v3(&r3).await, 400, "IncompleteSignature", JSON);
    }
    // Signing just the required headers passes, and so does a request that
    // signs more headers (as the SDKs do: every library request does).
    let r3 = t.v3_with(&w, DRY, signing(V3_SIGNED.to_vec()));
    assert_passed(&t, &t.send_v3(&r3).await, JSON);
    let extra = owned(&[("accept", "application/json"), ("user-agent", "AlibabaCloud TeaDSL/1")]);
    let r3 = t.v3_with(&w, DRY, |r| r.headers = extra);
    assert!(
        r3.authorization().contains("accept;host;user-agent;x-acs-action"),
        "{r3:?}"
    );
    assert_passed(&t, &t.send_v3(&r3).await, JSON);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g3_only_modify_instance_spec_is_served() {
    let (t, w) = start_sample().await;
    for action in ["DescribeRegions", "modifyinstancespec"] {
        let p = v1_with("GET", &w, DRY, |r| r.action = action.into());
        assert_error(&t, &t.get(&p).await, 500, "InvalidAction", XML);
        let r3 = t.v3_with(&w, DRY, |r| r.action = action.into());
        assert_error(&t, &t.send_v3(&r3).await, 500, "InvalidAction", JSON);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g4_only_version_2014_05_26() {
    let (t, w) = start_sample().await;
    let p = v1_with("GET", &w, DRY, damage_set("Version", "2015-01-01"));
    assert_error(&t, &t.get(&p).await, 400, "InvalidVersion", XML);
    let r3 = t.v3_with(&w, DRY, damage_set("Version", "2015-01-01"));
    assert_error(&t, &t.send_v3(&r3).await, 400, "InvalidVersion", JSON);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g5_unknown_access_key_and_deleted_world() {
    let (t, w) = start_sample().await;
    let unknown = |r: &mut EcsRequest| r.damage.unknown_key = true;
    let p = v1_with("GET", &w, DRY, unknown);
    assert_error(&t, &t.get(&p).await, 404, "InvalidAccessKeyId.NotFound", XML);
    let r3 = t.v3_with(&w, DRY, unknown);
    assert_error(&t, &t.send_v3(&r3).await, 404, "InvalidAccessKeyId.NotFound", JSON);

    assert_passed(&t, &t.get(&v1("GET", &w, DRY)).await, XML);
    assert_passed(&t, &t.send_v3(&t.v3(&w, DRY)).await, JSON);
    t.control.delete_world(&w.world_id).await.expect("delete");
    assert_error(
        &t,
        &t.get(&v1("GET", &w, DRY)).await,
        404,
        "InvalidAccessKeyId.NotFound",
        XML,
    );
    assert_error(
        &t,
        &t.send_v3(&t.v3(&w, DRY)).await,
        404,
        "InvalidAccessKeyId.NotFound",
        JSON,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g6_g7_timestamp_format_and_window() {
    let (t, w) = start_sample().await;
    let at = |offset: i64| Damage {
        timestamp_offset: Some(offset),
        ..Damage::default()
    };
    let malformed = Damage {
        set: [("Timestamp".into(), "2024-01-01 12:00:00".into())].into(),
        ..Damage::default()
    };
    let cases = [
        (malformed, Some("InvalidTimeStamp.Format")),
        (at(-16 * 60), Some("InvalidTimeStamp.Expired")),
        (at(16 * 60), Some("InvalidTimeStamp.Expired")),
        (at(-14 * 60), None),
        (at(14 * 60), None),
    ];
    for (damage, want) in cases {
        let r1 = t.get(&v1_with("GET", &w, DRY, |r| r.damage = damage.clone())).await;
        let r3 = t.send_v3(&t.v3_with(&w, DRY, |r| r.damage = damage)).await;
        match want {
            Some(code) => {
                assert_error(&t, &r1, 400, code, XML);
                assert_error(&t, &r3, 400, code, JSON);
            }
            None => {
                assert_passed(&t, &r1, XML);
                assert_passed(&t, &r3, JSON);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g8_signature_method() {
    let (t, w) = start_sample().await;
    let p = v1_with("GET", &w, DRY, damage_set("SignatureMethod", "HMAC-SHA256"));
    assert_error(&t, &t.get(&p).await, 400, "InvalidSignatureMethod", XML);
    let r3 = t.v3_with(&w, DRY, |r| r.damage.algorithm = Some("ACS3-HMAC-SHA1".into()));
    assert!(r3.authorization().starts_with("ACS3-HMAC-SHA1 "), "{r3:?}");
    assert_error(&t, &t.send_v3(&r3).await, 400, "InvalidSignatureMethod", JSON);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g9_signature_mismatch() {
    let (t, w) = start_sample().await;
    let wrong = |r: &mut EcsRequest| r.damage.wrong_secret = true;
    let p = v1_with("GET", &w, DRY, wrong);
    let r = t.get(&p).await;
    assert_error(&t, &r, 400, "SignatureDoesNotMatch", XML);
    let (msg, sts) = (r.message(), sign_v1::string_to_sign("GET", &p));
    assert!(
        msg.ends_with(&format!("server string to sign is:{sts}")),
        "message {msg:?} does not end with the StringToSign {sts:?}"
    );
    let r3 = t.v3_with(&w, DRY, wrong);
    assert_error(&t, &t.send_v3(&r3).await, 400, "SignatureDoesNotMatch", JSON);

    // A space sent as `+` (form body and query) is form-decoded before the
    // string to sign is rebuilt; an empty value is signed too.
    let mut op = DRY.to_vec();
    op.extend([("ClientToken", "tok en 1"), ("RegionId", "")]);
    let encoded = v1("POST", &w, &op).to_query_string();
    assert!(encoded.contains("tok%20en%201"), "{encoded}");
    let plus = encoded.replace("%20", "+").into_bytes();
    assert_passed(&t, &t.send_raw("POST", "", &form_ct(), plus).await, XML);
    let encoded = v1("GET", &w, &op).to_query_string().replace("%20", "+");
    assert_passed(&t, &t.send_raw("GET", &encoded, &[], Vec::new()).await, XML);

    // V3 body hash: the body the server received decides.
    let body = b"{\"a\":1}".to_vec();
    let with_body = |r: &mut EcsRequest| r.damage.body = Some(r#"{"a":1}"#.into());
    let r3 = t.v3_with(&w, DRY, with_body);
    assert_passed(&t, &t.send_v3(&r3).await, JSON);
    // Signed over an empty body, sent with one.
    let mut r3 = t.v3(&w, DRY);
    r3.body = body.clone();
    assert_error(&t, &t.send_v3(&r3).await, 400, "SignatureDoesNotMatch", JSON);
    // Signed over the body actually sent, but x-acs-content-sha256 lies:
    // the signature itself holds (the verifier's own function makes it), so
    // only the header check can refuse it.
    let mut r3 = t.v3_with(&w, DRY, with_body);
    r3.set_header("x-acs-content-sha256", &sign_v3::hex_sha256(b""));
    let mut auth = sign_v3::parse_authorization(&r3.authorization()).expect("authorization");
    let query = ParamList::parse_urlencoded(r3.query.as_bytes());
    let payload = sign_v3::hex_sha256(&body);
    let (secret, signed) = (w.secret.expose(), &auth.signed_headers);
    auth.signature = sign_v3::expected_signature(secret, "POST", "/", &query, &r3.headers, signed, &payload);
    r3.set_header("authorization", &auth.to_header_value());
    assert_error(&t, &t.send_v3(&r3).await, 400, "SignatureDoesNotMatch", JSON);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g10_nonce_reuse() {
    let (t, w) = start_sample().await;
    let nonced = |n: &str, forged: bool| {
        let n = n.to_string();
        move |r: &mut EcsRequest| {
            r.damage.nonce = Some(n);
            r.damage.wrong_secret = forged;
        }
    };
    let v1_n = |n: &str, forged| v1_with("GET", &w, DRY, nonced(n, forged));
    let v3_n = |n: &str, forged| t.v3_with(&w, DRY, nonced(n, forged));

    let n = nonce();
    assert_passed(&t, &t.get(&v1_n(&n, false)).await, XML);
    assert_error(&t, &t.get(&v1_n(&n, false)).await, 400, "SignatureNonceUsed", XML);
    // The nonce belongs to the key, whichever signature style uses it.
    assert_error(&t, &t.send_v3(&v3_n(&n, false)).await, 400, "SignatureNonceUsed", JSON);
    let n = nonce();
    assert_passed(&t, &t.send_v3(&v3_n(&n, false)).await, JSON);
    assert_error(&t, &t.send_v3(&v3_n(&n, false)).await, 400, "SignatureNonceUsed", JSON);

    // A forged request cannot burn a nonce.
    let n = nonce();
    assert_error(&t, &t.get(&v1_n(&n, true)).await, 400, "SignatureDoesNotMatch", XML);
    assert_error(
        &t,
        &t.send_v3(&v3_n(&n, true)).await,
        400,
        "SignatureDoesNotMatch",
        JSON,
    );
    assert_passed(&t, &t.get(&v1_n(&n, false)).await, XML);

    // A verified request records its nonce whatever the outcome (here G11).
    let n = nonce();
    let bad_format = v1_with("GET", &w, DRY, |r| {
        nonced(&n, false)(r);
        r.format = Some("YAML".into());
    });
    assert_error(&t, &t.get(&bad_format).await, 400, "InvalidParameter.Format", XML);
    assert_error(&t, &t.get(&v1_n(&n, false)).await, 400, "SignatureNonceUsed", XML);

    // Nonces are per AccessKeyId.
    let other = t.sample().await;
    let p = v1_with("GET", &other, DRY, nonced(&n, false));
    assert_passed(&t, &t.get(&p).await, XML);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g11_format_parameter() {
    let (t, w) = start_sample().await;
    let with_format = |f: &str| v1_with("GET", &w, DRY, |r| r.format = Some(f.into()));
    assert_error(
        &t,
        &t.get(&with_format("YAML")).await,
        400,
        "InvalidParameter.Format",
        XML,
    );
    let mut op = DRY.to_vec();
    op.push(("Format", "YAML"));
    assert_error(
        &t,
        &t.send_v3(&t.v3(&w, &op)).await,
        400,
        "InvalidParameter.Format",
        JSON,
    );

    assert_passed(&t, &t.get(&with_format("xml")).await, XML);
    assert_passed(&t, &t.get(&with_format("json")).await, JSON);
    // An empty Format counts as absent.
    assert_passed(&t, &t.get(&with_format("")).await, XML);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g12_account_quota() {
    let t = start().await;
    let mut world = sample_world();
    world.account.max_requests_per_minute = Some(2);
    let w = t.world(&world).await;
    let dry = || async { t.send_v3(&t.v3(&w, DRY)).await };
    let throttled = |r: Reply, want_ms: i64| {
        assert_error(&t, &r, 400, "Throttling", JSON);
        let ms: i64 = r
            .header("x-acs-retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("x-acs-retry-after missing or not an integer: {r:?}"));
        assert!(ms > 0 && ms <= 60_000, "x-acs-retry-after {ms}");
        assert_eq!(ms, want_ms, "time until the quota allows a request");
    };
    assert_passed(&t, &dry().await, JSON);
    assert_passed(&t, &dry().await, JSON);
    throttled(dry().await, 60_000);

    // Throttled requests do not count: these two at t=30 would otherwise
    // still fill the window at t=60.
    assert_eq!(t.advance(&w, 30).await, 30);
    throttled(dry().await, 30_000);
    throttled(dry().await, 30_000);
    assert_eq!(t.advance(&w, 30).await, 60);
    // Nor do requests the gateway refused before G12.
    let forged = t.v3_with(&w, DRY, |r| r.damage.wrong_secret = true);
    assert_error(&t, &t.send_v3(&forged).await, 400, "SignatureDoesNotMatch", JSON);
    assert_passed(&t, &dry().await, JSON);
    assert_passed(&t, &dry().await, JSON);
    throttled(dry().await, 60_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_format_follows_style_and_format_parameter() {
    let (t, w) = start_sample().await;
    let missing = [("InstanceId", "i-nosuch"), ("InternetMaxBandwidthOut", "20")];
    let code = "InvalidInstanceId.NotFound";

    let r = t.send_v1("POST", &v1("POST", &w, &missing), Via::Form).await;
    assert_error(&t, &r, 404, code, XML);
    assert!(!r.body.contains("Recommend"), "{r:?}");
    assert_error(&t, &t.send_v3(&t.v3(&w, &missing)).await, 404, code, JSON);
    let p = v1_with("POST", &w, &missing, |r| r.format = Some("JSON".into()));
    assert_error(&t, &t.send_v1("POST", &p, Via::Form).await, 404, code, JSON);
    let mut op = missing.to_vec();
    op.push(("Format", "XML"));
    assert_error(&t, &t.send_v3(&t.v3(&w, &op)).await, 404, code, XML);

    // Success bodies: XML for V1, JSON for V3; the change is visible at once.
    let r = t.send_v1("POST", &v1("POST", &w, CHANGE), Via::Form).await;
    assert_success(&r, XML);
    assert!(r.body.contains("<ModifyInstanceSpecResponse><RequestId>"), "{r:?}");
    assert_eq!(t.instance(&w, "i-conf0002").await["internet_max_bandwidth_out"], 20);
    let op = [("InstanceId", "i-conf0001"), ("InternetMaxBandwidthOut", "7")];
    assert_success(&t.send_v3(&t.v3(&w, &op)).await, JSON);
    assert_eq!(t.instance(&w, "i-conf0001").await["internet_max_bandwidth_out"], 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_parameter_takes_its_first_value_and_is_signed_whole() {
    let (t, w) = start_sample().await;
    let op = [
        ("InstanceId", "i-conf0002"),
        ("InternetMaxBandwidthOut", "21"),
        ("InternetMaxBandwidthOut", "42"),
    ];
    assert_success(&t.send_v1("POST", &v1("POST", &w, &op), Via::Form).await, XML);
    assert_eq!(t.instance(&w, "i-conf0002").await["internet_max_bandwidth_out"], 21);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_request_gets_a_well_formed_error() {
    let t = start().await;
    // What `curl http://addr/` sends.
    let curl = owned(&[("user-agent", "curl/8.5.0"), ("accept", "*/*")]);
    let r = t.send_raw("GET", "", &curl, Vec::new()).await;
    assert_error(&t, &r, 400, "IncompleteSignature", XML);
    let r = t.send_raw("POST", "", &curl, b"hello".to_vec()).await;
    assert_error(&t, &r, 400, "IncompleteSignature", XML);
}
