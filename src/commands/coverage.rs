//! `modspec coverage`: the rule × (fires, passes) matrix. A step covers
//! "fires" for the rule it expects; it covers "passes" for every rule of
//! its scenario's `rules` that the documented order puts before the
//! expected rule (the request got past that check).

use std::collections::BTreeMap;

use crate::scenario::{Trial, TrialStep};
use crate::spec::RuleId;

/// One cell: the trials behind it.
pub type Cell = Vec<String>;

/// The matrix, every rule present.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    pub fires: BTreeMap<RuleId, Cell>,
    pub passes: BTreeMap<RuleId, Cell>,
}

impl Coverage {
    /// Rules with an empty cell, as (rule, "fires"/"passes"). E1 has no
    /// "passes" cell: it is the outcome when every check passed, so there
    /// is no later rule a request could reach past it.
    pub fn holes(&self) -> Vec<(RuleId, &'static str)> {
        let mut out = Vec::new();
        for r in RuleId::all() {
            if self.fires.get(&r).is_none_or(Vec::is_empty) {
                out.push((r, "fires"));
            }
            if r != RuleId::E1 && self.passes.get(&r).is_none_or(Vec::is_empty) {
                out.push((r, "passes"));
            }
        }
        out
    }
}

fn passed(listed: RuleId, expected: RuleId) -> bool {
    // I3 and E1 are successes: a request that succeeds passed every check
    // before it. RULES is in the documented order.
    (listed as usize) < (expected as usize) || expected == RuleId::E1
}

/// Computes the matrix over the trials.
pub fn coverage(trials: &[Trial]) -> Coverage {
    let mut c = Coverage::default();
    for r in RuleId::all() {
        c.fires.insert(r, Vec::new());
        c.passes.insert(r, Vec::new());
    }
    for t in trials {
        for step in &t.steps {
            let TrialStep::Request { expect, .. } = step else {
                continue;
            };
            // A `one_of` step proves no particular rule.
            if !expect.alternatives.is_empty() {
                continue;
            }
            push(&mut c.fires, expect.rule, &t.id);
            for listed in &t.rules {
                if *listed != expect.rule && passed(*listed, expect.rule) {
                    push(&mut c.passes, *listed, &t.id);
                }
            }
        }
    }
    c
}

fn push(map: &mut BTreeMap<RuleId, Cell>, rule: RuleId, id: &str) {
    let cell = map.entry(rule).or_default();
    if cell.last().map(String::as_str) != Some(id) {
        cell.push(id.to_string());
    }
}
