//! What a trial run knows about its target ([`RunContext`]) and whether a
//! trial can run there at all (skip reasons, missing capabilities).

use std::collections::BTreeSet;

use super::safety::trial_risk;
use crate::client::{ControlClient, EcsClient, Secret};
use crate::scenario::{Capability, Signature, Trial};

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
