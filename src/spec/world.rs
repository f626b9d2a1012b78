//! The World document of the control protocol (control-protocol.md): an
//! account with its catalog, images, instances and settings, exactly as the
//! harness sends it.
//!
//! Every field is required (a missing field is an error, `null` is spelled
//! out where allowed) and unknown fields are rejected, because the protocol
//! is public and a lenient reference would hide harness bugs.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Deserializer, Serialize};

/// One isolated world, as `POST /_conformance/v1/worlds` receives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    pub account: Account,
    pub catalog: Catalog,
    pub images: Vec<Image>,
    pub instances: Vec<Instance>,
    /// How long an accepted operation stays "processing" for I2, in world seconds.
    pub operation_seconds: u64,
    pub faults: Faults,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub overdue_payment: bool,
    pub balance_sufficient: bool,
    pub authorized_instance_types: Vec<String>,
    /// G12 quota; `null` means unlimited. Present but null is required.
    #[serde(deserialize_with = "required_nullable")]
    pub max_requests_per_minute: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub instance_types: Vec<InstanceTypeSpec>,
    /// Current type → the types it may change to (C4).
    pub allowed_changes: BTreeMap<String, Vec<String>>,
    /// Internet charge type → its price plan (B3).
    pub bandwidth_price_plans: BTreeMap<String, PricePlan>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceTypeSpec {
    pub name: String,
    pub family: String,
    pub architecture: String,
    /// Orders types by price: a higher rank is an upgrade (C8).
    pub price_rank: i64,
    pub in_stock: bool,
    pub requires_authorization: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PricePlan {
    pub max_out: u32,
    pub max_in: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    pub image_id: String,
    pub architecture: String,
    pub unsupported_instance_types: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum Status {
    Pending,
    Running,
    Starting,
    Stopping,
    Stopped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ChargeType {
    PostPaid,
    PrePaid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NetworkType {
    Vpc,
    Classic,
}

/// An instance as seeded by the harness; its mutable fields change on E1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub instance_id: String,
    pub status: Status,
    pub instance_type: String,
    pub instance_charge_type: ChargeType,
    /// Free text on purpose: B2 rejects the charge types it does not know.
    pub internet_charge_type: String,
    pub internet_max_bandwidth_out: u32,
    pub internet_max_bandwidth_in: u32,
    pub network_type: NetworkType,
    pub image_id: String,
    pub local_disks: bool,
    pub unpaid_order: bool,
    pub locked_for_security: bool,
    /// Seconds before world time zero of the last successful change, or null.
    #[serde(deserialize_with = "required_nullable")]
    pub last_modified_seconds_ago: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// F1: instances whose changes fail with InternalError.
    pub internal_error_on_instances: Vec<String>,
}

/// Makes an `Option` field required while still allowing `null`.
///
/// serde treats a missing `Option` field as `None`; naming a deserializer
/// switches that off, which is what the protocol's "every field is given" needs.
fn required_nullable<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}

/// Why a World document was refused; the text names the JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct WorldError {
    pub path: String,
    pub message: String,
}

impl WorldError {
    fn at(path: String, message: impl Into<String>) -> Self {
        WorldError {
            path,
            message: message.into(),
        }
    }
}

impl World {
    /// Parses and validates a World document from JSON bytes.
    pub(crate) fn from_json(bytes: &[u8]) -> Result<World, WorldError> {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        let world: World = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." {
                "$".to_string()
            } else {
                format!("$.{path}")
            };
            // serde_json adds "at line 1 column N" of a text the user never
            // wrote (the merged world); the JSON path says where instead.
            WorldError::at(path, crate::util::strip_positions(&e.into_inner().to_string()))
        })?;
        world.validate()?;
        Ok(world)
    }

    /// Checks what the types cannot: uniqueness and references.
    pub(crate) fn validate(&self) -> Result<(), WorldError> {
        let mut types = HashSet::new();
        for (i, t) in self.catalog.instance_types.iter().enumerate() {
            if !types.insert(t.name.as_str()) {
                return Err(WorldError::at(
                    format!("$.catalog.instance_types[{i}].name"),
                    format!("duplicate instance type `{}`", t.name),
                ));
            }
        }
        for (from, targets) in &self.catalog.allowed_changes {
            if !types.contains(from.as_str()) {
                return Err(WorldError::at(
                    format!("$.catalog.allowed_changes.{from}"),
                    format!("unknown instance type `{from}`"),
                ));
            }
            for (j, to) in targets.iter().enumerate() {
                if !types.contains(to.as_str()) {
                    return Err(WorldError::at(
                        format!("$.catalog.allowed_changes.{from}[{j}]"),
                        format!("unknown instance type `{to}`"),
                    ));
                }
            }
        }
        let mut images = HashSet::new();
        for (i, img) in self.images.iter().enumerate() {
            if !images.insert(img.image_id.as_str()) {
                return Err(WorldError::at(
                    format!("$.images[{i}].image_id"),
                    format!("duplicate image id `{}`", img.image_id),
                ));
            }
        }
        let mut ids = HashSet::new();
        for (i, inst) in self.instances.iter().enumerate() {
            if !ids.insert(inst.instance_id.as_str()) {
                return Err(WorldError::at(
                    format!("$.instances[{i}].instance_id"),
                    format!("duplicate instance id `{}`", inst.instance_id),
                ));
            }
            if !types.contains(inst.instance_type.as_str()) {
                return Err(WorldError::at(
                    format!("$.instances[{i}].instance_type"),
                    format!("unknown instance type `{}`", inst.instance_type),
                ));
            }
            if !images.contains(inst.image_id.as_str()) {
                return Err(WorldError::at(
                    format!("$.instances[{i}].image_id"),
                    format!("unknown image `{}`", inst.image_id),
                ));
            }
        }
        Ok(())
    }

    /// The catalog entry of a type, if the catalog has it.
    pub fn instance_type(&self, name: &str) -> Option<&InstanceTypeSpec> {
        self.catalog.instance_types.iter().find(|t| t.name == name)
    }

    /// The image with this id, if any.
    pub fn image(&self, id: &str) -> Option<&Image> {
        self.images.iter().find(|i| i.image_id == id)
    }
}

/// The control protocol's example world (one Stopped VPC instance
/// `i-conf0001`, one Running classic instance `i-conf0002`), for the
/// benchmark, the interop check and tests.
pub fn sample_world() -> World {
    // The JSON is a checked-in constant that a unit test parses; an error
    // here is a build defect, so an empty-catalog world is never served.
    World::from_json(include_bytes!("sample_world.json")).unwrap_or_else(|e| panic!("sample world: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_world_is_valid() {
        assert_eq!(sample_world().instances.len(), 2);
    }

    fn err(json: &str) -> String {
        World::from_json(json.as_bytes()).unwrap_err().to_string()
    }

    fn edit(f: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut v: serde_json::Value = serde_json::from_slice(include_bytes!("sample_world.json")).unwrap();
        f(&mut v);
        err(&v.to_string())
    }

    #[test]
    fn invalid_worlds_name_the_json_path() {
        assert!(err("{").starts_with("$"));
        let e = edit(|v| {
            v["account"]
                .as_object_mut()
                .unwrap()
                .remove("max_requests_per_minute")
                .map(|_| ())
                .unwrap()
        });
        assert!(
            e.starts_with("$.account") && e.contains("max_requests_per_minute"),
            "{e}"
        );
        let e = edit(|v| v["instances"][1]["colour"] = "red".into());
        assert!(e.starts_with("$.instances[1]") && e.contains("colour"), "{e}");
        let e = edit(|v| v["instances"][0]["status"] = "Deleted".into());
        assert!(e.starts_with("$.instances[0].status"), "{e}");
        let e = edit(|v| v["instances"][1]["instance_id"] = "i-conf0001".into());
        assert!(
            e.starts_with("$.instances[1].instance_id") && e.contains("duplicate"),
            "{e}"
        );
        let e = edit(|v| v["instances"][0]["image_id"] = "nope".into());
        assert!(e.starts_with("$.instances[0].image_id"), "{e}");
        let e = edit(|v| v["catalog"]["allowed_changes"]["ecs.g6.large"][1] = "ecs.zz".into());
        assert!(e.starts_with("$.catalog.allowed_changes.ecs.g6.large[1]"), "{e}");
        let e = edit(|v| v["catalog"]["instance_types"][2]["name"] = "ecs.g6.large".into());
        assert!(e.contains("duplicate instance type"), "{e}");
        let e = edit(|v| v["operation_seconds"] = (-1).into());
        assert!(e.starts_with("$.operation_seconds"), "{e}");
    }
}
