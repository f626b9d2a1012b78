//! The `modspec` command line: a thin shell over the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use modspec::client::Secret;
use modspec::commands::{RunOptions, Selection};
use modspec::report::{ExitStatus, print_results, render_json, render_junit, render_summary};
use modspec::scenario::Signature;
use modspec::server::{Server, ServerConfig};
use modspec::spec::{MUTANTS, Mutant, RuleId};
use reqwest::Url;

/// Conformance kit for implementations of the Alibaba Cloud ECS API action
/// ModifyInstanceSpec.
#[derive(Parser)]
#[command(name = "modspec", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the scenarios against a target (default: the embedded reference
    /// server). Exit code 0: all passed; 1: some scenario failed (the target
    /// is nonconformant); 2: the run could not be done properly (target
    /// unreachable, no control protocol, broken case files).
    Run(Box<RunArgs>),
    /// Run the whole suite against every built-in mutant of the reference
    /// server and show which scenarios catch each one.
    Mutants(MutantsArgs),
    /// Print the rule × (fires, passes) coverage matrix of the case library.
    Coverage(CasesArg),
    /// Print the JSON Schema of the scenario format.
    Schema,
    /// Serve the reference implementation (ECS API on `/`, control protocol
    /// under `/_conformance/v1`). Prints the bound address as its first line.
    Serve(ServeArgs),
    /// Benchmark a server: concurrent clients send signed V3 requests, each
    /// to a fresh world; prints requests/s and p50/p99 latency.
    Bench(BenchArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Do not check signatures, timestamps, nonces or Version (drops the
    /// `auth` capability); the AccessKeyId still selects the world.
    #[arg(long)]
    no_auth: bool,
    /// Plant one bug (for the suite's self-test); `--mutant list` prints them.
    #[arg(long, value_name = "NAME")]
    mutant: Option<String>,
}

#[derive(Args)]
struct CasesArg {
    /// The case library.
    #[arg(long, default_value = "cases")]
    cases: PathBuf,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    cases: CasesArg,
    /// Base URL of the ECS API to check; default: start the embedded server.
    #[arg(long)]
    target: Option<Url>,
    /// Control-protocol base URL; default: <target>/_conformance/v1.
    #[arg(long)]
    control: Option<Url>,
    /// Run only scenarios whose id contains this text (repeatable).
    #[arg(long)]
    filter: Vec<String>,
    /// Run only scenarios with this tag (repeatable).
    #[arg(long)]
    tag: Vec<String>,
    /// Accept only canonical codes and statuses (no aliases) and compare messages.
    #[arg(long)]
    strict: bool,
    /// Default signature style of requests.
    #[arg(long, value_enum, default_value = "v3")]
    signature: SigArg,
    /// Scenarios run at once; default: the number of CPUs.
    #[arg(long)]
    jobs: Option<usize>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Write a JUnit XML report here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write a JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Record each scenario's (redacted) responses as snapshots in this folder
    /// and report which changed.
    #[arg(long)]
    snapshots: Option<PathBuf>,
    /// Embedded server only: plant this mutant (see `modspec serve --mutant list`).
    #[arg(long)]
    mutant: Option<String>,
    /// Also list passing scenarios.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SigArg {
    V1,
    V3,
}

#[derive(Args)]
struct MutantsArgs {
    #[command(flatten)]
    cases: CasesArg,
    /// Only mutants whose name contains this text (repeatable).
    #[arg(long)]
    only: Vec<String>,
}

#[derive(Args)]
struct BenchArgs {
    /// Concurrent clients (each with its own world).
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Total requests.
    #[arg(long, default_value_t = 100_000)]
    requests: usize,
    /// Target base URL; default: the embedded server on loopback.
    #[arg(long)]
    target: Option<reqwest::Url>,
    /// Then run the case library this many times against the same server and
    /// print the runner's request rate and its ratio to the load generator's.
    #[arg(long, default_value_t = 0)]
    suite_rounds: usize,
    #[command(flatten)]
    cases: CasesArg,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Run(args) => run(*args),
        Command::Mutants(args) => mutants(args),
        Command::Coverage(args) => coverage(args),
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&modspec::scenario::json_schema()).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(args) => bench(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mutant = match args.mutant.as_deref() {
        Some("list") => {
            for m in MUTANTS {
                let rules: Vec<_> = m.rules.iter().map(|r| r.to_string()).collect();
                println!("{:<32} {:<8} {}", m.name, rules.join(","), m.what);
            }
            return Ok(ExitCode::SUCCESS);
        }
        Some(name) => Some(name.parse::<Mutant>()?),
        None => None,
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "modspec=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = ServerConfig {
        auth: !args.no_auth,
        mutant,
        ..ServerConfig::default()
    };
    runtime()?.block_on(async {
        let server = Server::bind(args.listen, &config)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = server.local_addr()?;
        // The first stdout line is the address, for scripts that start us on port 0.
        println!("{addr}");
        if let Some(m) = mutant {
            tracing::warn!("serving with mutant {m}: this server is deliberately wrong");
        }
        server.run(shutdown_signal()).await.context("server failed")?;
        tracing::info!("shut down");
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let opts = modspec::bench::BenchOptions {
        clients: args.clients,
        requests: args.requests,
        target: args.target,
        suite_rounds: args.suite_rounds,
        cases: args.cases.cases,
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

/// Credentials for live scenarios against a target without the control
/// protocol: only from the environment, never from the command line.
fn env_credentials() -> Option<(String, Secret)> {
    let id = std::env::var("ALIBABA_CLOUD_ACCESS_KEY_ID").ok()?;
    let secret = std::env::var("ALIBABA_CLOUD_ACCESS_KEY_SECRET").ok()?;
    Some((id, Secret::new(secret)))
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mutant = args.mutant.as_deref().map(str::parse::<Mutant>).transpose()?;
    if mutant.is_some() && args.target.is_some() {
        anyhow::bail!("--mutant plants a bug in the embedded server; it cannot be combined with --target");
    }
    let mut opts = RunOptions::embedded(args.cases.cases);
    opts.target = args.target;
    opts.control = args.control;
    opts.mutant = mutant;
    opts.selection = Selection {
        filters: args.filter,
        tags: args.tag,
    };
    opts.strict = args.strict;
    opts.signature = match args.signature {
        SigArg::V1 => Signature::V1,
        SigArg::V3 => Signature::V3,
    };
    if let Some(j) = args.jobs {
        opts.jobs = j;
    }
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    opts.timeout = Duration::from_secs_f64(args.timeout);
    opts.env_credentials = env_credentials();
    let output = runtime()?.block_on(modspec::commands::run(&opts));
    let mut stdout = std::io::stdout().lock();
    print_results(&mut stdout, &output.results, args.verbose)?;
    for name in &output.info.unknown_capabilities {
        println!("note  the target lists an unknown capability `{name}`");
    }
    if let Some(path) = &args.junit {
        std::fs::write(path, render_junit(&output.results, &output.summary))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.json {
        std::fs::write(path, render_json(&output.results, &output.summary))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(dir) = &args.snapshots {
        let changed = modspec::snapshots::write_dir(dir, &output.results)?;
        println!(
            "snapshots: {} written to {}, {} changed",
            output.results.len(),
            dir.display(),
            changed.len()
        );
        for id in changed {
            println!("changed  {id}");
        }
    }
    println!("{}", render_summary(&output.summary));
    Ok(exit(output.summary.exit_status()))
}

fn exit(s: ExitStatus) -> ExitCode {
    ExitCode::from(s as u8)
}

fn mutants(args: MutantsArgs) -> anyhow::Result<ExitCode> {
    let base = RunOptions::embedded(args.cases.cases);
    let rt = runtime()?;
    let baseline = rt.block_on(modspec::commands::run(&base));
    let clean = baseline.summary.exit_status() == ExitStatus::Passed;
    println!("baseline (no mutant): {}", render_summary(&baseline.summary));
    let verdicts = rt.block_on(modspec::commands::run_mutants(&base, &args.only));
    let mut survived = 0;
    for v in &verdicts {
        let name = v.mutant.name();
        if v.caught() {
            let shown: Vec<_> = v.caught_by.iter().take(3).map(String::as_str).collect();
            let more = v.caught_by.len().saturating_sub(3);
            let more = if more > 0 { format!(" +{more}") } else { String::new() };
            println!("caught    {name:<32} by {}{more}", shown.join(", "));
        } else {
            survived += 1;
            println!("SURVIVED  {name:<32} {}", v.mutant.spec().what);
        }
        if !v.errors.is_empty() {
            println!(
                "          {} scenario(s) errored against it: {}",
                v.errors.len(),
                v.errors.join(", ")
            );
        }
    }
    println!("{} of {} mutants caught", verdicts.len() - survived, verdicts.len());
    Ok(if clean && survived == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn coverage(args: CasesArg) -> anyhow::Result<ExitCode> {
    let lib = modspec::scenario::load_library(&args.cases);
    for e in &lib.errors {
        eprintln!("error: {e}");
    }
    let c = modspec::commands::coverage(&lib.trials);
    println!(
        "{:<5} {:>6} {:>7}  scenarios (fires | passes)",
        "rule", "fires", "passes"
    );
    for r in RuleId::all() {
        let f = &c.fires[&r];
        let p = &c.passes[&r];
        let sample = |v: &Vec<String>| v.iter().take(2).cloned().collect::<Vec<_>>().join(", ");
        println!(
            "{:<5} {:>6} {:>7}  {} | {}",
            r.as_str(),
            f.len(),
            p.len(),
            sample(f),
            sample(p)
        );
    }
    let holes = c.holes();
    for (r, kind) in &holes {
        println!("EMPTY {r} {kind}");
    }
    println!("{} trials, {} empty cells", lib.trials.len(), holes.len());
    Ok(if holes.is_empty() && lib.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
