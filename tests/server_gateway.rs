//! The reference server's gateway (behaviour.md 2.1, 2.2 and section 3 "G")
//! over real HTTP. Each rule is checked both ways: a request that breaks it
//! gets the rule's status and code, and the nearest request that keeps it
//! gets through (a dry run answers `DryRunOperation`).

mod common;

use common::*;
use modspec::server::ServerConfig;
use modspec::spec::sample_world;
use modspec::wire::{Format, sign_v1, sign_v3};

const SHA1: &str = "ACS3-HMAC-SHA1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g1_only_get_and_post_are_served() {
    let t = start().await;
    let w = t.sample().await;
    let (key, secret) = (w.access_key_id.as_str(), w.secret.expose());
    for method in ["PUT", "DELETE"] {
        let r = t.send_v1(method, &v1(method, &w, DRY), Via::Query).await;
        assert_error(&t, &r, 400, "UnsupportedHTTPMethod", Format::Xml);
        let o = V3Opts {
            method: method.into(),
            ..Default::default()
        };
        let r = t.send_v3(&t.v3_req(key, secret, DRY, &o)).await;
        assert_error(&t, &r, 400, "UnsupportedHTTPMethod", Format::Json);
    }
    for method in ["GET", "POST"] {
        let r = t.send_v1(method, &v1(method, &w, DRY), Via::Query).await;
        assert_passed(&t, &r, Format::Xml);
        let o = V3Opts {
            method: method.into(),
            ..Default::default()
        };
        let r = t.send_v3(&t.v3_req(key, secret, DRY, &o)).await;
        assert_passed(&t, &r, Format::Json);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g2_incomplete_signature() {
    let t = start().await;
    let w = t.sample().await;
    let (key, secret) = (w.access_key_id.as_str(), w.secret.expose());

    let unsigned: modspec::wire::ParamList = v1("GET", &w, DRY)
        .iter()
        .filter(|(k, _)| *k != "Signature")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let r = t.send_v1("GET", &unsigned, Via::Query).await;
    assert_error(&t, &r, 400, "IncompleteSignature", Format::Xml);
    for name in ["SignatureNonce", "Timestamp", "SignatureVersion"] {
        let p = v1_tweaked("GET", &w, DRY, secret, |p| remove(p, name));
        let r = t.send_v1("GET", &p, Via::Query).await;
        assert_error(&t, &r, 400, "IncompleteSignature", Format::Xml);
        // An empty common parameter counts as missing.
        let p = v1_tweaked("GET", &w, DRY, secret, |p| set(p, name, ""));
        let r = t.send_v1("GET", &p, Via::Query).await;
        assert_error(&t, &r, 400, "IncompleteSignature", Format::Xml);
    }
    // SignatureVersion must be present; its value is not checked.
    let p = v1_tweaked("GET", &w, DRY, secret, |p| set(p, "SignatureVersion", "9.9"));
    assert_passed(&t, &t.send_v1("GET", &p, Via::Query).await, Format::Xml);
    assert_passed(
        &t,
        &t.send_v1("GET", &v1("GET", &w, DRY), Via::Query).await,
        Format::Xml,
    );

    // V3: no Authorization, or a required header missing or not signed;
    // the style is recognisable, so the error is JSON.
    let mut r3 = t.v3(&w, DRY);
    r3.remove_header("authorization");
    assert_error(&t, &t.send_v3(&r3).await, 400, "IncompleteSignature", Format::Json);
    let mut r3 = t.v3(&w, DRY);
    r3.remove_header("x-acs-date");
    assert_error(&t, &t.send_v3(&r3).await, 400, "IncompleteSignature", Format::Json);
    let all = [
        "host",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    ];
    for left_out in ["host", "x-acs-signature-nonce", "x-acs-content-sha256", "x-acs-action"] {
        let signed: Vec<&str> = all.iter().copied().filter(|h| *h != left_out).collect();
        let mut r3 = t.v3(&w, DRY);
        r3.resign(key, secret, &signed, &sign_v3::hex_sha256(b""));
        let r = t.send_v3(&r3).await;
        assert_error(&t, &r, 400, "IncompleteSignature", Format::Json);
    }
    // The same re-signing over every required header passes, and so does a
    // request that signs more headers (as the Python SDK does).
    let mut r3 = t.v3(&w, DRY);
    r3.resign(key, secret, &all, &sign_v3::hex_sha256(b""));
    assert_passed(&t, &t.send_v3(&r3).await, Format::Json);
    let o = V3Opts {
        extra_headers: vec![
            ("accept".into(), "application/json".into()),
            ("user-agent".into(), "AlibabaCloud (test) TeaDSL/1".into()),
        ],
        ..Default::default()
    };
    assert_passed(&t, &t.send_v3(&t.v3_req(key, secret, DRY, &o)).await, Format::Json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g3_only_modify_instance_spec_is_served() {
    let t = start().await;
    let w = t.sample().await;
    let (key, secret) = (w.access_key_id.as_str(), w.secret.expose());
    for action in ["DescribeRegions", "modifyinstancespec"] {
        let p = v1_tweaked("GET", &w, DRY, secret, |p| set(p, "Action", action));
        let r = t.send_v1("GET", &p, Via::Query).await;
        assert_error(&t, &r, 500, "InvalidAction", Format::Xml);
        let o = V3Opts {
            action: action.into(),
            ..Default::default()
        };
        let r = t.send_v3(&t.v3_req(key, secret, DRY, &o)).await;
        assert_error(&t, &r, 500, "InvalidAction", Format::Json);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g4_only_version_2014_05_26() {
    let t = start().await;
    let w = t.sample().await;
    let (key, secret) = (w.access_key_id.as_str(), w.secret.expose());
    let p = v1_tweaked("GET", &w, DRY, secret, |p| set(p, "Version", "2015-01-01"));
    let r = t.send_v1("GET", &p, Via::Query).await;
    assert_error(&t, &r, 400, "InvalidVersion", Format::Xml);
    let o = V3Opts {
        version: "2015-01-01".into(),
        ..Default::default()
    };
    let r = t.send_v3(&t.v3_req(key, secret, DRY, &o)).await;
    assert_error(&t, &r, 400, "InvalidVersion", Format::Json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g5_unknown_access_key_and_deleted_world() {
    let t = start().await;
    let w = t.sample().await;
    let p = v1_tweaked("GET", &w, DRY, w.secret.expose(), |p| {
        set(p, "AccessKeyId", "LTAInosuchkey")
    });
    let r = t.send_v1("GET", &p, Via::Query).await;
    assert_error(&t, &r, 404, "InvalidAccessKeyId.NotFound", Format::Xml);
    let r = t
        .send_v3(&t.v3_req("LTAInosuchkey", "x", DRY, &V3Opts::default()))
        .await;
    assert_error(&t, &r, 404, "InvalidAccessKeyId.NotFound", Format::Json);

    assert_passed(
        &t,
        &t.send_v1("GET", &v1("GET", &w, DRY), Via::Query).await,
        Format::Xml,
    );
    assert_passed(&t, &t.send_v3(&t.v3(&w, DRY)).await, Format::Json);
    t.control.delete_world(&w.world_id).await.expect("delete");
    let r = t.send_v1("GET", &v1("GET", &w, DRY), Via::Query).await;
    assert_error(&t, &r, 404, "InvalidAccessKeyId.NotFound", Format::Xml);
    let r = t.send_v3(&t.v3(&w, DRY)).await;
    assert_error(&t, &r, 404, "InvalidAccessKeyId.NotFound", Format::Json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g6_g7_timestamp_format_and_window() {
    let t = start().await;
    let w = t.sample().await;
    let (key, secret) = (w.access_key_id.as_str(), w.secret.expose());
    let v1_at = |ts: String| v1_tweaked("GET", &w, DRY, secret, move |p| set(p, "Timestamp", &ts));
    let v3_at = |ts: String| {
        let o = V3Opts {
            date: ts,
            ..Default::default()
        };
        t.v3_req(key, secret, DRY, &o)
    };
    let cases = [
        (
            "2024-01-01 12:00:00".to_string(),
            Some((400, "InvalidTimeStamp.Format")),
        ),
        (stamp(-16 * 60), Some((400, "InvalidTimeStamp.Expired"))),
        (stamp(16 * 60), Some((400, "InvalidTimeStamp.Expired"))),
        (stamp(-14 * 60), None),
        (stamp(14 * 60), None),
    ];
    for (ts, want) in cases {
        let r1 = t.send_v1("GET", &v1_at(ts.clone()), Via::Query).await;
        let r3 = t.send_v3(&v3_at(ts.clone())).await;
        match want {
            Some((status, code)) => {
                assert_error(&t, &r1, status, code, Format::Xml);
                assert_error(&t, &r3, status, code, Format::Json);
            }
            None => {
                assert_passed(&t, &r1, Format::Xml);
                assert_passed(&t, &r3, Format::Json);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g8_signature_method() {
    let t = start().await;
    let w = t.sample().await;
    let secret = w.secret.expose();
    let p = v1_tweaked("GET", &w, DRY, secret, |p| set(p, "SignatureMethod", "HMAC-SHA256"));
    let r = t.send_v1("GET", &p, Via::Query).await;
    assert_error(&t, &r, 400, "InvalidSignatureMethod", Format::Xml);
    let mut r3 = t.v3(&w, DRY);
    let auth = r3.authorization().replacen(sign_v3::ALGORITHM, SHA1, 1);
    r3.set_header("authorization", &auth);
    assert_error(&t, &t.send_v3(&r3).await, 400, "InvalidSignatureMethod", Format::Json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g9_signature_mismatch() {
    let t = start().await;
    let w = t.sample().await;
    let (key, secret) = (w.access_key_id.as_str(), w.secret.expose());

    let p = v1_tweaked("GET", &w, DRY, "wrong-secret", |_| {});
    let r = t.send_v1("GET", &p, Via::Query).await;
    assert_error(&t, &r, 400, "SignatureDoesNotMatch", Format::Xml);
    let sts = sign_v1::string_to_sign("GET", &p);
    let msg = r.message();
    assert!(
        msg.ends_with(&format!("server string to sign is:{sts}")),
        "message {msg:?} does not end with the StringToSign {sts:?}"
    );
    let r = t.send_v3(&t.v3_req(key, "wrong-secret", DRY, &V3Opts::default())).await;
    assert_error(&t, &r, 400, "SignatureDoesNotMatch", Format::Json);

    // A space sent as `+` (form body and query) is form-decoded before the
    // string to sign is rebuilt; an empty value is signed too.
    let mut op = DRY.to_vec();
    op.extend([("ClientToken", "tok en 1"), ("RegionId", "")]);
    let encoded = v1("POST", &w, &op).to_query_string();
    assert!(encoded.contains("tok%20en%201"), "{encoded}");
    let plus = encoded.replace("%20", "+").into_bytes();
    let ct = [(
        "content-type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    assert_passed(&t, &t.send_raw("POST", "", &ct, plus).await, Format::Xml);
    let encoded = v1("GET", &w, &op).to_query_string().replace("%20", "+");
    assert_passed(&t, &t.send_raw("GET", &encoded, &[], Vec::new()).await, Format::Xml);

    // V3 body hash: the body the server received decides.
    let o = V3Opts {
        body: b"{\"a\":1}".to_vec(),
        ..Default::default()
    };
    assert_passed(&t, &t.send_v3(&t.v3_req(key, secret, DRY, &o)).await, Format::Json);
    // Signed over an empty body, sent with one.
    let mut r3 = t.v3(&w, DRY);
    r3.body = b"{\"a\":1}".to_vec();
    assert_error(&t, &t.send_v3(&r3).await, 400, "SignatureDoesNotMatch", Format::Json);
    // Signed over the body actually sent, but x-acs-content-sha256 lies.
    let mut r3 = t.v3(&w, DRY);
    r3.body = b"{\"a\":1}".to_vec();
    let signed = [
        "host",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    ];
    r3.resign(key, secret, &signed, &sign_v3::hex_sha256(&r3.body));
    assert_error(&t, &t.send_v3(&r3).await, 400, "SignatureDoesNotMatch", Format::Json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g10_nonce_reuse() {
    let t = start().await;
    let w = t.sample().await;
    let (key, secret) = (w.access_key_id.as_str(), w.secret.expose());
    let v1_nonce = |n: &str, secret: &str| {
        let n = n.to_string();
        v1_tweaked("GET", &w, DRY, secret, move |p| set(p, "SignatureNonce", &n))
    };
    let v3_nonce = |n: &str, secret: &str| {
        let o = V3Opts {
            nonce: n.into(),
            ..Default::default()
        };
        t.v3_req(key, secret, DRY, &o)
    };

    let n = nonce();
    assert_passed(
        &t,
        &t.send_v1("GET", &v1_nonce(&n, secret), Via::Query).await,
        Format::Xml,
    );
    let r = t.send_v1("GET", &v1_nonce(&n, secret), Via::Query).await;
    assert_error(&t, &r, 400, "SignatureNonceUsed", Format::Xml);
    // Across styles the nonce is the same nonce of the same key.
    assert_error(
        &t,
        &t.send_v3(&v3_nonce(&n, secret)).await,
        400,
        "SignatureNonceUsed",
        Format::Json,
    );
    let n = nonce();
    assert_passed(&t, &t.send_v3(&v3_nonce(&n, secret)).await, Format::Json);
    assert_error(
        &t,
        &t.send_v3(&v3_nonce(&n, secret)).await,
        400,
        "SignatureNonceUsed",
        Format::Json,
    );

    // A forged request cannot burn a nonce.
    let n = nonce();
    let r = t.send_v1("GET", &v1_nonce(&n, "forged"), Via::Query).await;
    assert_error(&t, &r, 400, "SignatureDoesNotMatch", Format::Xml);
    let r = t.send_v3(&v3_nonce(&n, "forged")).await;
    assert_error(&t, &r, 400, "SignatureDoesNotMatch", Format::Json);
    assert_passed(
        &t,
        &t.send_v1("GET", &v1_nonce(&n, secret), Via::Query).await,
        Format::Xml,
    );

    // A verified request records its nonce whatever the outcome (here G11).
    let n = nonce();
    let bad_format = {
        let n = n.clone();
        v1_tweaked("GET", &w, DRY, secret, move |p| {
            set(p, "SignatureNonce", &n);
            set(p, "Format", "YAML");
        })
    };
    let r = t.send_v1("GET", &bad_format, Via::Query).await;
    assert_error(&t, &r, 400, "InvalidParameter.Format", Format::Xml);
    let r = t.send_v1("GET", &v1_nonce(&n, secret), Via::Query).await;
    assert_error(&t, &r, 400, "SignatureNonceUsed", Format::Xml);

    // Nonces are per AccessKeyId.
    let other = t.sample().await;
    let p = v1_tweaked("GET", &other, DRY, other.secret.expose(), |p| {
        set(p, "SignatureNonce", &n)
    });
    assert_passed(&t, &t.send_v1("GET", &p, Via::Query).await, Format::Xml);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g11_format_parameter() {
    let t = start().await;
    let w = t.sample().await;
    let secret = w.secret.expose();
    let with_format = |f: &'static str| v1_tweaked("GET", &w, DRY, secret, move |p| set(p, "Format", f));
    let r = t.send_v1("GET", &with_format("YAML"), Via::Query).await;
    assert_error(&t, &r, 400, "InvalidParameter.Format", Format::Xml);
    let mut op = DRY.to_vec();
    op.push(("Format", "YAML"));
    let r = t.send_v3(&t.v3(&w, &op)).await;
    assert_error(&t, &r, 400, "InvalidParameter.Format", Format::Json);

    assert_passed(
        &t,
        &t.send_v1("GET", &with_format("xml"), Via::Query).await,
        Format::Xml,
    );
    assert_passed(
        &t,
        &t.send_v1("GET", &with_format("json"), Via::Query).await,
        Format::Json,
    );
    // An empty Format counts as absent.
    assert_passed(&t, &t.send_v1("GET", &with_format(""), Via::Query).await, Format::Xml);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g12_account_quota() {
    let t = start().await;
    let mut world = sample_world();
    world.account.max_requests_per_minute = Some(2);
    let w = t.world(&world).await;
    let throttled = |r: &Reply, want_ms: i64| {
        assert_error(&t, r, 400, "Throttling", Format::Json);
        let ms: i64 = r
            .header("x-acs-retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("x-acs-retry-after missing or not an integer: {r:?}"));
        assert!(ms > 0 && ms <= 60_000, "x-acs-retry-after {ms}");
        assert_eq!(ms, want_ms, "time until the quota allows a request");
    };
    assert_passed(&t, &t.send_v3(&t.v3(&w, DRY)).await, Format::Json);
    assert_passed(&t, &t.send_v3(&t.v3(&w, DRY)).await, Format::Json);
    throttled(&t.send_v3(&t.v3(&w, DRY)).await, 60_000);

    // Throttled requests do not count: these two at t=30 would otherwise
    // still fill the window at t=60.
    assert_eq!(t.advance(&w, 30).await, 30);
    throttled(&t.send_v3(&t.v3(&w, DRY)).await, 30_000);
    throttled(&t.send_v3(&t.v3(&w, DRY)).await, 30_000);
    assert_eq!(t.advance(&w, 30).await, 60);
    // Nor do requests the gateway refused before G12.
    let r = t
        .send_v3(&t.v3_req(&w.access_key_id, "forged", DRY, &V3Opts::default()))
        .await;
    assert_error(&t, &r, 400, "SignatureDoesNotMatch", Format::Json);
    assert_passed(&t, &t.send_v3(&t.v3(&w, DRY)).await, Format::Json);
    assert_passed(&t, &t.send_v3(&t.v3(&w, DRY)).await, Format::Json);
    throttled(&t.send_v3(&t.v3(&w, DRY)).await, 60_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_format_follows_style_and_format_parameter() {
    let t = start().await;
    let w = t.sample().await;
    let missing = [("InstanceId", "i-nosuch"), ("InternetMaxBandwidthOut", "20")];

    let r = t.send_v1("POST", &v1("POST", &w, &missing), Via::Form).await;
    assert_error(&t, &r, 404, "InvalidInstanceId.NotFound", Format::Xml);
    assert!(!r.body.contains("Recommend"), "{r:?}");
    let r = t.send_v3(&t.v3(&w, &missing)).await;
    assert_error(&t, &r, 404, "InvalidInstanceId.NotFound", Format::Json);
    let p = v1_tweaked("POST", &w, &missing, w.secret.expose(), |p| set(p, "Format", "JSON"));
    let r = t.send_v1("POST", &p, Via::Form).await;
    assert_error(&t, &r, 404, "InvalidInstanceId.NotFound", Format::Json);
    let mut op = missing.to_vec();
    op.push(("Format", "XML"));
    let r = t.send_v3(&t.v3(&w, &op)).await;
    assert_error(&t, &r, 404, "InvalidInstanceId.NotFound", Format::Xml);

    // Success bodies: XML for V1, JSON for V3; the change is visible at once.
    let r = t.send_v1("POST", &v1("POST", &w, CHANGE), Via::Form).await;
    assert_success(&r, Format::Xml);
    assert!(r.body.contains("<ModifyInstanceSpecResponse><RequestId>"), "{r:?}");
    assert_eq!(t.instance(&w, "i-conf0002").await["internet_max_bandwidth_out"], 20);
    let r = t
        .send_v3(&t.v3(&w, &[("InstanceId", "i-conf0001"), ("InternetMaxBandwidthOut", "7")]))
        .await;
    assert_success(&r, Format::Json);
    assert_eq!(t.instance(&w, "i-conf0001").await["internet_max_bandwidth_out"], 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_identifies_the_world_by_key_only() {
    let t = start_with(ServerConfig {
        auth: false,
        ..Default::default()
    })
    .await;
    let w = t.sample().await;
    let query = format!(
        "AccessKeyId={}&Action=ModifyInstanceSpec&InstanceId=i-conf0002&InternetMaxBandwidthOut=33",
        w.access_key_id
    );
    // A V3 request with a wrong signature is not checked either.
    let r = t
        .send_v3(&t.v3_req(&w.access_key_id, "wrong", DRY, &V3Opts::default()))
        .await;
    assert_passed(&t, &r, Format::Json);
    let r = t.send_raw("GET", &query, &[], Vec::new()).await;
    assert_success(&r, Format::Xml);
    assert_eq!(t.instance(&w, "i-conf0002").await["internet_max_bandwidth_out"], 33);
    // G3 and G5 are core.
    let r = t
        .send_raw(
            "GET",
            "AccessKeyId=LTAInosuch&Action=ModifyInstanceSpec",
            &[],
            Vec::new(),
        )
        .await;
    assert_error(&t, &r, 404, "InvalidAccessKeyId.NotFound", Format::Xml);
    let r = t.send_raw("GET", "", &[], Vec::new()).await;
    assert_error(&t, &r, 500, "InvalidAction", Format::Xml);

    let caps: serde_json::Value = t
        .http
        .get(t.control_url("/capabilities"))
        .send()
        .await
        .expect("capabilities")
        .json()
        .await
        .expect("capabilities JSON");
    let caps: Vec<&str> = caps["capabilities"]
        .as_array()
        .expect("capabilities array")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(!caps.contains(&"auth"), "{caps:?}");
    assert!(caps.contains(&"core") && caps.contains(&"clock"), "{caps:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_request_gets_a_well_formed_error() {
    let t = start().await;
    // What `curl http://addr/` sends.
    let curl = [
        ("user-agent".to_string(), "curl/8.5.0".to_string()),
        ("accept".to_string(), "*/*".to_string()),
    ];
    let r = t.send_raw("GET", "", &curl, Vec::new()).await;
    assert_error(&t, &r, 400, "IncompleteSignature", Format::Xml);
    let r = t.send_raw("POST", "", &curl, b"hello".to_vec()).await;
    assert_error(&t, &r, 400, "IncompleteSignature", Format::Xml);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_parameter_takes_its_first_value_and_is_signed_whole() {
    let t = start().await;
    let w = t.sample().await;
    let op = [
        ("InstanceId", "i-conf0002"),
        ("InternetMaxBandwidthOut", "21"),
        ("InternetMaxBandwidthOut", "42"),
    ];
    assert_success(&t.send_v1("POST", &v1("POST", &w, &op), Via::Form).await, Format::Xml);
    assert_eq!(t.instance(&w, "i-conf0002").await["internet_max_bandwidth_out"], 21);
}
