//! Scenarios: the YAML case format (`model`, `patch`), the built-in library
//! (`builtin`) and folders given with `--cases` (`library`), finding and
//! reading files without trusting the folder (`walk`), loading with located
//! errors (`load`, `error`), snapshot names (`naming`) and what a trial
//! needs (`needs`).

mod builtin;
mod error;
mod library;
mod load;
mod model;
mod naming;
mod needs;
mod patch;
mod resolve;
mod spans;
mod trial;
mod walk;

pub use crate::spec::INSTANCE_FIELDS;
pub use builtin::{
    BUILTIN_ROOT, BUILTIN_SCHEMA, ExportError, builtin_default_world, builtin_files, export_builtin, load_builtin,
};
pub use error::LoadError;
pub use library::{Cases, load_defaults, load_folders, load_library};
pub use load::{DEFAULT_WORLD_FILE, load_text};
pub use model::{
    ALL_CAPABILITIES, Capability, Damage, Expect, ExpectFull, ParamValue, Placement, RequestSpec, ScenarioFile,
    Signature, Step,
};
pub use naming::{MAX_SNAPSHOT_NAME, snapshot_name};
pub use patch::{WorldPatch, build_world};
pub use trial::{Expectation, Library, Trial, TrialStep};
pub use walk::{MAX_CASE_FILE_BYTES, MAX_NESTING, read_case_file};

/// The JSON Schema of the case format, for editors (`modspec schema`).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ScenarioFile)).unwrap_or_default()
}
