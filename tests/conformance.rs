//! The built-in case library (`cases/`, as compiled into the binary) as
//! `cargo test` trials (libtest-mimic): one trial per scenario and
//! examples row, named after its id, against the embedded
//! reference server or `MODSPEC_TARGET=URL`. Against the embedded server
//! each trial's responses are also an insta snapshot in `snapshots/`.
//!
//! Works with filters (`cargo test --test conformance -- params/`),
//! `--list`, and `cargo nextest run` including `--partition`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use libtest_mimic::{Arguments, Failed, Trial};
use modspec::runner::{Connect, Embedded, Outcome, RunContext, connect, run_trial, skip_reason, start_embedded};
use modspec::scenario::{Signature, load_builtin};
use modspec::server::ServerConfig;
use modspec::snapshots::{render, snapshot_name};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Harness {
    rt: tokio::runtime::Runtime,
    ctx: RunContext,
    /// Snapshots are the reference server's; other targets are not compared.
    snapshots: bool,
    _embedded: Option<Embedded>,
}

/// An error and each of its causes, as `modspec run` prints them.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

fn harness() -> Result<Harness, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let target = std::env::var("MODSPEC_TARGET").ok();
    let (url, embedded) = match &target {
        Some(t) => (t.parse().map_err(|e| format!("MODSPEC_TARGET: {e}"))?, None),
        None => {
            let e = rt
                .block_on(start_embedded(&ServerConfig::default()))
                .map_err(|e| e.to_string())?;
            (e.url.clone(), Some(e))
        }
    };
    let signature = match std::env::var("MODSPEC_SIGNATURE").as_deref() {
        Ok("v1") => Signature::V1,
        _ => Signature::V3,
    };
    let c = Connect {
        signature,
        strict: std::env::var_os("MODSPEC_STRICT").is_some(),
        ..Connect::new(url, Duration::from_secs(10))
    };
    let (ctx, _) = rt.block_on(connect(&c)).map_err(|e| with_causes(&e))?;
    Ok(Harness {
        rt,
        ctx,
        snapshots: target.is_none() && signature == Signature::V3,
        _embedded: embedded,
    })
}

fn check_snapshot(id: &str, text: &str) -> Result<(), Failed> {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let name = snapshot_name(id);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name.as_str(), text));
    }));
    outcome.map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Failed::from(format!("snapshot of {id} differs from snapshots/{name}.snap {msg}"))
    })
}

fn main() {
    let args = Arguments::from_args();
    let lib = load_builtin();
    let mut trials = Vec::new();
    for e in &lib.errors {
        let msg = e.to_string();
        let id = e.id.clone().unwrap_or_else(|| e.path.display().to_string());
        trials.push(Trial::test(format!("load::{id}"), move || Err(Failed::from(msg))));
    }
    let harness = match harness() {
        Ok(h) => Arc::new(h),
        Err(e) => {
            eprintln!("cannot run the suite: {e}");
            std::process::exit(2);
        }
    };
    // Zero discovered cases is a broken checkout, never a silent pass.
    assert!(!lib.trials.is_empty(), "no scenarios found under cases/");
    if harness.snapshots {
        let expected: std::collections::BTreeSet<String> = lib
            .trials
            .iter()
            .map(|t| format!("{}.snap", snapshot_name(&t.id)))
            .collect();
        trials.push(Trial::test("snapshots::no-orphans", move || {
            let dir = root().join("snapshots");
            let orphans: Vec<String> = std::fs::read_dir(&dir)
                .map_err(|e| Failed::from(format!("{}: {e}", dir.display())))?
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .filter(|n| n.ends_with(".snap") && !expected.contains(n))
                .collect();
            if orphans.is_empty() {
                Ok(())
            } else {
                Err(Failed::from(format!(
                    "snapshots without a scenario (delete them): {}",
                    orphans.join(", ")
                )))
            }
        }));
    }
    for t in lib.trials {
        let skip = skip_reason(&harness.ctx, &t);
        let h = harness.clone();
        let id = t.id.clone();
        let trial = Trial::test(id.clone(), move || {
            let r = h.rt.block_on(run_trial(&h.ctx, &t));
            match &r.outcome {
                Outcome::Pass if h.snapshots => check_snapshot(&id, &render(&r)),
                Outcome::Pass => Ok(()),
                Outcome::Skipped { reason } => Err(Failed::from(format!("unexpectedly skipped: {reason}"))),
                _ => Err(Failed::from(format!(
                    "{}: {}\n{}",
                    r.outcome.label(),
                    r.file,
                    r.details()
                ))),
            }
        });
        trials.push(match skip {
            Some(reason) => trial.with_ignored_flag(true).with_kind(format!("skipped: {reason}")),
            None => trial,
        });
    }
    libtest_mimic::run(&args, trials).exit();
}
