//! `modspec mutants`: the suite checks itself by running against every
//! built-in mutant of the reference server; a mutant is caught when at
//! least one scenario fails against it.

use crate::runner::Outcome;
use crate::spec::{MUTANTS, Mutant};

use super::run::{RunOptions, run};

/// What the suite did with one mutant.
#[derive(Clone, Debug)]
pub struct MutantVerdict {
    pub mutant: Mutant,
    /// Trials that failed against the mutant.
    pub caught_by: Vec<String>,
    /// Trials that errored (the harness broke): a mutant is never counted
    /// as caught by an error.
    pub errors: Vec<String>,
}

impl MutantVerdict {
    pub fn caught(&self) -> bool {
        !self.caught_by.is_empty()
    }
}

/// Runs the suite once per mutant (optionally only those whose name
/// contains one of `only`).
pub async fn run_mutants(base: &RunOptions, only: &[String]) -> Vec<MutantVerdict> {
    let mut out = Vec::new();
    for spec in MUTANTS {
        if !only.is_empty() && !only.iter().any(|o| spec.name.contains(o.as_str())) {
            continue;
        }
        let opts = RunOptions {
            mutant: Some(spec.mutant),
            target: None,
            ..base.clone()
        };
        let output = run(&opts).await;
        let mut v = MutantVerdict {
            mutant: spec.mutant,
            caught_by: Vec::new(),
            errors: Vec::new(),
        };
        for r in output.results {
            match r.outcome {
                Outcome::Fail { .. } => v.caught_by.push(r.id),
                Outcome::Error(_) => v.errors.push(r.id),
                _ => {}
            }
        }
        out.push(v);
    }
    out
}
