//! Where a case runs: a target over HTTP (worlds through the control
//! protocol), or the reference server's axum router in-process with no
//! socket: each request goes through `tower`'s `oneshot` into the same
//! handler, body and parameter limits included, that turns a decision
//! into a response over HTTP, so there is one such path.
//!
//! An enum, not a trait: the HTTP futures must be `Send` for the
//! campaign's tasks. Both branches need a tokio runtime (the router reads
//! bodies under a timeout).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use reqwest::Url;
use serde_json::Value;
use tower::ServiceExt;

use super::error::FuzzError;
use super::generator::Profile;
use crate::client::{
    ControlClient, EcsClient, EcsRequest, Exchange, MAX_RESPONSE_BYTES, Prepared, Secret, TlsOptions, header_pairs,
    prepare,
};
use crate::runner::{Connect, connect};
use crate::scenario::Capability;
use crate::server::{ServerConfig, Service, router};
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
        /// The ECS API as `modspec serve` routes it (no control protocol:
        /// worlds are made through `service`'s store directly).
        router: Router,
        service: Arc<Service>,
    },
}

impl Driver {
    /// The reference server's router in this process, with `mutant` planted.
    pub fn in_process(mutant: Option<Mutant>) -> Driver {
        let config = ServerConfig {
            mutant,
            control: false,
            ..ServerConfig::default()
        };
        let (router, service) = router(&config);
        Driver::InProcess { router, service }
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
            Driver::InProcess { service, .. } => {
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
            Driver::InProcess { router, .. } => {
                let p = prepare(req, &s.access_key_id, &s.secret, IN_PROCESS_HOST);
                let ex = send_in_process(router, &p).await?;
                Ok((p, ex))
            }
        }
    }

    /// Moves the world's clock.
    pub async fn advance(&self, s: &Session, seconds: u64) -> Result<(), FuzzError> {
        match self {
            Driver::Http { control, .. } => control.advance(&s.world_id, seconds).await.map(|_| ())?,
            Driver::InProcess { service, .. } => {
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
            Driver::InProcess { service, .. } => Ok(service.store.by_id(&s.world_id).and_then(|slot| {
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
            Driver::InProcess { service, .. } => {
                service.store.delete(&s.world_id);
            }
        }
    }
}

/// Sends a prepared request through the router as the HTTP client would
/// put it on the wire: same method, query, headers, `host` and
/// `content-length`, and body; the whole answer comes back (within the
/// client's size cap), every header included.
async fn send_in_process(router: &Router, p: &Prepared) -> Result<Exchange, FuzzError> {
    let uri = match p.query.as_str() {
        "" => "/".to_string(),
        q => format!("/?{q}"),
    };
    let mut b = axum::http::Request::builder().method(p.method.as_str()).uri(uri);
    let has = |name: &str| p.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    if !has("host") {
        b = b.header("host", IN_PROCESS_HOST);
    }
    if !has("content-length") && (!p.body.is_empty() || p.method == "POST") {
        b = b.header("content-length", p.body.len());
    }
    for (k, v) in &p.headers {
        b = b.header(k, v);
    }
    let request = b
        .body(Body::from(p.body.clone()))
        .map_err(FuzzError::InProcessRequest)?;
    let resp = match router.clone().oneshot(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = resp.status().as_u16();
    let headers = header_pairs(resp.headers());
    let body = axum::body::to_bytes(resp.into_body(), MAX_RESPONSE_BYTES)
        .await
        .map_err(FuzzError::InProcessAnswer)?;
    Ok(Exchange {
        status,
        headers,
        body: body.to_vec(),
    })
}
