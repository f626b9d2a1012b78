//! Runs one case on a driver and compares every answer with the model:
//! the unit of work of the campaign, the shrinker and the libFuzzer
//! targets alike.

use std::collections::BTreeMap;

use super::case::{Case, CaseStep};
use super::driver::{Driver, Session};
use super::error::FuzzError;
use super::judge::{Disagreement, judge, judge_state};
use super::model::{Expected, expected};
use crate::client::{Exchange, Prepared};
use crate::spec::{RuleId, World};

/// One request of a run: what was sent, what came back, what was due.
#[derive(Clone, Debug)]
pub struct Sent {
    pub prepared: Prepared,
    pub exchange: Exchange,
    pub expected: Expected,
}

/// The result of running one case.
#[derive(Clone, Debug, Default)]
pub struct CaseRun {
    /// The first disagreement; the run stops there.
    pub disagreement: Option<Disagreement>,
    pub sent: Vec<Sent>,
}

/// How to run cases against one target.
#[derive(Clone)]
pub struct Runner {
    pub driver: Driver,
    /// `cases/world.yaml`: every case's world is this plus its variant.
    pub defaults: World,
    /// The target checks signatures, timestamps and nonces.
    pub auth: bool,
    /// Read back the final state of the instances the case addressed.
    pub check_state: bool,
}

impl Runner {
    /// Runs `case` in a fresh world and deletes the world afterwards.
    pub async fn run(&self, case: &Case) -> Result<CaseRun, FuzzError> {
        let world = case.world.world(&self.defaults);
        world.validate().map_err(FuzzError::World)?;
        let session = self.driver.create(&world).await?;
        let result = self.steps(case, world, &session).await;
        self.driver.delete(&session).await;
        result
    }

    async fn steps(&self, case: &Case, world: World, session: &Session) -> Result<CaseRun, FuzzError> {
        let (want, model) = expected(case, world, self.auth);
        let mut run = CaseRun::default();
        let mut i = 0;
        for step in &case.steps {
            match step {
                CaseStep::Advance(s) => self.driver.advance(session, *s).await?,
                CaseStep::Request(r) => {
                    let Some(expected) = want.get(i).copied() else { break };
                    let (prepared, mut exchange) = self.driver.send(session, &r.to_ecs()).await?;
                    // An echoed secret never reaches a finding's files.
                    exchange.scrub(&[&session.secret]);
                    run.disagreement = judge(i, &expected, self.driver.host(), &exchange);
                    run.sent.push(Sent {
                        prepared,
                        exchange,
                        expected,
                    });
                    if run.disagreement.is_some() {
                        return Ok(run);
                    }
                    i += 1;
                }
            }
        }
        if self.check_state {
            // Each instance a request addressed, with the rule of the last
            // such request: the one whose effect the state shows.
            let mut last: BTreeMap<&str, RuleId> = BTreeMap::new();
            for (r, e) in case.requests().zip(&want) {
                if let Some(id) = r.param("InstanceId") {
                    last.insert(id, e.rule);
                }
            }
            for (id, rule) in last {
                let Some(state) = model.state.instance(id) else {
                    continue;
                };
                let got = self.driver.instance(session, id).await?;
                if let Some(d) = judge_state(id, rule, state, got.as_ref()) {
                    run.disagreement = Some(d);
                    break;
                }
            }
        }
        Ok(run)
    }
}
