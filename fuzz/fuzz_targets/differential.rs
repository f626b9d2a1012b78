//! Generated cases against `MODSPEC_TARGET` (default: the embedded
//! reference server) over HTTP, compared with the oracle.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modspec::fuzz::{Case, targets};

fuzz_target!(|case: Case| targets::differential(&case));
