//! The `modspec` command line: a thin shell over the library.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use modspec::server::{Server, ServerConfig};
use modspec::spec::{MUTANTS, Mutant};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
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
    };
    let report = runtime()?.block_on(modspec::bench::run(&opts))?;
    println!(
        "requests={} clients={} elapsed={:.2}s rate={:.0}/s p50={:.0}us p99={:.0}us unexpected={}",
        report.requests,
        opts.clients,
        report.elapsed.as_secs_f64(),
        report.per_second(),
        report.p50.as_secs_f64() * 1e6,
        report.p99.as_secs_f64() * 1e6,
        report.unexpected
    );
    Ok(if report.unexpected == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
