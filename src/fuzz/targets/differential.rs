//! `differential`: generated cases against a live target over HTTP
//! (`MODSPEC_TARGET`, default: the embedded reference server), compared
//! with the oracle as `modspec fuzz` does, one case per input.

use std::sync::OnceLock;
use std::time::Duration;

use super::super::case::{Case, default_world};
use super::super::driver::Driver;
use super::super::exec::Runner;
use super::super::generator::{Profile, fits};
use crate::runner::{Embedded, start_embedded};
use crate::server::ServerConfig;

struct Live {
    rt: tokio::runtime::Runtime,
    runner: Runner,
    /// What the target claims; other inputs are skipped.
    profile: Profile,
    _embedded: Option<Embedded>,
}

fn live() -> Result<&'static Live, String> {
    static LIVE: OnceLock<Result<Live, String>> = OnceLock::new();
    LIVE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let (url, embedded) = match std::env::var("MODSPEC_TARGET") {
            Ok(t) => (t.parse().map_err(|e| format!("MODSPEC_TARGET: {e}"))?, None),
            Err(_) => {
                let e = rt
                    .block_on(start_embedded(&ServerConfig::default()))
                    .map_err(|e| e.to_string())?;
                (e.url.clone(), Some(e))
            }
        };
        let (driver, profile) = rt
            .block_on(Driver::connect(
                &url,
                None,
                Duration::from_secs(10),
                &Default::default(),
            ))
            .map_err(|e| e.to_string())?;
        let runner = Runner {
            driver,
            defaults: default_world().map_err(|e| e.to_string())?.clone(),
            auth: profile.auth,
            check_state: true,
        };
        Ok(Live {
            rt,
            runner,
            profile,
            _embedded: embedded,
        })
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Runs `case` against the live target: every answer's (status, code),
/// format and shape, and the final states, must be the oracle's. Cases
/// needing a capability the target does not claim are skipped.
///
/// Panics on a disagreement (a finding) and when the target cannot be
/// reached at all, since every input would then be lost.
pub fn differential(case: &Case) {
    let live = match live() {
        Ok(l) => l,
        Err(e) => panic!("differential target unavailable: {e}"),
    };
    if !fits(case, live.profile) {
        return;
    }
    match live.rt.block_on(live.runner.run(case)) {
        Ok(run) => {
            if let Some(d) = run.disagreement {
                panic!("the target disagrees with the oracle: {d}\ncase: {case:#?}");
            }
        }
        Err(e) => panic!("cannot run the case: {e}"),
    }
}
