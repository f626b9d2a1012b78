//! `modspec bench`: the load generator and the runner-rate comparison.

use clap::Args;
use std::process::ExitCode;

use super::run::CasesArg;
use super::{TlsArgs, flags, runtime};

#[derive(Args)]
pub(crate) struct BenchArgs {
    /// Concurrent clients, each with its own world (1..=1024).
    #[arg(long, default_value_t = 32, value_parser = flags::jobs())]
    clients: usize,
    /// Total requests (1..=10000000).
    #[arg(long, default_value_t = 100_000, value_parser = flags::count(1, 10_000_000))]
    requests: usize,
    /// Target base URL; default: the embedded server on loopback.
    #[arg(long)]
    target: Option<reqwest::Url>,
    /// Then run the case library this many times against the same server and
    /// print the runner's request rate and its ratio to the load generator's
    /// (0..=1000).
    #[arg(long, default_value_t = 0, value_parser = flags::count(0, 1000))]
    suite_rounds: usize,
    #[command(flatten)]
    cases: CasesArg,
    #[command(flatten)]
    tls: TlsArgs,
}

pub(crate) fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let opts = modspec::bench::BenchOptions {
        clients: args.clients,
        requests: args.requests,
        target: args.target,
        suite_rounds: args.suite_rounds,
        cases: args.cases.library(),
        tls: args.tls.options(),
    };
    let (report, suite) = runtime()?.block_on(modspec::bench::run(&opts))?;
    println!(
        "load generator: requests={} clients={} elapsed={:.2}s rate={:.0}/s p50={:.0}us p99={:.0}us unexpected={}",
        report.requests,
        opts.clients,
        report.elapsed.as_secs_f64(),
        report.per_second(),
        report.p50.as_secs_f64() * 1e6,
        report.p99.as_secs_f64() * 1e6,
        report.unexpected
    );
    if let Some(s) = &suite {
        println!(
            "runner: rounds={} trials={} api_requests={} elapsed={:.2}s rate={:.0}/s failures={} ratio_to_load_generator={:.3}",
            s.rounds,
            s.trials,
            s.api_requests,
            s.elapsed.as_secs_f64(),
            s.per_second(),
            s.failures,
            s.per_second() / report.per_second()
        );
    }
    let suite_ok = suite.as_ref().is_none_or(|s| s.failures == 0);
    Ok(if report.unexpected == 0 && suite_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
