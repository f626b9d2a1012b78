//! `modspec fuzz`: generate seeded cases, run many at once against a
//! target, collect the disagreements, shrink the first of each kind and
//! write it as a scenario plus its raw exchange.
//!
//! Reproducible by construction: case `i` depends only on `(seed, i)`,
//! findings are chosen by lowest case index after all cases ran, and
//! shrinking is deterministic, so the same seed gives the same findings
//! however the workers interleaved.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Url;

use super::case::{Case, default_world};
use super::coverage::{Coverage, progress_line};
use super::driver::Driver;
use super::error::FuzzError;
use super::exec::{CaseRun, Runner};
use super::finding::{exchange_text, round_trip, scenario_yaml};
use super::generator::Profile;
use super::judge::Disagreement;
use super::merge::RECORD_SUFFIX;
use super::record::{FindingRecord, finding_key};
use super::shard::Shard;
use super::shrink::{SHRINK_BUDGET, shrink};
use super::workers::{Message, Work};
use crate::client::TlsOptions;
use crate::runner::{Jobs, Pacer, start_embedded};
use crate::server::ServerConfig;
use crate::spec::Mutant;

/// Everything `modspec fuzz` takes.
#[derive(Clone, Debug)]
pub struct FuzzOptions {
    /// `None`: the embedded reference server over loopback.
    pub target: Option<Url>,
    pub control: Option<Url>,
    /// Run the reference server's handler in this process, no sockets
    /// (the tests' mode; `target` must be `None`).
    pub in_process: bool,
    /// Embedded or in-process only: plant this bug.
    pub mutant: Option<Mutant>,
    /// Cases to run; with `time` too, whichever ends first.
    pub runs: Option<u64>,
    pub time: Option<Duration>,
    pub seed: u64,
    /// Where findings are written; `None` writes nothing.
    pub out: Option<PathBuf>,
    /// Cases run at once: adaptive (the default) or fixed (`--jobs N`).
    pub jobs: Jobs,
    /// Findings shrunk and reported (the first of each kind, by case index).
    pub max_findings: usize,
    /// Stop at the first disagreeing case (by index).
    pub stop_at_first: bool,
    pub progress: bool,
    /// Instead of a bar: a progress line on stderr this often (for logs).
    pub progress_lines: Option<Duration>,
    /// Which slice of the seed's case stream to run.
    pub shard: Shard,
    /// Lean generation toward what the plain generator reaches rarely
    /// (`steer.rs`); off, case `i` is the plain generator's.
    pub steer: bool,
    /// Keep the index of every case run in `FuzzReport::ran` (tests).
    pub record_indices: bool,
    pub timeout: Duration,
    /// Which TLS servers to trust (`--cacert`, `--insecure`).
    pub tls: TlsOptions,
}

impl FuzzOptions {
    /// 10,000 cases with `seed` against the embedded server, nothing written.
    pub fn new(seed: u64) -> Self {
        FuzzOptions {
            target: None,
            control: None,
            in_process: false,
            mutant: None,
            runs: None,
            time: None,
            seed,
            out: None,
            jobs: Jobs::Adaptive,
            max_findings: 5,
            stop_at_first: false,
            progress: false,
            progress_lines: None,
            shard: Shard::WHOLE,
            steer: true,
            record_indices: false,
            timeout: Duration::from_secs(10),
            tls: TlsOptions::default(),
        }
    }
}

/// One disagreement, shrunk and rendered.
#[derive(Clone, Debug)]
pub struct Finding {
    /// File stem: `<rule>-<kind>-s<seed>[-k<K>of<N>]-c<case>`.
    pub name: String,
    /// What deduplicates it (`record::finding_key`).
    pub key: String,
    /// Cases of the campaign that showed this key.
    pub count: u64,
    /// The case that first showed it.
    pub index: u64,
    pub case: Case,
    pub disagreement: Disagreement,
    /// The scenario YAML, ready to commit.
    pub scenario: String,
    pub exchange: String,
    /// Files written (scenario, exchange), if any.
    pub files: Vec<PathBuf>,
}

/// What a campaign did.
#[derive(Clone, Debug, Default)]
pub struct FuzzReport {
    pub target: String,
    pub cases: u64,
    /// ECS API requests sent (control-protocol calls not counted).
    pub requests: u64,
    pub elapsed: Duration,
    /// Cases whose answers disagreed with the contract.
    pub disagreeing_cases: u64,
    /// Cases that could not be run (transport or harness trouble), and the
    /// first such error. A few are tolerated; many, or a dead target, end
    /// the campaign with an error instead.
    pub errors: u64,
    pub first_error: Option<String>,
    /// The first error was a dropped connection (refused, reset, timed
    /// out), or overload: the CLI suggests `--jobs`.
    pub first_error_unanswered: bool,
    pub findings: Vec<Finding>,
    pub shard: Shard,
    /// Rules, boundaries and precedence pairs the requests sent reached.
    pub coverage: Coverage,
    /// Whether generation was steered (`FuzzOptions::steer`).
    pub steered: bool,
    /// With `record_indices`: the cases run, ascending.
    pub ran: Vec<u64>,
}

impl FuzzReport {
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Parses `90s`, `10m`, `1h` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, FuzzError> {
    let bad = || FuzzError::Duration(s.to_string());
    let (digits, unit) = s
        .trim()
        .split_at(s.trim().find(|c: char| !c.is_ascii_digit()).unwrap_or(s.trim().len()));
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.checked_mul(60).ok_or_else(bad)?,
        "h" => n.checked_mul(3600).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs(secs))
}

/// Runs a campaign.
pub async fn fuzz(opts: &FuzzOptions) -> Result<FuzzReport, FuzzError> {
    if opts.mutant.is_some() && opts.target.is_some() {
        return Err(FuzzError::MutantWithTarget);
    }
    // Made even when nothing is found: a shard with no findings is still
    // one of the folders the nightly merge job reads.
    if let Some(dir) = &opts.out {
        std::fs::create_dir_all(dir).map_err(|source| FuzzError::Write {
            path: dir.clone(),
            source,
        })?;
    }
    let defaults = default_world()?.clone();
    let mut embedded = None;
    let (driver, profile, target) = if opts.in_process {
        (
            Driver::in_process(opts.mutant),
            Profile::FULL,
            "in-process reference server".to_string(),
        )
    } else {
        let url = match &opts.target {
            Some(u) => u.clone(),
            None => {
                let config = ServerConfig {
                    mutant: opts.mutant,
                    ..ServerConfig::default()
                };
                let e = start_embedded(&config).await?;
                let url = e.url.clone();
                embedded = Some(e);
                url
            }
        };
        let (d, p) = Driver::connect(&url, opts.control.as_ref(), opts.timeout, &opts.tls).await?;
        (d, p, url.to_string())
    };
    let runner = Runner {
        driver,
        defaults,
        auth: profile.auth,
        check_state: true,
    };
    let runs = opts.runs.unwrap_or(if opts.time.is_some() { u64::MAX } else { 10_000 });
    let started = Instant::now();
    let mut tally = run_cases(&runner, profile, opts, runs, started).await;
    if tally.fatal {
        if let Some(e) = tally.first_error.take() {
            return Err(e);
        }
    }
    let mut report = FuzzReport {
        target,
        cases: tally.cases,
        requests: tally.requests,
        disagreeing_cases: tally.found.values().map(|f| f.3).sum(),
        errors: tally.errors,
        first_error_unanswered: tally
            .first_error
            .as_ref()
            .is_some_and(|e| e.unanswered().is_some() || matches!(e, FuzzError::Overloaded { .. })),
        first_error: tally.first_error.map(|e| crate::util::error_chain(&e)),
        shard: opts.shard,
        coverage: tally.coverage,
        steered: opts.steer,
        ran: tally.ran,
        ..FuzzReport::default()
    };
    let mut firsts: Vec<(u64, Case, CaseRun, u64)> = tally.found.into_values().collect();
    firsts.sort_by_key(|f| f.0);
    for (index, case, run, count) in firsts.into_iter().take(opts.max_findings) {
        report
            .findings
            .push(finding(&runner, opts, index, case, run, count).await?);
    }
    report.elapsed = started.elapsed();
    drop(embedded);
    Ok(report)
}

/// The first case of each finding key, with its count.
type Found = BTreeMap<String, (u64, Case, CaseRun, u64)>;

/// What the workers produced.
#[derive(Default)]
struct Tally {
    cases: u64,
    requests: u64,
    found: Found,
    errors: u64,
    first_error: Option<FuzzError>,
    coverage: Coverage,
    ran: Vec<u64>,
    /// The target died or kept failing: the campaign is void.
    fatal: bool,
}

/// This many failed cases end a campaign: the target is not answering
/// properly and more cases would only add noise.
const MAX_ERRORS: u64 = 10;

async fn run_cases(runner: &Runner, profile: Profile, opts: &FuzzOptions, runs: u64, started: Instant) -> Tally {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Message>();
    let work = Arc::new(Work {
        runner: runner.clone(),
        profile,
        seed: opts.seed,
        shard: opts.shard,
        next: AtomicU64::new(0),
        limit: AtomicU64::new(runs),
        // A time too large to add to the clock is no deadline at all.
        deadline: opts.time.and_then(|t| started.checked_add(t)),
        pacer: Pacer::new(opts.jobs),
        steer: opts.steer,
    });
    for _ in 0..opts.jobs.most() {
        tokio::spawn(work.clone().worker(tx.clone()));
    }
    drop(tx);
    let bar = progress_bar(opts.progress, opts.runs.filter(|_| opts.time.is_none()));
    let mut t = Tally::default();
    let mut last_line = Instant::now();
    while let Some((i, case, result)) = rx.recv().await {
        t.cases += 1;
        bar.inc(1);
        match result {
            Ok(run) => t.add(i, case, run, opts, &work.limit),
            Err(e) => t.failed(e, &work.limit),
        }
        if opts.progress_lines.is_some_and(|every| last_line.elapsed() >= every) {
            last_line = Instant::now();
            eprintln!(
                "{}",
                progress_line(t.cases, t.requests, started.elapsed(), t.found.len(), t.errors)
            );
        }
        if t.cases % 64 == 0 {
            let rate = t.requests as f64 / started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{rate:.0} req/s, {} disagreement kinds", t.found.len()));
        }
    }
    bar.finish_and_clear();
    // Cases past the stopping point ran only because they were in flight;
    // keeping them would make the findings depend on timing.
    let limit = work.limit.load(Ordering::Relaxed);
    t.found.retain(|_, f| f.0 < limit);
    t.ran.retain(|i| *i < limit);
    t.ran.sort_unstable();
    t
}

impl Tally {
    /// Counts a case that could not be run; too many, or a target found
    /// down, end the campaign.
    fn failed(&mut self, e: FuzzError, limit: &AtomicU64) {
        self.errors += 1;
        // The gate found nothing answered since the case started (or only
        // refusals): the target is down, and more cases would each wait.
        if self.errors >= MAX_ERRORS || e.unanswered().is_some() {
            self.fatal = true;
            limit.store(0, Ordering::Relaxed);
        }
        self.first_error.get_or_insert(e);
    }

    /// Counts one case that ran; its disagreement, if any, becomes or
    /// joins a finding, and with `stop_at_first` lowers the case limit.
    fn add(&mut self, i: u64, case: Case, run: CaseRun, opts: &FuzzOptions, limit: &AtomicU64) {
        self.requests += run.sent.len() as u64;
        if opts.record_indices {
            self.ran.push(i);
        }
        for s in &run.sent {
            self.coverage.add(&s.expected);
        }
        let Some(d) = &run.disagreement else {
            return;
        };
        let key = finding_key(d);
        let slot = self
            .found
            .entry(key)
            .or_insert_with(|| (i, case.clone(), run.clone(), 0));
        slot.3 += 1;
        if i < slot.0 {
            (slot.0, slot.1, slot.2) = (i, case, run);
        }
        if opts.stop_at_first {
            limit.fetch_min(i + 1, Ordering::Relaxed);
        }
    }
}

fn progress_bar(show: bool, len: Option<u64>) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let (bar, template) = match len {
        Some(n) => (
            ProgressBar::new(n),
            "{elapsed_precise} {wide_bar} {pos}/{len} cases, {msg}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {elapsed_precise} {pos} cases, {msg}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Shrinks one disagreement and renders (and writes) it.
async fn finding(
    runner: &Runner,
    opts: &FuzzOptions,
    index: u64,
    case: Case,
    run: CaseRun,
    count: u64,
) -> Result<Finding, FuzzError> {
    let Some(first) = run.disagreement.clone() else {
        return Err(FuzzError::Scenario("a finding without a disagreement".into()));
    };
    let steps_before = case.steps.len();
    let (case, run) = shrink(runner, case, run, &first, SHRINK_BUDGET).await;
    let disagreement = run.disagreement.clone().unwrap_or(first);
    let kind = disagreement.kind.name();
    let shard = match opts.shard.is_whole() {
        true => String::new(),
        false => format!("-k{}of{}", opts.shard.index(), opts.shard.count()),
    };
    let name = format!("{}-{kind}-s{}{shard}-c{index}", disagreement.expected_rule, opts.seed);
    let key = finding_key(&disagreement);
    let mut mutant = opts.mutant.map(|m| format!(" --mutant {m}")).unwrap_or_default();
    if !opts.steer {
        mutant.push_str(" --no-steer");
    }
    let comment = vec![
        format!(
            "Found by `modspec fuzz --seed {} --shard {}{mutant}` (case {index} of the seed's stream, shrunk from {steps_before} to {} steps).",
            opts.seed,
            opts.shard,
            case.steps.len()
        ),
        format!("Key {key}: {count} case(s) of the campaign showed it."),
        format!("The target disagreed: {disagreement}."),
        format!(
            "Rule {}: {}.",
            disagreement.expected_rule,
            disagreement.expected_rule.spec().summary
        ),
        "Review it, name it and move it under cases/ to keep it; expectations are the oracle's.".into(),
    ];
    let description = format!("fuzz finding: {disagreement}");
    let scenario = scenario_yaml(
        &case,
        &runner.defaults,
        disagreement.expected_rule,
        &description,
        &comment,
    )?;
    round_trip(&scenario, &case, &runner.defaults)?;
    let exchange = exchange_text(&run);
    let mut files = Vec::new();
    if let Some(dir) = &opts.out {
        std::fs::create_dir_all(dir).map_err(|source| FuzzError::Write {
            path: dir.clone(),
            source,
        })?;
        let record = FindingRecord {
            key: key.clone(),
            rule: disagreement.expected_rule.to_string(),
            check: disagreement.kind.name().to_string(),
            summary: disagreement.to_string(),
            seed: opts.seed,
            shard: opts.shard.to_string(),
            case: index,
            count,
            steps: case.steps.len(),
            mutant: opts.mutant.map(|m| m.to_string()),
            scenario: format!("{name}.yaml"),
            exchange: format!("{name}.exchange.txt"),
        };
        let record = serde_json::to_string_pretty(&record).unwrap_or_default();
        let suffix = RECORD_SUFFIX.trim_start_matches('.');
        for (ext, text) in [("yaml", &scenario), ("exchange.txt", &exchange), (suffix, &record)] {
            let path = dir.join(format!("{name}.{ext}"));
            std::fs::write(&path, text).map_err(|source| FuzzError::Write {
                path: path.clone(),
                source,
            })?;
            files.push(path);
        }
    }
    Ok(Finding {
        name,
        key,
        count,
        index,
        case,
        disagreement,
        scenario,
        exchange,
        files,
    })
}
