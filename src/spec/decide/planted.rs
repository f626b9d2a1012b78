//! The state the oracle's planted bugs write on a refusal. With no mutant
//! planted a refusal changes nothing (ARCHITECTURE.md, invariants), so
//! nothing here runs; `modspec mutants` is its test, and cargo-mutants
//! leaves this file out (.cargo/mutants.toml).

use super::Ctx;
use crate::spec::mutants::Mutant;
use crate::spec::rules::RuleId::{self, *};
use crate::spec::state::Change;

impl Ctx<'_> {
    /// The state a buggy server writes on a refusal (mutants only).
    pub(super) fn partial_write(&self, rule: RuleId, id: &str) -> Option<Box<Change>> {
        let late = matches!(rule, C1 | C2 | C3 | C4 | C5 | C6 | C7 | C8 | B1 | B2 | B3 | B4);
        let recorded = self
            .is(Mutant::I3RejectedRecordsToken)
            .then(|| self.token_record())
            .flatten();
        if self.is(Mutant::E1NoRollbackOnError) && late {
            return Some(Box::new(self.touch(id)));
        }
        recorded.map(|token| {
            Box::new(Change {
                token: Some(token),
                ..self.empty_change(id)
            })
        })
    }

    /// A change that only restarts the 5-minute window.
    pub(super) fn touch(&self, id: &str) -> Change {
        Change {
            modified_at: Some(self.now),
            ..self.empty_change(id)
        }
    }
}
