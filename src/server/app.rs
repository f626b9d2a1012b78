//! The HTTP shell: axum routes for the ECS API and the control protocol,
//! request size limits, binding (one listener, or the control protocol on a
//! listener of its own, each plain or TLS), a request log line. The
//! connections themselves (timeouts, the connection limit, graceful
//! shutdown) are `conn`'s.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use super::activity::Registry;
use super::api::Service;
use super::body::{BodyGate, BodyRead, read_body};
use super::conn::{Endpoint, accept_loop};
use super::control;
use super::limits::ConnLimits;
use super::store::{Limits, Store};
use super::tls::TlsIdentity;
use super::vary::Variation;
use crate::gate::RawRequest;
use crate::spec::Mutant;

/// What `modspec serve` and the embedded server are started with.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Enforce the `auth` capability (signatures, timestamps, nonces).
    pub auth: bool,
    /// Serve the control protocol beside the API.
    pub control: bool,
    /// One planted bug, for the suite's self-test.
    pub mutant: Option<Mutant>,
    pub limits: Limits,
    /// Timeouts, the connection limit and the request-body budget.
    pub conn: ConnLimits,
    /// Serve HTTPS with this certificate (API and control listeners alike).
    pub tls: Option<TlsIdentity>,
    /// Test hook: world secrets start with this text, so tests can search
    /// every output for a known secret. `None`: fully random secrets.
    pub secret_prefix: Option<String>,
    /// Variation mode (`serve --vary SEED`): vary what the contract leaves
    /// free, answer by answer (`vary.rs`).
    pub vary: Option<u64>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            auth: true,
            control: true,
            mutant: None,
            limits: Limits::default(),
            conn: ConnLimits::default(),
            tls: None,
            secret_prefix: None,
            vary: None,
        }
    }
}

/// The shared state and the two halves of the application.
struct Parts {
    api: Router,
    control: Option<Router>,
    service: Arc<Service>,
}

/// What the ECS API handler works with.
#[derive(Clone)]
struct ApiState {
    service: Arc<Service>,
    bodies: Arc<BodyGate>,
    vary: Option<Arc<Variation>>,
}

fn parts(config: &ServerConfig, with_control: bool) -> Parts {
    let store = Arc::new(Store::new(config.limits, config.secret_prefix.clone()));
    let service = Arc::new(Service {
        store: store.clone(),
        auth: config.auth,
        mutant: config.mutant,
    });
    // One budget for the bodies of both listeners.
    let bodies = BodyGate::new(config.conn.body_budget_bytes, config.conn.body_timeout);
    let api = Router::new().fallback(api).with_state(ApiState {
        service: service.clone(),
        bodies: bodies.clone(),
        vary: config.vary.map(|seed| Arc::new(Variation::new(seed))),
    });
    let control =
        with_control.then(|| Router::new().nest(control::PREFIX, control::routes(store, config.auth, bodies)));
    Parts { api, control, service }
}

/// The whole application on one listener, for tests to drive in-process:
/// the control protocol under its prefix (unless `config.control` is off)
/// and the ECS API on every other path.
pub fn router(config: &ServerConfig) -> (Router, Arc<Service>) {
    let p = parts(config, config.control);
    let app = match p.control {
        Some(control) => control.merge(p.api),
        None => p.api,
    };
    (app, p.service)
}

/// A plain-text refusal of the HTTP layer. The ECS rules table has no code
/// for an oversized request, so the answer carries none rather than
/// inventing one; the status and the text name the limit.
fn too_large(status: StatusCode, what: String) -> Response {
    tracing::info!(target: "modspec::request", status = status.as_u16(), refused = %what);
    (status, [("content-type", "text/plain; charset=utf-8")], what).into_response()
}

/// The plain-text answer to a body that could not be read; the connection
/// closes after it, since the rest of the body may still be on its way.
fn body_refused(e: BodyRead, svc: &ApiState) -> Response {
    let conn = &svc.bodies;
    let max = svc.service.store.limits().max_body_bytes;
    let (status, what) = match e {
        BodyRead::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body larger than {max} bytes"),
        ),
        BodyRead::Broken => (StatusCode::BAD_REQUEST, "broken request body".to_string()),
        BodyRead::TimedOut => (
            StatusCode::REQUEST_TIMEOUT,
            format!("request body not received within {} s", conn.timeout.as_secs_f64()),
        ),
        BodyRead::OverBudget => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the server is buffering {} bytes of request bodies, its limit: retry later",
                conn.budget()
            ),
        ),
    };
    let mut r = too_large(status, what);
    r.headers_mut().insert("connection", HeaderValue::from_static("close"));
    r
}

/// Counts `name=value` pairs without allocating, so a request with a
/// million parameters is refused before it is parsed.
fn count_params(encoded: &[u8]) -> usize {
    encoded.split(|b| *b == b'&').filter(|p| !p.is_empty()).count()
}

async fn api(State(st): State<ApiState>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let svc = &st.service;
    let limits = *svc.store.limits();
    // Held to the end: the body stays charged against the budget while the
    // request is handled.
    let mut buffered = match read_body(&st.bodies, &headers, body, limits.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => return body_refused(e, &st),
    };
    let body = std::mem::take(&mut buffered.bytes);
    let query_params = count_params(uri.query().unwrap_or_default().as_bytes());
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| {
            c.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let body_params = if form { count_params(&body) } else { 0 };
    if query_params + body_params > limits.max_params {
        let status = if query_params > limits.max_params {
            StatusCode::URI_TOO_LONG
        } else {
            StatusCode::PAYLOAD_TOO_LARGE
        };
        return too_large(
            status,
            format!("request has more than {} parameters", limits.max_params),
        );
    }
    let raw = RawRequest {
        method: method.as_str().to_string(),
        query: uri.query().map(str::to_string),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let mut answer = svc.handle(&raw);
    let extra = st.vary.as_ref().map(|v| v.apply(&mut answer)).unwrap_or_default();
    // Never the query, the body or the Authorization header: they carry the
    // signature. Only what identifies the request and its outcome.
    tracing::info!(
        target: "modspec::request",
        method = %method,
        scenario = raw.header("x-modspec-scenario").unwrap_or("-"),
        status = answer.status,
        rule = %answer.rule,
        code = answer.code.unwrap_or("-"),
        micros = started.elapsed().as_micros() as u64,
    );
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, answer.body).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(answer.content_type));
    if let Some(ms) = answer.retry_after_ms {
        h.insert("x-acs-retry-after", HeaderValue::from(ms));
    }
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::try_from(value) {
            h.insert(name, v);
        }
    }
    resp
}

/// Any other path of a separate control listener: the protocol's JSON
/// error, not the ECS API (which lives on the other listener).
async fn not_control() -> Response {
    let message = format!(
        "not a control-protocol path: the control protocol lives under {}, the ECS API on the other address",
        control::PREFIX
    );
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}

/// A bound server, ready to run.
pub struct Server {
    listener: TcpListener,
    app: Router,
    /// The control protocol on a listener of its own, if split off.
    control: Option<(TcpListener, Router)>,
    tls: Option<TlsIdentity>,
    conn: ConnLimits,
    /// Variation mode's header-name case (a connection setting).
    title_case_headers: bool,
    pub service: Arc<Service>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port); the control protocol, if
    /// configured, is served on the same listener under its prefix.
    pub async fn bind(addr: SocketAddr, config: &ServerConfig) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let (app, service) = router(config);
        Ok(Server {
            listener,
            app,
            control: None,
            tls: config.tls.clone(),
            conn: config.conn,
            title_case_headers: config
                .vary
                .is_some_and(|seed| Variation::new(seed).title_case_headers()),
            service,
        })
    }

    /// Binds the ECS API on `api` and the control protocol on `control`, a
    /// listener of its own, so the API can face a network while the world
    /// factory (which hands out credentials) stays on loopback.
    pub async fn bind_split(api: SocketAddr, control: SocketAddr, config: &ServerConfig) -> std::io::Result<Server> {
        let listener = TcpListener::bind(api).await?;
        let control_listener = TcpListener::bind(control).await?;
        let p = parts(config, true);
        let control_app = p.control.unwrap_or_default().fallback(not_control);
        Ok(Server {
            listener,
            app: p.api,
            control: Some((control_listener, control_app)),
            tls: config.tls.clone(),
            conn: config.conn,
            title_case_headers: config
                .vary
                .is_some_and(|seed| Variation::new(seed).title_case_headers()),
            service: p.service,
        })
    }

    /// The address the ECS API is bound to.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address of the separate control listener, if there is one.
    pub fn control_addr(&self) -> Option<std::io::Result<SocketAddr>> {
        self.control.as_ref().map(|(l, _)| l.local_addr())
    }

    /// `https` with a TLS identity, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Serves until `shutdown` resolves, then lets every connection finish
    /// its request in flight (idle ones close at once) and returns when all
    /// are closed. Both listeners share one connection limit.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let registry = Registry::new(self.conn.max_connections);
        let mut endpoints = vec![Endpoint {
            listener: self.listener,
            app: self.app,
            tls: self.tls.clone(),
            title_case_headers: self.title_case_headers,
        }];
        if let Some((listener, app)) = self.control {
            endpoints.push(Endpoint {
                listener,
                app,
                tls: self.tls,
                title_case_headers: self.title_case_headers,
            });
        }
        let loops: Vec<_> = endpoints
            .into_iter()
            .map(|ep| tokio::spawn(accept_loop(ep, registry.clone(), self.conn, rx.clone())))
            .collect();
        shutdown.await;
        let _ = tx.send(true);
        for l in loops {
            let _ = l.await;
        }
        registry.drained().await;
        Ok(())
    }
}
