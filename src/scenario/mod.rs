//! Scenarios: the YAML case format (`model`, `patch`), loading with
//! located errors (`load`, `error`) and what a trial needs (`needs`).

mod error;
mod load;
mod model;
mod needs;
mod patch;

pub use error::LoadError;
pub use load::{DEFAULT_WORLD_FILE, Expectation, INSTANCE_FIELDS, Library, Trial, TrialStep, load_library, load_text};
pub use model::{
    ALL_CAPABILITIES, Capability, Damage, Expect, ExpectFull, ParamValue, Placement, RequestSpec, ScenarioFile,
    Signature, Step,
};
pub use patch::{WorldPatch, build_world};

/// The JSON Schema of the case format, for editors (`modspec schema`).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ScenarioFile)).unwrap_or_default()
}
