//! A generated test case: a world (the default world plus a variant) and
//! steps (requests and clock moves). Every case is printable as a
//! scenario, and the request it sends is built by the runner's own
//! `build_request`, so a finding's YAML sends exactly what the fuzzer sent.

use std::collections::HashSet;

use crate::client::{EcsRequest, SignatureStyle};
use crate::runner::build_request;
use crate::scenario::{ParamValue, Placement, RequestSpec, Signature};
use crate::spec::World;
use crate::wire::Damage;

use super::error::FuzzError;
pub use super::variant::{InstanceField, WorldField, WorldVariant};

/// One generated case.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Case {
    /// What differs from `cases/world.yaml`.
    pub world: WorldVariant,
    pub steps: Vec<CaseStep>,
}

/// A request or a clock move (for every world of the case).
#[derive(Clone, Debug, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "a case has a handful of steps; boxing would only add noise"
)]
pub enum CaseStep {
    Advance(u64),
    Request(CaseRequest),
}

/// One ModifyInstanceSpec request as the fuzzer describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseRequest {
    /// Operation parameters in the order sent; names may repeat.
    pub params: Vec<(String, String)>,
    pub style: SignatureStyle,
    pub method: String,
    /// V1 POST: parameters in the URL query instead of a form body.
    pub query: bool,
    /// The `Format` parameter, as sent.
    pub format: Option<String>,
    /// Protocol damage; only kinds whose expected rule `model` can state.
    pub damage: Damage,
}

impl Default for CaseRequest {
    fn default() -> Self {
        CaseRequest {
            params: Vec::new(),
            style: SignatureStyle::V3,
            method: "POST".into(),
            query: false,
            format: None,
            damage: Damage::default(),
        }
    }
}

impl CaseRequest {
    /// The value of the first parameter with this name, as the server reads it.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The request as a scenario step writes it.
    ///
    /// The longest prefix of distinct names goes to `params` (a mapping),
    /// the rest to `pairs`, which keeps the order sent, repeats included.
    pub(crate) fn to_spec(&self) -> RequestSpec {
        let mut spec = RequestSpec::default();
        let mut seen = HashSet::new();
        let mut in_prefix = true;
        for (k, v) in &self.params {
            if in_prefix && seen.insert(k.as_str()) {
                spec.params.insert(k.clone(), ParamValue::Text(v.clone()));
            } else {
                in_prefix = false;
                spec.pairs.push((k.clone(), v.clone()));
            }
        }
        spec.signature = Some(
            match self.style {
                SignatureStyle::V1 => "v1",
                SignatureStyle::V3 => "v3",
            }
            .to_string(),
        );
        spec.method = (self.method != "POST").then(|| self.method.clone());
        spec.format.clone_from(&self.format);
        let v1_post = self.style == SignatureStyle::V1 && self.method == "POST";
        spec.placement = (v1_post && self.query).then_some(Placement::Query);
        spec.protocol = (self.damage != Damage::default()).then(|| self.damage.clone());
        spec
    }

    /// The request to sign and send, built exactly as the runner builds a
    /// scenario's request.
    pub(crate) fn to_ecs(&self) -> EcsRequest {
        build_request(&self.to_spec(), Signature::V3)
    }
}

impl Case {
    /// The requests, in order.
    pub fn requests(&self) -> impl Iterator<Item = &CaseRequest> {
        self.steps.iter().filter_map(|s| match s {
            CaseStep::Request(r) => Some(r),
            CaseStep::Advance(_) => None,
        })
    }

    /// Number of request steps.
    pub(crate) fn request_count(&self) -> usize {
        self.requests().count()
    }

    /// A rough size, for shrinking: fewer steps, world fields, parameters
    /// and characters make a smaller case.
    pub fn size(&self) -> usize {
        let req: usize = self
            .requests()
            .map(|r| {
                let params: usize = r.params.iter().map(|(k, v)| 4 + k.len() + v.len()).sum();
                let extras = usize::from(r.damage != Damage::default()) * 8
                    + usize::from(r.format.is_some()) * 4
                    + usize::from(r.method != "POST") * 2
                    + usize::from(r.query) * 2;
                16 + params + extras
            })
            .sum();
        let advances = self.steps.len() - self.request_count();
        req + advances * 8 + self.world.0.len() * 6
    }
}

/// The shared default world, `cases/world.yaml`, compiled in (the built-in
/// library's) so a seed means the same cases wherever the binary runs.
pub fn default_world() -> Result<&'static World, FuzzError> {
    crate::scenario::builtin_default_world().map_err(FuzzError::DefaultWorld)
}
