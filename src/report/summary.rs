//! Counts per outcome and what they mean for the exit code.

use std::time::Duration;

use serde::Serialize;

use crate::runner::{Outcome, TrialResult};

/// Totals of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    pub warnings: usize,
    #[serde(skip)]
    pub elapsed: Duration,
    /// Set when the run as a whole could not be done properly.
    pub run_error: Option<String>,
}

/// The process exit code: 0 all passed, 1 some scenario failed, 2 the run
/// could not be done properly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Passed = 0,
    Failed = 1,
    CouldNotRun = 2,
}

impl Summary {
    pub fn of(results: &[TrialResult], elapsed: Duration) -> Summary {
        let mut s = Summary {
            elapsed,
            ..Summary::default()
        };
        for r in results {
            match r.outcome {
                Outcome::Pass => s.passed += 1,
                Outcome::Fail { .. } => s.failed += 1,
                Outcome::Error { .. } => s.errors += 1,
                Outcome::Skipped { .. } => s.skipped += 1,
            }
            s.warnings += r.warnings.len();
        }
        s
    }

    /// Harness trouble outranks nonconformance: an Error means the verdict
    /// is incomplete, so the run is never reported as merely failed.
    pub fn exit_status(&self) -> ExitStatus {
        if self.errors > 0 || self.run_error.is_some() {
            ExitStatus::CouldNotRun
        } else if self.failed > 0 {
            ExitStatus::Failed
        } else {
            ExitStatus::Passed
        }
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    summary: &'a Summary,
    elapsed_ms: f64,
    results: &'a [TrialResult],
}

/// The JSON report: summary plus every result.
pub fn render_json(results: &[TrialResult], summary: &Summary) -> String {
    let report = JsonReport {
        summary,
        elapsed_ms: summary.elapsed.as_secs_f64() * 1000.0,
        results,
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
