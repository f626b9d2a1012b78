//! P1–P8: the stateless parameter rules, in their documented order.

use super::{
    BANDWIDTH_IN_RANGE, BANDWIDTH_OUT_RANGE, Ctx, Kind, Refusal, SYSTEM_DISK_CATEGORIES, TOKEN_MAX_CHARS, token_char,
};
use crate::spec::mutants::Mutant;
use crate::spec::request::{parse_bool, parse_int};
use crate::spec::rules::RuleId::*;

impl<'a> Ctx<'a> {
    /// P1–P8, in order (P5 before P3 under its mutant).
    pub(super) fn parameters(&self) -> Result<Kind<'a>, Refusal> {
        let r = self.req;
        let id_missing = if self.is(Mutant::P1EmptyInstanceIdAccepted) {
            r.instance_id.is_none()
        } else {
            self.get(&r.instance_id).is_none()
        };
        if id_missing {
            return Err(P1.into());
        }
        if let Some(token) = self.get(&r.client_token) {
            let limit = TOKEN_MAX_CHARS + usize::from(self.is(Mutant::P2Token65Accepted));
            let printable = token.chars().all(token_char);
            let charset_ok = printable || self.is(Mutant::P2NonAsciiAccepted);
            if token.chars().count() > limit || !charset_ok {
                return Err(P2.into());
            }
        }
        let ty = self.get(&r.instance_type);
        let out_raw = if self.is(Mutant::P3EmptyOutInvalid) {
            r.bandwidth_out.as_deref()
        } else {
            self.get(&r.bandwidth_out)
        };
        let in_raw = self.get(&r.bandwidth_in);
        let mismatch = ty.is_some() && (out_raw.is_some() || in_raw.is_some());
        if self.is(Mutant::P5BeforeP3) && mismatch {
            return Err(P5.into());
        }
        let out = match out_raw {
            None => None,
            Some(s) => {
                let max = BANDWIDTH_OUT_RANGE.end() + i64::from(self.is(Mutant::P3UpperAccepts101));
                let min = BANDWIDTH_OUT_RANGE.start() + i64::from(self.is(Mutant::P3LowerRejects0));
                match self.int(s) {
                    Some(v) if (min..=max).contains(&v) => Some(v),
                    _ => return Err(P3.into()),
                }
            }
        };
        let inb = match in_raw {
            None => None,
            Some(s) => {
                let min = BANDWIDTH_IN_RANGE.start() - i64::from(self.is(Mutant::P4LowerAccepts0));
                let max = BANDWIDTH_IN_RANGE.end() - i64::from(self.is(Mutant::P4UpperRejects200));
                match parse_int(s) {
                    Some(v) if (min..=max).contains(&v) => Some(v),
                    _ => return Err(P4.into()),
                }
            }
        };
        if mismatch && !self.is(Mutant::P5TypeWins) {
            return Err(P5.into());
        }
        let kind = match ty {
            Some(t) => Kind::Type(t),
            None if out.is_none() && inb.is_none() && !self.is(Mutant::P6NothingSucceeds) => {
                return Err(P6.into());
            }
            None => Kind::Bandwidth { out, inb },
        };
        for b in [&r.dry_run, &r.async_, &r.allow_migrate] {
            if let Some(v) = self.get(b) {
                let ok = if self.is(Mutant::P7BooleanCaseSensitive) {
                    v == "true" || v == "false"
                } else {
                    parse_bool(v).is_some()
                };
                if !ok {
                    return Err(P7.into());
                }
            }
        }
        if let Some(c) = self.get(&r.system_disk_category) {
            if !SYSTEM_DISK_CATEGORIES.contains(&c) && !self.is(Mutant::P8CategoryUnchecked) {
                return Err(P8.into());
            }
        }
        Ok(kind)
    }
}
