//! Spec coverage of a campaign (how often each rule decided a generated
//! request) and the progress line printed when the output is not a
//! terminal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::spec::RuleId;

/// How often each rule was the oracle's verdict on a sent request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub fired: BTreeMap<RuleId, u64>,
}

impl Coverage {
    pub fn add(&mut self, rule: RuleId) {
        *self.fired.entry(rule).or_default() += 1;
    }

    pub fn count(&self, rule: RuleId) -> u64 {
        self.fired.get(&rule).copied().unwrap_or(0)
    }

    /// Rules of the table never reached.
    pub fn missing(&self) -> Vec<RuleId> {
        RuleId::all().filter(|r| self.count(*r) == 0).collect()
    }

    /// One line per rule of the table, in the documented order.
    pub fn table(&self) -> String {
        let total: u64 = self.fired.values().sum();
        let mut out = String::from("spec coverage (requests decided by each rule):\n");
        for rule in RuleId::all() {
            let n = self.count(rule);
            let share = 100.0 * n as f64 / total.max(1) as f64;
            let mark = if n == 0 { "  never reached" } else { "" };
            let _ = writeln!(out, "  {:<4} {n:>9} {share:>6.2}%{mark}", rule.as_str());
        }
        let missing = self.missing();
        let _ = writeln!(
            out,
            "  {} of {} rules reached",
            RuleId::all().count() - missing.len(),
            RuleId::all().count()
        );
        out
    }
}

/// One line of progress for logs (no terminal, no bar).
pub fn progress_line(cases: u64, requests: u64, elapsed: Duration, kinds: usize, errors: u64) -> String {
    let rate = requests as f64 / elapsed.as_secs_f64().max(1e-9);
    format!(
        "fuzz progress: {:.0}s cases={cases} requests={requests} rate={rate:.0} req/s findings={kinds} errors={errors}",
        elapsed.as_secs_f64()
    )
}
