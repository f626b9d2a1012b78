//! The fuzzer: generated cases full of edge cases, run against a target and
//! compared with the contract; disagreements become scenarios.
//!
//! - `rng`, `dict`, `generator`, `mutate`, `variant`, `case`: seeded bytes → [`Case`]
//!   (a world variant plus requests and clock moves), printable as a scenario.
//! - `model`: the expected answers of a case (gateway rules for the
//!   protocol damage, then `spec::decide` over the world and its clock).
//! - `judge`, `driver`, `exec`: run a case on a target (HTTP, or the
//!   reference server's handler in-process) and compare.
//! - `shrink`, `finding`, `campaign`, `replay`: `modspec fuzz`; `workers`
//!   run its cases as many at once as the target keeps up with, retrying
//!   those whose connections were dropped under load.
//! - `shard` (`--shard K/N`), `record` (a finding's key and record file),
//!   `merge` (`fuzz merge`), `coverage` + `summary` (rules, boundaries and
//!   precedence pairs reached, `--json`, progress lines).
//! - `reach` (the boundaries of section 3 a request reaches), `steer` +
//!   `weights` (case `i` is the best of a few candidates from `(seed, i)`
//!   by a fixed table of what the plain generator reaches rarely).
//! - [`targets`]: the property functions behind the libFuzzer targets in
//!   `fuzz/`, which `cargo test` replays through the same conversion.

mod campaign;
mod case;
mod coverage;
mod dict;
mod driver;
mod error;
mod exec;
mod finding;
mod generator;
mod judge;
mod merge;
mod model;
mod mutate;
mod reach;
mod record;
mod replay;
mod rng;
mod shard;
mod shrink;
mod steer;
mod summary;
pub mod targets;
mod variant;
mod weights;
mod workers;

#[cfg(test)]
mod reach_tests;
#[cfg(test)]
mod tests;

pub use campaign::{Finding, FuzzOptions, FuzzReport, fuzz, parse_duration};
pub use case::{Case, CaseRequest, CaseStep, default_world};
pub use coverage::{Coverage, progress_line};
pub use driver::{Driver, Session};
pub use error::FuzzError;
pub use exec::{CaseRun, Runner, Sent};
pub use finding::{exchange_text, round_trip, scenario_yaml};
pub use generator::{Profile, fits, generate};
pub use judge::{Disagreement, Kind};
pub use merge::{MergeError, MergeReport, MergedFinding, RECORD_SUFFIX, merge};
pub use model::{Expected, Model, expected, gateway};
pub use reach::{Boundaries, Boundary};
pub use record::{FindingRecord, finding_key};
pub use replay::replay;
pub use rng::{CASE_BYTES, SplitMix64, candidate_bytes, case_bytes};
pub use shard::{Shard, ShardError};
pub use shrink::{SHRINK_BUDGET, candidates, shrink};
pub use steer::{CANDIDATES, CaseReach, case_at, case_reach, weight};
pub use summary::summary_json;
pub use variant::{InstanceField, WorldField, WorldVariant};
