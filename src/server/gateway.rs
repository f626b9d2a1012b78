//! Gateway rules G1–G9 (behaviour.md 2.1 and section 3 "G"): method,
//! signature style, action, version, key, timestamp, signature method and
//! signature. G10–G12 need the world's lock and run in `api`.
//!
//! The `auth` capability is G2, G4 and G6–G10; with `--no-auth` those are
//! skipped but the AccessKeyId still picks the world (G5).

use std::sync::Arc;

use super::store::{Limits, Store, WorldSlot};
use crate::spec::{Mutant, RuleId};
use crate::wire::{Format, ParamList, sign_v1, sign_v3};

use crate::protocol::{ACTION, TIMESTAMP_WINDOW_SECONDS, V1_REQUIRED, V3_REQUIRED, VERSION};

/// A request as it came off the socket, before any interpretation.
#[derive(Clone, Debug, Default)]
pub struct RawRequest {
    pub method: String,
    /// The URL query string without `?`.
    pub query: Option<String>,
    /// Header (name, value) pairs; names in any case, repeats kept.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawRequest {
    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn nonempty_header(&self, name: &str) -> Option<&str> {
        self.header(name).filter(|v| !v.is_empty())
    }

    fn is_form_post(&self) -> bool {
        self.method == "POST"
            && self.header("content-type").is_some_and(|c| {
                c.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            })
    }

    /// True if the request carries anything V3-like (for the error format).
    fn looks_v3(&self) -> bool {
        self.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization") || k.to_ascii_lowercase().starts_with("x-acs-"))
    }
}

/// The signature style of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    V1,
    V3,
}

/// A request that passed G1–G9.
pub struct Admitted {
    pub slot: Arc<WorldSlot>,
    pub params: ParamList,
    pub style: Style,
    /// The answer format: a valid `Format` wins, else the style's default.
    pub format: Format,
    /// `Format` was given but is neither JSON nor XML (G11, checked later).
    pub bad_format: bool,
    pub nonce: Option<String>,
}

/// A gateway refusal: the rule, the format to write it in and any detail
/// appended to the table's message.
#[derive(Debug)]
pub struct Refused {
    pub rule: RuleId,
    pub format: Format,
    pub detail: Option<String>,
}

/// The parameters of a request: query, then a form body for POST.
pub fn parse_params(req: &RawRequest, mutant: Option<Mutant>) -> ParamList {
    let body = (req.is_form_post() && mutant != Some(Mutant::WFormBodyIgnored)).then_some(req.body.as_slice());
    if mutant == Some(Mutant::G9V1PlusNotDecoded) {
        // The bug: '+' survives decoding as a literal plus.
        let query = req.query.as_deref().map(|q| q.replace('+', "%2B"));
        let body = body.map(|b| String::from_utf8_lossy(b).replace('+', "%2B").into_bytes());
        return ParamList::from_query_and_body(query.as_deref(), body.as_deref());
    }
    ParamList::from_query_and_body(req.query.as_deref(), body)
}

/// Runs G1–G9.
pub fn admit(store: &Store, auth: bool, mutant: Option<Mutant>, req: &RawRequest) -> Result<Admitted, Refused> {
    let m = |x: Mutant| mutant == Some(x);
    let params = parse_params(req, mutant);
    let format_param = params.get_nonempty("Format");
    let valid_format = format_param.and_then(Format::parse);
    let heuristic = valid_format.unwrap_or(if req.looks_v3() { Format::Json } else { Format::Xml });
    let refuse = |rule, format| Refused {
        rule,
        format,
        detail: None,
    };

    let method_ok = matches!(req.method.as_str(), "GET" | "POST") || (m(Mutant::G1PutAccepted) && req.method == "PUT");
    if !method_ok {
        return Err(refuse(RuleId::G1, heuristic));
    }
    let authorization = req.nonempty_header("authorization");
    let style = if authorization.is_some() || (!auth && req.header("x-acs-action").is_some()) {
        Style::V3
    } else {
        Style::V1
    };
    let format = valid_format.unwrap_or(match style {
        Style::V3 => Format::Json,
        Style::V1 if m(Mutant::WV1DefaultJson) => Format::Json,
        Style::V1 => Format::Xml,
    });
    let v3_auth = match (style, authorization) {
        (Style::V3, Some(a)) => sign_v3::parse_authorization(a).ok(),
        _ => None,
    };
    if auth {
        let complete = match style {
            Style::V1 => {
                let nonce_optional = m(Mutant::G2V1NonceOptional);
                let mut required = V1_REQUIRED
                    .iter()
                    .filter(|p| !(nonce_optional && **p == "SignatureNonce"));
                required.all(|p| params.get_nonempty(p).is_some())
            }
            Style::V3 => v3_auth
                .as_ref()
                .is_some_and(|a| v3_complete(req, a, m(Mutant::G2V3HostUnsigned))),
        };
        if !complete {
            return Err(refuse(RuleId::G2, heuristic));
        }
    }
    let (action, version, key) = match style {
        Style::V1 => (params.get("Action"), params.get("Version"), params.get("AccessKeyId")),
        Style::V3 => (
            req.header("x-acs-action"),
            req.header("x-acs-version"),
            v3_auth.as_ref().map(|a| a.access_key_id.as_str()),
        ),
    };
    let action_ok = match action {
        Some(a) if m(Mutant::G3ActionCaseInsensitive) => a.eq_ignore_ascii_case(ACTION),
        Some(a) => a == ACTION,
        None => false,
    };
    if !action_ok {
        return Err(refuse(RuleId::G3, format));
    }
    if auth && version != Some(VERSION) && !m(Mutant::G4VersionIgnored) {
        return Err(refuse(RuleId::G4, format));
    }
    let Some(slot) = key.and_then(|k| store.by_key(k)) else {
        return Err(refuse(RuleId::G5, format));
    };
    let nonce = match style {
        Style::V1 => params.get_nonempty("SignatureNonce"),
        Style::V3 => req.nonempty_header("x-acs-signature-nonce"),
    }
    .map(str::to_string);
    let bad_format = format_param.is_some() && valid_format.is_none();
    let admitted = Admitted {
        slot,
        params,
        style,
        format,
        bad_format,
        nonce,
    };
    if auth {
        if let Err(refused) = check_signature(&admitted, req, store.limits(), mutant) {
            if refused.rule == RuleId::G9 && m(Mutant::G10ForgedBurnsNonce) {
                if let Some(n) = &admitted.nonce {
                    admitted.slot.lock().record_nonce(n, std::time::Instant::now());
                }
            }
            return Err(refused);
        }
    }
    Ok(admitted)
}

/// G2 for V3: the five `x-acs-*` headers are present and, with `host`, signed.
fn v3_complete(req: &RawRequest, a: &sign_v3::Authorization, host_optional: bool) -> bool {
    let signed = |h: &str| a.signed_headers.iter().any(|s| s.eq_ignore_ascii_case(h));
    V3_REQUIRED
        .iter()
        .all(|h| req.nonempty_header(h).is_some() && signed(h))
        && (host_optional || (req.header("host").is_some() && signed("host")))
}

/// G7: whether `stamp` is more than `window` seconds from `now`, compared
/// at full precision: whole seconds would truncate 900.7 s to 900 and
/// accept a timestamp 901 s ahead of a clock at x.3 s.
fn outside_window(now: chrono::DateTime<chrono::Utc>, stamp: chrono::DateTime<chrono::Utc>, window: i64) -> bool {
    (now - stamp).abs() > chrono::TimeDelta::seconds(window)
}

/// G6–G9: timestamp, its window, signature method and signature.
fn check_signature(a: &Admitted, req: &RawRequest, limits: &Limits, mutant: Option<Mutant>) -> Result<(), Refused> {
    let m = |x: Mutant| mutant == Some(x);
    let refuse = |rule| Refused {
        rule,
        format: a.format,
        detail: None,
    };
    let stamp = match a.style {
        Style::V1 => a.params.get("Timestamp"),
        Style::V3 => req.header("x-acs-date"),
    }
    .unwrap_or_default();
    match sign_v1::parse_timestamp(stamp) {
        None if m(Mutant::G6BadTimestampAccepted) => {}
        None => return Err(refuse(RuleId::G6)),
        Some(t) => {
            let window = if m(Mutant::G7Window60Min) {
                4 * TIMESTAMP_WINDOW_SECONDS
            } else {
                TIMESTAMP_WINDOW_SECONDS
            };
            if outside_window(chrono::Utc::now(), t, window) {
                return Err(refuse(RuleId::G7));
            }
        }
    }
    let secret = a.slot.secret.as_str();
    match a.style {
        Style::V1 => {
            let method_ok = a.params.get("SignatureMethod") == Some("HMAC-SHA1") || m(Mutant::G8MethodIgnored);
            if !method_ok {
                return Err(refuse(RuleId::G8));
            }
            if m(Mutant::G9SignatureUnchecked) {
                return Ok(());
            }
            let signed: ParamList = if m(Mutant::G9V1EmptyValuesDropped) {
                a.params
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            } else {
                a.params.clone()
            };
            let given = a.params.get("Signature").unwrap_or_default();
            sign_v1::verify(secret, &req.method, &signed, given).map_err(|sts| Refused {
                rule: RuleId::G9,
                format: a.format,
                detail: Some(format!(" server string to sign is:{sts}")),
            })
        }
        Style::V3 => {
            let auth = req
                .header("authorization")
                .and_then(|h| sign_v3::parse_authorization(h).ok());
            let Some(auth) = auth else {
                return Err(refuse(RuleId::G2));
            };
            if auth.algorithm != sign_v3::ALGORITHM {
                return Err(refuse(RuleId::G8));
            }
            if m(Mutant::G9SignatureUnchecked) {
                return Ok(());
            }
            let query = ParamList::from_query_and_body(req.query.as_deref(), None);
            let payload = if m(Mutant::G9V3BodyHashTrusted) {
                req.header("x-acs-content-sha256").unwrap_or_default().to_string()
            } else {
                sign_v3::hex_sha256(&req.body)
            };
            if let Some(detail) = v3_over_bounds(limits, req, &query, &auth, &payload) {
                return Err(Refused {
                    rule: RuleId::G9,
                    format: a.format,
                    detail: Some(detail),
                });
            }
            let ok = if m(Mutant::G9V3BodyHashTrusted) {
                let signed = &auth.signed_headers;
                sign_v3::expected_signature(secret, &req.method, "/", &query, &req.headers, signed, &payload)
                    == auth.signature
            } else {
                sign_v3::content_sha256_matches(&req.headers, &req.body)
                    && sign_v3::verify(secret, &req.method, "/", &query, &req.headers, &auth, &req.body)
            };
            if ok { Ok(()) } else { Err(refuse(RuleId::G9)) }
        }
    }
}

/// Why a V3 signature is not verified at all: its `SignedHeaders` list or
/// its canonical request is over the server's bound. The list is used as
/// given (behaviour.md section 6), duplicates included, so each entry costs
/// hashing time; the length is measured without building anything.
/// Oversized requests are outside the contract, and the reference refuses
/// them as the signature it did not check (G9), in the 2.2 format, with the
/// bound in the message.
fn v3_over_bounds(
    limits: &Limits,
    req: &RawRequest,
    query: &ParamList,
    auth: &sign_v3::Authorization,
    payload: &str,
) -> Option<String> {
    let names = auth.signed_headers.len();
    if names > limits.max_signed_headers {
        return Some(format!(
            " (SignedHeaders names {names} headers, more than this server's limit of {}: not verified)",
            limits.max_signed_headers
        ));
    }
    let len = sign_v3::canonical_request_len(&req.method, "/", query, &req.headers, &auth.signed_headers, payload);
    (len > limits.max_canonical_request_bytes).then(|| {
        format!(
            " (canonical request of {len} bytes, more than this server's limit of {}: not verified)",
            limits.max_canonical_request_bytes
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone, Utc};

    #[test]
    fn the_timestamp_window_is_exact_to_the_subsecond() {
        let whole = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let now = whole + TimeDelta::milliseconds(300);
        let w = TIMESTAMP_WINDOW_SECONDS;
        // 901 s ahead of a whole second is 900.7 s from x.3: beyond 900 s.
        assert!(outside_window(now, whole + TimeDelta::seconds(901), w));
        assert!(outside_window(now, whole - TimeDelta::seconds(900), w), "900.3 s ago");
        assert!(
            !outside_window(now, whole + TimeDelta::seconds(900), w),
            "899.7 s ahead"
        );
        assert!(
            !outside_window(whole, whole - TimeDelta::seconds(900), w),
            "exactly 900 s"
        );
        assert!(
            !outside_window(whole, whole + TimeDelta::seconds(900), w),
            "exactly 900 s"
        );
        assert!(outside_window(whole, whole + TimeDelta::milliseconds(900_001), w));
    }
}
