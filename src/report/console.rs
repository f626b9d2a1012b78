//! The console report: one block per failure or error, a line per skip
//! reason, and a summary line. Every text that may come from a target or
//! a case file goes through [`terminal_safe`]: it cannot drive the
//! terminal or forge a line.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use super::summary::Summary;
use crate::runner::{Mismatch, Outcome, TrialResult};
use crate::util::terminal_safe as safe;

/// Prints failures, errors, warnings and skip reasons to `out`.
pub fn print_results(out: &mut dyn Write, results: &[TrialResult], verbose: bool) -> std::io::Result<()> {
    let mut skips: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        let id = safe(&r.id);
        match &r.outcome {
            Outcome::Pass if verbose => writeln!(out, "pass  {id}")?,
            Outcome::Pass => {}
            Outcome::Fail { mismatches } => print_failure(out, &id, &safe(&r.file), mismatches)?,
            Outcome::Error(e) => writeln!(out, "ERROR {id}: {}", safe(&e.to_string()))?,
            Outcome::Skipped { reason } => *skips.entry(reason.as_str()).or_default() += 1,
        }
        for w in &r.warnings {
            writeln!(out, "warn  {id}: {}", safe(w))?;
        }
    }
    for (reason, n) in skips {
        writeln!(out, "skip  {n} scenario(s): {}", safe(reason))?;
    }
    Ok(())
}

/// The mismatches, then each rule they expected with its one-line summary.
fn print_failure(out: &mut dyn Write, id: &str, file: &str, mismatches: &[Mismatch]) -> std::io::Result<()> {
    writeln!(out, "FAIL  {id}  ({file})")?;
    for m in mismatches {
        writeln!(out, "      {}", safe(&m.line()))?;
        if let Some(sent) = &m.sent {
            writeln!(out, "        sent: {}", safe(sent))?;
        }
    }
    let rules: BTreeSet<_> = mismatches.iter().filter_map(|m| m.rule).collect();
    for rule in rules {
        writeln!(
            out,
            "      rule {rule}: {} (`modspec rules {rule}`)",
            rule.spec().summary
        )?;
    }
    Ok(())
}

/// `N passed, N failed, N errors, N skipped in 1.23s`.
pub fn render_summary(s: &Summary) -> String {
    let mut line = format!(
        "{} passed, {} failed, {} errors, {} skipped in {:.2}s",
        s.passed,
        s.failed,
        s.errors,
        s.skipped,
        s.elapsed.as_secs_f64()
    );
    if s.warnings > 0 {
        line.push_str(&format!(" ({} warnings)", s.warnings));
    }
    let costs = &s.capability_costs;
    if !costs.is_empty() {
        let per: Vec<String> = costs.per_capability.iter().map(|(c, n)| format!("{c} {n}")).collect();
        line.push_str(&format!(
            "\nskipped for missing capabilities (trials each cost): {}",
            per.join(", ")
        ));
        match &costs.best {
            Some((c, n)) => line.push_str(&format!("; claiming `{c}` would unlock the most: {n} trial(s)")),
            None => line.push_str("; no single capability would unlock a skipped trial on its own"),
        }
    }
    if let Some(e) = &s.run_error {
        line.push_str(&format!("\nrun error: {}", safe(e)));
    }
    line
}
