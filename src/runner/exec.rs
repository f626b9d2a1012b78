//! Runs one trial against a target: worlds through the control protocol,
//! each step signed and sent, every answer and state checked.

use std::collections::BTreeMap;
use std::time::Instant;

use super::check::{Findings, States, check_answer, check_states};
use super::context::{RunContext, SCENARIO_HEADER, skip_reason};
use super::outcome::{HarnessError, KEPT_BODY_BYTES, KEPT_TRIAL_BYTES, Outcome, Recorded, TrialResult};
use super::redact::redact_body;
use super::request::build_request;
use super::sent::describe_sent;
use crate::client::{ControlError, EcsRequest, Exchange, Secret, WorldHandle, prepare, scrub_string};
use crate::scenario::{Expectation, ParamValue, RequestSpec, Trial, TrialStep};
use crate::spec::World;

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
    let mut run = TrialRun {
        ctx,
        trial,
        worlds: BTreeMap::new(),
        result: &mut result,
        findings: Findings::default(),
        now: 0,
        known: BTreeMap::new(),
        run_tag: uuid::Uuid::new_v4().simple().to_string(),
    };
    let outcome = match run.steps().await {
        Ok(()) if run.findings.mismatches.is_empty() => Outcome::Pass,
        Ok(()) => Outcome::Fail {
            mismatches: std::mem::take(&mut run.findings.mismatches),
        },
        Err(e) => Outcome::Error(e),
    };
    let worlds = std::mem::take(&mut run.worlds);
    let down = matches!(outcome, Outcome::Error(HarnessError::TargetDown { .. }));
    if let (Some(control), false) = (&ctx.control, down) {
        for w in worlds.values() {
            // Best effort: a world left behind is no verdict on the trial.
            // Not tried on a target that stopped answering: each would cost
            // another timeout.
            let _ = control.delete_world(&w.world_id).await;
        }
    }
    result.outcome = outcome;
    scrub_result(&mut result, &secrets(ctx, &worlds));
    result.duration = started.elapsed();
    result
}

/// Every secret the trial knows: its worlds' and the live credentials'.
fn secrets<'a>(ctx: &'a RunContext, worlds: &'a BTreeMap<String, WorldHandle>) -> Vec<&'a Secret> {
    worlds
        .values()
        .map(|w| &w.secret)
        .chain(ctx.env_credentials.as_ref().map(|c| &c.1))
        .collect()
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
        Outcome::Error(e) => scrub_string(e.text_mut(), secrets),
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

/// A control-protocol failure, by kind: no answer at all is the target
/// being down (or overloaded: the suite tells which), anything else is a
/// target that could not be prepared.
fn control_error(e: &ControlError, what: String) -> HarnessError {
    HarnessError::of(e.unanswered(), format!("{what}: {e}"))
}

/// One step in the terms of a round: the stand-in instance of a live case
/// and the `--instance-id` it becomes, if any.
type Round<'t> = Option<(&'t str, &'t str)>;

/// One trial in progress: its worlds, what it found and what it knows of
/// the worlds' states.
struct TrialRun<'a> {
    ctx: &'a RunContext,
    trial: &'a Trial,
    worlds: BTreeMap<String, WorldHandle>,
    result: &'a mut TrialResult,
    findings: Findings,
    /// The world clock, moved by `advance` steps.
    now: i64,
    /// The state read after the previous request, per world: a world
    /// changes only through our requests, so it is the next "before".
    known: BTreeMap<String, States>,
    /// Makes a live account's nonces this trial run's own.
    run_tag: String,
}

impl<'a> TrialRun<'a> {
    async fn steps(&mut self) -> Result<(), HarnessError> {
        self.create_worlds().await?;
        for (round, step) in self.plan() {
            match step {
                TrialStep::Advance(s) => self.advance(*s).await?,
                TrialStep::Request {
                    label,
                    request,
                    expect,
                    repeat,
                } => {
                    let step = Step {
                        label,
                        expect,
                        repeat: *repeat,
                        round,
                    };
                    self.request(&step, request).await?;
                }
            }
        }
        Ok(())
    }

    async fn create_worlds(&mut self) -> Result<(), HarnessError> {
        let Some(control) = &self.ctx.control else {
            return Ok(());
        };
        for (name, world) in &self.trial.worlds {
            let h = control.create_world(world.as_ref()).await.map_err(|e| {
                let which = match name.is_empty() {
                    true => "the scenario's world".to_string(),
                    false => format!("world `{name}`"),
                };
                control_error(&e, format!("the target could not be prepared: creating {which} failed"))
            })?;
            self.worlds.insert(name.clone(), h);
        }
        Ok(())
    }

    /// The steps in order: a live case's stand-in instance becomes each
    /// `--instance-id` in turn on a target without worlds; otherwise the
    /// steps run once, as written.
    fn plan(&self) -> Vec<(Round<'a>, &'a TrialStep)> {
        let (ctx, trial) = (self.ctx, self.trial);
        let rounds: Vec<Round<'a>> = match (&ctx.control, &trial.instance) {
            (None, Some(stand_in)) => ctx
                .instance_ids
                .iter()
                .map(|id| Some((stand_in.as_str(), id.as_str())))
                .collect(),
            _ => vec![None],
        };
        rounds
            .into_iter()
            .flat_map(|round| trial.steps.iter().map(move |s| (round, s)))
            .collect()
    }

    /// Time passes for every world of the trial alike, so one `now` serves
    /// the state checks of requests sent `as` any.
    async fn advance(&mut self, seconds: u64) -> Result<(), HarnessError> {
        let Some(control) = &self.ctx.control else {
            return Ok(());
        };
        for (name, h) in &self.worlds {
            let t = control
                .advance(&h.world_id, seconds)
                .await
                .map_err(|e| control_error(&e, format!("cannot move the clock of world `{name}`")))?;
            if name.is_empty() {
                self.now = t;
            }
        }
        Ok(())
    }

    /// One request step, sent `repeat` times, each answer and the state
    /// after it checked.
    async fn request(&mut self, step: &Step<'a>, spec: &RequestSpec) -> Result<(), HarnessError> {
        let name = spec.as_world.clone().unwrap_or_default();
        let (creds, shared) = match self.worlds.get(&name) {
            Some(h) => ((h.access_key_id.clone(), h.secret.clone()), false),
            None => (
                self.ctx
                    .env_credentials
                    .clone()
                    .ok_or_else(|| HarnessError::Other("no credentials for the request".into()))?,
                true,
            ),
        };
        let mut req = match step.round {
            Some((stand_in, id)) => build_request(&with_instance(spec, stand_in, id), self.ctx.signature),
            None => build_request(spec, self.ctx.signature),
        };
        if let (true, Some(n)) = (shared, &mut req.damage.nonce) {
            // One AccessKeyId serves every trial and every run of a live
            // account: a case's nonce is its own per trial run.
            n.push_str(&format!("-{}", self.run_tag));
        }
        for n in 0..step.repeat {
            let mut label = match step.repeat > 1 {
                true => format!("{} #{}", step.label, n + 1),
                false => step.label.clone(),
            };
            if let Some((_, id)) = step.round {
                label.push_str(&format!(" ({id})"));
            }
            self.send_one(&label, step.expect, &name, &req, &creds).await?;
        }
        Ok(())
    }

    /// Sends one request as world `name`'s credentials and checks its
    /// answer and, with worlds, the states before and after.
    async fn send_one(
        &mut self,
        label: &str,
        expect: &Expectation,
        name: &str,
        req: &EcsRequest,
        creds: &(String, Secret),
    ) -> Result<(), HarnessError> {
        let ctx = self.ctx;
        let seed = self.trial.worlds.get(name).map(|w| w.as_ref());
        let before = match self.known.remove(name) {
            Some(s) => s,
            None => states(ctx, self.worlds.get(name), seed).await?,
        };
        let prepared = prepare(req, &creds.0, &creds.1, &ctx.host);
        let mut ex = ctx
            .ecs
            .send_prepared(&prepared, &[(SCENARIO_HEADER, &self.trial.id)])
            .await
            .map_err(|e| HarnessError::of(e.unanswered(), format!("{label}: {e}")))?;
        ex.scrub(&secrets(ctx, &self.worlds));
        record(self.result, label, &ex, &creds.1);
        let findings = &mut self.findings;
        let first = findings.mismatches.len();
        check_answer(label, &ctx.host, expect, req, &ex, ctx.strict, findings);
        if ctx.control.is_some() {
            let after = states(ctx, self.worlds.get(name), seed).await?;
            let findings = &mut self.findings;
            check_states(label, expect, req, &before, &after, self.now, findings);
            self.known.insert(name.to_string(), after);
        }
        for m in &mut self.findings.mismatches[first..] {
            m.rule.get_or_insert(expect.rule);
        }
        if let Some(m) = self.findings.mismatches.get_mut(first) {
            m.sent = Some(describe_sent(&prepared));
        }
        Ok(())
    }
}

/// A request step's fixed parts.
struct Step<'a> {
    label: &'a String,
    expect: &'a Expectation,
    repeat: u32,
    round: Round<'a>,
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
async fn states(ctx: &RunContext, world: Option<&WorldHandle>, seed: Option<&World>) -> Result<States, HarnessError> {
    let mut out = States::new();
    let (Some(control), Some(h), Some(seed)) = (&ctx.control, world, seed) else {
        return Ok(out);
    };
    if ctx.world_state {
        let mut all = control
            .world_states(&h.world_id)
            .await
            .map_err(|e| control_error(&e, "cannot read the world's state".into()))?
            .ok_or_else(|| HarnessError::Other("the world is gone: its state read answered 404".into()))?;
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
            .map_err(|e| control_error(&e, format!("cannot read instance {id}")))?;
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
