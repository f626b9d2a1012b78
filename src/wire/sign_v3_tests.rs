//! Tests of `sign_v3`: canonicalisation details, `Authorization` parsing
//! and rejection, and sign-then-verify with tampering. The published vectors
//! are checked in `tests/vectors.rs`.

use super::*;
use crate::wire::Damage;

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn canonical_query_sorts_encodes_and_keeps_empty() {
    let q: ParamList = h(&[("b", "x y"), ("a", ""), ("b", "*")]).into();
    assert_eq!(canonical_query(&q), "a=&b=%2A&b=x%20y");
}

#[test]
fn canonical_headers_join_repeats_trim_and_ignore_case() {
    let headers = h(&[("X-A", " 1 "), ("host", "h"), ("x-a", "2")]);
    let cr = canonical_request("GET", "/", &ParamList::new(), &headers, &names(&["host", "X-A"]), "p");
    assert_eq!(cr, "GET\n/\n\nhost:h\nx-a:1,2\n\nhost;x-a\np");
}

#[test]
fn absent_signed_header_gives_empty_value() {
    let cr = canonical_request("GET", "/", &ParamList::new(), &[], &names(&["host"]), "p");
    assert_eq!(cr, "GET\n/\n\nhost:\n\nhost\np");
}

#[test]
fn parse_authorization_accepts_spaces_after_commas() {
    let a = parse_authorization("ACS3-HMAC-SHA256 Credential=ak, SignedHeaders=host;x-acs-date,  Signature=ab12")
        .map_err(|e| e.to_string());
    let want = Authorization {
        algorithm: ALGORITHM.into(),
        access_key_id: "ak".into(),
        signed_headers: names(&["host", "x-acs-date"]),
        signature: "ab12".into(),
    };
    assert_eq!(a, Ok(want.clone()));
    assert_eq!(parse_authorization(&want.to_header_value()).ok(), Some(want));
}

#[test]
fn parse_authorization_keeps_unknown_algorithm_for_g8() {
    let a = parse_authorization("HMAC-SHA1 Credential=a,SignedHeaders=h,Signature=s");
    assert_eq!(a.map(|a| a.algorithm).ok().as_deref(), Some("HMAC-SHA1"));
}

#[test]
fn parse_authorization_errors() {
    let cases: &[(&str, &str)] = &[
        ("", "authorization header is empty"),
        ("   ", "authorization header is empty"),
        ("ACS3-HMAC-SHA256", "authorization header has no Credential"),
        (
            "ACS3-HMAC-SHA256 SignedHeaders=h,Signature=s",
            "authorization header has no Credential",
        ),
        (
            "ACS3-HMAC-SHA256 Credential=,SignedHeaders=h,Signature=s",
            "authorization header has no Credential",
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a,Signature=s",
            "authorization header has no SignedHeaders",
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h",
            "authorization header has no Signature",
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders=h,Signature=s",
            "authorization header repeats Credential",
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h,Signature=s,Extra=1",
            "authorization header has an unexpected part `Extra=1`",
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a SignedHeaders=h,Signature=s",
            "authorization header has no SignedHeaders",
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders,Signature=s",
            "authorization header has an unexpected part `SignedHeaders`",
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h;;x,Signature=s",
            "authorization header lists an empty signed header name",
        ),
        (
            "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h;,Signature=s",
            "authorization header lists an empty signed header name",
        ),
    ];
    for (input, want) in cases {
        let got = parse_authorization(input).map_err(|e| e.to_string());
        assert_eq!(got.err().as_deref(), Some(*want), "{input:?}");
    }
}

fn signed_sample(body: &[u8]) -> (ParamList, V3Signed) {
    let query: ParamList = h(&[("InstanceId", "i-1"), ("InstanceType", "ecs.g6.large")]).into();
    let extra = h(&[("Accept", "application/json")]);
    let signed = sign_request(&V3Input {
        method: "POST",
        host: "127.0.0.1:8080",
        query: &query,
        body,
        action: "ModifyInstanceSpec",
        version: "2014-05-26",
        access_key_id: "ak",
        secret: "s",
        nonce: "n",
        date: "2024-01-01T12:00:00Z",
        extra_headers: &extra,
    });
    (query, signed)
}

#[test]
fn sign_then_verify_and_tamper() {
    let (query, signed) = signed_sample(b"x=1");
    let auth_value = signed
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let Ok(auth) = parse_authorization(auth_value) else {
        panic!("unparsable {auth_value}");
    };
    assert_eq!(auth.signed_headers[0], "accept");
    assert!(verify("s", "POST", "/", &query, &signed.headers, &auth, b"x=1"));
    assert!(content_sha256_matches(&signed.headers, b"x=1"));

    assert!(!verify("t", "POST", "/", &query, &signed.headers, &auth, b"x=1"));
    assert!(!verify("s", "POST", "/", &query, &signed.headers, &auth, b"x=2"));
    assert!(!content_sha256_matches(&signed.headers, b"x=2"));
    let mut q2 = query.clone();
    q2.push("DryRun", "true");
    assert!(!verify("s", "POST", "/", &q2, &signed.headers, &auth, b"x=1"));
    let mut bad_sig = auth.clone();
    bad_sig.signature = "zz".into();
    assert!(!verify("s", "POST", "/", &query, &signed.headers, &bad_sig, b"x=1"));
}

#[test]
fn sent_query_keeps_order_and_content_sha_absent_is_match() {
    let (_, signed) = signed_sample(b"");
    assert_eq!(signed.query, "InstanceId=i-1&InstanceType=ecs.g6.large");
    assert!(content_sha256_matches(&[], b"anything"));
}

#[test]
fn streamed_signature_and_length_match_the_built_canonical_request() {
    // Repeated and mixed-case names, as given: the verifier's streamed
    // path must agree byte for byte with the canonical request it no
    // longer builds.
    let headers = h(&[("X-Big", "v1"), ("host", "h"), ("x-big", " v2 "), ("Ümlaut-Key", "ü")]);
    let signed = names(&["host", "x-big", "X-BIG", "ümlaut-key", "absent"]);
    let q: ParamList = h(&[("b", "x y"), ("a", "é")]).into();
    let cr = canonical_request("POST", "/", &q, &headers, &signed, "p");
    assert_eq!(canonical_request_len("POST", "/", &q, &headers, &signed, "p"), cr.len());
    assert_eq!(
        expected_signature("s", "POST", "/", &q, &headers, &signed, "p"),
        signature("s", &string_to_sign(&cr))
    );
    assert!(cr.contains("x-big:v1,v2\nx-big:v1,v2\n"), "{cr}");
}

#[test]
fn damage_bends_what_is_signed_and_nothing_else() {
    let query: ParamList = h(&[("Note", "i-st"), ("Note", "i-é")]).into();
    let sign = |d: &Damage| {
        let input = V3Input {
            method: "POST",
            host: "h",
            query: &query,
            body: b"",
            action: "A",
            version: "V",
            access_key_id: "ak",
            secret: "s",
            nonce: "n",
            date: "2024-01-01T12:00:00Z",
            extra_headers: &[],
        };
        let signed = sign_damaged(&input, d);
        let auth = signed.headers.iter().find(|(k, _)| k == "authorization");
        let auth = auth.and_then(|(_, v)| parse_authorization(v).ok());
        let ok = auth
            .as_ref()
            .is_some_and(|a| verify("s", "POST", "/", &query, &signed.headers, a, b""));
        (signed, auth, ok)
    };
    assert!(sign(&Damage::default()).2);
    // The decoded and the encoded order differ here (`i-st` < `i-é`).
    let encoded = Damage {
        sort_encoded: true,
        ..Damage::default()
    };
    assert!(!sign(&encoded).2);
    // An explicit list is signed as given, repeats kept, and verifies.
    let list = names(&["x-acs-date", "host", "host"]);
    let explicit = Damage {
        signed_headers: Some(list.clone()),
        ..Damage::default()
    };
    let (_, auth, ok) = sign(&explicit);
    assert_eq!(auth.map(|a| a.signed_headers), Some(list));
    assert!(ok);
    // `set` reaches the header by its V1 name; `omit: [Signature]` drops
    // the authorization header.
    let d = Damage {
        set: [("Version".to_string(), "9".to_string())].into(),
        omit: names(&["Signature"]),
        ..Damage::default()
    };
    let (signed, auth, _) = sign(&d);
    assert!(auth.is_none());
    assert!(signed.headers.contains(&("x-acs-version".to_string(), "9".to_string())));
}
