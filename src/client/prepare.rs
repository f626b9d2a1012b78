//! Builds the exact bytes of a ModifyInstanceSpec request, V1 or V3,
//! optionally with deliberate protocol damage (for gateway cases, the
//! fuzzer and the server tests), for the runner, the fuzzer and the
//! benchmark. It signs nothing itself: it chooses what the damage chooses
//! before signing (key, secret, nonce, timestamp, body), calls `wire`'s
//! signers (the module the server verifies with) and applies what the
//! damage changes after signing (`after_signing`, `+` for a space) and
//! where each pair travels.

use super::secret::Secret;
use crate::wire::{Damage, ParamList, sign_v1, sign_v3};

/// Which signature a request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SignatureStyle {
    V1,
    #[default]
    V3,
}

/// One request to send, before signing.
#[derive(Clone, Debug)]
pub struct EcsRequest {
    pub method: String,
    pub params: ParamList,
    /// Parameters that always travel in the URL query, even when `params`
    /// go in a V1 form body; the server reads the query first.
    pub query_params: ParamList,
    pub style: SignatureStyle,
    pub action: String,
    pub version: String,
    /// The `Format` parameter, if any.
    pub format: Option<String>,
    /// Extra headers sent (and, for V3, signed).
    pub headers: Vec<(String, String)>,
    /// V1 POST: parameters in a form body (else in the query).
    pub form_body: bool,
    pub damage: Damage,
}

impl EcsRequest {
    /// Every operation parameter in the order the server reads them
    /// (query first, then the rest).
    pub(crate) fn all_params(&self) -> ParamList {
        self.query_params
            .iter()
            .chain(self.params.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A ModifyInstanceSpec request with default protocol settings.
    pub fn modify(style: SignatureStyle, params: ParamList) -> Self {
        EcsRequest {
            method: "POST".into(),
            params,
            query_params: ParamList::default(),
            style,
            action: crate::protocol::ACTION.into(),
            version: crate::protocol::VERSION.into(),
            format: None,
            headers: Vec::new(),
            form_body: true,
            damage: Damage::default(),
        }
    }
}

/// A request ready for the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    pub method: String,
    /// Encoded query string (without `?`), possibly empty.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An AccessKeyId that no world has, for G5 cases.
pub const UNKNOWN_ACCESS_KEY: &str = "LTAI00000000unknownkey";

fn stamp(offset: Option<i64>, fraction: Option<&str>) -> String {
    let t = chrono::Utc::now() + chrono::Duration::seconds(offset.unwrap_or(0));
    match fraction {
        Some(f) => format!("{}.{f}Z", t.format("%Y-%m-%dT%H:%M:%S")),
        None => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}

/// Signs (and damages) a request for `host`.
pub fn prepare(req: &EcsRequest, access_key_id: &str, secret: &Secret, host: &str) -> Prepared {
    let d = &req.damage;
    let key = if d.unknown_key {
        UNKNOWN_ACCESS_KEY
    } else {
        access_key_id
    };
    let wrong = format!("{}-wrong", secret.expose());
    let secret = if d.wrong_secret {
        wrong.as_str()
    } else {
        secret.expose()
    };
    let nonce = d
        .nonce
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let date = stamp(d.timestamp_offset, d.timestamp_fraction.as_deref());
    match req.style {
        SignatureStyle::V1 => prepare_v1(req, key, secret, &nonce, &date),
        SignatureStyle::V3 => prepare_v3(req, key, secret, &nonce, &date, host),
    }
}

fn prepare_v1(req: &EcsRequest, key: &str, secret: &str, nonce: &str, date: &str) -> Prepared {
    let d = &req.damage;
    // The signature covers every pair, wherever it travels.
    let mut op = req.params.clone();
    for (k, v) in req.query_params.iter() {
        op.push(k, v);
    }
    let common = sign_v1::V1Common {
        action: &req.action,
        version: &req.version,
        access_key_id: key,
        nonce,
        timestamp: date,
        format: req.format.as_deref(),
    };
    let signed = sign_v1::sign_damaged(&req.method, &op, &common, secret, d);
    // The query-only pairs were signed with the rest but are sent apart.
    let (n, q) = (req.params.len(), req.query_params.len());
    let mut pairs: Vec<(String, String)> = signed
        .pairs()
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < n || *i >= n + q)
        .map(|(_, p)| p.clone())
        .collect();
    d.bend_after_signing(&mut pairs);
    let mut encoded = ParamList::from(pairs).to_query_string();
    if d.plus_for_space {
        encoded = encoded.replace("%20", "+");
    }
    place_v1(req, encoded)
}

/// Puts the encoded V1 pairs in a form body (POST) or after the query-only
/// pairs in the URL query.
fn place_v1(req: &EcsRequest, encoded: String) -> Prepared {
    let mut headers = req.headers.clone();
    let query = req.query_params.to_query_string();
    // A damage body travels beside query parameters (V1 signs no body):
    // outside a form POST no server may read parameters from it.
    let beside = || req.damage.body.clone().unwrap_or_default().into_bytes();
    let (query, body) = if req.form_body && req.method == "POST" {
        headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
        (query, encoded.into_bytes())
    } else if query.is_empty() {
        (encoded, beside())
    } else {
        (format!("{query}&{encoded}"), beside())
    };
    Prepared {
        method: req.method.clone(),
        query,
        headers,
        body,
    }
}

/// The headers the official SDKs send (and sign) beside the required six;
/// the harness sends them on every V3 request, as the SDKs do.
const SDK_V3_HEADERS: [(&str, &str); 3] = [
    ("accept", "application/json"),
    (
        "user-agent",
        concat!("AlibabaCloud (modspec) modspec/", env!("CARGO_PKG_VERSION")),
    ),
    ("x-acs-credentials-provider", "static_ak"),
];

fn prepare_v3(req: &EcsRequest, key: &str, secret: &str, nonce: &str, date: &str, host: &str) -> Prepared {
    let d = &req.damage;
    let body = d.body.clone().unwrap_or_default().into_bytes();
    // What the official SDKs add and sign too (behaviour.md section 6,
    // interop/README.md): a verifier must take SignedHeaders as given.
    let mut extra: Vec<(String, String)> = SDK_V3_HEADERS
        .iter()
        .filter(|(k, _)| !req.headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(k)))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    extra.extend(req.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())));
    let mut query = req.all_params();
    if let Some(f) = &req.format {
        query.push("Format", f.clone());
    }
    let input = sign_v3::V3Input {
        method: &req.method,
        host,
        query: &query,
        body: &body,
        action: &req.action,
        version: &req.version,
        access_key_id: key,
        secret,
        nonce,
        date,
        extra_headers: &extra,
    };
    let signed = sign_v3::sign_damaged(&input, d);
    let mut pairs = query.pairs().to_vec();
    d.bend_after_signing(&mut pairs);
    Prepared {
        method: req.method.clone(),
        query: ParamList::from(pairs).to_query_string(),
        headers: signed.headers,
        body,
    }
}
