//! Protocol damage: deliberate faults in how a request is signed or sent,
//! for gateway cases, the fuzzer and the server tests. It lives here, below
//! both the client that applies it and the case model that names it, and
//! the signers of `sign_v1` and `sign_v3` take it as a parameter, so a
//! damaged request and a correct one come from the same signing code.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::params::SortOrder;
use crate::protocol::V1_TO_V3;

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
    /// Write the signed timestamp with fractional seconds: these characters
    /// after a `.` (`"374"` gives `…:25.374Z`, as the Node `aliyun-sdk`
    /// sends them; behaviour.md section 6).
    #[serde(default)]
    pub timestamp_fraction: Option<String>,
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
    /// Send this body. V3 hashes and signs it; V1 signs no body and sends
    /// it beside parameters in the query (with `placement: query` on
    /// POST): outside a form POST it holds no parameters (behaviour.md 1.1).
    #[serde(default)]
    pub body: Option<String>,
    /// V1: encode spaces as `+` on the wire (servers must form-decode).
    #[serde(default)]
    pub plus_for_space: bool,
    /// Change these parameters after signing.
    #[serde(default)]
    pub after_signing: BTreeMap<String, String>,
    /// Sign the pairs sorted by their percent-encoded strings instead of
    /// their decoded bytes (V1 parameters, V3 query): the order behaviour.md
    /// section 6 rules out, so a correct server answers G9 wherever the two
    /// orders differ and accepts the request where they coincide.
    #[serde(default)]
    pub sort_encoded: bool,
    /// V3: sign exactly these headers, in this order, repeats kept (default:
    /// every header sent, lower-cased, sorted, less `unsigned_headers`).
    #[serde(default)]
    pub signed_headers: Option<Vec<String>>,
}

impl Damage {
    /// The order the signed pairs are canonicalised in.
    pub(crate) fn sort_order(&self) -> SortOrder {
        if self.sort_encoded {
            SortOrder::Encoded
        } else {
            SortOrder::Decoded
        }
    }

    /// V1: `set`, then `omit`, over the common parameters.
    pub(crate) fn bend_common(&self, common: &mut Vec<(String, String)>) {
        for (k, v) in &self.set {
            replace_or_push(common, k, v);
        }
        common.retain(|(k, _)| !self.omit.contains(k));
    }

    /// V3: `set`, then `omit`, over the headers, V1 names mapped to theirs.
    pub(crate) fn bend_headers(&self, headers: &mut Vec<(String, String)>) {
        for (k, v) in &self.set {
            replace_or_push(headers, &v3_name(k), v);
        }
        headers.retain(|(k, _)| !self.omits_v3(k));
    }

    /// Whether `omit` names this V3 header (or its V1 parameter).
    pub(crate) fn omits_v3(&self, header: &str) -> bool {
        self.omit.iter().any(|o| v3_name(o) == header)
    }

    /// The hook between signing and sending: `after_signing` over the
    /// pairs that will be sent.
    pub(crate) fn bend_after_signing(&self, pairs: &mut Vec<(String, String)>) {
        for (k, v) in &self.after_signing {
            replace_or_push(pairs, k, v);
        }
    }
}

/// The V3 header that carries what the V1 parameter `name` carries; other
/// names are taken as header names, lower-cased.
fn v3_name(name: &str) -> String {
    V1_TO_V3
        .iter()
        .find(|(v1, _)| *v1 == name)
        .map_or_else(|| name.to_ascii_lowercase(), |(_, v3)| v3.to_string())
}

/// Sets the first pair called `name`, or appends one.
fn replace_or_push(pairs: &mut Vec<(String, String)>, name: &str, value: &str) {
    match pairs.iter_mut().find(|(k, _)| k == name) {
        Some(slot) => slot.1 = value.to_string(),
        None => pairs.push((name.to_string(), value.to_string())),
    }
}
