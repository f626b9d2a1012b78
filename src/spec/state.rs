//! The live state of one world: the seeded document plus what successful
//! changes wrote (current instance values, last-change times, tokens).
//!
//! Only [`WorldState::apply`] mutates it, and only with a [`Change`] that
//! `decide` returned, so "a rejected request changes nothing" holds by
//! construction.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::request::Fingerprint;
use super::world::{Instance, World};

/// An instance's current values, as `GET …/instances/{id}` answers them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstanceState {
    #[serde(flatten)]
    pub instance: Instance,
    /// World seconds of the last successful change (negative when seeded
    /// through `last_modified_seconds_ago`), or null.
    pub last_modified_at: Option<i64>,
}

impl InstanceState {
    /// Writes a change's new values; the verdict engine uses this too, so
    /// the state a harness expects is the oracle's own.
    pub fn apply(&mut self, change: &Change) {
        if let Some(t) = &change.instance_type {
            self.instance.instance_type.clone_from(t);
        }
        if let Some(out) = change.bandwidth_out {
            self.instance.internet_max_bandwidth_out = out;
        }
        if let Some(inb) = change.bandwidth_in {
            self.instance.internet_max_bandwidth_in = inb;
        }
        if let Some(at) = change.modified_at {
            self.last_modified_at = Some(at);
        }
    }
}

/// The fields of the control protocol's instance state (`InstanceState`
/// as serialised: the Instance's fields, then `last_modified_at`); the case
/// loader checks `expect.state` against it, the verdict engine reads a
/// target's document with it.
pub const INSTANCE_FIELDS: &[&str] = &[
    "instance_id",
    "status",
    "instance_type",
    "instance_charge_type",
    "internet_charge_type",
    "internet_max_bandwidth_out",
    "internet_max_bandwidth_in",
    "network_type",
    "image_id",
    "local_disks",
    "unpaid_order",
    "locked_for_security",
    "last_modified_seconds_ago",
    "last_modified_at",
];

/// A ClientToken recorded by an accepted request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    pub fingerprint: Fingerprint,
    /// World second from which the operation counts as finished (I2 vs I3).
    pub completes_at: i64,
}

/// What a successful request changes; `decide` builds it, `apply` writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub instance_id: String,
    pub instance_type: Option<String>,
    pub bandwidth_out: Option<u32>,
    pub bandwidth_in: Option<u32>,
    /// The new `last_modified_at`, if the change starts a 5-minute window.
    pub modified_at: Option<i64>,
    pub token: Option<(String, TokenRecord)>,
}

/// One world's business state. The clock lives with the caller, which
/// passes "now" to `decide`.
#[derive(Clone, Debug)]
pub struct WorldState {
    pub world: World,
    /// Current instance values by id; the seeded list stays in `world`.
    pub instances: BTreeMap<String, InstanceState>,
    pub tokens: HashMap<String, TokenRecord>,
}

impl WorldState {
    /// Starts a world at time zero from a validated document.
    pub fn new(world: World) -> Self {
        let instances = world
            .instances
            .iter()
            .map(|i| {
                let state = InstanceState {
                    instance: i.clone(),
                    last_modified_at: i.last_modified_seconds_ago.map(|ago| 0i64.saturating_sub_unsigned(ago)),
                };
                (i.instance_id.clone(), state)
            })
            .collect();
        WorldState {
            world,
            instances,
            tokens: HashMap::new(),
        }
    }

    /// The current state of an instance.
    pub fn instance(&self, id: &str) -> Option<&InstanceState> {
        self.instances.get(id)
    }

    /// Writes a change that `decide` returned. Unknown instances are left
    /// alone (decide never names one).
    pub fn apply(&mut self, change: &Change) {
        if let Some(state) = self.instances.get_mut(&change.instance_id) {
            state.apply(change);
        }
        if let Some((token, record)) = &change.token {
            self.tokens.insert(token.clone(), record.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::sample_world;

    #[test]
    fn instance_fields_are_the_serialised_state_fields() {
        let world = WorldState::new(sample_world());
        let state = world.instances.values().next().unwrap();
        let doc = serde_json::to_value(state).unwrap();
        let keys: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = INSTANCE_FIELDS.to_vec();
        let mut got = keys.clone();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want);
    }
}
