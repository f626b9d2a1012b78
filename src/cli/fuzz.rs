//! `modspec fuzz`: the stable fuzzer mode and `--replay`.

use clap::{Args, Subcommand};
use modspec::fuzz::{FuzzError, Shard};
use modspec::report::print_results;
use modspec::runner::{Jobs, START};
use modspec::spec::Mutant;
use modspec::util::terminal_safe as safe;
use reqwest::Url;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use super::run::exit;
use super::{TlsArgs, flags, runtime};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct FuzzArgs {
    #[command(subcommand)]
    command: Option<FuzzCommand>,
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
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    runs: Option<u64>,
    /// Run for this long (`90s`, `10m`, `1h`; at most 720h); with --runs,
    /// whichever ends first.
    #[arg(long, value_parser = flags::fuzz_time)]
    time: Option<Duration>,
    /// Seed of the generator: the same seed gives the same cases and findings.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run only the K-th of N disjoint slices of the seed's case stream
    /// (case i belongs to shard i % N + 1): N jobs with one seed and
    /// `--shard 1/N` … `--shard N/N` run exactly the unsharded campaign's
    /// cases; merge their findings with `modspec fuzz merge`.
    #[arg(long, value_name = "K/N", default_value = "1/1")]
    shard: Shard,
    /// Plain generation: case i is the generator's first candidate, not the
    /// one of several that reaches the rarest rules, boundaries and
    /// precedence pairs (a seed then means other cases).
    #[arg(long)]
    no_steer: bool,
    /// Write the campaign summary here (JSON: cases, requests, rate,
    /// errors, findings with their keys, spec coverage: rules, boundaries,
    /// precedence pairs).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Folder for the findings (scenario YAML, raw exchange and
    /// `.finding.json` record per finding).
    #[arg(long, default_value = "fuzz-findings")]
    out: PathBuf,
    /// Cases run at once (1..=1024). Default: adaptive, starting at 2 and
    /// rising (up to 32) while the target keeps up, halved when it refuses
    /// or drops connections (a mock on a stock HTTP server, such as
    /// Python's http.server with a listen backlog of 5 and one thread,
    /// cannot take many at once); a case whose connection was dropped
    /// under load is retried. A number fixes it.
    #[arg(long, value_parser = flags::jobs())]
    jobs: Option<usize>,
    /// Findings to shrink and write (the first case of each kind of
    /// disagreement; 0..=1000).
    #[arg(long, default_value_t = 5, value_parser = flags::count(0, 1000))]
    max_findings: usize,
    /// Per-request timeout in seconds (0.001..=3600).
    #[arg(long, default_value_t = 10.0, value_parser = flags::timeout_seconds)]
    timeout: f64,
    /// Re-send a finding (its scenario file) and show the target's answers.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["runs", "time"])]
    replay: Option<PathBuf>,
    #[command(flatten)]
    tls: TlsArgs,
}

#[derive(Subcommand)]
pub(crate) enum FuzzCommand {
    /// Combine the findings of shards or nights into one deduplicated set.
    ///
    /// Findings are grouped by key (the rule the oracle expected and the
    /// check that failed); of each key the smallest reproducer is kept and
    /// the case counts are added. Writes the kept findings, merged.json
    /// and new.txt (keys absent from --baseline) into --out.
    ///
    /// Exit code 0: nothing new (no finding, or all in the baseline);
    /// 1: new findings; 2: the merge could not be done (unreadable folder
    /// or record).
    Merge(MergeArgs),
}

#[derive(Args)]
pub(crate) struct MergeArgs {
    /// Folders of findings (`modspec fuzz --out`, or earlier merges).
    #[arg(required = true, value_name = "DIR")]
    inputs: Vec<PathBuf>,
    /// Where the merged findings go (created if needed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Findings already known (e.g. last night's merge, committed): only
    /// keys absent from it are new.
    #[arg(long, value_name = "DIR")]
    baseline: Option<PathBuf>,
}

fn merge(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let report = modspec::fuzz::merge(&args.inputs, &args.out, args.baseline.as_deref())?;
    println!(
        "merge: inputs={} findings_read={} keys={} new={}{}",
        report.inputs,
        report.read,
        report.findings.len(),
        report.new_keys().len(),
        report
            .baseline
            .map(|n| format!(" baseline_keys={n}"))
            .unwrap_or_default()
    );
    for f in &report.findings {
        println!(
            "{} {} count={} seed={} shard={} case={} steps={}: {}",
            if f.new { "new  " } else { "known" },
            safe(&f.key),
            f.count,
            f.seed,
            safe(&f.shard),
            f.case,
            f.steps,
            safe(&f.summary)
        );
    }
    println!("wrote {}", safe(&args.out.display().to_string()));
    Ok(if report.new_keys().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub(crate) fn fuzz(args: FuzzArgs) -> anyhow::Result<ExitCode> {
    if let Some(FuzzCommand::Merge(m)) = args.command {
        return merge(m);
    }
    let mutant = args.mutant.as_deref().map(str::parse::<Mutant>).transpose()?;
    let timeout = Duration::from_secs_f64(args.timeout);
    let tls = args.tls.clone().options();
    let rt = runtime()?;
    if let Some(file) = &args.replay {
        let replay = modspec::fuzz::replay(file, args.target.as_ref(), args.control.as_ref(), mutant, timeout, &tls);
        return replayed(rt.block_on(replay)?);
    }
    let mut opts = modspec::fuzz::FuzzOptions::new(args.seed);
    opts.target = args.target;
    opts.control = args.control;
    opts.mutant = mutant;
    opts.runs = args.runs;
    opts.time = args.time;
    opts.out = Some(args.out);
    opts.jobs = args.jobs.map_or(Jobs::Adaptive, Jobs::Fixed);
    opts.max_findings = args.max_findings;
    // A bar on a terminal; in a log, a line every few seconds.
    let terminal = std::io::stderr().is_terminal();
    opts.progress = terminal;
    opts.progress_lines = (!terminal).then_some(Duration::from_secs(3));
    opts.shard = args.shard;
    opts.steer = !args.no_steer;
    opts.timeout = timeout;
    opts.tls = tls;
    let report = rt.block_on(modspec::fuzz::fuzz(&opts)).map_err(|e| {
        let hint = load_hint(
            e.unanswered().is_some() || matches!(e, FuzzError::Overloaded { .. }),
            opts.jobs,
        );
        let e = anyhow::Error::new(e);
        match hint {
            Some(hint) => e.context(hint),
            None => e,
        }
    })?;
    finish(&report, &opts, args.json.as_deref())
}

/// Prints the campaign's report and findings (and writes `--json`); the
/// exit status.
fn finish(
    report: &modspec::fuzz::FuzzReport,
    opts: &modspec::fuzz::FuzzOptions,
    json: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    print!("{}", report.coverage.table());
    if let Some(path) = json {
        std::fs::write(path, modspec::fuzz::summary_json(report, opts.seed))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "fuzz: target={} seed={} shard={} cases={} requests={} elapsed={:.2}s rate={:.0} req/s disagreeing_cases={} errors={} findings={}",
        safe(&report.target),
        opts.seed,
        opts.shard,
        report.cases,
        report.requests,
        report.elapsed.as_secs_f64(),
        report.requests_per_second(),
        report.disagreeing_cases,
        report.errors,
        report.findings.len()
    );
    for f in &report.findings {
        let rule = f.disagreement.expected_rule;
        println!(
            "finding {} key={} (case {}, {} case(s)): {}",
            f.name,
            safe(&f.key),
            f.index,
            f.count,
            safe(&f.disagreement.to_string())
        );
        println!("  rule {rule}: {} (`modspec rules {rule}`)", rule.spec().summary);
        for path in &f.files {
            println!("  wrote {}", safe(&path.display().to_string()));
        }
    }
    if let Some(e) = &report.first_error {
        println!("{} case(s) could not be run; the first: {}", report.errors, safe(e));
        if let Some(hint) = load_hint(report.first_error_unanswered, opts.jobs) {
            println!("{hint}");
        }
    }
    // As for `run`: harness trouble outranks findings (2), then findings (1).
    Ok(if report.errors > 0 {
        ExitCode::from(2)
    } else if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Prints a replayed finding's results and answers; its exit status.
fn replayed(results: Vec<modspec::runner::TrialResult>) -> anyhow::Result<ExitCode> {
    print_results(&mut std::io::stdout().lock(), &results, true)?;
    for rec in results.iter().flat_map(|r| &r.recorded) {
        println!(
            "{}: {} {}\n{}",
            safe(&rec.step),
            rec.status,
            safe(&rec.content_type),
            safe(&rec.body)
        );
    }
    // A finding that could not run (skipped: the target lacks what it
    // needs) reproduced nothing: that is not a pass.
    if let Some(reason) = results.iter().find_map(|r| match &r.outcome {
        modspec::runner::Outcome::Skipped { reason } => Some(reason),
        _ => None,
    }) {
        eprintln!("the finding could not be replayed: {}", safe(reason));
        return Ok(ExitCode::from(2));
    }
    Ok(exit(
        modspec::report::Summary::of(&results, Duration::ZERO).exit_status(),
    ))
}

/// Connections refused, reset or timed out (`dropped`): say so, and how
/// to ease the load.
fn load_hint(dropped: bool, jobs: Jobs) -> Option<String> {
    let at_once = match jobs {
        Jobs::Fixed(1) => return None,
        _ if !dropped => return None,
        Jobs::Fixed(n) => format!("with {n} cases at once: "),
        Jobs::Adaptive => format!("under adaptive load ({START} cases at once at first, halved on each drop): "),
    };
    let fewer = match jobs {
        Jobs::Fixed(n) => (n / 8).max(1),
        Jobs::Adaptive => 1,
    };
    Some(format!(
        "the target refused or dropped connections {at_once}a server with a small listen backlog or few threads \
         cannot keep up; retry with fewer, e.g. --jobs {fewer}, or a longer --timeout"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_failing_under_load_suggest_fewer_jobs() {
        let hint = load_hint(true, Jobs::Fixed(64)).unwrap();
        assert!(hint.contains("64 cases at once") && hint.contains("--jobs 8"), "{hint}");
        assert!(load_hint(true, Jobs::Fixed(8)).unwrap().contains("--jobs 1"));
        let adaptive = load_hint(true, Jobs::Adaptive).unwrap();
        assert!(
            adaptive.contains("adaptive") && adaptive.contains("--jobs 1"),
            "{adaptive}"
        );
        // One job at a time cannot be eased, and other errors are not load.
        assert_eq!(load_hint(true, Jobs::Fixed(1)), None);
        assert_eq!(load_hint(false, Jobs::Fixed(64)), None);
        assert_eq!(load_hint(false, Jobs::Adaptive), None);
    }
}
