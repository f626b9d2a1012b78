//! The campaign summary: spec coverage (how often each rule decided a
//! generated request), the `--json` document and the progress line printed
//! when the output is not a terminal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::campaign::FuzzReport;
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

#[derive(Serialize)]
struct FindingJson<'a> {
    key: &'a str,
    name: &'a str,
    case: u64,
    count: u64,
    summary: String,
}

#[derive(Serialize)]
struct RuleJson {
    rule: &'static str,
    fired: u64,
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    target: &'a str,
    seed: u64,
    shard: String,
    cases: u64,
    requests: u64,
    elapsed_seconds: f64,
    requests_per_second: f64,
    disagreeing_cases: u64,
    errors: u64,
    first_error: Option<&'a str>,
    findings: Vec<FindingJson<'a>>,
    coverage: Vec<RuleJson>,
    rules_never_reached: Vec<&'static str>,
}

/// The `--json` document of a campaign.
pub fn summary_json(report: &FuzzReport, seed: u64) -> String {
    let doc = SummaryJson {
        target: &report.target,
        seed,
        shard: report.shard.to_string(),
        cases: report.cases,
        requests: report.requests,
        elapsed_seconds: report.elapsed.as_secs_f64(),
        requests_per_second: report.requests_per_second(),
        disagreeing_cases: report.disagreeing_cases,
        errors: report.errors,
        first_error: report.first_error.as_deref(),
        findings: report
            .findings
            .iter()
            .map(|f| FindingJson {
                key: &f.key,
                name: &f.name,
                case: f.index,
                count: f.count,
                summary: f.disagreement.to_string(),
            })
            .collect(),
        coverage: RuleId::all()
            .map(|r| RuleJson {
                rule: r.as_str(),
                fired: report.coverage.count(r),
            })
            .collect(),
        rules_never_reached: report.coverage.missing().into_iter().map(RuleId::as_str).collect(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
