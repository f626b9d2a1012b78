//! Where a case runs: a target over HTTP (worlds through the control
//! protocol), or the reference server's handler in-process with no socket.
//!
//! An enum, not a trait: the HTTP futures must be `Send` for the
//! campaign's tasks, and the in-process branch never awaits, so the
//! libFuzzer targets can poll it to completion without a runtime.

use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use super::error::FuzzError;
use super::generator::Profile;
use crate::client::{ControlClient, EcsClient, EcsRequest, Exchange, Prepared, Secret, TlsOptions, prepare};
use crate::runner::{Connect, connect};
use crate::scenario::Capability;
use crate::server::{RawRequest, Service, Store};
use crate::spec::{Mutant, World};

/// The `host` the in-process server is "reached" with (its HostId).
const IN_PROCESS_HOST: &str = "modspec.invalid";

/// A world created on the target for one case.
#[derive(Clone, Debug)]
pub struct Session {
    pub world_id: String,
    pub access_key_id: String,
    pub secret: Secret,
}

/// A target to run cases on.
#[derive(Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "one driver per campaign, cloned once per worker"
)]
pub enum Driver {
    Http {
        ecs: EcsClient,
        control: ControlClient,
        host: String,
    },
    InProcess {
        service: Arc<Service>,
    },
}

impl Driver {
    /// The reference server's handler in this process, with `mutant` planted.
    pub fn in_process(mutant: Option<Mutant>) -> Driver {
        let store = Arc::new(Store::new(Default::default(), None));
        Driver::InProcess {
            service: Arc::new(Service {
                store,
                auth: true,
                mutant,
            }),
        }
    }

    /// Connects to a target over HTTP and reads what it claims.
    pub async fn connect(
        target: &Url,
        control: Option<&Url>,
        timeout: Duration,
        tls: &TlsOptions,
    ) -> Result<(Driver, Profile), FuzzError> {
        let c = Connect {
            control: control.cloned(),
            tls: tls.clone(),
            ..Connect::new(target.clone(), timeout)
        };
        let (ctx, info) = connect(&c).await?;
        let Some(control) = ctx.control else {
            return Err(FuzzError::NoControl(info.control_note.unwrap_or_default()));
        };
        let has = |c: Capability| ctx.capabilities.contains(&c);
        let profile = Profile {
            auth: has(Capability::Auth),
            xml: has(Capability::Xml),
            clock: has(Capability::Clock),
            extended: has(Capability::ExtendedParams) && has(Capability::DryRun),
            faults: has(Capability::Faults),
        };
        let driver = Driver::Http {
            ecs: ctx.ecs,
            control,
            host: ctx.host,
        };
        Ok((driver, profile))
    }

    /// Creates a world for one case.
    pub async fn create(&self, world: &World) -> Result<Session, FuzzError> {
        match self {
            Driver::Http { control, .. } => {
                let h = control.create_world(world).await?;
                Ok(Session {
                    world_id: h.world_id,
                    access_key_id: h.access_key_id,
                    secret: h.secret,
                })
            }
            Driver::InProcess { service } => {
                let slot = service.store.create(world.clone()).map_err(FuzzError::Store)?;
                Ok(Session {
                    world_id: slot.world_id.clone(),
                    access_key_id: slot.access_key_id.clone(),
                    secret: Secret::new(slot.secret.clone()),
                })
            }
        }
    }

    /// The Host its requests are sent to (an error's HostId names it).
    pub fn host(&self) -> &str {
        match self {
            Driver::Http { host, .. } => host,
            Driver::InProcess { .. } => IN_PROCESS_HOST,
        }
    }

    /// Signs and sends one request; returns what went out and what came back.
    pub async fn send(&self, s: &Session, req: &EcsRequest) -> Result<(Prepared, Exchange), FuzzError> {
        match self {
            Driver::Http { ecs, host, .. } => {
                let p = prepare(req, &s.access_key_id, &s.secret, host);
                let ex = ecs.send_prepared(&p, &[]).await?;
                Ok((p, ex))
            }
            Driver::InProcess { service } => {
                let p = prepare(req, &s.access_key_id, &s.secret, IN_PROCESS_HOST);
                Ok((p.clone(), handle(service, &p)))
            }
        }
    }

    /// Moves the world's clock.
    pub async fn advance(&self, s: &Session, seconds: u64) -> Result<(), FuzzError> {
        match self {
            Driver::Http { control, .. } => control.advance(&s.world_id, seconds).await.map(|_| ())?,
            Driver::InProcess { service } => {
                if let Some(slot) = service.store.by_id(&s.world_id) {
                    let mut w = slot.lock();
                    w.now = w.now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
                }
            }
        }
        Ok(())
    }

    /// An instance's current state, as the control protocol answers it.
    pub async fn instance(&self, s: &Session, id: &str) -> Result<Option<Value>, FuzzError> {
        match self {
            Driver::Http { control, .. } => Ok(control.instance(&s.world_id, id).await?),
            Driver::InProcess { service } => Ok(service.store.by_id(&s.world_id).and_then(|slot| {
                let w = slot.lock();
                w.state.instance(id).and_then(|i| serde_json::to_value(i).ok())
            })),
        }
    }

    /// Deletes the world; best effort, as a leftover world is no verdict.
    pub async fn delete(&self, s: &Session) {
        match self {
            Driver::Http { control, .. } => {
                let _ = control.delete_world(&s.world_id).await;
            }
            Driver::InProcess { service } => {
                service.store.delete(&s.world_id);
            }
        }
    }
}

/// Runs a prepared request through the in-process handler, as the HTTP
/// shell would: same method, query, headers (plus `host`) and body.
pub fn handle(service: &Service, p: &Prepared) -> Exchange {
    let mut headers = p.headers.clone();
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        headers.push(("host".into(), IN_PROCESS_HOST.into()));
    }
    let raw = RawRequest {
        method: p.method.clone(),
        query: Some(p.query.clone()).filter(|q| !q.is_empty()),
        headers,
        body: p.body.clone(),
    };
    let answer = service.handle(&raw);
    let mut headers = vec![("content-type".to_string(), answer.content_type.to_string())];
    if let Some(ms) = answer.retry_after_ms {
        headers.push(("x-acs-retry-after".into(), ms.to_string()));
    }
    Exchange {
        status: answer.status,
        headers,
        body: answer.body.into_bytes(),
    }
}

/// Polls a future that never waits (the in-process driver's) to its end.
///
/// Returns `None` if it did wait, which only an HTTP driver does; the
/// libFuzzer targets thus need no async runtime.
pub fn now_or_never<F: std::future::Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}
