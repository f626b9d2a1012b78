//! The console report: one block per failure or error, a line per skip
//! reason, and a summary line.

use std::collections::BTreeMap;
use std::io::Write;

use super::summary::Summary;
use crate::runner::{Outcome, TrialResult};

/// Prints failures, errors, warnings and skip reasons to `out`.
pub fn print_results(out: &mut dyn Write, results: &[TrialResult], verbose: bool) -> std::io::Result<()> {
    let mut skips: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        match &r.outcome {
            Outcome::Pass if verbose => writeln!(out, "pass  {}", r.id)?,
            Outcome::Pass => {}
            Outcome::Fail { mismatches } => {
                writeln!(out, "FAIL  {}  ({})", r.id, r.file)?;
                for m in mismatches {
                    writeln!(
                        out,
                        "      {}: {}: expected {}, got {}",
                        m.step, m.what, m.expected, m.got
                    )?;
                }
            }
            Outcome::Error { cause } => writeln!(out, "ERROR {}: {cause}", r.id)?,
            Outcome::Skipped { reason } => *skips.entry(reason.as_str()).or_default() += 1,
        }
        for w in &r.warnings {
            writeln!(out, "warn  {}: {w}", r.id)?;
        }
    }
    for (reason, n) in skips {
        writeln!(out, "skip  {n} scenario(s): {reason}")?;
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
    if let Some(e) = &s.run_error {
        line.push_str(&format!("\nrun error: {e}"));
    }
    line
}
