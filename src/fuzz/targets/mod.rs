//! The properties behind the libFuzzer targets in `fuzz/fuzz_targets/`.
//!
//! Each target there is a few lines: `fuzz_target!(|input: T| f(&input))`
//! with `T` and `f` from here. `cargo test` replays the committed seeds
//! and regressions through the same `T::arbitrary_take_rest` conversion and
//! the same `f`, so a crash found by libFuzzer becomes a plain test.
//!
//! A property that does not hold panics: that is how libFuzzer learns of
//! it. These functions are for fuzzing and tests only; nothing else in
//! the crate calls them.

mod differential;
mod oracle;
mod server;
mod wire;

pub use differential::differential;
pub use oracle::{OracleInput, OracleStep, WorldPick, oracle, oracle_case};
pub use server::{RawInput, ServerInput, server};
pub use wire::{WireInput, wire};
