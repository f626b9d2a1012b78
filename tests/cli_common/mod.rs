//! Shared by the tests that run `modspec` as a user does (the built binary)
//! or drive a fuzz campaign through the library: the binary and its
//! output, a scratch folder per test binary, a runtime, and an in-process
//! campaign against the reference handler.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use modspec::fuzz::{FuzzOptions, FuzzReport, fuzz};
use modspec::spec::Mutant;

/// Runs the built binary from the package root, as a user in a checkout.
pub fn modspec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_modspec"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run modspec")
}

/// Its stdout then its stderr, for assertions and failure messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// An empty folder named for this test binary, this process and `name`,
/// so concurrent test binaries never share one.
pub fn scratch(name: &str) -> PathBuf {
    let crate_name = env!("CARGO_CRATE_NAME").replace('_', "-");
    let dir = std::env::temp_dir().join(format!("modspec-{crate_name}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// `runs` cases of `seed` against the reference handler in-process (no
/// sockets, fast in debug builds), with `mutant` planted if named.
pub fn campaign(seed: u64, runs: u64, mutant: Option<&str>) -> FuzzOptions {
    let mut o = FuzzOptions::new(seed);
    o.in_process = true;
    o.runs = Some(runs);
    o.jobs = modspec::runner::Jobs::Fixed(4);
    o.mutant = mutant.map(|m| m.parse::<Mutant>().expect("mutant name"));
    o
}

pub fn go(rt: &tokio::runtime::Runtime, o: &FuzzOptions) -> FuzzReport {
    rt.block_on(fuzz(o)).unwrap_or_else(|e| panic!("fuzz: {e}"))
}
