//! Runs one trial against a target: worlds through the control protocol,
//! each step signed and sent, every answer and state checked.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use super::check::{Findings, States, check_answer, check_states};
use super::outcome::{KEPT_BODY_BYTES, KEPT_TRIAL_BYTES, Outcome, Recorded, TrialResult};
use super::redact::redact_body;
use super::request::build_request;
use super::safety::trial_risk;
use super::sent::describe_sent;
use crate::client::{ControlClient, DEAD_TARGET_MARK, EcsClient, Exchange, Secret, WorldHandle, prepare, scrub_string};
use crate::scenario::{Capability, ParamValue, RequestSpec, Signature, Trial, TrialStep};
use crate::spec::World;

/// Everything a trial run needs to know about the target and the run.
#[derive(Clone, Debug)]
pub struct RunContext {
    pub ecs: EcsClient,
    /// `None`: the target has no control protocol; only live trials run.
    pub control: Option<ControlClient>,
    /// What the target's capabilities answer listed.
    pub capabilities: BTreeSet<Capability>,
    pub signature: Signature,
    pub strict: bool,
    /// Credentials for live trials on targets without the control protocol.
    pub env_credentials: Option<(String, Secret)>,
    /// The `host` header value the target is reached with.
    pub host: String,
    /// The target may be a real cloud: send only requests that cannot
    /// change an instance (see [`super::change_risk`]).
    pub guard_changes: bool,
    /// Existing instances of the live account (`--instance-id`), for live
    /// cases with an `instance` on a target without the control protocol.
    pub instance_ids: Vec<String>,
    /// The target claims `world-state`: one read per world answers every
    /// instance's state (else one read per instance).
    pub world_state: bool,
}

/// The opening word of the skip reason of a trial kept from a target that
/// may be a real cloud.
pub const WITHHELD: &str = "withheld";

/// The header that ties a request to its scenario in the target's logs.
pub use crate::protocol::SCENARIO_HEADER;

/// The capabilities a trial needs and the target lacks (without the
/// control protocol every non-live trial lacks `core`, the protocol itself,
/// beside what it needs). Empty when the trial is not skipped for them.
pub fn missing_capabilities(ctx: &RunContext, trial: &Trial) -> BTreeSet<Capability> {
    let mut need = trial.required(ctx.signature);
    if ctx.control.is_none() {
        if trial.is_live() {
            return BTreeSet::new();
        }
        need.insert(Capability::Core);
        return need;
    }
    need.retain(|c| !ctx.capabilities.contains(c));
    need
}

fn names(caps: &BTreeSet<Capability>) -> String {
    caps.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}

/// Why a trial cannot run here, if it cannot.
pub fn skip_reason(ctx: &RunContext, trial: &Trial) -> Option<String> {
    if ctx.control.is_none() {
        if !trial.is_live() {
            return Some(format!(
                "needs a world: the control protocol with the capabilities {}",
                names(&missing_capabilities(ctx, trial))
            ));
        }
        if ctx.env_credentials.is_none() {
            return Some(
                "live case without credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and _SECRET, or --credentials-file"
                    .into(),
            );
        }
        if trial.instance.is_some() && ctx.instance_ids.is_empty() {
            return Some("needs an existing instance of the account: name one with --instance-id ID".into());
        }
        if ctx.guard_changes {
            return trial_risk(trial, ctx.signature).map(|why| {
                format!(
                    "{WITHHELD} because the target may be a real cloud: {why} and could change a real instance \
                     (run with --allow-changes to send it)"
                )
            });
        }
        return None;
    }
    let missing = missing_capabilities(ctx, trial);
    (!missing.is_empty()).then(|| format!("the target lacks the capabilities: {}", names(&missing)))
}

/// Runs one trial to its result; never panics on any target answer.
pub async fn run_trial(ctx: &RunContext, trial: &Trial) -> TrialResult {
    let started = Instant::now();
    let mut result = TrialResult {
        id: trial.id.clone(),
        file: trial.file.display().to_string(),
        outcome: Outcome::Pass,
        warnings: Vec::new(),
        duration: Default::default(),
        recorded: Vec::new(),
    };
    if let Some(reason) = skip_reason(ctx, trial) {
        result.outcome = Outcome::Skipped { reason };
        return result;
    }
    let mut worlds = BTreeMap::new();
    let outcome = match run_steps(ctx, trial, &mut worlds, &mut result).await {
        Ok(findings) if findings.mismatches.is_empty() => Outcome::Pass,
        Ok(findings) => Outcome::Fail {
            mismatches: findings.mismatches,
        },
        Err(cause) => Outcome::Error { cause },
    };
    let dead = matches!(&outcome, Outcome::Error { cause } if cause.contains(DEAD_TARGET_MARK));
    if let (Some(control), false) = (&ctx.control, dead) {
        for w in worlds.values() {
            // Best effort: a world left behind is no verdict on the trial.
            // Not tried on a target that stopped answering: each would cost
            // another timeout.
            let _ = control.delete_world(&w.world_id).await;
        }
    }
    result.outcome = outcome;
    let secrets: Vec<&Secret> = worlds
        .values()
        .map(|w| &w.secret)
        .chain(ctx.env_credentials.as_ref().map(|c| &c.1))
        .collect();
    scrub_result(&mut result, &secrets);
    result.duration = started.elapsed();
    result
}

/// Every text of a result with the trial's secrets scrubbed: answers are
/// scrubbed as they arrive, and this catches what came another way (a
/// control-protocol error quoting an answer, an instance's state).
fn scrub_result(result: &mut TrialResult, secrets: &[&Secret]) {
    match &mut result.outcome {
        Outcome::Fail { mismatches } => {
            for m in mismatches {
                for text in [&mut m.step, &mut m.expected, &mut m.got] {
                    scrub_string(text, secrets);
                }
                if let Some(at) = &mut m.at {
                    scrub_string(at, secrets);
                }
            }
        }
        Outcome::Error { cause } => scrub_string(cause, secrets),
        Outcome::Skipped { reason } => scrub_string(reason, secrets),
        Outcome::Pass => {}
    }
    for w in &mut result.warnings {
        scrub_string(w, secrets);
    }
    for r in &mut result.recorded {
        for text in [&mut r.content_type, &mut r.body] {
            scrub_string(text, secrets);
        }
        if let Some(v) = &mut r.retry_after {
            scrub_string(v, secrets);
        }
    }
}

async fn run_steps(
    ctx: &RunContext,
    trial: &Trial,
    worlds: &mut BTreeMap<String, WorldHandle>,
    result: &mut TrialResult,
) -> Result<Findings, String> {
    let mut findings = Findings::default();
    if let Some(control) = &ctx.control {
        for (name, world) in &trial.worlds {
            let h = control.create_world(world.as_ref()).await.map_err(|e| {
                let which = if name.is_empty() {
                    "the scenario's world".to_string()
                } else {
                    format!("world `{name}`")
                };
                format!("the target could not be prepared: creating {which} failed: {e}")
            })?;
            worlds.insert(name.clone(), h);
        }
    }
    let run_tag = uuid::Uuid::new_v4().simple().to_string();
    let mut now: i64 = 0;
    let mut known: BTreeMap<String, States> = BTreeMap::new();
    // A live case's stand-in instance becomes each `--instance-id` in turn
    // on a target without worlds; otherwise the steps run once, as written.
    let rounds: Vec<Option<(&str, &str)>> = match (&ctx.control, &trial.instance) {
        (None, Some(stand_in)) => ctx
            .instance_ids
            .iter()
            .map(|id| Some((stand_in.as_str(), id.as_str())))
            .collect(),
        _ => vec![None],
    };
    let mut steps: Vec<(Option<(&str, &str)>, &TrialStep)> = Vec::new();
    for round in rounds {
        steps.extend(trial.steps.iter().map(|s| (round, s)));
    }
    for (round, step) in steps {
        match step {
            TrialStep::Advance(s) => {
                // Time passes for every world of the trial alike, so one
                // `now` serves the state checks of requests sent `as` any.
                if let Some(control) = &ctx.control {
                    for (name, h) in worlds.iter() {
                        let t = control
                            .advance(&h.world_id, *s)
                            .await
                            .map_err(|e| format!("cannot move the clock of world `{name}`: {e}"))?;
                        if name.is_empty() {
                            now = t;
                        }
                    }
                }
            }
            TrialStep::Request {
                label,
                request,
                expect,
                repeat,
            } => {
                let name = request.as_world.clone().unwrap_or_default();
                let (creds, shared) = match worlds.get(&name) {
                    Some(h) => ((h.access_key_id.clone(), h.secret.clone()), false),
                    None => (
                        ctx.env_credentials.clone().ok_or("no credentials for the request")?,
                        true,
                    ),
                };
                let seed = trial.worlds.get(&name).map(|w| w.as_ref());
                let mut req = match round {
                    Some((stand_in, id)) => build_request(&with_instance(request, stand_in, id), ctx.signature),
                    None => build_request(request, ctx.signature),
                };
                if let (true, Some(n)) = (shared, &mut req.damage.nonce) {
                    // One AccessKeyId serves every trial and every run of a
                    // live account: a case's nonce is its own per trial run.
                    n.push_str(&format!("-{run_tag}"));
                }
                for n in 0..*repeat {
                    let mut label = if *repeat > 1 {
                        format!("{label} #{}", n + 1)
                    } else {
                        label.clone()
                    };
                    if let Some((_, id)) = round {
                        label.push_str(&format!(" ({id})"));
                    }
                    // A world changes only through our requests, so the state
                    // read after the previous request is this one's "before".
                    let before = match known.remove(&name) {
                        Some(s) => s,
                        None => states(ctx, worlds.get(&name), seed).await?,
                    };
                    let prepared = prepare(&req, &creds.0, &creds.1, &ctx.host);
                    let mut ex = ctx
                        .ecs
                        .send_prepared(&prepared, &[(SCENARIO_HEADER, &trial.id)])
                        .await
                        .map_err(|e| format!("{label}: {e}"))?;
                    let secrets: Vec<&Secret> = worlds
                        .values()
                        .map(|w| &w.secret)
                        .chain(ctx.env_credentials.as_ref().map(|c| &c.1))
                        .collect();
                    ex.scrub(&secrets);
                    record(result, &label, &ex, &creds.1);
                    let first = findings.mismatches.len();
                    check_answer(&label, &ctx.host, expect, &req, &ex, ctx.strict, &mut findings);
                    if ctx.control.is_some() {
                        let after = states(ctx, worlds.get(&name), seed).await?;
                        check_states(&label, expect, &req, &before, &after, now, &mut findings);
                        known.insert(name.clone(), after);
                    }
                    for m in &mut findings.mismatches[first..] {
                        m.rule.get_or_insert(expect.rule);
                    }
                    if let Some(m) = findings.mismatches.get_mut(first) {
                        m.sent = Some(describe_sent(&prepared));
                    }
                }
            }
        }
    }
    Ok(findings)
}

/// The request with every parameter value equal to `stand_in` replaced by
/// `id` (a live case's instance, for one `--instance-id`).
fn with_instance(spec: &RequestSpec, stand_in: &str, id: &str) -> RequestSpec {
    let swap = |v: &ParamValue| match v {
        ParamValue::Text(t) if t == stand_in => ParamValue::Text(id.to_string()),
        other => other.clone(),
    };
    let mut out = spec.clone();
    out.params = spec.params.iter().map(|(k, v)| (k.clone(), swap(v))).collect();
    out.query = spec.query.iter().map(|(k, v)| (k.clone(), swap(v))).collect();
    for (_, v) in &mut out.pairs {
        if v == stand_in {
            *v = id.to_string();
        }
    }
    out
}

/// Reads every seeded instance of a world (empty without control).
async fn states(ctx: &RunContext, world: Option<&WorldHandle>, seed: Option<&World>) -> Result<States, String> {
    let mut out = States::new();
    let (Some(control), Some(h), Some(seed)) = (&ctx.control, world, seed) else {
        return Ok(out);
    };
    if ctx.world_state {
        let mut all = control
            .world_states(&h.world_id)
            .await
            .map_err(|e| format!("cannot read the world's state: {e}"))?
            .ok_or("the world is gone: its state read answered 404")?;
        for inst in &seed.instances {
            let state = all.remove(&inst.instance_id).unwrap_or(serde_json::Value::Null);
            out.insert(inst.instance_id.clone(), state);
        }
        return Ok(out);
    }
    for inst in &seed.instances {
        let id = &inst.instance_id;
        let state = control
            .instance(&h.world_id, id)
            .await
            .map_err(|e| format!("cannot read instance {id}: {e}"))?;
        out.insert(id.clone(), state.unwrap_or(serde_json::Value::Null));
    }
    Ok(out)
}

/// Keeps the answer for the snapshot: redacted whole first (so no secret
/// is cut in two and kept in part), then cut to what the trial may keep.
fn record(result: &mut TrialResult, label: &str, ex: &Exchange, secret: &Secret) {
    let used: usize = result.recorded.iter().map(|r| r.body.len()).sum();
    let room = KEPT_BODY_BYTES.min(KEPT_TRIAL_BYTES.saturating_sub(used));
    let mut r = Recorded {
        step: label.to_string(),
        status: ex.status,
        content_type: ex.header("content-type").unwrap_or_default().to_string(),
        retry_after: ex.header("x-acs-retry-after").map(str::to_string),
        body: String::new(),
        omitted: 0,
    };
    r.keep(redact_body(&String::from_utf8_lossy(&ex.body), secret), room);
    result.recorded.push(r);
}
