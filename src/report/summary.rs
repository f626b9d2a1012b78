//! Counts per outcome and what they mean for the exit code.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;

use crate::runner::{Outcome, TrialResult};
use crate::scenario::Capability;

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
    /// What the trials skipped for want of capabilities lacked.
    pub capability_costs: CapabilityCosts,
}

/// How many skipped trials each missing capability cost (a trial lacking
/// two counts for both), and which single capability, once claimed, would
/// unlock the most of them (trials that lack only it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CapabilityCosts {
    pub per_capability: BTreeMap<String, usize>,
    /// `(capability, trials it alone would unlock)`; `None` when no single
    /// capability unlocks any.
    pub best: Option<(String, usize)>,
}

impl CapabilityCosts {
    /// From the missing capabilities of each skipped trial (empty sets,
    /// trials skipped for other reasons, are ignored).
    pub fn of<'a>(missing: impl IntoIterator<Item = &'a BTreeSet<Capability>>) -> CapabilityCosts {
        let mut cost: BTreeMap<Capability, usize> = BTreeMap::new();
        let mut alone: BTreeMap<Capability, usize> = BTreeMap::new();
        for set in missing {
            for c in set {
                *cost.entry(*c).or_default() += 1;
            }
            if let (1, Some(c)) = (set.len(), set.first()) {
                *alone.entry(*c).or_default() += 1;
            }
        }
        // The most unlocked; among equals the costliest, then the first name.
        let best = alone
            .iter()
            .max_by(|a, b| (a.1, cost[a.0]).cmp(&(b.1, cost[b.0])).then(b.0.cmp(a.0)))
            .map(|(c, n)| (c.as_str().to_string(), *n));
        CapabilityCosts {
            per_capability: cost.into_iter().map(|(c, n)| (c.as_str().to_string(), n)).collect(),
            best,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.per_capability.is_empty()
    }
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
                Outcome::Error(_) => s.errors += 1,
                Outcome::Skipped { .. } => s.skipped += 1,
            }
            s.warnings += r.warnings.len();
        }
        s
    }

    /// True if trials were selected and every one was skipped: the run
    /// checked nothing, which is never a pass.
    pub(crate) fn nothing_checked(&self) -> bool {
        self.skipped > 0 && self.passed + self.failed + self.errors == 0
    }

    /// Harness trouble outranks nonconformance: an Error means the verdict
    /// is incomplete, so the run is never reported as merely failed.
    pub fn exit_status(&self) -> ExitStatus {
        if self.errors > 0 || self.run_error.is_some() || self.nothing_checked() {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn set(caps: &[Capability]) -> BTreeSet<Capability> {
        caps.iter().copied().collect()
    }

    #[test]
    fn capability_costs_count_each_need_and_name_what_unlocks_most() {
        use Capability::*;
        let skipped = [
            set(&[Core]),
            set(&[Core]),
            set(&[Core, Xml]),
            set(&[Xml]),
            set(&[Clock, Auth]),
            set(&[]),
        ];
        let c = CapabilityCosts::of(&skipped);
        let want: BTreeMap<String, usize> = [("auth", 1), ("clock", 1), ("core", 3), ("xml", 2)]
            .iter()
            .map(|(k, n)| (k.to_string(), *n))
            .collect();
        assert_eq!(c.per_capability, want);
        // core alone unlocks two trials, xml alone one; clock+auth none.
        assert_eq!(c.best, Some(("core".to_string(), 2)));
        let none = CapabilityCosts::of(&[set(&[Clock, Auth])]);
        assert_eq!(none.best, None);
        assert!(CapabilityCosts::of(&[]).is_empty());
    }

    #[test]
    fn a_run_that_checked_nothing_never_exits_0() {
        let all_skipped = Summary {
            skipped: 624,
            ..Summary::default()
        };
        assert!(all_skipped.nothing_checked());
        assert_eq!(all_skipped.exit_status(), ExitStatus::CouldNotRun);
        let some_ran = Summary {
            passed: 1,
            skipped: 623,
            ..Summary::default()
        };
        assert_eq!(some_ran.exit_status(), ExitStatus::Passed);
        assert_eq!(Summary::default().exit_status(), ExitStatus::Passed);
    }
}
