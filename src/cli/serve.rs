//! `modspec serve`: the reference server, with its listeners, TLS, limits
//! and graceful shutdown.

use anyhow::Context;
use clap::Args;
use modspec::server::{Server, ServerConfig, TlsIdentity};
use modspec::spec::{MUTANTS, Mutant};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use super::limits::LimitArgs;
use super::runtime;

#[derive(Args)]
pub(crate) struct ServeArgs {
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
    /// Variation mode: keep every contract rule but vary, answer by answer
    /// and reproducibly from SEED, everything the contract leaves free
    /// (HostId with or without its port, RequestId letter case, JSON key
    /// order and whitespace, `Recommend`, XML whitespace, unknown fields and
    /// headers, header-name case). A checker that fails this server demands
    /// more than the contract: docs/spec/behaviour.md section 2.3.
    #[arg(long, value_name = "SEED")]
    vary: Option<u64>,
    /// Serve the control protocol on this address, apart from the API.
    /// Default: beside the API when --listen is a loopback address, else on
    /// a separate listener at 127.0.0.1 (free port, printed on the second
    /// line), since the control protocol hands out credentials.
    #[arg(long, value_name = "ADDR")]
    control_listen: Option<SocketAddr>,
    /// Serve HTTPS with this PEM certificate chain (leaf first), on the API
    /// and the control listener alike; needs --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
}

pub(crate) fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
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
    let (limits, conn) = args.limits.limits()?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsIdentity::from_pem_files(cert, key)?),
        _ => None,
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "modspec=info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person watching, never into a log file or pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = ServerConfig {
        auth: !args.no_auth,
        control: !args.no_control,
        mutant,
        vary: args.vary,
        limits,
        conn,
        tls,
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
            println!(
                "control: {}://{control}{}",
                server.scheme(),
                modspec::server::CONTROL_PREFIX
            );
        }
        if args.no_control {
            tracing::info!("serving the ECS API only (--no-control)");
        }
        if let Some(seed) = args.vary {
            tracing::info!("variation mode, seed {seed}: free parts of answers vary (behaviour.md 2.3)");
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
pub(crate) async fn shutdown_signal() {
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
