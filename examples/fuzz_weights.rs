//! Measures what the plain (unsteered) generator reaches and prints
//! `src/fuzz/weights.rs`, the fixed table steering weighs cases by:
//! `cargo run --release --example fuzz_weights > src/fuzz/weights.rs`.
//!
//! Seeds 1001–1004, 50,000 cases each, judged by the model alone (no
//! target: what a conforming target answers). Seeds apart from the ones
//! the survey and CI use, so the table is not fitted to their cases.

use std::collections::BTreeMap;

use modspec::fuzz::{Boundary, Profile, case_at, case_reach, default_world};
use modspec::spec::RuleId;

const SEEDS: std::ops::RangeInclusive<u64> = 1001..=1004;
const CASES_PER_SEED: u64 = 50_000;

fn main() {
    let defaults = default_world().expect("default world");
    let mut rules: BTreeMap<RuleId, u32> = BTreeMap::new();
    let mut boundaries: BTreeMap<Boundary, u32> = BTreeMap::new();
    let mut pairs: BTreeMap<(RuleId, RuleId), u32> = BTreeMap::new();
    let mut cases = 0u64;
    for seed in SEEDS {
        for i in 0..CASES_PER_SEED {
            let Some(case) = case_at(seed, i, Profile::FULL, defaults, false) else {
                continue;
            };
            cases += 1;
            let reach = case_reach(&case, defaults, true);
            for r in reach.rules {
                *rules.entry(r).or_default() += 1;
            }
            for b in reach.boundaries.iter() {
                *boundaries.entry(b).or_default() += 1;
            }
            for p in reach.pairs {
                *pairs.entry(p).or_default() += 1;
            }
        }
    }
    println!("//! How many cases of the plain generator reach each rule, boundary and");
    println!("//! precedence pair: steering's fixed table (`steer.rs` weighs an item by");
    println!("//! the inverse of its share). Measured, not written by hand:");
    println!("//! `cargo run --release --example fuzz_weights > src/fuzz/weights.rs`");
    println!(
        "//! (seeds {}–{}, {CASES_PER_SEED} cases each, judged by the model).",
        SEEDS.start(),
        SEEDS.end()
    );
    println!("//! Regenerate it when the generator or the rules change.\n");
    println!("use super::reach::Boundary::{{self, *}};");
    println!("use crate::spec::RuleId::{{self, *}};\n");
    println!("pub(super) const CASES_MEASURED: u64 = {cases};\n");
    let rules: Vec<String> = rules.iter().map(|(r, n)| format!("({r}, {n}),")).collect();
    table("RULE_REACH: &[(RuleId, u32)]", &rules, 6);
    let boundaries: Vec<String> = boundaries.iter().map(|(b, n)| format!("({b:?}, {n}),")).collect();
    table("BOUNDARY_REACH: &[(Boundary, u32)]", &boundaries, 3);
    println!("/// Sorted by (winner, runner-up), for binary search.");
    let pairs: Vec<String> = pairs.iter().map(|((w, l), n)| format!("({w}, {l}, {n}),")).collect();
    table("PAIR_REACH: &[(RuleId, RuleId, u32)]", &pairs, 5);
}

/// A constant, `per_line` entries a line (a long table stays short).
fn table(head: &str, entries: &[String], per_line: usize) {
    println!("#[rustfmt::skip]");
    println!("pub(super) const {head} = &[");
    for line in entries.chunks(per_line) {
        println!("    {}", line.join(" "));
    }
    println!("];\n");
}
