//! `modspec fuzz --replay FILE`: re-sends a finding. The finding is a
//! scenario, so replaying it is running it with the runner, which checks
//! every answer and every state after every step.

use std::path::Path;
use std::time::Duration;

use reqwest::Url;

use super::case::default_world;
use super::error::FuzzError;
use crate::client::TlsOptions;
use crate::runner::{Connect, TrialResult, connect, run_trial, start_embedded};
use crate::scenario::{load_text, read_case_file};
use crate::server::ServerConfig;
use crate::spec::Mutant;

/// Runs the scenario file `path` against `target` (default: the embedded
/// server, with `mutant` planted) and returns one result per trial.
pub async fn replay(
    path: &Path,
    target: Option<&Url>,
    control: Option<&Url>,
    mutant: Option<Mutant>,
    timeout: Duration,
    tls: &TlsOptions,
) -> Result<Vec<TrialResult>, FuzzError> {
    if mutant.is_some() && target.is_some() {
        return Err(FuzzError::MutantWithTarget);
    }
    let text = read_case_file(path)?;
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let trials = load_text(&format!("found/{id}"), path, &text, default_world()?)?;
    let embedded = match target {
        Some(_) => None,
        None => Some(
            start_embedded(&ServerConfig {
                mutant,
                ..ServerConfig::default()
            })
            .await?,
        ),
    };
    let url = match (target, &embedded) {
        (Some(u), _) => u.clone(),
        (None, Some(e)) => e.url.clone(),
        (None, None) => return Err(FuzzError::NoControl("no target".into())),
    };
    let c = Connect {
        control: control.cloned(),
        tls: tls.clone(),
        ..Connect::new(url, timeout)
    };
    let (ctx, info) = connect(&c).await?;
    if ctx.control.is_none() {
        return Err(FuzzError::NoControl(info.control_note.unwrap_or_default()));
    }
    let mut results = Vec::new();
    for t in &trials {
        results.push(run_trial(&ctx, t).await);
    }
    drop(embedded);
    Ok(results)
}
