//! The client side of `sign_v3`: the one V3 signer of the crate, with
//! protocol damage as a parameter. It canonicalises through its parent's
//! `write_canonical`, the code the verifier streams through, so signer and
//! verifier cannot drift apart.

use super::{
    ALGORITHM, Authorization, CONTENT_SHA256, canonical_query_in, hex_sha256, signature, string_to_sign_streamed,
};
use crate::wire::{Damage, ParamList};

/// What a V3 client chooses for one request.
#[derive(Clone, Copy, Debug)]
pub struct V3Input<'a> {
    /// HTTP method, signed as given.
    pub method: &'a str,
    /// Value of the `host` header (host and optional port).
    pub host: &'a str,
    /// Operation parameters, sent in the URL query.
    pub query: &'a ParamList,
    /// Request body as it will be sent.
    pub body: &'a [u8],
    /// `x-acs-action`.
    pub action: &'a str,
    /// `x-acs-version`.
    pub version: &'a str,
    /// `Credential=` of the `Authorization` header.
    pub access_key_id: &'a str,
    /// The secret that keys the HMAC.
    pub secret: &'a str,
    /// `x-acs-signature-nonce`.
    pub nonce: &'a str,
    /// `x-acs-date`, `yyyy-MM-ddTHH:mm:ssZ`.
    pub date: &'a str,
    /// More headers to send and sign (the Python SDK signs `accept` and
    /// `user-agent`).
    pub extra_headers: &'a [(String, String)],
}

/// The headers and query string of a signed V3 request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V3Signed {
    /// Every header to send, `authorization` last.
    pub headers: Vec<(String, String)>,
    /// The query string to send: the parameters in their given order,
    /// percent-encoded (the server canonicalises them itself).
    pub query: String,
}

/// Signs a V3 request as a client would, over `/`.
///
/// Sends and signs `host`, `x-acs-action`, `x-acs-version`, `x-acs-date`,
/// `x-acs-signature-nonce`, `x-acs-content-sha256` and the extra headers;
/// the signed-header list is their lower-cased names, sorted, without
/// duplicates.
pub fn sign_request(input: &V3Input) -> V3Signed {
    sign_damaged(input, &Damage::default())
}

/// [`sign_request`] with the damage that concerns the signature: headers
/// `set` and `omit`ted before signing (`authorization` among them: then it
/// is not sent), a claimed `content_sha256` (signed as the payload hash),
/// `unsigned_headers` or an explicit `signed_headers` list, another
/// `algorithm`, `sort_encoded`. The body, key, secret, nonce and date are
/// the caller's choice ([`V3Input`]); `after_signing` is applied by the
/// caller to the query it sends.
pub fn sign_damaged(input: &V3Input, damage: &Damage) -> V3Signed {
    let hashed = damage.content_sha256.clone().unwrap_or_else(|| hex_sha256(input.body));
    let mut headers: Vec<(String, String)> = [
        ("host", input.host),
        ("x-acs-action", input.action),
        ("x-acs-version", input.version),
        ("x-acs-date", input.date),
        ("x-acs-signature-nonce", input.nonce),
        (CONTENT_SHA256, &hashed),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    headers.extend(input.extra_headers.iter().cloned());
    damage.bend_headers(&mut headers);
    let signed_headers = signed_list(&headers, damage);
    let query = canonical_query_in(input.query, damage.sort_order());
    let sts = string_to_sign_streamed(input.method, "/", &query, &headers, &signed_headers, &hashed);
    let auth = Authorization {
        algorithm: damage.algorithm.clone().unwrap_or_else(|| ALGORITHM.to_string()),
        access_key_id: input.access_key_id.to_string(),
        signature: signature(input.secret, &sts),
        signed_headers,
    };
    if !damage.omits_v3("authorization") {
        headers.push(("authorization".to_string(), auth.to_header_value()));
    }
    V3Signed {
        headers,
        query: input.query.to_query_string(),
    }
}

/// The `SignedHeaders` list: the damage's own, or every header name sent,
/// lower-cased, sorted, without duplicates, less the unsigned ones.
fn signed_list(headers: &[(String, String)], damage: &Damage) -> Vec<String> {
    if let Some(list) = &damage.signed_headers {
        return list.clone();
    }
    let unsigned: Vec<String> = damage.unsigned_headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    let mut signed: Vec<String> = headers
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .filter(|k| !unsigned.contains(k))
        .collect();
    signed.sort();
    signed.dedup();
    signed
}
