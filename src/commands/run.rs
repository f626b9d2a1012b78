//! `modspec run`: load the cases, reach the target (the embedded server by
//! default), run the selected trials, and summarise.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Url;

use crate::client::{Secret, TlsOptions, scrub_string};
use crate::report::{CapabilityCosts, Summary};
use crate::runner::{
    Connect, Deadline, Jobs, NOT_RUN, Outcome, Pace, Progress, TargetInfo, TrialResult, connect, load_error_result,
    missing_capabilities, run_paced, start_embedded,
};
use crate::scenario::{Cases, Signature, Trial};
use crate::server::ServerConfig;
use crate::spec::Mutant;

/// Which trials to run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Substrings of trial ids; empty selects all.
    pub filters: Vec<String>,
    /// Tags; empty selects all.
    pub tags: Vec<String>,
}

impl Selection {
    pub fn selects(&self, t: &Trial) -> bool {
        (self.filters.is_empty() || self.filters.iter().any(|f| t.id.contains(f.as_str())))
            && (self.tags.is_empty() || self.tags.iter().any(|g| t.tags.contains(g)))
    }
}

/// Everything `modspec run` takes.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The built-in library, or folders (`--cases`).
    pub cases: Cases,
    /// `None`: the embedded reference server.
    pub target: Option<Url>,
    pub control: Option<Url>,
    /// For the embedded server only: plant this bug.
    pub mutant: Option<Mutant>,
    /// For the embedded server only: its variation seed.
    pub vary: Option<u64>,
    pub selection: Selection,
    pub strict: bool,
    pub signature: Signature,
    /// Trials at once: adaptive (the default) or fixed (`--jobs N`).
    pub jobs: Jobs,
    pub timeout: Duration,
    pub env_credentials: Option<(String, Secret)>,
    /// Send live requests that could change an instance to a target that
    /// may be a real cloud (`--allow-changes`).
    pub allow_changes: bool,
    /// Existing instances of the live account (`--instance-id`), for live
    /// cases that need one on a target without the control protocol.
    pub instance_ids: Vec<String>,
    /// DNS overrides (tests: a non-loopback name served on loopback).
    pub resolve: Vec<(String, SocketAddr)>,
    /// Which TLS servers to trust (`--cacert`, `--insecure`).
    pub tls: TlsOptions,
    /// The whole run's time bound (`--deadline`), from its start.
    pub deadline: Option<Duration>,
    /// Counted as trials end, for a progress printer.
    pub progress: Option<Arc<Progress>>,
}

impl RunOptions {
    /// Defaults for a run of `cases` (a folder, or [`Cases::BuiltIn`])
    /// against the embedded server.
    pub fn embedded(cases: impl Into<Cases>) -> Self {
        RunOptions {
            cases: cases.into(),
            target: None,
            control: None,
            mutant: None,
            vary: None,
            selection: Selection::default(),
            strict: false,
            signature: Signature::V3,
            jobs: Jobs::Adaptive,
            timeout: Duration::from_secs(10),
            env_credentials: None,
            allow_changes: false,
            instance_ids: Vec::new(),
            resolve: Vec::new(),
            tls: TlsOptions::default(),
            deadline: None,
            progress: None,
        }
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutput {
    pub results: Vec<TrialResult>,
    pub summary: Summary,
    pub info: TargetInfo,
}

/// Whether the deadline kept this trial from running (or finishing).
pub fn is_not_run(r: &TrialResult) -> bool {
    matches!(&r.outcome, Outcome::Skipped { reason } if reason.starts_with(NOT_RUN))
}

/// Runs the suite. Case-file errors become Error results beside the others.
pub async fn run(opts: &RunOptions) -> RunOutput {
    let started = Instant::now();
    let pace = Pace {
        deadline: opts.deadline.map(|after| Deadline {
            at: tokio::time::Instant::now() + after,
            after,
        }),
        progress: opts.progress.clone(),
    };
    let lib = opts.cases.load();
    let mut results: Vec<TrialResult> = lib.errors.iter().map(load_error_result).collect();
    let trials: Vec<Trial> = lib.trials.into_iter().filter(|t| opts.selection.selects(t)).collect();
    let mut info = TargetInfo::default();
    let mut run_error = None;
    let mut missing = Vec::new();
    if trials.is_empty() && results.is_empty() {
        run_error = Some(format!("no scenario selected in {}", opts.cases.describe()));
    }
    let embedded = match &opts.target {
        Some(_) => None,
        None => {
            let config = ServerConfig {
                mutant: opts.mutant,
                vary: opts.vary,
                ..ServerConfig::default()
            };
            match start_embedded(&config).await {
                Ok(e) => Some(e),
                Err(e) => {
                    run_error = Some(crate::util::error_chain(&e));
                    None
                }
            }
        }
    };
    let target = opts.target.clone().or_else(|| embedded.as_ref().map(|e| e.url.clone()));
    if let (Some(target), None) = (target, &run_error) {
        let c = Connect {
            target,
            control: opts.control.clone(),
            timeout: opts.timeout,
            signature: opts.signature,
            strict: opts.strict,
            env_credentials: opts.env_credentials.clone(),
            allow_changes: opts.allow_changes,
            resolve: opts.resolve.clone(),
            tls: opts.tls.clone(),
        };
        match connect(&c).await {
            Ok((mut ctx, i)) => {
                ctx.instance_ids.clone_from(&opts.instance_ids);
                // Without the control protocol only live scenarios run; the
                // others are skipped with the capabilities they need, and a
                // run in which nothing ran exits 2 below.
                info = i;
                let ran = run_paced(&ctx, &trials, opts.jobs, &pace).await;
                missing = trials
                    .iter()
                    .zip(&ran)
                    .filter(|(_, r)| matches!(r.outcome, Outcome::Skipped { .. }))
                    .map(|(t, _)| missing_capabilities(&ctx, t))
                    .collect();
                results.extend(ran);
            }
            // The cause chain, each link once.
            Err(e) => run_error = Some(crate::util::error_chain(&e)),
        }
    }
    drop(embedded);
    let not_run = results.iter().filter(|r| is_not_run(r)).count();
    if let (Some(after), true, None) = (opts.deadline, not_run > 0, &run_error) {
        run_error = Some(format!(
            "the --deadline of {after:?} passed: {not_run} of {} scenario(s) not run (listed as `not run`)",
            trials.len()
        ));
    }
    let mut summary = Summary::of(&results, started.elapsed());
    summary.capability_costs = CapabilityCosts::of(&missing);
    if run_error.is_none() && summary.nothing_checked() {
        run_error = Some(all_skipped(&results, info.control_note.as_deref()));
    }
    summary.run_error = run_error;
    if let Some((_, secret)) = &opts.env_credentials {
        // Trials scrub their own texts; these come from the target too.
        let texts = [
            &mut summary.run_error,
            &mut info.control_note,
            &mut info.changes_withheld,
        ];
        for text in texts.into_iter().flatten() {
            scrub_string(text, &[secret]);
        }
        for name in &mut info.unknown_capabilities {
            scrub_string(name, &[secret]);
        }
    }
    RunOutput { results, summary, info }
}

/// The run error of a run that skipped every selected trial: the most
/// common skip reason, and why there is no control protocol if there is not.
fn all_skipped(results: &[TrialResult], control_note: Option<&str>) -> String {
    let mut reasons: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for r in results {
        if let Outcome::Skipped { reason } = &r.outcome {
            *reasons.entry(reason.as_str()).or_default() += 1;
        }
    }
    let (reason, n) = reasons.into_iter().max_by_key(|(_, n)| *n).unwrap_or(("", 0));
    let control = control_note
        .map(|c| format!("; no control protocol: {c}"))
        .unwrap_or_default();
    format!("every selected trial was skipped, so nothing was checked ({n} of them: {reason}){control}")
}
