//! The executable specification: pure, no I/O.
//!
//! `world` is the control protocol's World document, `state` a world's live
//! business state, `request` the operation parameters, `rules` the one table
//! of codes, `decide` the oracle and `mutants` the planted bugs.

mod decide;
mod mutants;
mod request;
mod rules;
mod state;
mod world;

#[cfg(test)]
mod decide_tests;

pub use decide::{
    BANDWIDTH_IN_RANGE, BANDWIDTH_OUT_RANGE, Decision, MODIFY_WINDOW_SECONDS, SYSTEM_DISK_CATEGORIES, TOKEN_MAX_CHARS,
    decide, decide_with, rules_met, token_char,
};
pub use mutants::{Layer, MUTANTS, Mutant, MutantSpec, UnknownMutant};
pub use request::{Fingerprint, FpValue, ModifyRequest, names, parse_bool, parse_int, present};
pub use rules::{Alias, Match, RULES, RuleId, RuleSpec, UnknownRule, match_answer, rule_hint};
pub use state::{Change, INSTANCE_FIELDS, InstanceState, TokenRecord, WorldState};
pub use world::{
    Account, Catalog, ChargeType, Faults, Image, Instance, InstanceTypeSpec, NetworkType, PricePlan, Status, World,
    WorldError, sample_world,
};
