//! Replays the committed libFuzzer inputs (`fuzz/seeds/<target>/` and
//! `fuzz/regressions/<target>/`) through the same conversion
//! `fuzz_target!` uses (`T::arbitrary_take_rest`) and the same property
//! functions, so every libFuzzer target is exercised by plain `cargo test`
//! and a crash file committed to `regressions/` stays fixed.
//!
//! `cargo test --test fuzz_replay -- --ignored write_seeds` regenerates
//! the seeds from the fixed generator stream.

use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use modspec::fuzz::targets::{self, OracleInput, ServerInput, WireInput};
use modspec::fuzz::{Case, SplitMix64, case_bytes};

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

#[test]
#[ignore = "regenerates fuzz/seeds/; run by hand after changing the generators"]
fn write_seeds() {
    for (n, target) in ["oracle", "server", "wire", "differential"].into_iter().enumerate() {
        let dir = folder("seeds", target);
        std::fs::create_dir_all(&dir).expect("mkdir");
        for i in 0..24u64 {
            let bytes = match target {
                // The oracle's input is compact; short seeds keep it fast.
                "oracle" => case_bytes(n as u64, i)[..(16 + 4 * i as usize)].to_vec(),
                "wire" => {
                    let mut b = vec![0u8; 512];
                    SplitMix64::new(1000 + i).fill(&mut b);
                    b
                }
                // Small inputs too: libFuzzer grows from them.
                _ if i % 3 == 0 => case_bytes(n as u64, i)[..256].to_vec(),
                _ => case_bytes(n as u64, i),
            };
            std::fs::write(dir.join(format!("seed-{i:02}")), bytes).expect("write");
        }
    }
}
