//! Signature version 3 (`ACS3-HMAC-SHA256`), what current SDKs send.
//!
//! Unlike V1 the signature covers headers and the body hash, and the client
//! picks which headers it signs (`SignedHeaders`). The verifier therefore
//! rebuilds the canonical request from the list it was given, not from a
//! fixed set, and hashes the body it actually received (behaviour.md 2.1).

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::error::WireError;
use super::params::{ParamList, SortOrder};

type HmacSha256 = Hmac<Sha256>;

/// The only algorithm name V3 defines.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// The header that carries the client's hash of the body.
const CONTENT_SHA256: &str = "x-acs-content-sha256";

/// The canonical query string: `pe(k)=pe(v)` sorted by the decoded bytes of
/// the name, then of the value (behaviour.md section 6), joined by `&`; an
/// empty value gives `k=`.
pub fn canonical_query(params: &ParamList) -> String {
    canonical_query_in(params, SortOrder::Decoded)
}

/// [`canonical_query`] with the pairs in `order` (only damage uses another).
fn canonical_query_in(params: &ParamList, order: SortOrder) -> String {
    params
        .encoded_sorted(None, order)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Lower-case hex of the SHA-256 of `bytes`.
pub fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes the canonical request, piece by piece, into `sink`; `query` is
/// the canonical query string ([`canonical_query`]).
///
/// `headers` are the request's headers as received (any case, possibly
/// repeated). For each name of `signed_headers`, in the order given, one
/// line `name:value` is written, where `value` is the trimmed value of every
/// header with that name (case-insensitive) joined by `,` (empty when the
/// request has no such header, which then simply fails to verify). Names
/// are lower-cased both in the lines and in the signed-header list, as every
/// SDK signs them. Layout:
/// `METHOD\nPATH\nQUERY\n` + one `name:value\n` per header + `\n` +
/// `a;b;c\n` + `hashed_payload`.
///
/// Nothing is copied: a list naming one large header thousands of times
/// (the list is used "as given", behaviour.md section 6) costs the verifier
/// hashing time, not memory, and [`canonical_request_len`] measures that
/// time's bound before any hashing starts.
fn write_canonical(
    sink: &mut dyn FnMut(&[u8]),
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    signed_headers: &[String],
    hashed_payload: &str,
) {
    for part in [method, "\n", path, "\n", query, "\n"] {
        sink(part.as_bytes());
    }
    let lower = |sink: &mut dyn FnMut(&[u8]), name: &str| {
        for chunk in name.as_bytes().chunks(64) {
            sink(&chunk.to_ascii_lowercase());
        }
    };
    for name in signed_headers {
        lower(sink, name);
        sink(b":");
        let values = headers.iter().filter(|(h, _)| h.eq_ignore_ascii_case(name));
        for (i, (_, v)) in values.enumerate() {
            if i > 0 {
                sink(b",");
            }
            sink(v.trim().as_bytes());
        }
        sink(b"\n");
    }
    sink(b"\n");
    for (i, name) in signed_headers.iter().enumerate() {
        if i > 0 {
            sink(b";");
        }
        lower(sink, name);
    }
    sink(b"\n");
    sink(hashed_payload.as_bytes());
}

/// Builds the canonical request (layout: [`write_canonical`]).
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &ParamList,
    headers: &[(String, String)],
    signed_headers: &[String],
    hashed_payload: &str,
) -> String {
    let query = canonical_query(query);
    let mut out = Vec::new();
    let mut sink = |b: &[u8]| out.extend_from_slice(b);
    write_canonical(&mut sink, method, path, &query, headers, signed_headers, hashed_payload);
    // The pieces are UTF-8 strings, so their concatenation is too.
    String::from_utf8_lossy(&out).into_owned()
}

/// The length in bytes of the canonical request these inputs give, found
/// without building or hashing it (a verifier's bound, see
/// [`write_canonical`]).
pub fn canonical_request_len(
    method: &str,
    path: &str,
    query: &ParamList,
    headers: &[(String, String)],
    signed_headers: &[String],
    hashed_payload: &str,
) -> usize {
    let query = canonical_query(query);
    let mut n = 0usize;
    let mut sink = |b: &[u8]| n = n.saturating_add(b.len());
    write_canonical(&mut sink, method, path, &query, headers, signed_headers, hashed_payload);
    n
}

/// `ACS3-HMAC-SHA256\n` followed by the hex SHA-256 of the canonical request.
pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", hex_sha256(canonical_request.as_bytes()))
}

/// The string to sign of these inputs (`query` canonical), the canonical
/// request streamed into the hasher rather than built.
fn string_to_sign_streamed(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    signed_headers: &[String],
    hashed_payload: &str,
) -> String {
    let mut hasher = Sha256::new();
    let mut sink = |b: &[u8]| hasher.update(b);
    write_canonical(&mut sink, method, path, query, headers, signed_headers, hashed_payload);
    format!("{ALGORITHM}\n{}", hex::encode(hasher.finalize()))
}

/// The signature a request with these parts would carry, computed without
/// building its canonical request (what a verifier compares against).
pub fn expected_signature(
    secret: &str,
    method: &str,
    path: &str,
    query: &ParamList,
    headers: &[(String, String)],
    signed_headers: &[String],
    hashed_payload: &str,
) -> String {
    let sts = string_to_sign_streamed(
        method,
        path,
        &canonical_query(query),
        headers,
        signed_headers,
        hashed_payload,
    );
    signature(secret, &sts)
}

/// A MAC keyed with the plain secret (V3 adds no suffix, unlike V1).
fn keyed_mac(secret: &str) -> Option<HmacSha256> {
    // HMAC accepts keys of any length, so this never yields `None`.
    HmacSha256::new_from_slice(secret.as_bytes()).ok()
}

/// Lower-case hex of `HMAC-SHA256(secret, string_to_sign)`.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    match keyed_mac(secret) {
        Some(mut mac) => {
            mac.update(string_to_sign.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        // Unreachable (see `keyed_mac`); an empty signature never verifies.
        None => String::new(),
    }
}

/// The parsed `Authorization` header of a V3 request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    /// The word before the first space; G8 rejects anything but
    /// [`ALGORITHM`], so it is kept rather than checked here.
    pub algorithm: String,
    /// `Credential=`: the AccessKeyId, which selects the secret.
    pub access_key_id: String,
    /// `SignedHeaders=`, split on `;`, in the order sent.
    pub signed_headers: Vec<String>,
    /// `Signature=`: the hex HMAC as sent.
    pub signature: String,
}

impl Authorization {
    /// Renders the header value exactly as the SDKs do:
    /// `ALGO Credential=AK,SignedHeaders=a;b,Signature=hex`.
    pub fn to_header_value(&self) -> String {
        format!(
            "{} Credential={},SignedHeaders={},Signature={}",
            self.algorithm,
            self.access_key_id,
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

/// Parses `ALGO Credential=AK,SignedHeaders=a;b;c,Signature=hex`.
///
/// Whitespace around the parts is tolerated (some clients write `, `). Each
/// of the three fields must appear exactly once with a non-empty value, and
/// no other part may appear: a header the verifier cannot read one way only
/// is rejected rather than guessed at.
///
/// # Errors
///
/// A `WireError::Authorization*` variant naming the first problem found:
/// an empty header, a missing, empty or repeated field, an unknown part, or
/// an empty name in `SignedHeaders`. An unknown algorithm is not an error.
pub fn parse_authorization(value: &str) -> Result<Authorization, WireError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(WireError::AuthorizationEmpty);
    }
    let (algorithm, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, field_value) = part
            .split_once('=')
            .ok_or_else(|| WireError::AuthorizationUnexpectedPart { part: part.into() })?;
        let (slot, field) = match name.trim() {
            "Credential" => (&mut credential, "Credential"),
            "SignedHeaders" => (&mut signed, "SignedHeaders"),
            "Signature" => (&mut signature, "Signature"),
            _ => return Err(WireError::AuthorizationUnexpectedPart { part: part.into() }),
        };
        if slot.is_some() {
            return Err(WireError::AuthorizationDuplicateField { field });
        }
        *slot = Some(field_value.trim());
    }
    let require = |v: Option<&str>, field| {
        v.filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or(WireError::AuthorizationMissingField { field })
    };
    let access_key_id = require(credential, "Credential")?;
    let signed = require(signed, "SignedHeaders")?;
    let signature = require(signature, "Signature")?;
    let signed_headers: Vec<String> = signed.split(';').map(|s| s.trim().to_string()).collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(WireError::AuthorizationEmptySignedHeader);
    }
    Ok(Authorization {
        algorithm: algorithm.to_string(),
        access_key_id,
        signed_headers,
        signature,
    })
}

/// Verifies a V3 signature.
///
/// The payload hash comes from `body` as received, never from the
/// `x-acs-content-sha256` header, and the canonical headers from
/// `auth.signed_headers`. The hex signature is decoded and compared in
/// constant time; one that is not hex is a mismatch. The caller checks the
/// algorithm (G8), the required signed headers (G2) and
/// [`content_sha256_matches`] on its own.
pub fn verify(
    secret: &str,
    method: &str,
    path: &str,
    query: &ParamList,
    headers: &[(String, String)],
    auth: &Authorization,
    body: &[u8],
) -> bool {
    let query = canonical_query(query);
    let sts = string_to_sign_streamed(method, path, &query, headers, &auth.signed_headers, &hex_sha256(body));
    let Ok(given) = hex::decode(&auth.signature) else {
        return false;
    };
    let Some(mut mac) = keyed_mac(secret) else {
        return false;
    };
    mac.update(sts.as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// Whether every `x-acs-content-sha256` header equals the hash of `body`
/// (hex compared case-insensitively). No such header counts as a match:
/// its absence is the missing-header rule (G2), not a mismatch.
pub fn content_sha256_matches(headers: &[(String, String)], body: &[u8]) -> bool {
    let want = hex_sha256(body);
    headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(CONTENT_SHA256))
        .all(|(_, value)| value.trim().eq_ignore_ascii_case(&want))
}

#[path = "sign_v3_client.rs"]
mod client;
pub use client::{V3Input, V3Signed, sign_damaged, sign_request};

#[cfg(test)]
#[path = "sign_v3_tests.rs"]
mod tests;
