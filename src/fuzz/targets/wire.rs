//! `wire`: signatures and parameter encoding as round trips, and the body
//! parser on hostile bytes.

use arbitrary::Arbitrary;

use crate::spec::RULES;
use crate::wire::sign_v1::{self, V1Common};
use crate::wire::sign_v3::{self, V3Input};
use crate::wire::{ErrorBody, Format, ParamList, parse_body, render_error};

/// Header names a V3 request may add and sign (names cannot carry `;`,
/// `,` or spaces, which `SignedHeaders` uses as separators).
const EXTRA_HEADERS: &[&str] = &["accept", "user-agent", "x-acs-extra", "content-type", "host"];

/// What the `wire` target gets.
#[derive(Arbitrary, Debug)]
pub struct WireInput {
    pub pairs: Vec<(String, String)>,
    pub secret: String,
    pub get: bool,
    pub nonce: String,
    pub body: Vec<u8>,
    pub extra_headers: Vec<(u8, String)>,
    /// A response body to parse, and a message to render and parse back.
    pub raw_body: Vec<u8>,
    pub message: String,
    pub rule: u8,
}

/// Properties of the wire layer:
///
/// - a parameter list survives encoding and form-decoding, also with `+`
///   for spaces;
/// - a V1 request signed by `sign_request` verifies, also after the trip
///   through its wire form, and stops verifying when a pair is added;
/// - a V3 request signed by `sign_request` verifies after its query, headers
///   and `Authorization` are read back as a server reads them;
/// - `parse_body` never panics, and rendered errors parse back to their
///   RequestId and Code (and, in JSON, Message).
pub fn wire(input: &WireInput) {
    // A V1 operation parameter named `Signature` is indistinguishable from
    // the signature itself (the server reads the first one), so no client
    // can send it: leave it out of the V1 round trip, not the encoding one.
    let all: ParamList = input.pairs.iter().take(32).cloned().collect();
    let params: ParamList = all
        .iter()
        .filter(|(k, _)| *k != "Signature")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let encoded = all.to_query_string();
    assert_eq!(ParamList::parse_urlencoded(encoded.as_bytes()), all, "{encoded}");
    let plus = encoded.replace("%20", "+");
    assert_eq!(ParamList::parse_urlencoded(plus.as_bytes()), all, "{plus}");

    let method = if input.get { "GET" } else { "POST" };
    let common = V1Common {
        action: "ModifyInstanceSpec",
        version: "2014-05-26",
        access_key_id: "LTAIfuzz",
        nonce: &input.nonce,
        timestamp: "2024-01-01T12:00:00Z",
        format: Some("JSON"),
    };
    let signed = sign_v1::sign_request(method, &params, &common, &input.secret);
    let sig = signed.get("Signature").unwrap_or_default().to_string();
    assert!(
        sign_v1::verify(&input.secret, method, &signed, &sig).is_ok(),
        "V1 sign then verify"
    );
    let received = ParamList::parse_urlencoded(signed.to_query_string().as_bytes());
    assert!(
        sign_v1::verify(&input.secret, method, &received, &sig).is_ok(),
        "V1 after the wire"
    );
    let mut tampered = received.clone();
    tampered.push("Extra", "1");
    assert!(
        sign_v1::verify(&input.secret, method, &tampered, &sig).is_err(),
        "V1 tampered verifies"
    );

    let extra: Vec<(String, String)> = input
        .extra_headers
        .iter()
        .take(4)
        .map(|(i, v)| {
            (
                EXTRA_HEADERS[usize::from(*i) % EXTRA_HEADERS.len()].to_string(),
                v.clone(),
            )
        })
        .collect();
    let v3 = sign_v3::sign_request(&V3Input {
        method,
        host: "ecs.example.com",
        query: &params,
        body: &input.body,
        action: "ModifyInstanceSpec",
        version: "2014-05-26",
        access_key_id: "LTAIfuzz",
        secret: &input.secret,
        nonce: &input.nonce,
        date: "2024-01-01T12:00:00Z",
        extra_headers: &extra,
    });
    let auth_header = v3
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str());
    let auth = match sign_v3::parse_authorization(auth_header.unwrap_or_default()) {
        Ok(a) => a,
        Err(e) => panic!("own Authorization does not parse: {e}"),
    };
    let query = ParamList::from_query_and_body(Some(&v3.query), None);
    let ok = sign_v3::verify(&input.secret, method, "/", &query, &v3.headers, &auth, &input.body);
    assert!(ok, "V3 sign then verify");
    assert!(sign_v3::content_sha256_matches(&v3.headers, &input.body));

    let _ = parse_body(None, &input.raw_body);
    let _ = parse_body(Some("text/xml"), &input.raw_body);
    let rule = &RULES[usize::from(input.rule) % RULES.len()];
    let Some(code) = rule.code else { return };
    let e = ErrorBody {
        request_id: "REQ-1".into(),
        host_id: "ecs.example.com".into(),
        code: code.into(),
        message: input.message.clone(),
        recommend: None,
    };
    for format in [Format::Json, Format::Xml] {
        let body = render_error(format, &e);
        let parsed = match parse_body(Some(format.content_type()), body.as_bytes()) {
            Ok(p) => p,
            Err(err) => panic!("own {format:?} error does not parse ({err}): {body}"),
        };
        assert_eq!(parsed.format, format);
        assert_eq!(parsed.code.as_deref(), Some(code), "{body}");
        assert_eq!(parsed.request_id.as_deref(), Some("REQ-1"), "{body}");
        if format == Format::Json {
            assert_eq!(parsed.message.as_deref(), Some(input.message.as_str()), "{body}");
        }
    }
}
