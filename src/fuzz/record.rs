//! A finding's key and its record: the `<name>.json` written beside the
//! scenario, which `fuzz merge` reads.
//!
//! The key is the rule the oracle expected and the check that failed
//! (plus the state field, for a state check), never the target's answer:
//! one planted bug answers differently from case to case (another code,
//! another status), and keying by the answer made one bug many findings.

use serde::{Deserialize, Serialize};

use super::judge::Disagreement;

/// `<rule>/<check>` or `<rule>/state/<field>`, e.g. `B1/answer`.
pub fn finding_key(d: &Disagreement) -> String {
    // The check's name in the verdict engine's table; for a state, the
    // field that differs, not the instance it belongs to.
    match &d.field {
        Some(field) => format!("{}/{}/{field}", d.expected_rule, d.kind.name()),
        None => format!("{}/{}", d.expected_rule, d.kind.name()),
    }
}

/// What `fuzz` writes as `<name>.json` for every finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRecord {
    /// See [`finding_key`].
    pub key: String,
    /// The rule the oracle expected.
    pub rule: String,
    /// The check that failed (`answer`, `body`, `format`, `content-type`,
    /// `shape`, `state`).
    pub check: String,
    /// The disagreement, as printed.
    pub summary: String,
    pub seed: u64,
    /// `K/N`; `1/1` for an unsharded campaign.
    pub shard: String,
    /// The case's index in the seed's whole (unsharded) stream.
    pub case: u64,
    /// Cases of the campaign that showed this key.
    pub count: u64,
    /// Steps of the shrunk reproducer (smaller is better).
    pub steps: usize,
    /// The built-in mutant planted, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutant: Option<String>,
    /// File names (in the same folder) of the scenario and the exchange.
    pub scenario: String,
    pub exchange: String,
}

impl FindingRecord {
    /// How reproducers compare: fewer steps, then a shorter scenario, then
    /// the lower (seed, case) so the choice never depends on file order.
    pub(crate) fn size_rank(&self, scenario_len: usize) -> (usize, usize, u64, u64) {
        (self.steps, scenario_len, self.seed, self.case)
    }
}
