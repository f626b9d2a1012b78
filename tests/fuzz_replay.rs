//! Replays the committed libFuzzer inputs (`fuzz/seeds/<target>/` and
//! `fuzz/regressions/<target>/`) through the same conversion
//! `fuzz_target!` uses (`T::arbitrary_take_rest`) and the same property
//! functions, so every libFuzzer target is exercised by plain `cargo test`
//! and a crash file committed to `regressions/` stays fixed.
//!
//! `cargo run --example fuzz_write_seeds` regenerates the seeds from the
//! fixed generator stream.

use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use modspec::fuzz::Case;
use modspec::fuzz::targets::{self, OracleInput, ServerInput, WireInput};

fn folder(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target)
}

/// Every file of a target's seed and regression folders, sorted.
fn inputs(target: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in ["seeds", "regressions"] {
        if let Ok(entries) = std::fs::read_dir(folder(kind, target)) {
            files.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files.retain(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')));
    files.sort();
    files
}

/// Runs `f` on every input as libFuzzer would; returns how many ran.
fn replay<T>(target: &str, f: impl Fn(&T)) -> usize
where
    T: for<'a> Arbitrary<'a>,
{
    let files = inputs(target);
    assert!(!files.is_empty(), "no inputs for the `{target}` target under fuzz/");
    let mut ran = 0;
    for path in files {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // `fuzz_target!` skips inputs that do not convert; so do we.
        let Ok(input) = T::arbitrary_take_rest(Unstructured::new(&bytes)) else {
            continue;
        };
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&input)));
        if let Err(e) = run {
            let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
            panic!("{} fails the `{target}` target: {msg}", path.display());
        }
        ran += 1;
    }
    ran
}

#[test]
fn oracle_inputs_hold() {
    assert!(replay::<OracleInput>("oracle", targets::oracle) >= 8);
}

#[test]
fn server_inputs_hold() {
    assert!(replay::<ServerInput>("server", targets::server) >= 8);
}

#[test]
fn wire_inputs_hold() {
    assert!(replay::<WireInput>("wire", targets::wire) >= 8);
}

#[test]
fn differential_inputs_hold() {
    assert!(replay::<Case>("differential", targets::differential) >= 8);
}
