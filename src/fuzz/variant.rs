//! World variations: a flat list of field settings over the default world.
//!
//! A flat list rather than a mirror of the World document because the
//! shrinker removes settings one at a time, and because one list gives both
//! views the fuzzer needs: `apply` edits a `World` in place (fast enough for
//! the in-process targets) and `patch_json` writes the `world:` patch of a
//! scenario, which `scenario::build_world` merges into the same world.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::scenario::WorldPatch;
use crate::spec::{ChargeType, NetworkType, PricePlan, Status, World};

/// One setting of an instance.
#[derive(Clone, Debug, PartialEq)]
pub enum InstanceField {
    Status(Status),
    ChargeType(ChargeType),
    InternetChargeType(String),
    Out(u32),
    In(u32),
    Network(NetworkType),
    Image(String),
    LocalDisks(bool),
    UnpaidOrder(bool),
    Locked(bool),
    LastModifiedAgo(Option<u64>),
}

/// One setting of the world; later settings of the same field win.
#[derive(Clone, Debug, PartialEq)]
pub enum WorldField {
    Overdue(bool),
    Balance(bool),
    Authorized(Vec<String>),
    Quota(Option<u32>),
    Instance(String, InstanceField),
    TypeInStock(String, bool),
    TypeNeedsAuthorization(String, bool),
    /// `None` removes the charge type's plan.
    Plan(String, Option<PricePlan>),
    OperationSeconds(u64),
    Faults(Vec<String>),
}

/// What a case changes in the default world.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WorldVariant(pub Vec<WorldField>);

impl InstanceField {
    fn key_value(&self) -> (&'static str, Value) {
        match self {
            InstanceField::Status(s) => ("status", json!(s)),
            InstanceField::ChargeType(c) => ("instance_charge_type", json!(c)),
            InstanceField::InternetChargeType(c) => ("internet_charge_type", json!(c)),
            InstanceField::Out(v) => ("internet_max_bandwidth_out", json!(v)),
            InstanceField::In(v) => ("internet_max_bandwidth_in", json!(v)),
            InstanceField::Network(n) => ("network_type", json!(n)),
            InstanceField::Image(i) => ("image_id", json!(i)),
            InstanceField::LocalDisks(b) => ("local_disks", json!(b)),
            InstanceField::UnpaidOrder(b) => ("unpaid_order", json!(b)),
            InstanceField::Locked(b) => ("locked_for_security", json!(b)),
            InstanceField::LastModifiedAgo(a) => ("last_modified_seconds_ago", json!(a)),
        }
    }
}

impl WorldVariant {
    /// Writes the settings into `world`. Settings naming an instance or a
    /// type the world lacks are skipped, as the generator never makes them.
    pub fn apply(&self, world: &mut World) {
        for f in &self.0 {
            match f {
                WorldField::Overdue(b) => world.account.overdue_payment = *b,
                WorldField::Balance(b) => world.account.balance_sufficient = *b,
                WorldField::Authorized(t) => world.account.authorized_instance_types.clone_from(t),
                WorldField::Quota(q) => world.account.max_requests_per_minute = *q,
                WorldField::Instance(id, field) => {
                    if let Some(i) = world.instances.iter_mut().find(|i| &i.instance_id == id) {
                        match field {
                            InstanceField::Status(s) => i.status = *s,
                            InstanceField::ChargeType(c) => i.instance_charge_type = *c,
                            InstanceField::InternetChargeType(c) => i.internet_charge_type.clone_from(c),
                            InstanceField::Out(v) => i.internet_max_bandwidth_out = *v,
                            InstanceField::In(v) => i.internet_max_bandwidth_in = *v,
                            InstanceField::Network(n) => i.network_type = *n,
                            InstanceField::Image(img) => i.image_id.clone_from(img),
                            InstanceField::LocalDisks(b) => i.local_disks = *b,
                            InstanceField::UnpaidOrder(b) => i.unpaid_order = *b,
                            InstanceField::Locked(b) => i.locked_for_security = *b,
                            InstanceField::LastModifiedAgo(a) => i.last_modified_seconds_ago = *a,
                        }
                    }
                }
                WorldField::TypeInStock(name, b) | WorldField::TypeNeedsAuthorization(name, b) => {
                    if let Some(t) = world.catalog.instance_types.iter_mut().find(|t| &t.name == name) {
                        match f {
                            WorldField::TypeInStock(..) => t.in_stock = *b,
                            _ => t.requires_authorization = *b,
                        }
                    }
                }
                WorldField::Plan(charge, plan) => match plan {
                    Some(p) => {
                        world.catalog.bandwidth_price_plans.insert(charge.clone(), *p);
                    }
                    None => {
                        world.catalog.bandwidth_price_plans.remove(charge);
                    }
                },
                WorldField::OperationSeconds(s) => world.operation_seconds = *s,
                WorldField::Faults(ids) => world.faults.internal_error_on_instances.clone_from(ids),
            }
        }
    }

    /// The scenario `world:` patch with the same effect as `apply`.
    pub fn patch_json(&self) -> Value {
        let mut account = Map::new();
        let mut instances: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
        let mut types: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
        let mut plans = Map::new();
        let mut root = Map::new();
        for f in &self.0 {
            match f {
                WorldField::Overdue(b) => {
                    account.insert("overdue_payment".into(), json!(b));
                }
                WorldField::Balance(b) => {
                    account.insert("balance_sufficient".into(), json!(b));
                }
                WorldField::Authorized(t) => {
                    account.insert("authorized_instance_types".into(), json!(t));
                }
                WorldField::Quota(q) => {
                    account.insert("max_requests_per_minute".into(), json!(q));
                }
                WorldField::Instance(id, field) => {
                    let (k, v) = field.key_value();
                    instances.entry(id).or_default().insert(k.into(), v);
                }
                WorldField::TypeInStock(name, b) => {
                    types.entry(name).or_default().insert("in_stock".into(), json!(b));
                }
                WorldField::TypeNeedsAuthorization(name, b) => {
                    types
                        .entry(name)
                        .or_default()
                        .insert("requires_authorization".into(), json!(b));
                }
                WorldField::Plan(charge, plan) => {
                    plans.insert(charge.clone(), json!(plan));
                }
                WorldField::OperationSeconds(s) => {
                    root.insert("operation_seconds".into(), json!(s));
                }
                WorldField::Faults(ids) => {
                    root.insert("faults".into(), json!({ "internal_error_on_instances": ids }));
                }
            }
        }
        if !account.is_empty() {
            root.insert("account".into(), Value::Object(account));
        }
        let mut catalog = Map::new();
        if !types.is_empty() {
            let list = types.into_iter().map(|(name, mut m)| {
                m.insert("name".into(), json!(name));
                Value::Object(m)
            });
            catalog.insert("instance_types".into(), Value::Array(list.collect()));
        }
        if !plans.is_empty() {
            catalog.insert("bandwidth_price_plans".into(), Value::Object(plans));
        }
        if !catalog.is_empty() {
            root.insert("catalog".into(), Value::Object(catalog));
        }
        if !instances.is_empty() {
            let list = instances.into_iter().map(|(id, mut m)| {
                m.insert("instance_id".into(), json!(id));
                Value::Object(m)
            });
            root.insert("instances".into(), Value::Array(list.collect()));
        }
        Value::Object(root)
    }

    /// The patch as the scenario types hold it.
    pub fn patch(&self) -> Result<WorldPatch, serde_json::Error> {
        serde_json::from_value(self.patch_json())
    }

    /// The world a case runs in: the defaults with this variant applied.
    pub fn world(&self, defaults: &World) -> World {
        let mut w = defaults.clone();
        self.apply(&mut w);
        w
    }
}
