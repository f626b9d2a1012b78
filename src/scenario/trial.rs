//! The trials a case file expands into: one per `examples` row, with
//! worlds built and `${vars}` filled (see `load.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use super::error::LoadError;
use super::model::{Capability, ExpectFull, RequestSpec};
use crate::spec::{RuleId, World};

/// One runnable scenario (or one row of its examples).
#[derive(Clone, Debug)]
pub struct Trial {
    /// `path/without/extension` or `path::row` for an examples row.
    pub id: String,
    pub file: PathBuf,
    pub description: String,
    pub rules: Vec<RuleId>,
    pub tags: Vec<String>,
    /// Declared capabilities (empty: live).
    pub needs: BTreeSet<Capability>,
    /// The main world (`""`) and the named ones, shared by the rows of a
    /// file that do not patch them.
    pub worlds: BTreeMap<String, Arc<World>>,
    pub steps: Vec<TrialStep>,
    /// The world instance standing for `--instance-id` (live cases).
    pub instance: Option<String>,
}

/// A step with its variables filled in.
#[derive(Clone, Debug)]
pub enum TrialStep {
    Advance(u64),
    Request {
        label: String,
        request: Box<RequestSpec>,
        expect: Box<Expectation>,
        repeat: u32,
    },
}

/// A resolved expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// The rule that must fire (the first of `one_of`).
    pub rule: RuleId,
    /// The other rules of `one_of`, any of which may fire instead; empty
    /// for an exact expectation.
    pub alternatives: Vec<RuleId>,
    pub full: ExpectFull,
}

impl Expectation {
    /// An exact expectation: this rule and no other.
    pub fn exact(rule: RuleId, full: ExpectFull) -> Self {
        Expectation {
            rule,
            alternatives: Vec::new(),
            full,
        }
    }

    /// Every rule that may fire: `rule`, then the alternatives.
    pub fn rules(&self) -> impl Iterator<Item = RuleId> + '_ {
        std::iter::once(self.rule).chain(self.alternatives.iter().copied())
    }
}

/// Everything found under a cases folder.
#[derive(Debug, Default)]
pub struct Library {
    pub trials: Vec<Trial>,
    pub errors: Vec<LoadError>,
}
