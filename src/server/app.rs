//! The HTTP shell: axum routes for the ECS API and the control protocol,
//! request size limits, binding (one listener, or the control protocol on a
//! listener of its own), a request log line, graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use super::api::Service;
use super::control;
use super::gateway::RawRequest;
use super::store::{Limits, Store};
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
    /// Test hook: world secrets start with this text, so tests can search
    /// every output for a known secret. `None`: fully random secrets.
    pub secret_prefix: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            auth: true,
            control: true,
            mutant: None,
            limits: Limits::default(),
            secret_prefix: None,
        }
    }
}

/// Why a request body was not read.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum BodyRead {
    TooLarge,
    /// The client broke the body off (or sent a broken chunk).
    Broken,
}

/// Reads a request body of at most `limit` bytes; a declared length over
/// the limit fails before anything is read. Handlers read bodies this way,
/// rather than through axum's `DefaultBodyLimit`, so an over-large body is
/// answered in the server's own words instead of axum's.
pub(super) async fn read_body(headers: &HeaderMap, mut body: Body, limit: usize) -> Result<Vec<u8>, BodyRead> {
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyRead::TooLarge);
    }
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(data) = frame.map_err(|_| BodyRead::Broken)?.into_data() else {
            continue;
        };
        if out.len() + data.len() > limit {
            return Err(BodyRead::TooLarge);
        }
        out.extend_from_slice(&data);
    }
    Ok(out)
}

/// The shared state and the two halves of the application.
struct Parts {
    api: Router,
    control: Option<Router>,
    service: Arc<Service>,
}

fn parts(config: &ServerConfig, with_control: bool) -> Parts {
    let store = Arc::new(Store::new(config.limits, config.secret_prefix.clone()));
    let service = Arc::new(Service {
        store: store.clone(),
        auth: config.auth,
        mutant: config.mutant,
    });
    let api = Router::new().fallback(api).with_state(service.clone());
    let control = with_control.then(|| Router::new().nest(control::PREFIX, control::routes(store, config.auth)));
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

/// Counts `name=value` pairs without allocating, so a request with a
/// million parameters is refused before it is parsed.
fn count_params(encoded: &[u8]) -> usize {
    encoded.split(|b| *b == b'&').filter(|p| !p.is_empty()).count()
}

async fn api(State(svc): State<Arc<Service>>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let limits = *svc.store.limits();
    let body = match read_body(&headers, body, limits.max_body_bytes).await {
        Ok(b) => b,
        Err(BodyRead::TooLarge) => {
            return too_large(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body larger than {} bytes", limits.max_body_bytes),
            );
        }
        Err(BodyRead::Broken) => return (StatusCode::BAD_REQUEST, "broken request body").into_response(),
    };
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
    let answer = svc.handle(&raw);
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

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = tx.send(true);
        });
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let api = axum::serve(self.listener, self.app).with_graceful_shutdown(stopped(rx.clone()));
        match self.control {
            None => api.await,
            Some((listener, app)) => {
                let control = axum::serve(listener, app).with_graceful_shutdown(stopped(rx));
                let (a, c) = tokio::join!(api, control);
                a.and(c)
            }
        }
    }
}
