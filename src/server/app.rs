//! The HTTP shell: axum routes for the ECS API and the control protocol,
//! binding, a request log line, graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

use super::api::Service;
use super::control;
use super::gateway::RawRequest;
use super::store::{Limits, Store};
use crate::spec::Mutant;

/// Body limit of the control protocol (a World of 1,000 instances is ~400 KB).
const CONTROL_BODY_LIMIT: usize = 4 * 1024 * 1024;

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

/// The whole application, for tests to drive in-process.
pub fn router(config: &ServerConfig) -> (Router, Arc<Service>) {
    let store = Arc::new(Store::new(config.limits, config.secret_prefix.clone()));
    let service = Arc::new(Service {
        store: store.clone(),
        auth: config.auth,
        mutant: config.mutant,
    });
    let mut app = Router::<Arc<Service>>::new();
    if config.control {
        // World documents are larger than API requests: a world with the
        // maximum number of instances must fit.
        let routes = control::routes(store, config.auth).layer(DefaultBodyLimit::max(CONTROL_BODY_LIMIT));
        app = app.nest(control::PREFIX, routes);
    }
    let app = app
        .fallback(api)
        .with_state(service.clone())
        .layer(DefaultBodyLimit::max(config.limits.max_body_bytes));
    (app, service)
}

async fn api(State(svc): State<Arc<Service>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let started = Instant::now();
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
        body: body.to_vec(),
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

/// A bound server, ready to run.
pub struct Server {
    listener: TcpListener,
    app: Router,
    pub service: Arc<Service>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr, config: &ServerConfig) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        let (app, service) = router(config);
        Ok(Server { listener, app, service })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        axum::serve(self.listener, self.app)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
