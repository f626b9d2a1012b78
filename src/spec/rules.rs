//! The table of rules and their answers: the single source of truth for
//! codes, statuses, messages and accepted aliases (behaviour.md sections 3–4).
//!
//! The server writes its answers from this table, the runner compares against
//! it and the reports name its rule ids. Nothing else in the crate spells an
//! error code.

use std::fmt;
use std::str::FromStr;

/// A rule of the decision procedure, named by its stable id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleId {
    G1,
    G2,
    G3,
    G4,
    G5,
    G6,
    G7,
    G8,
    G9,
    G10,
    G11,
    G12,
    P1,
    P2,
    P3,
    P4,
    P5,
    P6,
    P7,
    P8,
    I1,
    I2,
    I3,
    R1,
    A1,
    A2,
    A3,
    A4,
    T1,
    S1,
    S2,
    C1,
    C2,
    C3,
    C4,
    C5,
    C6,
    C7,
    C8,
    B1,
    B2,
    B3,
    B4,
    D1,
    F1,
    E1,
}

/// A code and status that the default (non-strict) mode also accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alias {
    pub code: &'static str,
    pub status: u16,
    /// Why the alias exists (shown with the warning when a target uses it).
    pub why: &'static str,
}

/// What a rule answers when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleSpec {
    pub id: RuleId,
    /// The error code; `None` for the two success rules (I3 replay, E1).
    pub code: Option<&'static str>,
    pub status: u16,
    pub message: &'static str,
    /// One line on what the rule checks, for reports and `--help` texts.
    pub summary: &'static str,
    pub aliases: &'static [Alias],
}

impl RuleSpec {
    /// True for the rules whose answer is an error body.
    pub(crate) fn is_error(&self) -> bool {
        self.code.is_some()
    }
}

const fn rule(id: RuleId, code: &'static str, status: u16, message: &'static str, summary: &'static str) -> RuleSpec {
    RuleSpec {
        id,
        code: Some(code),
        status,
        message,
        summary,
        aliases: &[],
    }
}

const fn aliased(mut spec: RuleSpec, aliases: &'static [Alias]) -> RuleSpec {
    spec.aliases = aliases;
    spec
}

const fn alias(code: &'static str, status: u16, why: &'static str) -> Alias {
    Alias { code, status, why }
}

use RuleId::*;

/// Every rule in the documented order (behaviour.md section 3).
#[rustfmt::skip]
pub static RULES: &[RuleSpec] = &[
    aliased(rule(G1, "UnsupportedHTTPMethod", 400, "This http method is not supported.", "HTTP method other than GET or POST"),
        &[alias("UnsupportedHTTPMethod", 403, "gateway lists disagree on the status")]),
    rule(G2, "IncompleteSignature", 400, "The request signature does not conform to Aliyun standards.", "no signature, or a V3 header / V1 common parameter missing"),
    aliased(rule(G3, "InvalidAction", 500, "Specified action is not valid.", "Action is not ModifyInstanceSpec"),
        &[alias("InvalidAction", 400, "the current page says 400"), alias("InvalidAction.NotFound", 404, "the gateway answers unknown actions with 404"), alias("InvalidApi.NotFound", 404, "the gateway answers unknown actions with 404"),]),
    rule(G4, "InvalidVersion", 400, "Specified parameter Version is not valid.", "Version is not 2014-05-26"),
    aliased(rule(G5, "InvalidAccessKeyId.NotFound", 404, "Specified access key is not found.", "AccessKeyId unknown"),
        &[alias("InvalidAccessKeyId.NotFound", 400, "gateway lists disagree on the status")]),
    rule(G6, "InvalidTimeStamp.Format", 400, "Specified time stamp or date value is not well formatted.", "timestamp unparsable"),
    rule(G7, "InvalidTimeStamp.Expired", 400, "Specified time stamp or date value is expired.", "timestamp more than 15 minutes from the wall clock"),
    rule(G8, "InvalidSignatureMethod", 400, "Specified signature method is not supported.", "signature method / algorithm not supported"),
    rule(G9, "SignatureDoesNotMatch", 400, "Specified signature is not matched with our calculation.", "signature does not match"),
    rule(G10, "SignatureNonceUsed", 400, "Specified signature nonce was used already.", "nonce reused within 15 minutes"),
    rule(G11, "InvalidParameter.Format", 400, "Specified parameter Format is not valid.", "Format present and not JSON/XML"),
    rule(G12, "Throttling", 400, "Request was denied due to request throttling.", "account request quota exhausted"),
    aliased(rule(P1, "MissingParameter", 400, "The input parameter \"InstanceId\" that is mandatory for processing this request is not supplied.", "InstanceId absent or empty"),
        &[alias("MissingInstanceId", 400, "the code for a missing InstanceId is not documented"), alias("MissingParameter.InstanceId", 400, "the code for a missing InstanceId is not documented"),]),
    rule(P2, "InvalidClientToken.ValueNotSupported", 400, "The ClientToken provided is invalid.", "ClientToken over 64 characters or not printable ASCII"),
    rule(P3, "InvalidParameter", 400, "The specified parameter \"InternetMaxBandwidthOut\" is not valid.", "InternetMaxBandwidthOut not a number or outside 0..=100"),
    rule(P4, "InvalidParameter.Bandwidth", 400, "The specified parameter \"InternetMaxBandwidthIn\" is not valid.", "InternetMaxBandwidthIn not a number or outside 1..=200"),
    rule(P5, "InvalidParameter.Mismatch", 400, "InstanceType cannot be changed together with the Internet bandwidth.", "InstanceType together with a bandwidth parameter"),
    rule(P6, "MissingParameter", 400, "The input parameter \"InstanceType\", \"InternetMaxBandwidthOut\" or \"InternetMaxBandwidthIn\" that is mandatory for processing this request is not supplied.", "none of InstanceType and the bandwidths"),
    rule(P7, "InvalidParameter", 400, "The specified parameter \"DryRun\", \"Async\" or \"AllowMigrateAcrossZone\" is not a valid boolean.", "a boolean parameter is not a boolean"),
    rule(P8, "InvalidParam.SystemDiskCategory", 400, "The specified parameter \"SystemDisk.Category\" is not valid.", "SystemDisk.Category not cloud_efficiency/cloud_ssd"),
    aliased(rule(I1, "IdempotenceParamNotMatch", 400, "Request uses a client token in a previous request but is not identical to that request.", "token recorded with another fingerprint"),
        &[alias("IdempotentParameterMismatch", 400, "the ECS idempotence appendix uses this name")]),
    rule(I2, "LastTokenProcessing", 403, "The last token request is processing.", "token recorded, its operation still processing"),
    RuleSpec { id: I3, code: None, status: 200, message: "", summary: "token recorded and finished: replay the original success", aliases: &[], },
    rule(R1, "InvalidInstanceId.NotFound", 404, "The specified InstanceId does not exist.", "no such instance in this account"),
    rule(A1, "Account.Arrearage", 400, "Your account has an outstanding payment.", "account has an overdue payment"),
    rule(A2, "InvalidInstance.UnpaidOrder", 400, "The specified instance has unpaid order.", "instance has an unpaid order"),
    rule(A3, "InstanceLockedForSecurity", 403, "The specified operation is denied as your instance is locked for security reasons.", "instance locked for security"),
    rule(A4, "ChargeTypeViolation", 403, "The operation is not permitted due to charge type of the instance.", "instance charge type is not PostPaid"),
    rule(T1, "Throttling", 400, "Request was denied due to request throttling, please try again after 5 minutes.", "instance modified less than 300 s ago"),
    rule(S1, "InvalidInstanceStatus.NotStopped", 400, "The specified instance must be Stopped to change its instance type.", "type change and the instance is not Stopped"),
    aliased(rule(S2, "InvalidStatus.ValueNotSupported", 400, "The current status of the instance does not support this operation.", "bandwidth change and the instance is neither Running nor Stopped"),
        &[alias("InvalidStatus.ValueNotSupported", 403, "the current page says 403")]),
    rule(C1, "InvalidInstanceType.ValueNotSupported", 400, "The specified InstanceType does not exist or beyond the permitted range.", "target type not in the catalog"),
    rule(C2, "InvalidInstanceType.ValueUnauthorized", 400, "The specified InstanceType is not authorized.", "target type needs an authorization the account lacks"),
    rule(C3, "CategoryViolation", 403, "The specified instance has local disks; its instance type cannot be changed.", "instance has local disks"),
    rule(C4, "DependencyViolation.InstanceType", 400, "The current instance type cannot be changed to the specified instance type.", "target not among the allowed changes"),
    rule(C5, "InvalidParameter.Conflict", 400, "The architecture of the image conflicts with the specified instance type.", "image architecture differs from the target's"),
    aliased(rule(C6, "ImageNotSupportInstanceType", 403, "The specified image does not support the specified instance type.", "image excludes the target type"),
        &[alias("Imagenotsupportinstancetype", 403, "the seed's spelling")]),
    rule(C7, "OperationDenied", 403, "The instance is out of usage.", "target type out of stock"),
    rule(C8, "InvalidAccountStatus.NotEnoughBalance", 403, "Your account does not have enough balance.", "upgrade and insufficient balance"),
    rule(B1, "OperationDenied", 400, "The specified instance is in VPC.", "InternetMaxBandwidthIn on a VPC instance"),
    rule(B2, "InvalidInternetChargeType.ValueNotSupported", 400, "The specified InternetChargeType is not supported.", "internet charge type neither PayByTraffic nor PayByBandwidth"),
    rule(B3, "Price.PricePlanResultNotFound", 400, "The price plan for the specified bandwidth was not found.", "no price plan, or a value above the plan's maximum"),
    rule(B4, "InvalidAccountStatus.NotEnoughBalance", 403, "Your account does not have enough balance.", "bandwidth increase and insufficient balance"),
    rule(D1, "DryRunOperation", 400, "Request validation has been passed with DryRun flag set.", "every check passed and DryRun is true"),
    rule(F1, "InternalError", 500, "The request processing has failed due to some unknown error.", "fault injected for this instance"),
    RuleSpec { id: E1, code: None, status: 200, message: "", summary: "every check passed: the change is applied", aliases: &[], },
];

impl RuleId {
    /// The table entry of this rule.
    pub fn spec(self) -> &'static RuleSpec {
        // RULES lists every variant in declaration order; the unit test
        // `table_is_in_enum_order` keeps that true, so the index is exact.
        &RULES[self as usize]
    }

    /// Every rule id in the documented order.
    pub fn all() -> impl Iterator<Item = RuleId> {
        RULES.iter().map(|r| r.id)
    }

    /// The stable text id (`P3`, `G12`...).
    pub fn as_str(self) -> &'static str {
        RULE_NAMES[self as usize]
    }
}

const RULE_NAMES: &[&str] = &[
    "G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "G9", "G10", "G11", "G12", "P1", "P2", "P3", "P4", "P5", "P6",
    "P7", "P8", "I1", "I2", "I3", "R1", "A1", "A2", "A3", "A4", "T1", "S1", "S2", "C1", "C2", "C3", "C4", "C5", "C6",
    "C7", "C8", "B1", "B2", "B3", "B4", "D1", "F1", "E1",
];

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that names no rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule id `{0}`")]
pub struct UnknownRule(pub String);

impl FromStr for RuleId {
    type Err = UnknownRule;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RULE_NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| RULES[i].id)
            .ok_or_else(|| UnknownRule(s.to_string()))
    }
}

/// A hint for a text that is not a rule id: the one nearest rule of the
/// same family (`P33` → `P3`), or the family's range (`P9` → `P1`–`P8`).
pub fn rule_hint(s: &str) -> String {
    let family: Vec<&str> = RULE_NAMES
        .iter()
        .copied()
        .filter(|n| n.get(..1) == s.get(..1))
        .collect();
    if family.is_empty() {
        return crate::util::closest(s, RULE_NAMES.iter().copied())
            .map(|h| format!(" (did you mean `{h}`?)"))
            .unwrap_or_default();
    }
    let best = family
        .iter()
        .map(|n| strsim::levenshtein(s, n))
        .min()
        .unwrap_or(usize::MAX);
    let nearest: Vec<&&str> = family.iter().filter(|n| strsim::levenshtein(s, n) == best).collect();
    match nearest.as_slice() {
        [one] if best <= 2 => format!(" (did you mean `{one}`?)"),
        _ => format!(
            " (the {} rules are {}–{})",
            &s[..1],
            family[0],
            family[family.len() - 1]
        ),
    }
}

impl<'de> serde::Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e: UnknownRule| serde::de::Error::custom(format!("{e}{}", rule_hint(&s))))
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl schemars::JsonSchema for RuleId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RuleId".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "enum": RULE_NAMES })
    }
}

/// How a received (status, code) relates to what a rule demands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    Canonical,
    /// Accepted in the default mode only; carries the alias for the warning.
    Alias(&'static Alias),
    Mismatch,
}

/// Compares an answer with the rule's canonical answer and its aliases.
pub fn match_answer(rule: RuleId, status: u16, code: Option<&str>) -> Match {
    let spec = rule.spec();
    if spec.status == status && spec.code == code {
        return Match::Canonical;
    }
    spec.aliases
        .iter()
        .find(|a| a.status == status && Some(a.code) == code)
        .map_or(Match::Mismatch, Match::Alias)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_enum_order() {
        for (i, r) in RULES.iter().enumerate() {
            assert_eq!(r.id as usize, i, "{:?} out of place", r.id);
            assert_eq!(r.id.as_str().parse::<RuleId>(), Ok(r.id));
        }
        assert_eq!(RULES.len(), RULE_NAMES.len());
    }

    #[test]
    fn statuses_and_codes_follow_the_spec() {
        assert_eq!(RuleId::G3.spec().status, 500);
        assert_eq!(RuleId::I2.spec().status, 403);
        assert_eq!(RuleId::C7.spec().code, Some("OperationDenied"));
        assert_eq!(RuleId::B1.spec().status, 400);
        assert_eq!(RuleId::C7.spec().status, 403);
        assert!(!RuleId::E1.spec().is_error());
        assert!(RuleId::T1.spec().message.contains("try again after 5 minutes"));
        for r in RULES {
            assert_eq!(r.is_error(), r.status >= 400, "{:?}", r.id);
        }
    }

    #[test]
    fn aliases_are_accepted_only_where_listed() {
        assert_eq!(match_answer(RuleId::G3, 500, Some("InvalidAction")), Match::Canonical);
        assert!(matches!(
            match_answer(RuleId::G3, 404, Some("InvalidApi.NotFound")),
            Match::Alias(_)
        ));
        assert_eq!(match_answer(RuleId::G3, 404, Some("InvalidAction")), Match::Mismatch);
        assert_eq!(
            match_answer(RuleId::A3, 400, Some("InstanceLockedForSecurity")),
            Match::Mismatch
        );
        assert_eq!(match_answer(RuleId::E1, 200, None), Match::Canonical);
    }

    #[test]
    fn unknown_rule_names_are_rejected_with_a_family_hint() {
        assert!("P9".parse::<RuleId>().is_err());
        assert!("p3".parse::<RuleId>().is_err());
        assert_eq!(rule_hint("P33"), " (did you mean `P3`?)");
        assert_eq!(rule_hint("P9"), " (the P rules are P1–P8)");
        assert_eq!(rule_hint("G13"), " (the G rules are G1–G12)");
        assert_eq!(rule_hint("Zebra9"), "");
        // One nearest rule, but too far to be a typo of it.
        assert_eq!(rule_hint("P1wxyz"), " (the P rules are P1–P8)");
    }

    #[test]
    fn every_rule_is_listed_in_order_and_in_the_schema() {
        let all: Vec<RuleId> = RuleId::all().collect();
        assert_eq!(all.len(), 46);
        assert_eq!((all[0], all[45]), (RuleId::G1, RuleId::E1));
        let schema = schemars::schema_for!(RuleId);
        let names = schema.get("enum").and_then(|e| e.as_array()).map(Vec::len);
        assert_eq!(names, Some(46));
    }
}
