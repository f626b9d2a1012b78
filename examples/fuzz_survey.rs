//! How many generated cases the fuzzer needs to find each built-in mutant
//! (seed 1, in-process, stopping at the first disagreement); prints a
//! Markdown table for BENCHMARKS.md. About a minute in release:
//! `cargo run --release --example fuzz_survey`.

use modspec::fuzz::{FuzzOptions, FuzzReport, fuzz};
use modspec::spec::Mutant;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn campaign(seed: u64, runs: u64, mutant: Option<&str>) -> FuzzOptions {
    let mut o = FuzzOptions::new(seed);
    o.in_process = true;
    o.runs = Some(runs);
    o.jobs = modspec::runner::Jobs::Fixed(4);
    o.mutant = mutant.map(|m| m.parse::<Mutant>().expect("mutant name"));
    o
}

fn go(rt: &tokio::runtime::Runtime, o: &FuzzOptions) -> FuzzReport {
    rt.block_on(fuzz(o)).unwrap_or_else(|e| panic!("fuzz: {e}"))
}

fn main() {
    let rt = runtime();
    let mut lines = Vec::new();
    for m in modspec::spec::MUTANTS {
        let mut o = campaign(1, 20_000, Some(m.name));
        o.stop_at_first = true;
        o.max_findings = 1;
        let report = go(&rt, &o);
        lines.push(match report.findings.first() {
            Some(f) => format!("| {} | {} | {} |", m.name, f.index + 1, f.disagreement),
            None => format!("| {} | not found | |", m.name),
        });
    }
    eprintln!("{}", lines.join("\n"));
}
