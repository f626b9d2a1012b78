//! P1–P8: the stateless parameter rules, in their documented order.
//!
//! Each rule's condition is one method, read both by `parameters` (the
//! first rule a request breaks, which is the verdict) and by `params_met`
//! in `met.rs` (every rule it breaks, for the fuzzer's precedence pairs),
//! so the two views cannot drift apart. The planted bugs bend these
//! methods; `params_met` runs them with no mutant.

use super::{
    BANDWIDTH_IN_RANGE, BANDWIDTH_OUT_RANGE, Ctx, Kind, Refusal, SYSTEM_DISK_CATEGORIES, TOKEN_MAX_CHARS, token_char,
};
use crate::spec::mutants::Mutant;
use crate::spec::request::{parse_bool, parse_int};
use crate::spec::rules::RuleId::*;

/// A bandwidth parameter given but not a number in its range (P3, P4).
pub(super) struct OutOfRange;

impl<'a> Ctx<'a> {
    /// P1–P8, in order (P5 before P3 under its mutant).
    pub(super) fn parameters(&self) -> Result<Kind<'a>, Refusal> {
        if self.p1_id_missing() {
            return Err(P1.into());
        }
        if self.p2_token_bad() {
            return Err(P2.into());
        }
        let mismatch = self.p5_type_and_bandwidth();
        if self.is(Mutant::P5BeforeP3) && mismatch {
            return Err(P5.into());
        }
        let out = self.bandwidth_out().map_err(|OutOfRange| P3)?;
        let inb = self.bandwidth_in().map_err(|OutOfRange| P4)?;
        if mismatch && !self.is(Mutant::P5TypeWins) {
            return Err(P5.into());
        }
        let kind = match self.get(&self.req.instance_type) {
            Some(t) => Kind::Type(t),
            None if self.p6_nothing_asked() && !self.is(Mutant::P6NothingSucceeds) => return Err(P6.into()),
            None => Kind::Bandwidth { out, inb },
        };
        if self.p7_boolean_bad() {
            return Err(P7.into());
        }
        if self.p8_category_bad() {
            return Err(P8.into());
        }
        Ok(kind)
    }

    /// P1: no `InstanceId` (an empty one counts as none).
    pub(super) fn p1_id_missing(&self) -> bool {
        let id = &self.req.instance_id;
        if self.is(Mutant::P1EmptyInstanceIdAccepted) {
            id.is_none()
        } else {
            self.get(id).is_none()
        }
    }

    /// P2: a `ClientToken` over 64 characters or with one outside ASCII
    /// 0x20–0x7E.
    pub(super) fn p2_token_bad(&self) -> bool {
        let Some(token) = self.get(&self.req.client_token) else {
            return false;
        };
        let limit = TOKEN_MAX_CHARS + usize::from(self.is(Mutant::P2Token65Accepted));
        let printable = token.chars().all(token_char);
        token.chars().count() > limit || !(printable || self.is(Mutant::P2NonAsciiAccepted))
    }

    /// The outgoing bandwidth as given, before P3 reads it.
    fn out_raw(&self) -> Option<&'a str> {
        let out = &self.req.bandwidth_out;
        if self.is(Mutant::P3EmptyOutInvalid) {
            out.as_deref()
        } else {
            self.get(out)
        }
    }

    /// P3: the outgoing bandwidth asked for, if any.
    pub(super) fn bandwidth_out(&self) -> Result<Option<i64>, OutOfRange> {
        let Some(s) = self.out_raw() else {
            return Ok(None);
        };
        let max = BANDWIDTH_OUT_RANGE.end() + i64::from(self.is(Mutant::P3UpperAccepts101));
        let min = BANDWIDTH_OUT_RANGE.start() + i64::from(self.is(Mutant::P3LowerRejects0));
        match self.int(s) {
            Some(v) if (min..=max).contains(&v) => Ok(Some(v)),
            _ => Err(OutOfRange),
        }
    }

    /// P4: the incoming bandwidth asked for, if any.
    pub(super) fn bandwidth_in(&self) -> Result<Option<i64>, OutOfRange> {
        let Some(s) = self.get(&self.req.bandwidth_in) else {
            return Ok(None);
        };
        let min = BANDWIDTH_IN_RANGE.start() - i64::from(self.is(Mutant::P4LowerAccepts0));
        let max = BANDWIDTH_IN_RANGE.end() - i64::from(self.is(Mutant::P4UpperRejects200));
        match parse_int(s) {
            Some(v) if (min..=max).contains(&v) => Ok(Some(v)),
            _ => Err(OutOfRange),
        }
    }

    fn bandwidth_asked(&self) -> bool {
        self.out_raw().is_some() || self.get(&self.req.bandwidth_in).is_some()
    }

    /// P5: an `InstanceType` beside a bandwidth.
    pub(super) fn p5_type_and_bandwidth(&self) -> bool {
        self.get(&self.req.instance_type).is_some() && self.bandwidth_asked()
    }

    /// P6: neither an `InstanceType` nor a bandwidth.
    pub(super) fn p6_nothing_asked(&self) -> bool {
        self.get(&self.req.instance_type).is_none() && !self.bandwidth_asked()
    }

    /// P7: `DryRun`, `Async` or `AllowMigrateAcrossZone` not a boolean.
    pub(super) fn p7_boolean_bad(&self) -> bool {
        let r = self.req;
        [&r.dry_run, &r.async_, &r.allow_migrate].into_iter().any(|b| {
            self.get(b).is_some_and(|v| {
                let ok = if self.is(Mutant::P7BooleanCaseSensitive) {
                    v == "true" || v == "false"
                } else {
                    parse_bool(v).is_some()
                };
                !ok
            })
        })
    }

    /// P8: a `SystemDisk.Category` outside the documented list.
    pub(super) fn p8_category_bad(&self) -> bool {
        self.get(&self.req.system_disk_category)
            .is_some_and(|c| !SYSTEM_DISK_CATEGORIES.contains(&c) && !self.is(Mutant::P8CategoryUnchecked))
    }
}
