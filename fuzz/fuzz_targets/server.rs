//! The reference server's handler in-process: never panics, answers are
//! well-formed, structured requests get the oracle's answers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modspec::fuzz::targets::{self, ServerInput};

fuzz_target!(|input: ServerInput| targets::server(&input));
