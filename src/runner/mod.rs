//! The runner: checks its own signer against the contract's vectors
//! (`signer_check`), reaches a target (`target`), runs trials (`context`,
//! `exec`, `suite`) as many at once as the target keeps up with (`load`,
//! `gate`), checks answers and states (`check`), and says what happened
//! (`outcome`),
//! with volatile values and secrets removed from recordings (`redact`).

mod check;
mod context;
mod credentials;
mod exec;
mod load;
mod outcome;
mod pacer;
mod redact;
mod request;
mod safety;
mod sent;
mod signer_check;
mod suite;
mod target;

pub use check::expected_format;
pub use context::{RunContext, SCENARIO_HEADER, WITHHELD, missing_capabilities, skip_reason};
pub use credentials::{CredentialsError, load_credentials};
pub use exec::run_trial;
pub use load::{CEILING, Jobs, LoadControl, START};
pub use outcome::{HarnessError, KEPT_BODY_BYTES, KEPT_TRIAL_BYTES, Mismatch, Outcome, Recorded, TrialResult};
pub use pacer::{MAX_ATTEMPTS, Pacer, Retry, Ticket};
pub use redact::redact_body;
pub use request::{as_sent, build_request};
pub use safety::change_risk;
pub use signer_check::{SignerMismatch, check_signer};
pub use suite::{Deadline, NOT_RUN, Pace, Progress, load_error_result, run_all, run_paced};
pub use target::{Connect, Embedded, TargetError, TargetInfo, connect, is_loopback, start_embedded};
