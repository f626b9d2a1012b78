//! The campaign summary of `modspec fuzz --json FILE`: cases, requests,
//! rate, errors, findings with their keys, and the spec coverage
//! (`coverage.rs`: rules, boundaries, precedence pairs).

use serde::Serialize;

use super::campaign::FuzzReport;
use super::reach::Boundary;
use crate::spec::RuleId;

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
struct BoundaryJson {
    rule: &'static str,
    boundary: &'static str,
    reached: u64,
}

#[derive(Serialize)]
struct PairJson {
    winner: &'static str,
    runner_up: &'static str,
    reached: u64,
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
    steered: bool,
    coverage: Vec<RuleJson>,
    rules_never_reached: Vec<&'static str>,
    boundaries: Vec<BoundaryJson>,
    boundaries_never_reached: Vec<String>,
    precedence_pairs: Vec<PairJson>,
    /// Pairs the plain generator reaches that this campaign did not.
    known_pairs_never_reached: Vec<String>,
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
        steered: report.steered,
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
        boundaries: Boundary::ALL
            .iter()
            .map(|b| BoundaryJson {
                rule: b.rule().as_str(),
                boundary: b.edge(),
                reached: report.coverage.boundary(*b),
            })
            .collect(),
        boundaries_never_reached: report
            .coverage
            .boundaries_missing()
            .iter()
            .map(Boundary::to_string)
            .collect(),
        precedence_pairs: report
            .coverage
            .pairs
            .iter()
            .map(|((w, l), n)| PairJson {
                winner: w.as_str(),
                runner_up: l.as_str(),
                reached: *n,
            })
            .collect(),
        known_pairs_never_reached: report
            .coverage
            .pairs_missing()
            .iter()
            .map(|(w, l)| format!("{w}>{l}"))
            .collect(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
