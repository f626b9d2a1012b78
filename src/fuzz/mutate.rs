//! Variations of a request: ignored and repeated parameters, the same
//! request again with other spellings or a changed value (for the token and
//! nonce sequences), and protocol damage whose rule `model::gateway` knows.
//!
//! Kept apart from `generator` because each of these bends an already
//! plausible request, which is what reaches the rules behind the first
//! checks.

use arbitrary::Result;

use super::case::CaseRequest;
use super::dict::*;
use super::generator::Gen;
use crate::client::SignatureStyle;
use crate::spec::names;
use crate::wire::Damage;

impl Gen<'_, '_> {
    /// Repeated, reordered and ignored parameters.
    pub(super) fn noise(&mut self, r: &mut CaseRequest) -> Result<()> {
        if self.u.ratio(1, 8)? {
            let name = self.pick(OTHER_NAMES)?;
            let value = self.pick(&[BANDWIDTHS, TYPES, INSTANCE_IDS].concat())?;
            let at = self.u.int_in_range(0..=r.params.len())?;
            r.params.insert(at, (name, value));
        }
        if !r.params.is_empty() && self.u.ratio(1, 8)? {
            let i = self.u.choose_index(r.params.len())?;
            let name = r.params[i].0.clone();
            let value = match name.as_str() {
                names::INSTANCE_TYPE => self.pick(TYPES)?,
                names::INSTANCE_ID => self.pick(INSTANCE_IDS)?,
                _ => self.bandwidth(VALID_OUT)?,
            };
            let at = self.u.int_in_range(0..=r.params.len())?;
            r.params.insert(at, (name, value));
        }
        if r.params.len() > 1 && self.u.ratio(1, 8)? {
            r.params.reverse();
        }
        Ok(())
    }

    /// The previous request varied: the same meaning spelled otherwise
    /// (`7` as `07`, `true` as `TRUE`), the same nonce now correctly
    /// signed, or one parameter value changed (same token).
    pub(super) fn vary(&mut self, prev: &CaseRequest) -> Result<CaseRequest> {
        let mut r = prev.clone();
        if r.damage.wrong_secret && r.damage.nonce.is_some() && self.u.arbitrary()? {
            r.damage.wrong_secret = false;
            return Ok(r);
        }
        if self.u.ratio(1, 3)? {
            for (k, v) in &mut r.params {
                if k != names::CLIENT_TOKEN {
                    *v = respell(v);
                }
            }
            return Ok(r);
        }
        if r.params.is_empty() {
            return self.request();
        }
        let i = self.u.choose_index(r.params.len())?;
        r.params[i].1 = match r.params[i].0.as_str() {
            names::INSTANCE_TYPE => self.pick(TYPES)?,
            names::INSTANCE_ID => self.pick(INSTANCE_IDS)?,
            names::CLIENT_TOKEN => self.pick(SHARED_TOKENS)?,
            names::DRY_RUN | names::ASYNC | names::ALLOW_MIGRATE => self.pick(BOOLEANS)?,
            _ => self.bandwidth(VALID_IN)?,
        };
        Ok(r)
    }

    /// One kind of protocol damage whose rule `model::gateway` can state.
    pub(super) fn damage(&mut self, r: &CaseRequest) -> Result<Damage> {
        let v1 = r.style == SignatureStyle::V1;
        let mut d = Damage::default();
        let has_space = r.params.iter().any(|(_, v)| v.contains(' '));
        // '+' for a space is only a test when some value has a space.
        if v1 && has_space && self.u.ratio(1, 2)? {
            d.plus_for_space = true;
            return Ok(d);
        }
        // V3 header values lose surrounding whitespace in HTTP parsing,
        // so only V1 gets the padded spellings.
        let tidy = |s: &&str| v1 || s.trim() == *s;
        let pick_tidy = |g: &mut Self, list: &[&str]| -> Result<String> {
            let ok: Vec<&str> = list.iter().copied().filter(tidy).collect();
            g.pick(&ok)
        };
        match self.u.int_in_range(0u8..=12)? {
            0 => {
                let names: &[&str] = if v1 {
                    &[
                        "SignatureNonce",
                        "Timestamp",
                        "SignatureVersion",
                        "AccessKeyId",
                        "Signature",
                    ]
                } else {
                    &[
                        "SignatureNonce",
                        "Timestamp",
                        "x-acs-content-sha256",
                        "Version",
                        "Signature",
                    ]
                };
                d.omit.push(self.pick(names)?);
            }
            1 if !v1 => d
                .unsigned_headers
                .push(self.pick(&["host", "x-acs-date", "x-acs-action"])?),
            1 | 2 => {
                d.set.insert("Action".into(), pick_tidy(self, BAD_ACTIONS)?);
            }
            3 => {
                d.set.insert("Version".into(), pick_tidy(self, BAD_VERSIONS)?);
            }
            4 => d.unknown_key = true,
            5 => {
                d.set.insert("Timestamp".into(), pick_tidy(self, BAD_TIMESTAMPS)?);
            }
            6 => d.timestamp_offset = Some(*self.u.choose(TIMESTAMP_OFFSETS)?),
            7 if v1 => {
                d.set.insert("SignatureMethod".into(), self.pick(BAD_V1_METHODS)?);
            }
            7 => d.algorithm = Some(self.pick(BAD_V3_ALGORITHMS)?),
            8 => d.wrong_secret = true,
            9 => {
                d.after_signing.insert(names::INSTANCE_ID.into(), "i-tampered".into());
            }
            10 if !v1 && r.method == "POST" => {
                d.body = Some("x=1".into());
                if self.u.arbitrary()? {
                    d.content_sha256 = Some("0".repeat(64));
                }
            }
            10 if v1 => d.plus_for_space = true,
            _ => {
                d.nonce = Some(self.pick(NONCES)?);
                // A forged request must not burn its nonce (G10 after G9).
                d.wrong_secret = self.u.ratio(1, 3)?;
            }
        }
        Ok(d)
    }
}

/// The same value spelled otherwise: integers with a leading zero,
/// booleans in upper case. A conforming fingerprint does not see it.
fn respell(v: &str) -> String {
    if crate::spec::parse_int(v).is_some_and(|n| n >= 0) {
        format!("0{v}")
    } else if crate::spec::parse_bool(v).is_some() {
        v.to_ascii_uppercase()
    } else {
        v.to_string()
    }
}
