//! V1/V3 sign-then-verify and parameter encode/parse round trips; the body
//! parser on hostile bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modspec::fuzz::targets::{self, WireInput};

fuzz_target!(|input: WireInput| targets::wire(&input));
