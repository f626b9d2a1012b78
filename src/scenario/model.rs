//! The scenario file format (`cases/**/*.yaml`), as serde reads it.
//!
//! Every struct denies unknown keys so a typo is an error with a location,
//! never a silently ignored expectation. `modspec schema` prints the JSON
//! Schema derived from these types for editors.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::patch::WorldPatch;
pub use crate::wire::Damage;

/// One scenario file.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// What the scenario shows, in one sentence.
    pub description: String,
    /// The rule ids of behaviour.md section 3 this scenario is about.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Free tags for `--tag`; `precedence` marks cases that break several rules.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Control-protocol capabilities needed (default `[core]`); `[]` marks a
    /// `live` case that needs no world. Capabilities implied by the steps
    /// (clock, auth, xml, dry-run, extended-params, faults) are added.
    #[serde(default)]
    pub needs: Option<Vec<Capability>>,
    /// Live cases only: the world instance that stands for an existing
    /// instance of a live account. Against a target without the control
    /// protocol, every parameter value equal to it is replaced by each
    /// `--instance-id` in turn (the steps run once per id); without
    /// `--instance-id` the trial is skipped. With the control protocol the
    /// world's instance is used as it is.
    #[serde(default)]
    pub instance: Option<String>,
    /// Changes to the shared default world (`cases/world.yaml`).
    #[serde(default)]
    pub world: WorldPatch,
    /// More worlds by name (default world plus a patch), for isolation
    /// cases; a request picks one with `as`.
    #[serde(default)]
    pub worlds: BTreeMap<String, WorldPatch>,
    pub steps: Vec<Step>,
    /// One trial per row; `${column}` in the steps is replaced by the row's value.
    #[serde(default)]
    pub examples: Vec<ExampleRow>,
}

/// A control-protocol capability name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    Core,
    Clock,
    Auth,
    Xml,
    DryRun,
    ExtendedParams,
    Precedence,
    Faults,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Core => "core",
            Capability::Clock => "clock",
            Capability::Auth => "auth",
            Capability::Xml => "xml",
            Capability::DryRun => "dry-run",
            Capability::ExtendedParams => "extended-params",
            Capability::Precedence => "precedence",
            Capability::Faults => "faults",
        }
    }

    pub fn parse(s: &str) -> Option<Capability> {
        ALL_CAPABILITIES.iter().copied().find(|c| c.as_str() == s)
    }
}

pub const ALL_CAPABILITIES: [Capability; 8] = [
    Capability::Core,
    Capability::Clock,
    Capability::Auth,
    Capability::Xml,
    Capability::DryRun,
    Capability::ExtendedParams,
    Capability::Precedence,
    Capability::Faults,
];

/// One step: a request with its expectation, or a clock move.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Optional label shown in failures.
    #[serde(default)]
    pub name: Option<String>,
    /// Advance the world clock by this many seconds.
    #[serde(default)]
    pub advance: Option<u64>,
    #[serde(default)]
    pub request: Option<RequestSpec>,
    /// Required with `request`: a rule id (`P3`, `E1`...) or a mapping.
    #[serde(default)]
    pub expect: Option<Expect>,
    /// Send the same request this many times, each expecting the same (default 1).
    #[serde(default)]
    pub repeat: Option<u32>,
}

/// A parameter value: YAML strings, integers and booleans are sent as text.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ParamValue {
    Text(String),
    Int(i64),
    Bool(bool),
}

impl ParamValue {
    pub(crate) fn to_text(&self) -> String {
        match self {
            ParamValue::Text(s) => s.clone(),
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Bool(b) => b.to_string(),
        }
    }
}

/// Signature style of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Signature {
    V1,
    V3,
}

impl Signature {
    pub fn parse(s: &str) -> Option<Signature> {
        match s.to_ascii_lowercase().as_str() {
            "v1" => Some(Signature::V1),
            "v3" => Some(Signature::V3),
            _ => None,
        }
    }
}

impl RequestSpec {
    /// The signature style this request asks for, if it names a valid one.
    pub(crate) fn signature_style(&self) -> Option<Signature> {
        self.signature.as_deref().and_then(Signature::parse)
    }
}

/// Where V1 parameters travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    Query,
    Form,
}

/// One ModifyInstanceSpec request.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// Operation parameters in order (`InstanceId: i-conf0001`).
    #[serde(default)]
    pub params: IndexMap<String, ParamValue>,
    /// More parameter pairs appended after `params`, for repeated names.
    #[serde(default)]
    pub pairs: Vec<(String, String)>,
    /// Parameters that always travel in the URL query, even when the others
    /// go in a V1 form body (the server reads the query first).
    #[serde(default)]
    pub query: IndexMap<String, ParamValue>,
    /// Signature style, `v1` or `v3`; default: the run's `--signature` (v3).
    #[serde(default)]
    pub signature: Option<String>,
    /// HTTP method (default POST).
    #[serde(default)]
    pub method: Option<String>,
    /// The `Format` parameter, sent as given.
    #[serde(default)]
    pub format: Option<String>,
    /// V1 only: parameters in the query or a form body (default: form for POST).
    #[serde(default)]
    pub placement: Option<Placement>,
    /// Send with the credentials of a world named in `worlds`.
    #[serde(default, rename = "as")]
    pub as_world: Option<String>,
    /// Deliberate protocol damage.
    #[serde(default)]
    pub protocol: Option<Damage>,
    /// Extra request headers, sent as given; on V3 also signed (listed in
    /// SignedHeaders), as the SDKs sign every header they send
    /// (`content-type`, `x-acs-*` extras). Unsigned ones: `protocol:
    /// {unsigned_headers: [...]}`.
    #[serde(default)]
    pub headers: IndexMap<String, String>,
}

/// What the answer must be: a rule id, or a mapping.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Expect {
    /// A rule id: status, code and aliases come from the rules table.
    Rule(String),
    Full(ExpectFull),
}

/// The long form of an expectation.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectFull {
    /// The rule that must fire; gives status and code from the table.
    #[serde(default)]
    pub rule: Option<String>,
    /// Instead of `rule`: any one of these error rules may fire, and
    /// nothing may change. For live cases on an instance the suite does not
    /// know (`--instance-id`): `one_of: [D1, A1, A2, …]` reads "D1, or the
    /// rule that blocks it". Successes (E1, I3) cannot be listed.
    #[serde(default)]
    pub one_of: Option<Vec<String>>,
    /// Body format of the answer (`json`/`xml`); default: derived from the request.
    #[serde(default)]
    pub format: Option<String>,
    /// Instance state afterwards: field → value, for the request's instance.
    #[serde(default)]
    pub state: Option<BTreeMap<String, serde_json::Value>>,
    /// Text the message must contain (checked in strict mode only).
    #[serde(default)]
    pub message_contains: Option<String>,
    /// The exact `x-acs-retry-after` of a Throttling answer, in
    /// milliseconds on the world clock (behaviour.md section 6): T1 until
    /// the 300 s window ends, G12 until the oldest counted request leaves
    /// the 60 s window. Without it any whole number of at least 1 passes.
    #[serde(default)]
    pub retry_after: Option<u64>,
}

impl<'de> Deserialize<'de> for Expect {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Not `untagged`: its error ("did not match any variant") would hide
        // which key was wrong.
        let v = serde_yaml::Value::deserialize(d)?;
        match v {
            serde_yaml::Value::String(s) => Ok(Expect::Rule(s)),
            other => serde_yaml::from_value::<ExpectFull>(other)
                .map(Expect::Full)
                .map_err(|e| serde::de::Error::custom(format!("expect: {e}"))),
        }
    }
}

impl Expect {}

/// One row of an `examples` table.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
pub struct ExampleRow {
    /// The row's name, appended to the trial id.
    pub name: String,
    /// A world patch applied after the scenario's own.
    #[serde(default)]
    pub world: Option<WorldPatch>,
    /// Column values, substituted for `${column}`.
    #[serde(flatten)]
    pub vars: BTreeMap<String, ParamValue>,
}
