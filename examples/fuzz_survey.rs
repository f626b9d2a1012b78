//! How many generated cases the fuzzer needs to find each built-in mutant
//! (in-process, stopping at the first disagreement); prints a Markdown
//! table for BENCHMARKS.md and a summary line per seed. About a minute in
//! release: `cargo run --release --example fuzz_survey [-- --no-steer]
//! [--seeds 1-5]` (default: seed 1, steered, as `modspec fuzz` runs).

use modspec::fuzz::{FuzzOptions, FuzzReport, fuzz};
use modspec::spec::Mutant;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn campaign(seed: u64, runs: u64, mutant: Option<&str>, steer: bool) -> FuzzOptions {
    let mut o = FuzzOptions::new(seed);
    o.in_process = true;
    o.runs = Some(runs);
    o.steer = steer;
    o.mutant = mutant.map(|m| m.parse::<Mutant>().expect("mutant name"));
    o
}

fn go(rt: &tokio::runtime::Runtime, o: &FuzzOptions) -> FuzzReport {
    rt.block_on(fuzz(o)).unwrap_or_else(|e| panic!("fuzz: {e}"))
}

/// `--seeds A-B` or `--seeds A`.
fn seeds(args: &[String]) -> std::ops::RangeInclusive<u64> {
    let Some(at) = args.iter().position(|a| a == "--seeds") else {
        return 1..=1;
    };
    let spec = args.get(at + 1).expect("--seeds A-B");
    let (a, b) = spec.split_once('-').unwrap_or((spec, spec));
    a.parse().expect("seed")..=b.parse().expect("seed")
}

/// Found count, median, 90th percentile and the slowest mutant.
fn summary(found: &mut [(u64, &str)], total: usize) -> String {
    found.sort_unstable();
    let n = found.len();
    if n == 0 {
        return format!("0 of {total} found");
    }
    let median = if n % 2 == 1 {
        found[n / 2].0 as f64
    } else {
        (found[n / 2 - 1].0 + found[n / 2].0) as f64 / 2.0
    };
    let p90 = found[(n * 9).div_ceil(10) - 1].0;
    let (slow, name) = found[n - 1];
    let sum: u64 = found.iter().map(|f| f.0).sum();
    format!("{n} of {total} found; median {median}, 90th percentile {p90}, slowest {name} {slow}, total {sum}")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let steer = !args.iter().any(|a| a == "--no-steer");
    let rt = runtime();
    for seed in seeds(&args) {
        let mut lines = Vec::new();
        let mut found = Vec::new();
        for m in modspec::spec::MUTANTS {
            let mut o = campaign(seed, 20_000, Some(m.name), steer);
            o.stop_at_first = true;
            o.max_findings = 1;
            let report = go(&rt, &o);
            lines.push(match report.findings.first() {
                Some(f) => {
                    found.push((f.index + 1, m.name));
                    format!("| {} | {} | {} |", m.name, f.index + 1, f.disagreement)
                }
                None => format!("| {} | not found | |", m.name),
            });
        }
        if seed == *seeds(&args).start() {
            eprintln!("{}", lines.join("\n"));
        }
        let total = modspec::spec::MUTANTS.len();
        eprintln!("seed {seed} (steer {steer}): {}", summary(&mut found, total));
    }
}
