//! The one error type of the fuzzer. A disagreement with the contract is
//! never an error: it is a finding. These are the reasons a campaign could
//! not be run properly (exit 2 in the CLI).
//!
//! A variant's text never repeats its source's: the source stays a
//! `#[source]`, and the chain is printed once, by `util::error_chain` (or
//! anyhow's `{:#}`), link by link.

use std::path::PathBuf;

use crate::client::{ControlError, SendError, Unanswered};
use crate::runner::TargetError;

/// Why fuzzing (or replaying a finding) could not be done.
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("the target has no usable control protocol ({0}); the fuzzer needs it to create worlds")]
    NoControl(String),
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error("the in-process server refused a world")]
    Store(#[source] crate::server::StoreError),
    #[error("the default world (cases/world.yaml) does not load")]
    DefaultWorld(#[source] crate::scenario::LoadError),
    #[error("a generated world is invalid")]
    World(#[source] crate::spec::WorldError),
    #[error("--mutant plants a bug in the embedded server; it cannot be combined with --target")]
    MutantWithTarget,
    #[error("invalid duration `{0}`: use a number with s, m or h (`90s`, `10m`, `1h`)")]
    Duration(String),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A finding file that cannot be read or loaded (size, kind,
    /// encoding, a scenario that does not load).
    #[error(transparent)]
    Read(#[from] crate::scenario::LoadError),
    #[error("{0}")]
    Scenario(String),
    /// A generated request the HTTP library will not build (a header
    /// value no client could send, say).
    #[error("the in-process request cannot be built")]
    InProcessRequest(#[source] axum::http::Error),
    #[error("the in-process answer cannot be read")]
    InProcessAnswer(#[source] axum::Error),
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// A case's connections were still dropped after `attempts` tries while
    /// the target answered other cases: it cannot keep up with the load.
    #[error(
        "the target refused or dropped connections under load, still after {attempts} attempts while it \
         answered other cases"
    )]
    Overloaded {
        attempts: u32,
        #[source]
        last: Box<FuzzError>,
    },
}

impl FuzzError {
    /// A request or control call got no answer at all (timed out, refused,
    /// reset): the target is down, or overloaded if others were answered.
    pub fn unanswered(&self) -> Option<Unanswered> {
        match self {
            FuzzError::Send(e) => e.unanswered(),
            FuzzError::Control(e) => e.unanswered(),
            _ => None,
        }
    }
}
