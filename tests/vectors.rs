//! Checks the signing that the client and the server run against every
//! vector of the contract's `docs/spec/vectors.json`: the server's
//! `string_to_sign`/`verify`, and `client::prepare` (the request builder of
//! run, fuzz and bench, which signs with `wire`'s `sign_damaged`); then
//! round-trips signing through verification, tampered requests included.
//!
//! The file is the repository's own copy, `<crate>/docs/spec/vectors.json`.
//! A missing file fails the test: a signature test that silently checks
//! nothing is worse than none.

use std::path::PathBuf;

use modspec::client::{EcsRequest, Secret, SignatureStyle, prepare};
use modspec::wire::ParamList;
use modspec::wire::sign_v1::{self, V1Common};
use modspec::wire::sign_v3::{self, Authorization, V3Input};
use serde_json::{Map, Value};

/// How many vectors the file holds today. A vector added later must be
/// counted here on purpose, after checking that it is handled.
const EXPECTED_V1: usize = 4;
const EXPECTED_V3: usize = 3;

/// Common parameters that the V1 signer adds itself.
const V1_COMMON: [&str; 8] = [
    "Action",
    "Version",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "Format",
];

/// The headers every V3 request signs (G2).
const REQUIRED_V3: [&str; 6] = [
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
];

/// The official SDKs' headers that `client::prepare` adds to a V3 request.
const SDK_V3: [&str; 3] = ["accept", "user-agent", "x-acs-credentials-provider"];

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/spec/vectors.json")
}

fn load_vectors() -> Map<String, Value> {
    let path = vectors_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the signature vectors at {}: {e}", path.display()));
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => map,
        other => panic!("{} is not a JSON object: {other:?}", path.display()),
    }
}

fn s<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("field `{key}` missing or not a string"))
}

fn pairs(v: &Value, key: &str) -> Result<Vec<(String, String)>, String> {
    let map = v
        .get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| format!("field `{key}` missing or not an object"))?;
    map.iter()
        .map(|(k, val)| match val.as_str() {
            Some(val) => Ok((k.clone(), val.to_string())),
            None => Err(format!("`{key}.{k}` is not a string")),
        })
        .collect()
}

fn check_eq(what: &str, got: &str, want: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}:\n  got  {got:?}\n  want {want:?}"))
    }
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The first value of `name` (exact case), or "" when absent.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

/// A copy of `pairs` with every value of `name` replaced: a tampered request.
fn replaced<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, name: &str, value: &str) -> Vec<(String, String)> {
    pairs
        .map(|(k, v)| (k.to_string(), if k == name { value } else { v }.to_string()))
        .collect()
}

fn check_v1(v: &Value) -> Result<(), String> {
    let params = ParamList::from(pairs(v, "params")?);
    let method = s(v, "method")?;
    let secret = s(v, "secret")?;
    let sts = sign_v1::string_to_sign(method, &params);
    check_eq("string_to_sign", &sts, s(v, "string_to_sign")?)?;
    let want_sig = s(v, "signature")?;
    check_eq("signature", &sign_v1::sign(secret, &sts), want_sig)?;
    sign_v1::verify(secret, method, &params, want_sig)
        .map_err(|sts| format!("verify rejected the vector's own signature; sts {sts}"))?;

    // The client path (`client::prepare` → `sign_v1::sign_damaged`, what
    // run, fuzz and bench send) must land on the same signature.
    check_eq(
        "SignatureMethod",
        params.get("SignatureMethod").unwrap_or(""),
        "HMAC-SHA1",
    )?;
    check_eq("SignatureVersion", params.get("SignatureVersion").unwrap_or(""), "1.0")?;
    let op: ParamList = params
        .iter()
        .filter(|(k, _)| !V1_COMMON.contains(k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut req = EcsRequest::modify(SignatureStyle::V1, op);
    req.method = method.to_string();
    req.form_body = method == "POST";
    req.action = params.get("Action").unwrap_or("").to_string();
    req.version = params.get("Version").unwrap_or("").to_string();
    req.format = params.get("Format").map(str::to_string);
    req.damage.nonce = params.get("SignatureNonce").map(str::to_string);
    let stamp = params.get("Timestamp").unwrap_or("").to_string();
    req.damage.set.insert("Timestamp".into(), stamp);
    let key = params.get("AccessKeyId").unwrap_or("");
    let p = prepare(&req, key, &Secret::new(secret), "unused.invalid");
    let wire = if p.body.is_empty() { p.query.as_bytes() } else { &p.body };
    let sent = ParamList::parse_urlencoded(wire);
    check_eq("prepare Signature", sent.get("Signature").unwrap_or(""), want_sig)?;
    let mut want: Vec<(&str, &str)> = params.iter().chain([("Signature", want_sig)]).collect();
    let mut got: Vec<(&str, &str)> = sent.iter().collect();
    want.sort();
    got.sort();
    check_eq("prepare pairs", &format!("{got:?}"), &format!("{want:?}"))
}

fn check_v3(v: &Value) -> Result<(), String> {
    let method = s(v, "method")?;
    let path = s(v, "path")?;
    let secret = s(v, "secret")?;
    let query = ParamList::from(pairs(v, "query")?);
    let headers = pairs(v, "headers")?;
    let body = v.get("body").and_then(Value::as_str).unwrap_or("").as_bytes();
    let want_auth = s(v, "authorization")?;
    let auth = sign_v3::parse_authorization(want_auth).map_err(|e| format!("{e:?}"))?;
    check_eq("header round trip", &auth.to_header_value(), want_auth)?;

    let mut signed_headers: Vec<String> = headers.iter().map(|(k, _)| k.to_lowercase()).collect();
    signed_headers.sort();
    check_eq(
        "signed headers",
        &signed_headers.join(";"),
        &auth.signed_headers.join(";"),
    )?;
    let hashed_payload = sign_v3::hex_sha256(body);
    let cr = sign_v3::canonical_request(method, path, &query, &headers, &signed_headers, &hashed_payload);
    if let Some(want_cr) = v.get("canonical_request").and_then(Value::as_str) {
        check_eq("canonical_request", &cr, want_cr)?;
    }
    check_eq(
        "hashed_canonical_request",
        &sign_v3::hex_sha256(cr.as_bytes()),
        s(v, "hashed_canonical_request")?,
    )?;
    let computed = Authorization {
        algorithm: sign_v3::ALGORITHM.to_string(),
        // Only the official vector names its key outside the header; the
        // Credential is not signed, so the parsed one stands in for the rest.
        access_key_id: s(v, "access_key_id").unwrap_or(&auth.access_key_id).to_string(),
        signed_headers: signed_headers.clone(),
        signature: sign_v3::signature(secret, &sign_v3::string_to_sign(&cr)),
    };
    check_eq("authorization", &computed.to_header_value(), want_auth)?;
    // What the gateway compares against (its streamed canonical request).
    let streamed =
        sign_v3::expected_signature(secret, method, path, &query, &headers, &signed_headers, &hashed_payload);
    check_eq("expected_signature", &streamed, &auth.signature)?;
    if !sign_v3::verify(secret, method, path, &query, &headers, &auth, body) {
        return Err("verify rejected the vector's own authorization".into());
    }
    if !sign_v3::content_sha256_matches(&headers, body) {
        return Err("x-acs-content-sha256 does not match the body".into());
    }
    if let Some(url) = v.get("url_query_as_sent_by_python_sdk").and_then(Value::as_str) {
        let sent = ParamList::parse_urlencoded(url.as_bytes());
        check_eq(
            "python sdk query",
            &sign_v3::canonical_query(&sent),
            &sign_v3::canonical_query(&query),
        )?;
    }

    // The client path (`client::prepare` → `sign_v3::sign_damaged`, what
    // run, fuzz and bench send) must produce the same authorization header.
    let mut req = EcsRequest::modify(SignatureStyle::V3, query);
    req.method = method.to_string();
    req.action = header(&headers, "x-acs-action").to_string();
    req.version = header(&headers, "x-acs-version").to_string();
    req.damage.nonce = Some(header(&headers, "x-acs-signature-nonce").to_string());
    let date = header(&headers, "x-acs-date").to_string();
    req.damage.set.insert("Timestamp".into(), date);
    req.damage.body = Some(String::from_utf8_lossy(body).into_owned());
    req.headers = headers
        .iter()
        .filter(|(k, _)| !REQUIRED_V3.contains(&k.as_str()))
        .cloned()
        .collect();
    // The SDK headers the harness adds that this vector's client did not send.
    let unsent = SDK_V3.iter().filter(|h| header(&headers, h).is_empty());
    req.damage.omit = unsent.map(|h| h.to_string()).collect();
    let p = prepare(
        &req,
        &auth.access_key_id,
        &Secret::new(secret),
        header(&headers, "host"),
    );
    check_eq("prepare authorization", header(&p.headers, "authorization"), want_auth)?;
    let mut sent: Vec<&str> = p
        .headers
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| *k != "authorization")
        .collect();
    sent.sort();
    check_eq("prepare headers", &sent.join(";"), &auth.signed_headers.join(";"))
}

#[test]
fn every_signature_vector_reproduces() {
    let vectors = load_vectors();
    let (mut v1, mut v3) = (0, 0);
    let mut failures = Vec::new();
    for (name, v) in &vectors {
        if name.starts_with('_') {
            continue;
        }
        let result = if v.get("params").is_some() {
            v1 += 1;
            check_v1(v)
        } else if v.get("headers").is_some() {
            v3 += 1;
            check_v3(v)
        } else {
            Err("neither a V1 (`params`) nor a V3 (`headers`) vector".to_string())
        };
        if let Err(e) = result {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "vector failures:\n{}", failures.join("\n"));
    assert_eq!(
        (v1, v3),
        (EXPECTED_V1, EXPECTED_V3),
        "vector count changed: handle the new ones, then update EXPECTED_*"
    );
}

#[test]
fn official_vectors_are_present() {
    // The two published signatures behaviour.md 2.1 names must stay in the file.
    let vectors = load_vectors();
    let sig = |name: &str, field: &str| {
        vectors
            .get(name)
            .and_then(|v| v.get(field))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    assert_eq!(
        sig("official_v1_describeregions_GET", "signature").as_deref(),
        Some("OLeaidS1JvxuMvnyHOwuJ+uX5qY=")
    );
    let auth = sig("official_v3_runinstances", "authorization").unwrap_or_default();
    assert!(
        auth.ends_with("Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"),
        "{auth}"
    );
}

#[test]
fn v1_round_trip_over_the_wire_and_tampering() {
    let op = ParamList::from(owned(&[
        ("InstanceId", "i-1"),
        ("ClientToken", "a b*c~d+e/f=g&h ü"),
        ("SignatureType", ""),
    ]));
    let common = V1Common {
        action: "ModifyInstanceSpec",
        version: "2014-05-26",
        access_key_id: "testid",
        nonce: "nonce-1",
        timestamp: "2024-01-01T12:00:00Z",
        format: Some("JSON"),
    };
    let signed = sign_v1::sign_request("POST", &op, &common, "testsecret");
    // Sent as a form body and decoded by the server, the signature holds.
    let received = ParamList::parse_urlencoded(signed.to_query_string().as_bytes());
    assert_eq!(received, signed);
    let sig = received.get("Signature").unwrap_or("").to_string();
    let verify = |p: &ParamList| sign_v1::verify("testsecret", "POST", p, &sig);
    assert_eq!(verify(&received), Ok(()));

    // One changed parameter: rejected, and the server's string names it.
    let tampered = ParamList::from(replaced(received.iter(), "InstanceId", "i-2"));
    let err = verify(&tampered).err().unwrap_or_default();
    assert!(err.contains("InstanceId%3Di-2"), "{err}");
    // A dropped empty parameter changes the string too.
    let dropped: ParamList = received
        .iter()
        .filter(|(k, _)| *k != "SignatureType")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert!(verify(&dropped).is_err());
}

#[test]
fn v3_round_trip_and_tampering() {
    let query = ParamList::from(owned(&[("InstanceId", "i-1"), ("InternetMaxBandwidthOut", "10")]));
    let body = b"ClientToken=abc";
    let extra = owned(&[("Content-Type", "application/x-www-form-urlencoded")]);
    let signed = sign_v3::sign_request(&V3Input {
        method: "POST",
        host: "127.0.0.1:8080",
        query: &query,
        body,
        action: "ModifyInstanceSpec",
        version: "2014-05-26",
        access_key_id: "testid",
        secret: "testsecret",
        nonce: "nonce-1",
        date: "2024-01-01T12:00:00Z",
        extra_headers: &extra,
    });
    let auth = sign_v3::parse_authorization(header(&signed.headers, "authorization"));
    let Ok(auth) = auth.map_err(|e| e.to_string()) else {
        panic!("unparsable authorization in {signed:?}")
    };
    assert!(auth.signed_headers.iter().any(|h| h == "content-type"), "{auth:?}");
    // The server sees the query as sent and the headers as sent.
    let received = ParamList::parse_urlencoded(signed.query.as_bytes());
    let verify =
        |q: &ParamList, h: &[(String, String)], b: &[u8]| sign_v3::verify("testsecret", "POST", "/", q, h, &auth, b);
    assert!(verify(&received, &signed.headers, body));
    assert!(sign_v3::content_sha256_matches(&signed.headers, body));

    // A changed body fails both the signature and the content hash check.
    let other_body = b"ClientToken=abd";
    assert!(!verify(&received, &signed.headers, other_body));
    assert!(!sign_v3::content_sha256_matches(&signed.headers, other_body));
    // A changed query parameter fails.
    let q2 = ParamList::from(replaced(received.iter(), "InternetMaxBandwidthOut", "11"));
    assert!(!verify(&q2, &signed.headers, body));
    // A changed signed header fails.
    let pairs = signed.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let h2 = replaced(pairs, "x-acs-date", "2024-01-01T12:00:01Z");
    assert!(!verify(&received, &h2, body));
}
