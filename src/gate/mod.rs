//! The gateway rules G1–G12 (behaviour.md 2.1 and section 3 "G") as pure
//! functions beside `spec::decide`: a request as it came off the socket,
//! the wall clock, the credentials and the nonce and quota books in; the
//! rule that refuses it, or the request admitted, out. No I/O and no HTTP
//! types, so the reference server, the fuzzer's model and the real-account
//! safety filter decide the G rules with one piece of code.
//!
//! G1–G9 need only the world's secret ([`admit`]); G10–G12 need its books,
//! which the server reads under the world's lock ([`settle`]). [`check`]
//! runs both for callers that hold no lock. Recording a nonce or a quota
//! entry is the caller's: it is transport bookkeeping, not a decision.
//!
//! Planted bugs bend the rules through [`Bends`], whose defaults are the
//! specified behaviour; the rule logic itself names no mutant.

mod bends;
mod signature;

use crate::protocol::{V1_REQUIRED, V3_REQUIRED, VERSION};
use crate::spec::RuleId;
use crate::wire::{Format, ParamList, sign_v3};

pub use bends::{Bends, Specified, parse_params};

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

    /// Whether the body is a form the parameters are read from.
    pub(crate) fn is_form_post(&self) -> bool {
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

/// A world's credentials, as the gate needs them (G9).
pub trait Account {
    fn secret(&self) -> &str;
}

impl Account for &str {
    fn secret(&self) -> &str {
        self
    }
}

/// The server's bounds on what it verifies at all (G9 beyond them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub max_signed_headers: usize,
    pub max_canonical_request_bytes: usize,
}

impl Bounds {
    /// No bound: for a filter that must not count on this server's limits.
    pub(crate) const NONE: Bounds = Bounds {
        max_signed_headers: usize::MAX,
        max_canonical_request_bytes: usize::MAX,
    };
}

/// What the gate decides with besides the request.
#[derive(Clone, Copy)]
pub struct Context<'a, B: Bends + ?Sized> {
    /// The `auth` capability (G2, G4, G6–G10) is enforced.
    pub auth: bool,
    /// The wall clock the timestamp is compared with (G7).
    pub now: chrono::DateTime<chrono::Utc>,
    pub bounds: Bounds,
    pub bends: &'a B,
}

/// A request that passed G1–G9, with the world its key names.
#[derive(Debug)]
pub struct Admitted<W> {
    pub world: W,
    pub params: ParamList,
    pub style: Style,
    /// The answer format: a valid `Format` wins, else the style's default.
    pub format: Format,
    /// `Format` was given but is neither JSON nor XML (G11, in [`settle`]).
    pub bad_format: bool,
    pub nonce: Option<String>,
}

/// A gateway refusal: the rule, the format to write it in and any detail
/// appended to the table's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub rule: RuleId,
    pub format: Format,
    pub detail: Option<String>,
}

impl Refused {
    fn new(rule: RuleId, format: Format) -> Self {
        Refused {
            rule,
            format,
            detail: None,
        }
    }
}

/// The world's books as they stand when the request is checked (G10, G12).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Books {
    /// The request's nonce was used within the window by this key.
    pub nonce_used: bool,
    /// Requests counted in the quota's current window, and its maximum.
    pub quota: Option<Quota>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub counted: usize,
    pub max: usize,
}

/// What a request says about itself before any rule: its parameters, its
/// style, its format and the fields G3–G5 read.
struct Reading<'r> {
    params: ParamList,
    style: Style,
    format: Format,
    /// The format of a G1/G2 refusal, when the style is not known yet.
    guessed: Format,
    bad_format: bool,
    v3: Option<sign_v3::Authorization>,
    req: &'r RawRequest,
}

fn read<'r, B: Bends + ?Sized>(req: &'r RawRequest, auth: bool, bends: &B) -> Reading<'r> {
    let params = bends.params(req);
    let format_param = params.get_nonempty("Format");
    let valid_format = format_param.and_then(Format::parse);
    let guessed = valid_format.unwrap_or(if req.looks_v3() { Format::Json } else { Format::Xml });
    let authorization = req.nonempty_header("authorization");
    let style = if authorization.is_some() || (!auth && req.header("x-acs-action").is_some()) {
        Style::V3
    } else {
        Style::V1
    };
    let format = valid_format.unwrap_or(match style {
        Style::V3 => Format::Json,
        Style::V1 => bends.v1_default_format(),
    });
    let v3 = match (style, authorization) {
        (Style::V3, Some(a)) => sign_v3::parse_authorization(a).ok(),
        _ => None,
    };
    let bad_format = format_param.is_some() && valid_format.is_none();
    Reading {
        params,
        style,
        format,
        guessed,
        bad_format,
        v3,
        req,
    }
}

impl Reading<'_> {
    /// G2: every common parameter (V1) or header (V3) is there.
    fn complete<B: Bends + ?Sized>(&self, bends: &B) -> bool {
        match self.style {
            Style::V1 => V1_REQUIRED
                .iter()
                .filter(|p| bends.v1_required(p))
                .all(|p| self.params.get_nonempty(p).is_some()),
            Style::V3 => self.v3.as_ref().is_some_and(|a| {
                let signed = |h: &str| a.signed_headers.iter().any(|s| s.eq_ignore_ascii_case(h));
                let host = self.req.header("host").is_some() && signed("host");
                V3_REQUIRED
                    .iter()
                    .all(|h| self.req.nonempty_header(h).is_some() && signed(h))
                    && (host || !bends.host_must_be_signed())
            }),
        }
    }

    /// The action, version and AccessKeyId, wherever the style puts them.
    fn names(&self) -> (Option<&str>, Option<&str>, Option<&str>) {
        match self.style {
            Style::V1 => (
                self.params.get("Action"),
                self.params.get("Version"),
                self.params.get("AccessKeyId"),
            ),
            Style::V3 => (
                self.req.header("x-acs-action"),
                self.req.header("x-acs-version"),
                self.v3.as_ref().map(|a| a.access_key_id.as_str()),
            ),
        }
    }

    fn nonce(&self) -> Option<String> {
        match self.style {
            Style::V1 => self.params.get_nonempty("SignatureNonce"),
            Style::V3 => self.req.nonempty_header("x-acs-signature-nonce"),
        }
        .map(str::to_string)
    }
}

/// G1–G9: the request's method, completeness, action, version, key,
/// timestamp, signature method and signature. `lookup` finds the world of
/// an AccessKeyId.
pub fn admit<W: Account, B: Bends + ?Sized>(
    req: &RawRequest,
    ctx: &Context<'_, B>,
    lookup: impl FnOnce(&str) -> Option<W>,
) -> Result<Admitted<W>, Refused> {
    let bends = ctx.bends;
    if !bends.method_allowed(&req.method) {
        let guessed = read(req, ctx.auth, bends).guessed;
        return Err(Refused::new(RuleId::G1, guessed));
    }
    let r = read(req, ctx.auth, bends);
    if ctx.auth && !r.complete(bends) {
        return Err(Refused::new(RuleId::G2, r.guessed));
    }
    let (action, version, key) = r.names();
    if !action.is_some_and(|a| bends.action_matches(a)) {
        return Err(Refused::new(RuleId::G3, r.format));
    }
    if ctx.auth && version != Some(VERSION) && bends.version_checked() {
        return Err(Refused::new(RuleId::G4, r.format));
    }
    let Some(world) = key.and_then(lookup) else {
        return Err(Refused::new(RuleId::G5, r.format));
    };
    if ctx.auth {
        signature::check(&r, world.secret(), ctx)?;
    }
    Ok(Admitted {
        nonce: r.nonce(),
        world,
        params: r.params,
        style: r.style,
        format: r.format,
        bad_format: r.bad_format,
    })
}

/// G10–G12 for an admitted request, against the world's books.
pub fn settle<B: Bends + ?Sized>(
    bad_format: bool,
    nonce: bool,
    auth: bool,
    books: &Books,
    bends: &B,
) -> Option<RuleId> {
    if auth && nonce && books.nonce_used && bends.nonce_checked() {
        return Some(RuleId::G10);
    }
    if bad_format && bends.format_checked() {
        return Some(RuleId::G11);
    }
    books
        .quota
        .filter(|q| q.counted >= bends.quota_allowed(q.max))
        .map(|_| RuleId::G12)
}

/// G1–G12 at once, for callers that hold no lock between the two halves:
/// `books` reads the admitted request's world.
pub fn check<W: Account, B: Bends + ?Sized>(
    req: &RawRequest,
    ctx: &Context<'_, B>,
    lookup: impl FnOnce(&str) -> Option<W>,
    books: impl FnOnce(&Admitted<W>) -> Books,
) -> Result<Admitted<W>, Refused> {
    let a = admit(req, ctx, lookup)?;
    let b = books(&a);
    match settle(a.bad_format, a.nonce.is_some(), ctx.auth, &b, ctx.bends) {
        Some(rule) => Err(Refused::new(rule, a.format)),
        None => Ok(a),
    }
}

#[cfg(test)]
mod tests;
