//! World patches: a case writes only what differs from `cases/world.yaml`.
//!
//! Merge rules: mappings merge key by key; the lists of instances, instance
//! types and images merge by their id (`instance_id`, `name`, `image_id`:
//! a known id is patched, a new id is added); `allowed_changes` and
//! `bandwidth_price_plans` merge by key, and `null` removes a plan. Every
//! other list is replaced. The result is validated as a World document.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::spec::{ChargeType, NetworkType, PricePlan, Status, World, WorldError};

/// Changes to a world; every field optional.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorldPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountPatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<CatalogPatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<ImagePatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<Vec<InstancePatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<FaultsPatch>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_payment: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_sufficient: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_instance_types: Option<Vec<String>>,
    /// A number, or `null` for unlimited.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub max_requests_per_minute: Option<Option<u32>>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_types: Option<Vec<InstanceTypePatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_changes: Option<BTreeMap<String, Vec<String>>>,
    /// `null` for a charge type removes its plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_price_plans: Option<BTreeMap<String, Option<PricePlan>>>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceTypePatch {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_rank: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_stock: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_authorization: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagePatch {
    pub image_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsupported_instance_types: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstancePatch {
    pub instance_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_charge_type: Option<ChargeType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_charge_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_max_bandwidth_out: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_max_bandwidth_in: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_type: Option<NetworkType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_disks: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unpaid_order: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_for_security: Option<bool>,
    /// A number of seconds, or `null`.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub last_modified_seconds_ago: Option<Option<u64>>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_error_on_instances: Option<Vec<String>>,
}

/// For `Option<Option<T>>` fields: a key that is present (even as `null`)
/// is `Some`, so `null` can be written; a missing key stays `None` through
/// `#[serde(default)]`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Which list fields merge by which id key.
const KEYED_LISTS: &[(&str, &str)] = &[
    ("instances", "instance_id"),
    ("instance_types", "name"),
    ("images", "image_id"),
];

fn merge(base: &mut Value, patch: Value, field: Option<&str>) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() && field == Some("bandwidth_price_plans") {
                    b.remove(&k);
                    continue;
                }
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v, Some(&k)),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (Value::Array(b), Value::Array(p)) => {
            let key = KEYED_LISTS.iter().find(|(f, _)| Some(*f) == field).map(|(_, k)| *k);
            match key {
                Some(key) => {
                    for item in p {
                        let id = item.get(key).cloned();
                        match b.iter_mut().find(|x| x.get(key) == id.as_ref()) {
                            Some(existing) => merge(existing, item, None),
                            None => b.push(item),
                        }
                    }
                }
                None => *b = p,
            }
        }
        (b, p) => *b = p,
    }
}

impl WorldPatch {
    /// Applies this patch to `base` (JSON form of a World).
    pub(crate) fn apply_to(&self, base: &mut Value) {
        // Serialising a patch of plain data cannot fail.
        if let Ok(v) = serde_json::to_value(self) {
            merge(base, v, None);
        }
    }
}

/// Builds a world from the defaults and patches, validating the result.
pub fn build_world(defaults: &World, patches: &[&WorldPatch]) -> Result<World, WorldError> {
    let mut v = serde_json::to_value(defaults).map_err(|e| WorldError {
        path: "$".into(),
        message: e.to_string(),
    })?;
    for p in patches {
        p.apply_to(&mut v);
    }
    World::from_json(v.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::sample_world;

    #[test]
    fn instances_merge_by_id_and_plans_can_be_removed() {
        let patch: WorldPatch = serde_yaml::from_str(
            "instances:\n  - {instance_id: i-conf0001, status: Running}\n  - {instance_id: i-new, status: Stopped, instance_type: ecs.g6.large, instance_charge_type: PostPaid, internet_charge_type: PayByTraffic, internet_max_bandwidth_out: 1, internet_max_bandwidth_in: 1, network_type: vpc, image_id: ubuntu_22_04_x64, local_disks: false, unpaid_order: false, locked_for_security: false, last_modified_seconds_ago: null}\ncatalog:\n  bandwidth_price_plans: {PayByTraffic: null}\n",
        )
        .unwrap();
        let w = build_world(&sample_world(), &[&patch]).unwrap();
        assert_eq!(w.instances.len(), 3);
        assert_eq!(w.instances[0].status, Status::Running);
        assert_eq!(w.instances[0].instance_type, "ecs.g6.large", "untouched fields stay");
        assert!(!w.catalog.bandwidth_price_plans.contains_key("PayByTraffic"));
    }

    #[test]
    fn an_incomplete_new_instance_is_a_world_error() {
        let patch: WorldPatch = serde_yaml::from_str("instances:\n  - {instance_id: i-x}\n").unwrap();
        let e = build_world(&sample_world(), &[&patch]).unwrap_err();
        assert!(e.path.starts_with("$.instances[2]"), "{e}");
    }
}
