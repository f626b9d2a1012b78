//! G6–G9: the timestamp, its window, the signature method and the
//! signature itself, V1 or V3.

use chrono::{DateTime, TimeDelta, Utc};

use super::{Bends, Bounds, Context, Reading, Refused, Style};
use crate::spec::RuleId;
use crate::wire::{ParamList, sign_v1, sign_v3};

/// G6–G9 for a request whose key named a world with this secret.
pub(super) fn check<B: Bends + ?Sized>(r: &Reading<'_>, secret: &str, ctx: &Context<'_, B>) -> Result<(), Refused> {
    let refuse = |rule| Refused::new(rule, r.format);
    let stamp = match r.style {
        Style::V1 => r.params.get("Timestamp"),
        Style::V3 => r.req.header("x-acs-date"),
    }
    .unwrap_or_default();
    match sign_v1::parse_timestamp(stamp) {
        None if ctx.bends.unparsable_timestamp_refused() => return Err(refuse(RuleId::G6)),
        None => {}
        Some(t) if outside_window(ctx.now, t, ctx.bends.timestamp_window()) => return Err(refuse(RuleId::G7)),
        Some(_) => {}
    }
    match r.style {
        Style::V1 => check_v1(r, secret, ctx.bends),
        Style::V3 => check_v3(r, secret, ctx.bounds, ctx.bends),
    }
}

/// G7: whether `stamp` is more than `window` seconds from `now`, compared
/// at full precision: whole seconds would truncate 900.7 s to 900 and
/// accept a timestamp 901 s ahead of a clock at x.3 s.
pub(super) fn outside_window(now: DateTime<Utc>, stamp: DateTime<Utc>, window: i64) -> bool {
    (now - stamp).abs() > TimeDelta::seconds(window)
}

/// G8 and G9 for V1.
fn check_v1<B: Bends + ?Sized>(r: &Reading<'_>, secret: &str, bends: &B) -> Result<(), Refused> {
    let method = r.params.get("SignatureMethod");
    if method != Some("HMAC-SHA1") && bends.v1_method_checked() {
        return Err(Refused::new(RuleId::G8, r.format));
    }
    if !bends.signature_checked() {
        return Ok(());
    }
    let signed = bends.v1_signed_params(&r.params);
    let given = r.params.get("Signature").unwrap_or_default();
    sign_v1::verify(secret, &r.req.method, &signed, given).map_err(|sts| Refused {
        rule: RuleId::G9,
        format: r.format,
        detail: Some(format!(" server string to sign is:{sts}")),
    })
}

/// G2 (an unparsable `Authorization`), G8 and G9 for V3.
fn check_v3<B: Bends + ?Sized>(r: &Reading<'_>, secret: &str, bounds: Bounds, bends: &B) -> Result<(), Refused> {
    let refuse = |rule| Refused::new(rule, r.format);
    let Some(auth) = &r.v3 else {
        return Err(refuse(RuleId::G2));
    };
    if auth.algorithm != sign_v3::ALGORITHM {
        return Err(refuse(RuleId::G8));
    }
    if !bends.signature_checked() {
        return Ok(());
    }
    let req = r.req;
    let query = ParamList::from_query_and_body(req.query.as_deref(), None);
    let payload = sign_v3::hex_sha256(&req.body);
    if let Some(detail) = over_bounds(bounds, r, &query, auth, &payload) {
        return Err(Refused {
            rule: RuleId::G9,
            format: r.format,
            detail: Some(detail),
        });
    }
    if bends.v3_verify(secret, req, &query, auth) {
        Ok(())
    } else {
        Err(refuse(RuleId::G9))
    }
}

/// The specified V3 verification: the body's own hash, the signed headers
/// as `Authorization` lists them.
pub(super) fn v3_verify(
    secret: &str,
    req: &super::RawRequest,
    query: &ParamList,
    auth: &sign_v3::Authorization,
) -> bool {
    sign_v3::content_sha256_matches(&req.headers, &req.body)
        && sign_v3::verify(secret, &req.method, "/", query, &req.headers, auth, &req.body)
}

/// Why a V3 signature is not verified at all: its `SignedHeaders` list or
/// its canonical request is over the server's bound. The list is used as
/// given (behaviour.md section 6), duplicates included, so each entry costs
/// hashing time; the length is measured without building anything.
/// Oversized requests are outside the contract, and the reference refuses
/// them as the signature it did not check (G9), in the 2.2 format, with the
/// bound in the message.
fn over_bounds(
    bounds: Bounds,
    r: &Reading<'_>,
    query: &ParamList,
    auth: &sign_v3::Authorization,
    payload: &str,
) -> Option<String> {
    let names = auth.signed_headers.len();
    if names > bounds.max_signed_headers {
        return Some(format!(
            " (SignedHeaders names {names} headers, more than this server's limit of {}: not verified)",
            bounds.max_signed_headers
        ));
    }
    let req = r.req;
    let len = sign_v3::canonical_request_len(&req.method, "/", query, &req.headers, &auth.signed_headers, payload);
    (len > bounds.max_canonical_request_bytes).then(|| {
        format!(
            " (canonical request of {len} bytes, more than this server's limit of {}: not verified)",
            bounds.max_canonical_request_bytes
        )
    })
}
