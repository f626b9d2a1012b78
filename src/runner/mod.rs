//! The runner: reaches a target (`target`), runs trials (`exec`, `suite`),
//! checks answers and states (`check`), and says what happened (`outcome`),
//! with volatile values and secrets removed from recordings (`redact`).

mod check;
mod exec;
mod outcome;
mod redact;
mod request;
mod safety;
mod sent;
mod suite;
mod target;

pub use check::expected_format;
pub use exec::{RunContext, SCENARIO_HEADER, WITHHELD, missing_capabilities, run_trial, skip_reason};
pub use outcome::{KEPT_BODY_BYTES, KEPT_TRIAL_BYTES, Mismatch, Outcome, Recorded, TrialResult};
pub use redact::redact_body;
pub use request::{as_sent, build_request};
pub use safety::change_risk;
pub use suite::{Deadline, NOT_RUN, Pace, Progress, load_error_result, run_all, run_paced};
pub use target::{
    Connect, CredentialsError, Embedded, TargetError, TargetInfo, connect, is_loopback, load_credentials,
    start_embedded,
};
