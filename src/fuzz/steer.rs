//! Steering: generation leans toward the rules, boundaries and precedence
//! pairs that the plain generator reaches rarely.
//!
//! Case `i` of a seed is still made from `(seed, i)` alone, never from
//! what earlier cases of this process reached, so shards, concurrent
//! workers and a finding's case number keep meaning the same case: the
//! generator makes `CANDIDATES` cases from `(seed, i, k)`, the model (pure,
//! no target) says what each reaches, and the one whose reach weighs most
//! by the fixed table in `weights.rs` is the case. Ties go to the lowest
//! `k`; candidate 0 is the unsteered case.

use std::collections::BTreeSet;

use arbitrary::Unstructured;

use super::case::Case;
use super::generator::{Profile, generate};
use super::model::expected;
use super::reach::{Boundaries, Boundary};
use super::rng::{candidate_bytes, case_bytes};
use super::weights::{BOUNDARY_REACH, CASES_MEASURED, PAIR_REACH, RULE_REACH};
use crate::spec::{RuleId, World};

/// Candidates per case. Each costs one generation and one model run
/// (microseconds, no I/O); a rare item's share of the cases rises by up to
/// this factor.
pub const CANDIDATES: u64 = 8;

/// The weight of an item reached by none of the measured cases, and the
/// most any item weighs: one in `MAX_WEIGHT` cases is rare enough.
const MAX_WEIGHT: u64 = 2_000;

/// What one case reaches: the rules that answered its requests, the
/// boundaries and the precedence pairs (winner, runner-up).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseReach {
    pub rules: BTreeSet<RuleId>,
    pub boundaries: Boundaries,
    pub pairs: BTreeSet<(RuleId, RuleId)>,
}

/// What `case` reaches against a conforming target, by the model.
pub fn case_reach(case: &Case, defaults: &World, auth: bool) -> CaseReach {
    let (want, _) = expected(case, case.world.world(defaults), auth);
    let mut reach = CaseReach::default();
    for e in want {
        reach.rules.insert(e.rule);
        reach.boundaries = reach.boundaries.union(e.boundaries);
        if let Some(loser) = e.runner_up {
            reach.pairs.insert((e.rule, loser));
        }
    }
    reach
}

/// Case `index` of `seed`: steered, or (`steer` false) the plain
/// generator's case. `None` when no candidate could be generated.
pub fn case_at(seed: u64, index: u64, profile: Profile, defaults: &World, steer: bool) -> Option<Case> {
    let plain = |bytes: Vec<u8>| generate(&mut Unstructured::new(&bytes), profile).ok();
    if !steer {
        return plain(case_bytes(seed, index));
    }
    let mut best: Option<(u64, Case)> = None;
    for k in 0..CANDIDATES {
        let Some(case) = plain(candidate_bytes(seed, index, k)) else {
            continue;
        };
        let score = weight(&case_reach(&case, defaults, profile.auth));
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, case));
        }
    }
    best.map(|(_, case)| case)
}

/// The weight of an item reached by `count` of the measured cases: the
/// inverse of its share, so an item in one case of a thousand weighs a
/// thousand times one in every case.
fn item_weight(count: Option<u32>) -> u64 {
    match count {
        Some(n) if n > 0 => (CASES_MEASURED / u64::from(n)).clamp(1, MAX_WEIGHT),
        _ => MAX_WEIGHT,
    }
}

/// A case's weight: the sum of the weights of what it reaches.
pub fn weight(reach: &CaseReach) -> u64 {
    let rules = reach.rules.iter().map(|r| item_weight(rule_count(*r)));
    let boundaries = reach.boundaries.iter().map(|b| item_weight(boundary_count(b)));
    let pairs = reach.pairs.iter().map(|p| item_weight(pair_count(*p)));
    rules.chain(boundaries).chain(pairs).sum()
}

fn rule_count(rule: RuleId) -> Option<u32> {
    RULE_REACH.iter().find(|(r, _)| *r == rule).map(|(_, n)| *n)
}

fn boundary_count(b: Boundary) -> Option<u32> {
    BOUNDARY_REACH.iter().find(|(x, _)| *x == b).map(|(_, n)| *n)
}

fn pair_count(pair: (RuleId, RuleId)) -> Option<u32> {
    PAIR_REACH
        .binary_search_by_key(&pair, |(w, l, _)| (*w, *l))
        .ok()
        .map(|i| PAIR_REACH[i].2)
}

/// The precedence pairs the measured cases reached: those a campaign
/// reports as not reached when it misses them.
pub(crate) fn known_pairs() -> impl Iterator<Item = (RuleId, RuleId)> {
    PAIR_REACH.iter().map(|(w, l, _)| (*w, *l))
}
