//! The verdict engine: the one place an exchange is judged. The runner
//! (`modspec run`, `cargo test`) and the fuzzer both call it, so they cannot
//! disagree about the same exchange.
//!
//! An exchange is an answer plus the instance states read afterwards. The
//! engine returns typed findings, each naming the [`Check`] that failed;
//! `check.rs` is the one table of checks with their class (contract, or
//! informative: only with `--strict`) and the reason.

mod answer;
mod check;
mod state;

use serde::Serialize;

pub use answer::{AnswerExpectation, describe, excerpt, judge_answer, names_host};
pub use check::{CHECKS, Check, CheckSpec, Class, markdown_table};
pub use state::{change_of, judge_instance, parse_instance};

/// One thing wrong with an exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: Check,
    pub expected: String,
    pub got: String,
    /// Where, when the check is about part of the exchange (an instance
    /// field for `State`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl Finding {
    pub fn new(check: Check, expected: impl Into<String>, got: impl Into<String>) -> Self {
        Finding {
            check,
            expected: expected.into(),
            got: got.into(),
            at: None,
        }
    }

    #[must_use]
    pub fn at(mut self, at: &str) -> Self {
        self.at = Some(at.to_string());
        self
    }
}

/// The findings about one answer, and the warnings (accepted aliases,
/// informative differences outside strict mode) that are not failures.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    pub findings: Vec<Finding>,
    pub warnings: Vec<String>,
}

impl Verdict {
    fn find(&mut self, check: Check, expected: impl Into<String>, got: impl Into<String>) {
        self.findings.push(Finding::new(check, expected, got));
    }
}
