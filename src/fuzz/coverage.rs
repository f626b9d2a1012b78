//! Spec coverage of a campaign: how often each rule decided a sent request,
//! each boundary of section 3 was reached (`reach.rs`) and each precedence
//! pair (the winner and the rule that came next) was decided; and the
//! progress line printed when the output is not a terminal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::model::Expected;
use super::reach::Boundary;
use super::steer::known_pairs;
use crate::spec::RuleId;

/// Missing pairs named in the table at most; the `--json` summary has all.
const MISSING_PAIRS_SHOWN: usize = 12;

/// What the oracle's verdicts on the sent requests reached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Requests decided by each rule.
    pub fired: BTreeMap<RuleId, u64>,
    /// Requests that reached each boundary.
    pub boundaries: BTreeMap<Boundary, u64>,
    /// Requests decided by the first rule that also broke the second.
    pub pairs: BTreeMap<(RuleId, RuleId), u64>,
}

impl Coverage {
    /// Counts one sent request.
    pub fn add(&mut self, e: &Expected) {
        *self.fired.entry(e.rule).or_default() += 1;
        if let Some(loser) = e.runner_up {
            *self.pairs.entry((e.rule, loser)).or_default() += 1;
        }
        for b in e.boundaries.iter() {
            *self.boundaries.entry(b).or_default() += 1;
        }
    }

    pub fn count(&self, rule: RuleId) -> u64 {
        self.fired.get(&rule).copied().unwrap_or(0)
    }

    pub fn boundary(&self, b: Boundary) -> u64 {
        self.boundaries.get(&b).copied().unwrap_or(0)
    }

    pub fn pair(&self, winner: RuleId, loser: RuleId) -> u64 {
        self.pairs.get(&(winner, loser)).copied().unwrap_or(0)
    }

    /// Rules of the table never reached.
    pub fn missing(&self) -> Vec<RuleId> {
        RuleId::all().filter(|r| self.count(*r) == 0).collect()
    }

    /// Boundaries never reached.
    pub fn boundaries_missing(&self) -> Vec<Boundary> {
        Boundary::ALL
            .iter()
            .copied()
            .filter(|b| self.boundary(*b) == 0)
            .collect()
    }

    /// Pairs the plain generator reaches (steering's table) that this
    /// campaign did not: the ones a longer run or another seed would add.
    pub(crate) fn pairs_missing(&self) -> Vec<(RuleId, RuleId)> {
        known_pairs().filter(|(w, l)| self.pair(*w, *l) == 0).collect()
    }

    /// Rules, boundaries and pairs, each in the documented order.
    pub fn table(&self) -> String {
        let mut out = self.rule_table();
        out.push_str(&self.boundary_table());
        out.push_str(&self.pair_table());
        out
    }

    fn rule_table(&self) -> String {
        let total: u64 = self.fired.values().sum();
        let mut out = String::from("spec coverage (requests decided by each rule):\n");
        for rule in RuleId::all() {
            let n = self.count(rule);
            let share = 100.0 * n as f64 / total.max(1) as f64;
            let mark = if n == 0 { "  never reached" } else { "" };
            let _ = writeln!(out, "  {:<4} {n:>9} {share:>6.2}%{mark}", rule.as_str());
        }
        let all = RuleId::all().count();
        let _ = writeln!(out, "  {} of {all} rules reached", all - self.missing().len());
        out
    }

    fn boundary_table(&self) -> String {
        let mut out = String::from("boundaries (requests that reached each edge of a range of section 3):\n");
        for b in Boundary::ALL {
            let n = self.boundary(*b);
            let mark = if n == 0 { "  never reached" } else { "" };
            let _ = writeln!(out, "  {:<4} {:<46} {n:>9}{mark}", b.rule().as_str(), b.edge());
        }
        let all = Boundary::ALL.len();
        let _ = writeln!(
            out,
            "  {} of {all} boundaries reached",
            all - self.boundaries_missing().len()
        );
        out
    }

    fn pair_table(&self) -> String {
        let mut out = String::from("precedence pairs (winner > runner-up: requests that broke both):\n");
        let mut by_winner: BTreeMap<RuleId, Vec<String>> = BTreeMap::new();
        for ((w, l), n) in &self.pairs {
            by_winner.entry(*w).or_default().push(format!("{l} {n}"));
        }
        for (w, losers) in by_winner {
            let _ = writeln!(out, "  {:<4} > {}", w.as_str(), losers.join(", "));
        }
        let missing = self.pairs_missing();
        let known = known_pairs().count();
        let _ = write!(
            out,
            "  {} pairs reached; {} of the {known} the plain generator reaches",
            self.pairs.len(),
            known - missing.len()
        );
        if !missing.is_empty() {
            let shown: Vec<String> = missing
                .iter()
                .take(MISSING_PAIRS_SHOWN)
                .map(|(w, l)| format!("{w}>{l}"))
                .collect();
            let more = missing.len().saturating_sub(MISSING_PAIRS_SHOWN);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            let _ = write!(out, "; not reached: {}{tail}", shown.join(" "));
        }
        out.push('\n');
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
