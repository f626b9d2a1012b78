//! The points where a planted bug may bend the gateway. Every default is
//! the specified behaviour, and [`Specified`] takes them all; the server's
//! mutants override one method each (`server/planted.rs`), so the rule
//! logic in this module names no mutant.

use std::borrow::Cow;

use super::RawRequest;
use crate::protocol::{ACTION, TIMESTAMP_WINDOW_SECONDS};
use crate::wire::{Format, ParamList, sign_v3};

/// The parameters of a request as specified: the query, then a form body
/// for POST, `+` form-decoded as a space.
pub fn parse_params(req: &RawRequest) -> ParamList {
    let body = req.is_form_post().then_some(req.body.as_slice());
    ParamList::from_query_and_body(req.query.as_deref(), body)
}

/// Hooks of the gateway rules; the defaults are behaviour.md's.
pub trait Bends {
    /// The request's parameters (query and form body).
    fn params(&self, req: &RawRequest) -> ParamList {
        parse_params(req)
    }
    /// G1: the methods served.
    fn method_allowed(&self, method: &str) -> bool {
        matches!(method, "GET" | "POST")
    }
    /// The format of a V1 answer without `Format`.
    fn v1_default_format(&self) -> Format {
        Format::Xml
    }
    /// G2: whether this V1 common parameter is required.
    fn v1_required(&self, _name: &str) -> bool {
        true
    }
    /// G2: whether a V3 request must sign `host`.
    fn host_must_be_signed(&self) -> bool {
        true
    }
    /// G3: whether the action named is the one served.
    fn action_matches(&self, action: &str) -> bool {
        action == ACTION
    }
    /// G4: whether the version is checked at all.
    fn version_checked(&self) -> bool {
        true
    }
    /// G6: whether an unparsable timestamp is refused.
    fn unparsable_timestamp_refused(&self) -> bool {
        true
    }
    /// G7: seconds a timestamp may be from the wall clock.
    fn timestamp_window(&self) -> i64 {
        TIMESTAMP_WINDOW_SECONDS
    }
    /// G8: whether the V1 `SignatureMethod` is checked.
    fn v1_method_checked(&self) -> bool {
        true
    }
    /// G9: whether signatures are checked at all.
    fn signature_checked(&self) -> bool {
        true
    }
    /// G9: the V1 pairs the StringToSign is rebuilt from.
    fn v1_signed_params<'p>(&self, params: &'p ParamList) -> Cow<'p, ParamList> {
        Cow::Borrowed(params)
    }
    /// G9: the V3 verification, given the parsed `Authorization`.
    fn v3_verify(&self, secret: &str, req: &RawRequest, query: &ParamList, auth: &sign_v3::Authorization) -> bool {
        super::signature::v3_verify(secret, req, query, auth)
    }
    /// G10: whether a used nonce is refused.
    fn nonce_checked(&self) -> bool {
        true
    }
    /// G11: whether an invalid `Format` is refused.
    fn format_checked(&self) -> bool {
        true
    }
    /// G12: how many requests the window allows under a quota of `max`.
    fn quota_allowed(&self, max: usize) -> usize {
        max
    }
}

/// The gateway as behaviour.md specifies it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Specified;

impl Bends for Specified {}
