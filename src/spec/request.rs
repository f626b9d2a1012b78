//! The operation's parameters (behaviour.md 1.1) as the oracle sees them:
//! raw text, first occurrence, before any rule has judged it.
//!
//! Keeping the raw text (empty values included) lets the P rules and their
//! mutants decide what "absent" and "not a number" mean in one place.

use std::collections::BTreeMap;

/// Wire names of the operation parameters.
pub mod names {
    pub(crate) const INSTANCE_ID: &str = "InstanceId";
    pub(crate) const INSTANCE_TYPE: &str = "InstanceType";
    pub(crate) const BANDWIDTH_OUT: &str = "InternetMaxBandwidthOut";
    pub(crate) const BANDWIDTH_IN: &str = "InternetMaxBandwidthIn";
    pub(crate) const CLIENT_TOKEN: &str = "ClientToken";
    pub(crate) const DRY_RUN: &str = "DryRun";
    pub(crate) const ASYNC: &str = "Async";
    pub(crate) const ALLOW_MIGRATE: &str = "AllowMigrateAcrossZone";
    pub(crate) const SYSTEM_DISK_CATEGORY: &str = "SystemDisk.Category";
}

/// The operation parameters of one request, first occurrence of each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModifyRequest {
    pub instance_id: Option<String>,
    pub instance_type: Option<String>,
    pub bandwidth_out: Option<String>,
    pub bandwidth_in: Option<String>,
    pub client_token: Option<String>,
    pub dry_run: Option<String>,
    pub async_: Option<String>,
    pub allow_migrate: Option<String>,
    pub system_disk_category: Option<String>,
}

impl ModifyRequest {
    /// Builds the request from parameter pairs as sent; the first
    /// occurrence of a name wins (behaviour.md 1.1), other names are ignored.
    pub fn from_pairs<'a, I>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut r = ModifyRequest::default();
        for (k, v) in pairs {
            let slot = match k {
                names::INSTANCE_ID => &mut r.instance_id,
                names::INSTANCE_TYPE => &mut r.instance_type,
                names::BANDWIDTH_OUT => &mut r.bandwidth_out,
                names::BANDWIDTH_IN => &mut r.bandwidth_in,
                names::CLIENT_TOKEN => &mut r.client_token,
                names::DRY_RUN => &mut r.dry_run,
                names::ASYNC => &mut r.async_,
                names::ALLOW_MIGRATE => &mut r.allow_migrate,
                names::SYSTEM_DISK_CATEGORY => &mut r.system_disk_category,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(v.to_string());
            }
        }
        r
    }

    /// The parameters that take part in the fingerprint, with their names.
    pub(crate) fn fingerprint_fields(&self) -> [(&'static str, &Option<String>); 8] {
        [
            (names::INSTANCE_ID, &self.instance_id),
            (names::INSTANCE_TYPE, &self.instance_type),
            (names::BANDWIDTH_OUT, &self.bandwidth_out),
            (names::BANDWIDTH_IN, &self.bandwidth_in),
            (names::DRY_RUN, &self.dry_run),
            (names::ASYNC, &self.async_),
            (names::ALLOW_MIGRATE, &self.allow_migrate),
            (names::SYSTEM_DISK_CATEGORY, &self.system_disk_category),
        ]
    }
}

/// Treats an empty value as absent (behaviour.md 1.1).
pub fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// Parses the protocol's integers: plain ASCII `-?[0-9]+` that fits an i64.
///
/// `str::parse` alone would also take `+5`, which the spec calls not a number.
pub fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses the protocol's booleans: `true`/`false` in any letter case.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// One fingerprint value, compared by meaning rather than spelling.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FpValue {
    Int(i64),
    Bool(bool),
    Text(String),
}

/// The identity of an accepted request for idempotency (I1–I3): the
/// operation parameters present, ClientToken excluded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint(pub BTreeMap<&'static str, FpValue>);

impl Fingerprint {
    /// Computes the fingerprint of a request whose P rules passed.
    ///
    /// `numbers_as_text` exists for the mutant that compares spellings.
    pub fn of(req: &ModifyRequest, numbers_as_text: bool) -> Fingerprint {
        let mut map = BTreeMap::new();
        for (name, value) in req.fingerprint_fields() {
            let Some(v) = present(value) else { continue };
            let fv = match name {
                names::BANDWIDTH_OUT | names::BANDWIDTH_IN if !numbers_as_text => {
                    parse_int(v).map_or_else(|| FpValue::Text(v.to_string()), FpValue::Int)
                }
                names::DRY_RUN | names::ASYNC | names::ALLOW_MIGRATE => {
                    parse_bool(v).map_or_else(|| FpValue::Text(v.to_string()), FpValue::Bool)
                }
                _ => FpValue::Text(v.to_string()),
            };
            map.insert(name, fv);
        }
        Fingerprint(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_the_strict_grammar() {
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("-1"), Some(-1));
        assert_eq!(parse_int("007"), Some(7));
        for bad in ["", "-", "+5", " 5", "5 ", "1.5", "0x10", "５", "99999999999999999999"] {
            assert_eq!(parse_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn booleans_ignore_case_only() {
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("FALSE"), Some(false));
        assert_eq!(parse_bool("1"), None);
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn first_occurrence_wins_and_unknown_names_are_ignored() {
        let r = ModifyRequest::from_pairs([
            ("InstanceId", "i-1"),
            ("InstanceId", "i-2"),
            ("instanceid", "i-3"),
            ("RegionId", "cn"),
        ]);
        assert_eq!(r.instance_id.as_deref(), Some("i-1"));
        assert_eq!(r.instance_type, None);
    }

    #[test]
    fn fingerprint_compares_meaning() {
        let a = ModifyRequest::from_pairs([("InstanceId", "i"), ("InternetMaxBandwidthOut", "05")]);
        let b = ModifyRequest::from_pairs([("InstanceId", "i"), ("InternetMaxBandwidthOut", "5")]);
        assert_eq!(Fingerprint::of(&a, false), Fingerprint::of(&b, false));
        assert_ne!(Fingerprint::of(&a, true), Fingerprint::of(&b, true));
        let c = ModifyRequest::from_pairs([("InstanceId", "i"), ("DryRun", "false")]);
        let d = ModifyRequest::from_pairs([("InstanceId", "i"), ("DryRun", "")]);
        assert_ne!(Fingerprint::of(&c, false), Fingerprint::of(&d, false));
        let e = ModifyRequest::from_pairs([("InstanceId", "i"), ("DryRun", "FALSE")]);
        assert_eq!(Fingerprint::of(&c, false), Fingerprint::of(&e, false));
    }
}
