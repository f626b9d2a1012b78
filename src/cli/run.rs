//! `modspec run`: options, credentials (environment or file, never the command line), reports and the exit code.

use anyhow::Context;
use clap::Args;
use modspec::client::Secret;
use modspec::commands::{RunOptions, Selection, is_not_run};
use modspec::report::{ExitStatus, print_results, render_json, render_junit, render_summary};
use modspec::runner::Progress;
use modspec::scenario::{Cases, Signature};
use modspec::spec::Mutant;
use modspec::util::terminal_safe as safe;
use reqwest::Url;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::progress::Ticker;
use super::{TlsArgs, flags, runtime};

#[derive(Args)]
pub(crate) struct CasesArg {
    /// Run the case files of this folder instead of the built-in library
    /// (repeatable). A folder without a `world.yaml` starts from the
    /// built-in default world, so a folder of fuzz findings runs as it is.
    /// `modspec cases export DIR` writes the built-in library out.
    #[arg(long, value_name = "DIR")]
    pub(crate) cases: Vec<PathBuf>,
}

impl CasesArg {
    pub(crate) fn library(&self) -> Cases {
        Cases::from(self.cases.clone())
    }
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
    /// Scenarios run at once (1..=1024). Default: adaptive, starting at 2
    /// and rising (up to 32) while the target keeps up, halved when it
    /// refuses or drops connections; a trial whose connection was dropped
    /// under load is retried. A number fixes it.
    #[arg(long, value_parser = flags::jobs())]
    jobs: Option<usize>,
    /// Per-request timeout in seconds (0.001..=3600).
    #[arg(long, default_value_t = 10.0, value_parser = flags::timeout_seconds)]
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
    /// Embedded server only: its variation mode (`modspec serve --vary`),
    /// which varies what the contract leaves free; every trial must still
    /// pass, or a check demands more than the contract.
    #[arg(long, value_name = "SEED", conflicts_with = "target")]
    vary: Option<u64>,
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
    /// An existing instance of the live account (repeatable): live cases
    /// that need one (DryRun requests, which change nothing) run against
    /// each, on a target without the control protocol.
    #[arg(long, value_name = "ID")]
    instance_id: Vec<String>,
    #[command(flatten)]
    tls: TlsArgs,
    /// Bound the whole run (`90s`, `10m`, `1h`): scenarios not started by
    /// then are not run, scenarios still running are cut off; they are
    /// listed as `not run`, the results of the others are kept, and the
    /// exit status is 2.
    #[arg(long, value_name = "DURATION", value_parser = flags::deadline)]
    deadline: Option<Duration>,
    /// Seconds between progress lines on stderr when it is not a terminal
    /// (a CI log); 0 turns them off.
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = flags::count(0, 3600))]
    progress: usize,
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
    let mut opts = RunOptions::embedded(args.cases.library());
    opts.target = args.target;
    opts.control = args.control;
    opts.mutant = mutant;
    opts.vary = args.vary;
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
        opts.jobs = modspec::runner::Jobs::Fixed(j);
    }
    opts.timeout = Duration::from_secs_f64(args.timeout);
    opts.env_credentials = credentials(args.credentials_file.as_deref())?;
    opts.allow_changes = args.allow_changes;
    opts.instance_ids = args.instance_id;
    opts.tls = args.tls.options();
    opts.deadline = args.deadline;
    let progress = std::sync::Arc::new(Progress::default());
    opts.progress = Some(progress.clone());
    let ticker = Ticker::start(&progress, Duration::from_secs(args.progress as u64));
    let mut output = runtime()?.block_on(modspec::commands::run(&opts));
    drop(ticker);
    let mut stdout = std::io::stdout().lock();
    print_results(&mut stdout, &output.results, args.verbose)?;
    if let Some(note) = &output.info.control_note {
        println!("note  no control protocol ({}): only live scenarios run", safe(note));
    }
    for r in output.results.iter().filter(|r| is_not_run(r)) {
        println!("not run  {}", safe(&r.id));
    }
    for name in &output.info.unknown_capabilities {
        println!("note  the target lists an unknown capability `{}`", safe(name));
    }
    if let Some(why) = &output.info.changes_withheld {
        let withheld = output
            .results
            .iter()
            .filter(|r| matches!(&r.outcome, modspec::runner::Outcome::Skipped { reason } if reason.starts_with(modspec::runner::WITHHELD)))
            .count();
        println!(
            "note  {}: {withheld} scenario(s) that could change an instance were withheld (--allow-changes sends them)",
            safe(why)
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
        match modspec::snapshots::write_dir(dir, &output.results) {
            Ok(written) => {
                println!(
                    "snapshots: {} written to {}, {} changed",
                    written.current,
                    safe(&dir.display().to_string()),
                    written.changed.len()
                );
                for id in written.changed {
                    println!("changed  {}", safe(&id));
                }
            }
            // The verdicts stand; the snapshots could not be kept, so the
            // run was not done as asked (exit 2).
            Err(e) => {
                output
                    .summary
                    .run_error
                    .get_or_insert_with(|| format!("snapshots: {e}"));
            }
        }
    }
    println!("{}", render_summary(&output.summary));
    Ok(exit(output.summary.exit_status()))
}

pub(crate) fn exit(s: ExitStatus) -> ExitCode {
    ExitCode::from(s as u8)
}
