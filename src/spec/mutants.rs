//! Planted bugs for the suite's self-test (`modspec serve --mutant NAME`).
//!
//! Each mutant changes exactly one behaviour and is named after the rule it
//! breaks. The code that a mutant changes checks `Mutant` right beside the
//! rule it bends (in `decide` for the oracle's rules, in the server's
//! gateway for the protocol), so a mutant is never a copy of the server.
//! `W-` names bend the wire protocol of behaviour.md section 1.1/2.2, which
//! has no rule id of its own.

use std::fmt;
use std::str::FromStr;

use super::rules::RuleId;

/// Where a mutant is implemented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// In `spec::decide`: the business rules.
    Oracle,
    /// In the server's gateway and response writer: the protocol.
    Gateway,
}

macro_rules! mutants {
    ($( $variant:ident = $name:literal, $layer:ident, [$($rule:ident),*], $what:literal; )*) => {
        /// One planted bug.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Mutant { $( $variant, )* }

        /// Every mutant with its name, layer, the rules it breaks and what it does.
        pub static MUTANTS: &[MutantSpec] = &[
            $( MutantSpec {
                mutant: Mutant::$variant,
                name: $name,
                layer: Layer::$layer,
                rules: &[$(RuleId::$rule),*],
                what: $what,
            }, )*
        ];
    };
}

/// A mutant's table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MutantSpec {
    pub mutant: Mutant,
    pub name: &'static str,
    pub layer: Layer,
    pub rules: &'static [RuleId],
    pub what: &'static str,
}

mutants! {
    G1PutAccepted = "G1-put-accepted", Gateway, [G1], "PUT is served like POST";
    G2V1NonceOptional = "G2-v1-nonce-optional", Gateway, [G2], "a V1 request without SignatureNonce is accepted";
    G2V3HostUnsigned = "G2-v3-host-unsigned", Gateway, [G2], "a V3 request that does not sign `host` is accepted";
    G3ActionCaseInsensitive = "G3-action-case-insensitive", Gateway, [G3], "Action is compared ignoring case";
    G4VersionIgnored = "G4-version-ignored", Gateway, [G4], "Version is not checked";
    G5UnknownKey403 = "G5-unknown-key-403", Gateway, [G5], "an unknown AccessKeyId answers 403";
    G6BadTimestampAccepted = "G6-bad-timestamp-accepted", Gateway, [G6], "an unparsable timestamp is not rejected";
    G7Window60Min = "G7-window-60min", Gateway, [G7], "timestamps up to 60 minutes off are accepted";
    G8MethodIgnored = "G8-method-ignored", Gateway, [G8], "SignatureMethod is not checked";
    G9V1PlusNotDecoded = "G9-v1-plus-not-decoded", Gateway, [G9], "`+` in V1 parameters is not decoded as a space";
    G9V1EmptyValuesDropped = "G9-v1-empty-values-dropped", Gateway, [G9], "empty V1 parameters are left out of the StringToSign";
    G9V3BodyHashTrusted = "G9-v3-body-hash-trusted", Gateway, [G9], "V3 trusts x-acs-content-sha256 instead of hashing the body";
    G9V3SignedHeadersIgnored = "G9-v3-signed-headers-ignored", Gateway, [G9], "V3 ignores SignedHeaders and always canonicalises host plus the x-acs-* headers (rejects what the SDKs sign: accept, user-agent, content-type)";
    G9SignatureUnchecked = "G9-signature-unchecked", Gateway, [G9], "any signature is accepted";
    G10NonceUnchecked = "G10-nonce-unchecked", Gateway, [G10], "a reused nonce is accepted";
    G10ForgedBurnsNonce = "G10-forged-burns-nonce", Gateway, [G10, G9], "a request with a bad signature records its nonce";
    G11FormatUnchecked = "G11-format-unchecked", Gateway, [G11], "an invalid Format is answered in JSON instead of rejected";
    G12QuotaOffByOne = "G12-quota-off-by-one", Gateway, [G12], "the quota allows one request more than set";
    G12ThrottledCount = "G12-throttled-count", Gateway, [G12], "throttled requests count against the quota";
    G12NoRetryAfter = "G12-no-retry-after", Gateway, [G12], "Throttling answers lack x-acs-retry-after";
    T1RetryAfterSeconds = "T1-retry-after-seconds", Gateway, [T1, G12], "x-acs-retry-after is sent in seconds, not milliseconds";
    WXmlErrorContentType = "W-xml-error-content-type", Gateway, [], "XML errors are sent as application/xml";
    WJsonLowercaseCode = "W-json-lowercase-code", Gateway, [], "JSON errors spell the key `code`";
    WV1DefaultJson = "W-v1-default-json", Gateway, [], "V1 requests without Format are answered in JSON";
    WLastOccurrenceWins = "W-last-occurrence-wins", Gateway, [], "a repeated parameter takes its last value";
    WFormBodyIgnored = "W-form-body-ignored", Gateway, [], "POST form-body parameters are ignored";
    P1EmptyInstanceIdAccepted = "P1-empty-instanceid-accepted", Oracle, [P1], "an empty InstanceId counts as present";
    P2Token65Accepted = "P2-token-65-accepted", Oracle, [P2], "a 65-character ClientToken is accepted";
    P2NonAsciiAccepted = "P2-non-ascii-accepted", Oracle, [P2], "a non-ASCII ClientToken is accepted";
    P3UpperAccepts101 = "P3-upper-accepts-101", Oracle, [P3], "InternetMaxBandwidthOut=101 is accepted";
    P3LowerRejects0 = "P3-lower-rejects-0", Oracle, [P3], "InternetMaxBandwidthOut=0 is rejected";
    P3PlusSignAccepted = "P3-plus-sign-accepted", Oracle, [P3], "InternetMaxBandwidthOut=+5 is read as 5";
    P3EmptyOutInvalid = "P3-empty-out-invalid", Oracle, [P3], "an empty InternetMaxBandwidthOut is rejected instead of absent";
    P4LowerAccepts0 = "P4-lower-accepts-0", Oracle, [P4], "InternetMaxBandwidthIn=0 is accepted";
    P4UpperRejects200 = "P4-upper-rejects-200", Oracle, [P4], "InternetMaxBandwidthIn=200 is rejected";
    P4WrongCode = "P4-wrong-code", Oracle, [P4], "P4 answers InvalidParameter";
    P5TypeWins = "P5-type-wins", Oracle, [P5], "type + bandwidth changes the type";
    P5BeforeP3 = "P5-before-P3", Oracle, [P5, P3], "P5 is checked before P3";
    P6NothingSucceeds = "P6-nothing-succeeds", Oracle, [P6], "a request that changes nothing succeeds";
    P7BooleanCaseSensitive = "P7-boolean-case-sensitive", Oracle, [P7], "`True` is not a boolean";
    P8CategoryUnchecked = "P8-category-unchecked", Oracle, [P8], "SystemDisk.Category is not validated";
    I1MismatchApplies = "I1-mismatch-applies", Oracle, [I1], "a token reused with other parameters is applied";
    I1NumbersAsText = "I1-numbers-as-text", Oracle, [I1], "fingerprints compare `05` and `5` as different";
    I2ProcessingReplayed = "I2-processing-replayed", Oracle, [I2], "a token still processing is replayed";
    I3ReplayAppliesAgain = "I3-replay-applies-again", Oracle, [I3], "a replay applies the change again";
    I3RejectedRecordsToken = "I3-rejected-records-token", Oracle, [I3, I1], "a rejected request records its token";
    R1OtherWorldVisible = "R1-other-world-visible", Gateway, [R1], "another account's instance is changed";
    A1Unchecked = "A1-unchecked", Oracle, [A1], "an overdue account is not rejected";
    A2Unchecked = "A2-unchecked", Oracle, [A2], "an unpaid order is not rejected";
    A3Status400 = "A3-status-400", Oracle, [A3], "InstanceLockedForSecurity answers 400";
    A4PrepaidAllowed = "A4-prepaid-allowed", Oracle, [A4], "PrePaid instances can be changed";
    T1Window299s = "T1-window-299s", Oracle, [T1], "the change is allowed again at 299 s";
    T1Window301s = "T1-window-301s", Oracle, [T1], "the change is still refused at 300 s";
    T1SeededIgnored = "T1-seeded-ignored", Oracle, [T1], "last_modified_seconds_ago is ignored";
    T1DryRunStartsWindow = "T1-dry-run-starts-window", Oracle, [T1, D1], "a dry run starts the 5-minute window";
    T1BeforeA4 = "T1-before-A4", Oracle, [T1, A4], "T1 is checked before A4";
    S1RunningAllowed = "S1-running-allowed", Oracle, [S1], "a Running instance can change type";
    S2StartingAllowed = "S2-starting-allowed", Oracle, [S2], "a Starting instance can change bandwidth";
    S1BeforeT1 = "S1-before-T1", Oracle, [S1, T1], "S1 is checked before T1";
    C1UnknownTypeApplied = "C1-unknown-type-applied", Oracle, [C1], "a type not in the catalog is applied";
    C2AuthorizationIgnored = "C2-authorization-ignored", Oracle, [C2], "types that need authorization are allowed";
    C3LocalDisksIgnored = "C3-local-disks-ignored", Oracle, [C3], "instances with local disks can change type";
    C4SameTypeAllowed = "C4-same-type-allowed", Oracle, [C4], "the current type is an allowed target";
    C4Unchecked = "C4-unchecked", Oracle, [C4], "allowed_changes is not consulted";
    C5ArchUnchecked = "C5-arch-unchecked", Oracle, [C5], "image and type architectures are not compared";
    C6ImageExclusionIgnored = "C6-image-exclusion-ignored", Oracle, [C6], "the image's unsupported list is ignored";
    C7OutOfStockIgnored = "C7-out-of-stock-ignored", Oracle, [C7], "out-of-stock types can be chosen";
    C7BeforeC4 = "C7-before-C4", Oracle, [C7, C4], "C7 is checked before C4";
    C8DowngradeNeedsBalance = "C8-downgrade-needs-balance", Oracle, [C8], "an equal or lower price rank also needs balance";
    C8BalanceIgnored = "C8-balance-ignored", Oracle, [C8], "upgrades need no balance";
    B1VpcInAllowed = "B1-vpc-in-allowed", Oracle, [B1], "InternetMaxBandwidthIn is accepted on VPC";
    B2ChargeTypeUnchecked = "B2-charge-type-unchecked", Oracle, [B2], "any internet charge type is accepted";
    B3PlanMaxIgnored = "B3-plan-max-ignored", Oracle, [B3], "values above the plan's maximum are accepted";
    B3MissingPlanAllowed = "B3-missing-plan-allowed", Oracle, [B3], "a charge type without a plan is accepted";
    B4EqualNeedsBalance = "B4-equal-needs-balance", Oracle, [B4], "an unchanged value also needs balance";
    B4BalanceIgnored = "B4-balance-ignored", Oracle, [B4], "bandwidth increases need no balance";
    D1DryRunApplies = "D1-dry-run-applies", Oracle, [D1], "DryRun=true applies the change";
    F1FaultIgnored = "F1-fault-ignored", Oracle, [F1], "fault injection is ignored";
    E1InNotApplied = "E1-in-not-applied", Oracle, [E1], "InternetMaxBandwidthIn is not applied";
    E1WindowNotStarted = "E1-window-not-started", Oracle, [E1, T1], "a success does not record last_modified_at";
    E1NoRollbackOnError = "E1-no-rollback-on-error", Oracle, [E1], "a request refused by a C or B rule still starts the 5-minute window";
}

impl Mutant {
    /// The table entry of this mutant.
    pub fn spec(self) -> &'static MutantSpec {
        // MUTANTS lists every variant in declaration order (macro-generated).
        &MUTANTS[self as usize]
    }

    /// The stable name (`P3-upper-accepts-101`).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The ordering bugs: two rules of `order` swapped.
    pub(crate) fn reorder(self, order: &mut [RuleId]) {
        let (a, b) = match self {
            Mutant::T1BeforeA4 => (RuleId::T1, RuleId::A4),
            Mutant::S1BeforeT1 => (RuleId::S1, RuleId::T1),
            Mutant::C7BeforeC4 => (RuleId::C7, RuleId::C4),
            _ => return,
        };
        if let (Some(i), Some(j)) = (order.iter().position(|r| *r == a), order.iter().position(|r| *r == b)) {
            order.swap(i, j);
        }
    }
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a mutant; carries the closest name as a hint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mutant `{name}`{}", hint.map(|h| format!(" (did you mean `{h}`?)")).unwrap_or_default())]
pub struct UnknownMutant {
    pub name: String,
    pub hint: Option<&'static str>,
}

impl FromStr for Mutant {
    type Err = UnknownMutant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MUTANTS
            .iter()
            .find(|m| m.name == s)
            .map(|m| m.mutant)
            .ok_or_else(|| UnknownMutant {
                name: s.to_string(),
                hint: crate::util::closest(s, MUTANTS.iter().map(|m| m.name)),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn table_is_in_enum_order_and_names_are_unique() {
        let mut names = HashSet::new();
        for (i, m) in MUTANTS.iter().enumerate() {
            assert_eq!(m.mutant as usize, i);
            assert!(names.insert(m.name), "duplicate {}", m.name);
            assert_eq!(m.name.parse::<Mutant>(), Ok(m.mutant));
        }
        assert!(MUTANTS.len() >= 40, "only {} mutants", MUTANTS.len());
    }

    #[test]
    fn every_rule_is_broken_by_some_mutant() {
        let covered: HashSet<RuleId> = MUTANTS.iter().flat_map(|m| m.rules.iter().copied()).collect();
        let missing: Vec<_> = RuleId::all().filter(|r| !covered.contains(r)).collect();
        assert!(missing.is_empty(), "rules without a mutant: {missing:?}");
    }

    #[test]
    fn names_start_with_their_first_rule() {
        for m in MUTANTS {
            match m.rules.first() {
                Some(r) => assert!(m.name.starts_with(&format!("{r}-")), "{}", m.name),
                None => assert!(m.name.starts_with("W-"), "{}", m.name),
            }
        }
    }

    #[test]
    fn misspelled_names_get_a_hint() {
        let e = "P3-upper-accept-101".parse::<Mutant>().unwrap_err();
        assert_eq!(e.hint, Some("P3-upper-accepts-101"));
    }
}
