//! Shrinking a finding: smaller cases are tried in a fixed order and kept
//! while the target still disagrees with the contract in the same way
//! (same expected rule, same kind, same status and code).
//!
//! Greedy and deterministic: the first smaller candidate that keeps the
//! disagreement wins and the search restarts from it, so the same finding
//! always shrinks to the same scenario.

use super::case::{Case, CaseStep};
use super::exec::{CaseRun, Runner};
use super::judge::Disagreement;
use crate::client::SignatureStyle;
use crate::wire::Damage;

/// Most runs spent on shrinking one finding.
pub const SHRINK_BUDGET: usize = 400;

/// Every case one step smaller than `case`, the boldest first.
pub fn candidates(case: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    let n = case.steps.len();
    for keep in 1..n {
        out.push(Case {
            world: case.world.clone(),
            steps: case.steps[..keep].to_vec(),
        });
    }
    for i in 0..n {
        if n > 1 {
            let mut c = case.clone();
            c.steps.remove(i);
            out.push(c);
        }
    }
    for i in 0..case.world.0.len() {
        let mut c = case.clone();
        c.world.0.remove(i);
        out.push(c);
    }
    for (j, step) in case.steps.iter().enumerate() {
        let CaseStep::Request(r) = step else { continue };
        let mut with = |f: &dyn Fn(&mut super::case::CaseRequest)| {
            let mut c = case.clone();
            if let CaseStep::Request(r2) = &mut c.steps[j] {
                f(r2);
                if c != *case {
                    out.push(c);
                }
            }
        };
        with(&|r| r.damage = Damage::default());
        with(&|r| r.format = None);
        with(&|r| r.method = "POST".into());
        with(&|r| r.query = false);
        with(&|r| r.style = SignatureStyle::V3);
        for k in 0..r.params.len() {
            with(&|r| {
                r.params.remove(k);
            });
        }
        for k in 0..r.params.len() {
            with(&|r| {
                let v = &mut r.params[k].1;
                let half = v.chars().count() / 2;
                *v = v.chars().take(half).collect();
            });
        }
    }
    out.sort_by_key(Case::size);
    out.into_iter().filter(|c| c.size() < case.size()).collect()
}

/// Shrinks `case`, whose run gave `first`, within `budget` runs.
///
/// A run that fails to complete (transport trouble) counts as "does not
/// reproduce", so shrinking never turns a finding into an error.
pub async fn shrink(runner: &Runner, case: Case, run: CaseRun, first: &Disagreement, budget: usize) -> (Case, CaseRun) {
    let want = first.signature();
    let (mut best, mut best_run) = (case, run);
    let mut spent = 0;
    'outer: while spent < budget {
        for c in candidates(&best) {
            if spent >= budget {
                break 'outer;
            }
            spent += 1;
            let Ok(r) = runner.run(&c).await else { continue };
            if r.disagreement.as_ref().is_some_and(|d| d.signature() == want) {
                best = c;
                best_run = r;
                continue 'outer;
            }
        }
        break;
    }
    (best, best_run)
}
