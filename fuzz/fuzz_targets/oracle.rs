//! The oracle alone: total, consistent with the rules table, a rejected
//! request changes nothing, a replay returns the original, deterministic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modspec::fuzz::targets::{self, OracleInput};

fuzz_target!(|input: OracleInput| targets::oracle(&input));
