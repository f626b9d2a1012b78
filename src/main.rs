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
    /// Fuzz a target (default: the embedded server): generated edge-case
    /// worlds and requests, each answer compared with the oracle; every
    /// kind of disagreement is shrunk and written as a scenario. Exit code
    /// 0: no disagreement; 1: findings; 2: the run could not be done.
    Fuzz(Box<FuzzArgs>),
}

#[derive(Args)]
struct FuzzArgs {
    /// Base URL of the ECS API to fuzz; default: the embedded server over loopback.
    #[arg(long)]
    target: Option<Url>,
    /// Control-protocol base URL; default: <target>/_conformance/v1.
    #[arg(long)]
    control: Option<Url>,
    /// Embedded server only: plant this mutant (see `modspec serve --mutant list`).
    #[arg(long)]
    mutant: Option<String>,
    /// Cases to run (default 10000, or unlimited with --time).
    #[arg(long)]
    runs: Option<u64>,
    /// Run for this long (`90s`, `10m`, `1h`); with --runs, whichever ends first.
    #[arg(long)]
    time: Option<String>,
    /// Seed of the generator: the same seed gives the same cases and findings.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Folder for the findings (scenario YAML and raw exchange per finding).
    #[arg(long, default_value = "fuzz-findings")]
    out: PathBuf,
    /// Cases run at once.
    #[arg(long, default_value_t = 64)]
    jobs: usize,
    /// Findings to shrink and write (the first case of each kind of disagreement).
    #[arg(long, default_value_t = 5)]
    max_findings: usize,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Re-send a finding (its scenario file) and show the target's answers.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["runs", "time"])]
    replay: Option<PathBuf>,
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
    /// Serve only the ECS API, no control protocol (no worlds can be made).
    #[arg(long, conflicts_with = "control_listen")]
    no_control: bool,
    /// Serve the control protocol on this address, apart from the API.
    /// Default: beside the API when --listen is a loopback address, else on
    /// a separate listener at 127.0.0.1 (free port, printed on the second
    /// line), since the control protocol hands out credentials.
    #[arg(long, value_name = "ADDR")]
    control_listen: Option<SocketAddr>,
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
    /// Read `access_key_id` and `access_key_secret` for live scenarios from
    /// this file (`name = value` lines or JSON) instead of the environment.
    /// Secrets are never taken from the command line.
    #[arg(long, value_name = "PATH")]
    credentials_file: Option<PathBuf>,
    /// Against a target that is not on loopback and has no control protocol
    /// (possibly a real cloud account), also send live requests that could
    /// change an instance. Without it only requests that cannot succeed
    /// (invalid parameters, DryRun=true, unknown instances, gateway
    /// refusals) are sent; the others are reported as skipped.
    #[arg(long)]
    allow_changes: bool,
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
        Command::Fuzz(args) => fuzz(*args),
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
        control: !args.no_control,
        mutant,
        ..ServerConfig::default()
    };
    // The control protocol hands out credentials and rewrites worlds: it
    // stays on loopback unless asked otherwise.
    let split = match args.control_listen {
        _ if args.no_control => None,
        Some(addr) if addr == args.listen => None,
        Some(addr) => Some(addr),
        None if args.listen.ip().is_loopback() => None,
        None => Some(SocketAddr::from(([127, 0, 0, 1], 0))),
    };
    runtime()?.block_on(async {
        let server = match split {
            Some(control) => Server::bind_split(args.listen, control, &config)
                .await
                .with_context(|| format!("cannot listen on {} and {control}", args.listen))?,
            None => Server::bind(args.listen, &config)
                .await
                .with_context(|| format!("cannot listen on {}", args.listen))?,
        };
        let addr = server.local_addr()?;
        // The first stdout line is the address, for scripts that start us on port 0.
        println!("{addr}");
        if let Some(control) = server.control_addr().transpose()? {
            println!("control: http://{control}{}", modspec::server::CONTROL_PREFIX);
        }
        if args.no_control {
            tracing::info!("serving the ECS API only (--no-control)");
        }
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
/// protocol: from `--credentials-file` or the environment, never from the
/// command line.
fn credentials(file: Option<&std::path::Path>) -> anyhow::Result<Option<(String, Secret)>> {
    match file {
        Some(path) => Ok(Some(modspec::runner::load_credentials(path)?)),
        None => Ok(env_credentials()),
    }
}

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
    opts.env_credentials = credentials(args.credentials_file.as_deref())?;
    opts.allow_changes = args.allow_changes;
    let output = runtime()?.block_on(modspec::commands::run(&opts));
    let mut stdout = std::io::stdout().lock();
    print_results(&mut stdout, &output.results, args.verbose)?;
    for name in &output.info.unknown_capabilities {
        println!("note  the target lists an unknown capability `{name}`");
    }
    if let Some(why) = &output.info.changes_withheld {
        let withheld = output
            .results
            .iter()
            .filter(|r| matches!(&r.outcome, modspec::runner::Outcome::Skipped { reason } if reason.starts_with(modspec::runner::WITHHELD)))
            .count();
        println!(
            "note  {why}: {withheld} scenario(s) that could change an instance were withheld (--allow-changes sends them)"
        );
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

fn fuzz(args: FuzzArgs) -> anyhow::Result<ExitCode> {
    let mutant = args.mutant.as_deref().map(str::parse::<Mutant>).transpose()?;
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        anyhow::bail!("--timeout must be a positive number of seconds");
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let rt = runtime()?;
    if let Some(file) = &args.replay {
        let replay = modspec::fuzz::replay(file, args.target.as_ref(), args.control.as_ref(), mutant, timeout);
        let results = rt.block_on(replay)?;
        print_results(&mut std::io::stdout().lock(), &results, true)?;
        for rec in results.iter().flat_map(|r| &r.recorded) {
            println!("{}: {} {}\n{}", rec.step, rec.status, rec.content_type, rec.body);
        }
        return Ok(exit(
            modspec::report::Summary::of(&results, Duration::ZERO).exit_status(),
        ));
    }
    let mut opts = modspec::fuzz::FuzzOptions::new(args.seed);
    opts.target = args.target;
    opts.control = args.control;
    opts.mutant = mutant;
    opts.runs = args.runs;
    opts.time = args.time.as_deref().map(modspec::fuzz::parse_duration).transpose()?;
    opts.out = Some(args.out);
    opts.jobs = args.jobs;
    opts.max_findings = args.max_findings;
    opts.progress = true;
    opts.timeout = timeout;
    let report = rt.block_on(modspec::fuzz::fuzz(&opts))?;
    println!(
        "fuzz: target={} seed={} cases={} requests={} elapsed={:.2}s rate={:.0} req/s disagreeing_cases={} findings={}",
        report.target,
        opts.seed,
        report.cases,
        report.requests,
        report.elapsed.as_secs_f64(),
        report.requests_per_second(),
        report.disagreeing_cases,
        report.findings.len()
    );
    for f in &report.findings {
        println!("finding {} (case {}): {}", f.name, f.index, f.disagreement);
        for path in &f.files {
            println!("  wrote {}", path.display());
        }
    }
    Ok(if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
