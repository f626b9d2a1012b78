//! `modspec run`: options, credentials (environment or file, never the command line), reports and the exit code.

use anyhow::Context;
use clap::Args;
use modspec::client::Secret;
use modspec::commands::{RunOptions, Selection};
use modspec::report::{ExitStatus, print_results, render_json, render_junit, render_summary};
use modspec::scenario::Signature;
use modspec::spec::Mutant;
use reqwest::Url;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::runtime;

#[derive(Args)]
pub(crate) struct CasesArg {
    /// The case library.
    #[arg(long, default_value = "cases")]
    pub(crate) cases: PathBuf,
}

#[derive(Args)]
pub(crate) struct RunArgs {
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
pub(crate) enum SigArg {
    V1,
    V3,
}

/// Credentials for live scenarios against a target without the control
/// protocol: from `--credentials-file` or the environment, never from the
/// command line.
pub(crate) fn credentials(file: Option<&std::path::Path>) -> anyhow::Result<Option<(String, Secret)>> {
    match file {
        Some(path) => Ok(Some(modspec::runner::load_credentials(path)?)),
        None => Ok(env_credentials()),
    }
}

pub(crate) fn env_credentials() -> Option<(String, Secret)> {
    let id = std::env::var("ALIBABA_CLOUD_ACCESS_KEY_ID").ok()?;
    let secret = std::env::var("ALIBABA_CLOUD_ACCESS_KEY_SECRET").ok()?;
    Some((id, Secret::new(secret)))
}

pub(crate) fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
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

pub(crate) fn exit(s: ExitStatus) -> ExitCode {
    ExitCode::from(s as u8)
}
