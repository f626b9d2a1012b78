//! The gateway's planted bugs (`serve --mutant NAME`) as overrides of the
//! gate's hooks: each mutant of the gateway layer changes one method of
//! [`Bends`], and the rule logic in `gate` stays free of mutant checks.
//! Without its mutant each method is `Specified`'s: the hooks' specified
//! defaults are what the server runs, so the suite (and cargo-mutants
//! over `gate/`) judges them.
//! `G10-forged-burns-nonce` is here too, as what the server does after a
//! refusal. (Mutants of the bookkeeping and the answer, such as
//! `G12-no-retry-after`, live where that bookkeeping is: `api.rs`,
//! `respond.rs`.)

use std::borrow::Cow;

use super::store::Store;
use crate::gate::{self, Bends, Context, RawRequest, Refused, Specified};
use crate::spec::{Mutant, RuleId};
use crate::wire::{Format, ParamList, sign_v3};

/// The gate as a server with this planted bug (or none) runs it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Planted(pub(super) Option<Mutant>);

impl Planted {
    fn is(&self, m: Mutant) -> bool {
        self.0 == Some(m)
    }

    /// What the server does after the gate refused a request: nothing,
    /// except under `G10-forged-burns-nonce`, where a forged request's
    /// nonce (G9) is recorded as if its signature had verified. The gate,
    /// told to skip signatures, names the world and the nonce.
    pub(super) fn after_refusal(&self, refused: &Refused, store: &Store, req: &RawRequest, ctx: &Context<'_, Planted>) {
        if refused.rule != RuleId::G9 || !self.is(Mutant::G10ForgedBurnsNonce) {
            return;
        }
        let skip = Planted(Some(Mutant::G9SignatureUnchecked));
        let unchecked = Context { bends: &skip, ..*ctx };
        if let Ok(a) = gate::admit(req, &unchecked, |key| store.by_key(key)) {
            if let Some(n) = &a.nonce {
                a.world.lock().record_nonce(n, std::time::Instant::now());
            }
        }
    }
}

impl Bends for Planted {
    fn params(&self, req: &RawRequest) -> ParamList {
        if self.is(Mutant::WFormBodyIgnored) {
            return ParamList::from_query_and_body(req.query.as_deref(), None);
        }
        if self.is(Mutant::G9V1PlusNotDecoded) {
            // The bug: '+' survives decoding as a literal plus.
            let query = req.query.as_deref().map(|q| q.replace('+', "%2B"));
            let body = req
                .is_form_post()
                .then(|| String::from_utf8_lossy(&req.body).replace('+', "%2B").into_bytes());
            return ParamList::from_query_and_body(query.as_deref(), body.as_deref());
        }
        Specified.params(req)
    }

    fn method_allowed(&self, method: &str) -> bool {
        Specified.method_allowed(method) || (self.is(Mutant::G1PutAccepted) && method == "PUT")
    }

    fn v1_default_format(&self) -> Format {
        if self.is(Mutant::WV1DefaultJson) {
            Format::Json
        } else {
            Specified.v1_default_format()
        }
    }

    fn v1_required(&self, name: &str) -> bool {
        Specified.v1_required(name) && !(self.is(Mutant::G2V1NonceOptional) && name == "SignatureNonce")
    }

    fn host_must_be_signed(&self) -> bool {
        Specified.host_must_be_signed() && !self.is(Mutant::G2V3HostUnsigned)
    }

    fn action_matches(&self, action: &str) -> bool {
        if self.is(Mutant::G3ActionCaseInsensitive) {
            action.eq_ignore_ascii_case(crate::protocol::ACTION)
        } else {
            Specified.action_matches(action)
        }
    }

    fn version_checked(&self) -> bool {
        Specified.version_checked() && !self.is(Mutant::G4VersionIgnored)
    }

    fn unparsable_timestamp_refused(&self) -> bool {
        Specified.unparsable_timestamp_refused() && !self.is(Mutant::G6BadTimestampAccepted)
    }

    fn timestamp_window(&self) -> i64 {
        let w = Specified.timestamp_window();
        if self.is(Mutant::G7Window60Min) { 4 * w } else { w }
    }

    fn v1_method_checked(&self) -> bool {
        Specified.v1_method_checked() && !self.is(Mutant::G8MethodIgnored)
    }

    fn signature_checked(&self) -> bool {
        Specified.signature_checked() && !self.is(Mutant::G9SignatureUnchecked)
    }

    fn v1_signed_params<'p>(&self, params: &'p ParamList) -> Cow<'p, ParamList> {
        if !self.is(Mutant::G9V1EmptyValuesDropped) {
            return Specified.v1_signed_params(params);
        }
        let kept = params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v.to_string()));
        Cow::Owned(kept.collect())
    }

    fn v3_verify(&self, secret: &str, req: &RawRequest, query: &ParamList, auth: &sign_v3::Authorization) -> bool {
        if self.is(Mutant::G9V3BodyHashTrusted) {
            let payload = req.header("x-acs-content-sha256").unwrap_or_default();
            let signed = &auth.signed_headers;
            return sign_v3::expected_signature(secret, &req.method, "/", query, &req.headers, signed, payload)
                == auth.signature;
        }
        if self.is(Mutant::G9V3SignedHeadersIgnored) {
            // The bug: the signed list is made up from the request's own
            // headers instead of read from Authorization.
            let mut names: Vec<String> = req
                .headers
                .iter()
                .map(|(k, _)| k.to_ascii_lowercase())
                .filter(|k| k == "host" || k.starts_with("x-acs-"))
                .collect();
            names.sort();
            names.dedup();
            let made_up = sign_v3::Authorization {
                signed_headers: names,
                ..auth.clone()
            };
            return Specified.v3_verify(secret, req, query, &made_up);
        }
        Specified.v3_verify(secret, req, query, auth)
    }

    fn nonce_checked(&self) -> bool {
        Specified.nonce_checked() && !self.is(Mutant::G10NonceUnchecked)
    }

    fn format_checked(&self) -> bool {
        Specified.format_checked() && !self.is(Mutant::G11FormatUnchecked)
    }

    fn quota_allowed(&self, max: usize) -> usize {
        let max = Specified.quota_allowed(max);
        if self.is(Mutant::G12QuotaOffByOne) {
            max + 1
        } else {
            max
        }
    }
}
