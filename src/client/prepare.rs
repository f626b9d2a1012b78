//! Builds the exact bytes of a ModifyInstanceSpec request, V1 or V3,
//! optionally with deliberate protocol damage (for gateway cases and the
//! fuzzer). One place signs for the runner, the fuzzer and the benchmark.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::secret::Secret;
use crate::wire::{ParamList, sign_v1, sign_v3};

/// Protocol damage: each field bends one thing about how the request is
/// signed or sent.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Damage {
    /// Leave out these V1 common parameters or V3 headers (`Signature`,
    /// `SignatureNonce`, `Timestamp`, `authorization`, `x-acs-date`...).
    #[serde(default)]
    pub omit: Vec<String>,
    /// Set V1 common parameters or V3 `x-acs-*` headers to these values
    /// before signing (`Version`, `Action`, `SignatureMethod`, `Timestamp`...).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Shift the signed timestamp by this many seconds from now.
    #[serde(default)]
    pub timestamp_offset: Option<i64>,
    /// Use this nonce instead of a fresh one (reuse it to trigger G10).
    #[serde(default)]
    pub nonce: Option<String>,
    /// Sign with a wrong secret.
    #[serde(default)]
    pub wrong_secret: bool,
    /// Use an AccessKeyId that no world has.
    #[serde(default)]
    pub unknown_key: bool,
    /// V3: the algorithm written in `Authorization`.
    #[serde(default)]
    pub algorithm: Option<String>,
    /// V3: headers sent but left out of SignedHeaders.
    #[serde(default)]
    pub unsigned_headers: Vec<String>,
    /// V3: send this `x-acs-content-sha256` instead of the body's hash.
    #[serde(default)]
    pub content_sha256: Option<String>,
    /// V3: send this body (hashed and signed).
    #[serde(default)]
    pub body: Option<String>,
    /// V1: encode spaces as `+` on the wire (servers must form-decode).
    #[serde(default)]
    pub plus_for_space: bool,
    /// Change these parameters after signing.
    #[serde(default)]
    pub after_signing: BTreeMap<String, String>,
}

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
    pub fn all_params(&self) -> ParamList {
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

fn v3_name(name: &str) -> String {
    crate::protocol::V1_TO_V3
        .iter()
        .find(|(v1, _)| *v1 == name)
        .map_or_else(|| name.to_ascii_lowercase(), |(_, v3)| v3.to_string())
}

fn stamp(offset: Option<i64>) -> String {
    let t = chrono::Utc::now() + chrono::Duration::seconds(offset.unwrap_or(0));
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
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
    let date = stamp(d.timestamp_offset);
    match req.style {
        SignatureStyle::V1 => prepare_v1(req, key, secret, &nonce, &date),
        SignatureStyle::V3 => prepare_v3(req, key, secret, &nonce, &date, host),
    }
}

fn replace_or_push(params: &mut Vec<(String, String)>, name: &str, value: &str) {
    match params.iter_mut().find(|(k, _)| k == name) {
        Some(slot) => slot.1 = value.to_string(),
        None => params.push((name.to_string(), value.to_string())),
    }
}

fn prepare_v1(req: &EcsRequest, key: &str, secret: &str, nonce: &str, date: &str) -> Prepared {
    let d = &req.damage;
    // The signature covers every pair, wherever it travels.
    let mut pairs: Vec<(String, String)> = req.params.pairs().to_vec();
    pairs.extend(req.query_params.pairs().iter().cloned());
    let mut common: Vec<(String, String)> = [
        ("Action", req.action.as_str()),
        ("Version", req.version.as_str()),
        ("AccessKeyId", key),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce),
        ("Timestamp", date),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if let Some(f) = &req.format {
        common.push(("Format".into(), f.clone()));
    }
    for (k, v) in &d.set {
        replace_or_push(&mut common, k, v);
    }
    common.retain(|(k, _)| !d.omit.contains(k));
    pairs.extend(common);
    let mut params = ParamList::from(pairs);
    if !d.omit.iter().any(|o| o == "Signature") {
        let sig = sign_v1::sign(secret, &sign_v1::string_to_sign(&req.method, &params));
        params.push("Signature", sig);
    }
    // The query-only pairs were signed with the rest but are sent apart.
    let (n, q) = (req.params.len(), req.query_params.len());
    let mut pairs: Vec<(String, String)> = params
        .pairs()
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < n || *i >= n + q)
        .map(|(_, p)| p.clone())
        .collect();
    for (k, v) in &d.after_signing {
        replace_or_push(&mut pairs, k, v);
    }
    let mut encoded = ParamList::from(pairs).to_query_string();
    if d.plus_for_space {
        encoded = encoded.replace("%20", "+");
    }
    let mut headers = req.headers.clone();
    if req.form_body && req.method == "POST" {
        headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
        Prepared {
            method: req.method.clone(),
            query: req.query_params.to_query_string(),
            headers,
            body: encoded.into_bytes(),
        }
    } else if !req.query_params.is_empty() {
        let query = format!("{}&{encoded}", req.query_params.to_query_string());
        Prepared {
            method: req.method.clone(),
            query,
            headers,
            body: Vec::new(),
        }
    } else {
        Prepared {
            method: req.method.clone(),
            query: encoded,
            headers,
            body: Vec::new(),
        }
    }
}

fn prepare_v3(req: &EcsRequest, key: &str, secret: &str, nonce: &str, date: &str, host: &str) -> Prepared {
    let d = &req.damage;
    let body = d.body.clone().unwrap_or_default().into_bytes();
    let hashed = d.content_sha256.clone().unwrap_or_else(|| sign_v3::hex_sha256(&body));
    let mut headers: Vec<(String, String)> = [
        ("host", host),
        ("x-acs-action", req.action.as_str()),
        ("x-acs-version", req.version.as_str()),
        ("x-acs-date", date),
        ("x-acs-signature-nonce", nonce),
        ("x-acs-content-sha256", hashed.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    headers.extend(req.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())));
    for (k, v) in &d.set {
        replace_or_push(&mut headers, &v3_name(k), v);
    }
    let omitted: Vec<String> = d.omit.iter().map(|o| v3_name(o)).collect();
    headers.retain(|(k, _)| !omitted.contains(k));
    let mut query = req.all_params();
    if let Some(f) = &req.format {
        query.push("Format", f.clone());
    }
    let unsigned: Vec<String> = d.unsigned_headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    let mut signed: Vec<String> = headers
        .iter()
        .map(|(k, _)| k.clone())
        .filter(|k| !unsigned.contains(k))
        .collect();
    signed.sort();
    signed.dedup();
    let cr = sign_v3::canonical_request(&req.method, "/", &query, &headers, &signed, &hashed);
    let auth = sign_v3::Authorization {
        algorithm: d.algorithm.clone().unwrap_or_else(|| sign_v3::ALGORITHM.to_string()),
        access_key_id: key.to_string(),
        signature: sign_v3::signature(secret, &sign_v3::string_to_sign(&cr)),
        signed_headers: signed,
    };
    if !omitted.iter().any(|o| o == "authorization") {
        headers.push(("authorization".into(), auth.to_header_value()));
    }
    let mut pairs = query.pairs().to_vec();
    for (k, v) in &d.after_signing {
        replace_or_push(&mut pairs, k, v);
    }
    Prepared {
        method: req.method.clone(),
        query: ParamList::from(pairs).to_query_string(),
        headers,
        body,
    }
}
