//! The test-control protocol v1 (control-protocol.md), exactly as
//! specified: capabilities, worlds, instance state, clocks, deletion.
//!
//! Bodies are parsed by hand from bytes rather than with axum's `Json`
//! extractor because the protocol demands 400 with `{"error": …}` naming
//! the JSON path, where the extractor would answer 415/422 in its own words.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::body::{BodyGate, BodyRead, Buffered, read_body};
use super::store::{Store, StoreError};
use crate::spec::World;

/// Body limit of the control protocol (a World of 1,000 instances is ~400 KB).
pub(crate) const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// The protocol name and major version this server speaks.
pub const PROTOCOL: &str = "modspec-control/1";
/// Where the control protocol lives under the target URL.
pub const PREFIX: &str = "/_conformance/v1";

/// Every capability of the reference server.
pub const ALL_CAPABILITIES: &[&str] = &[
    "core",
    "clock",
    "auth",
    "xml",
    "dry-run",
    "extended-params",
    "precedence",
    "faults",
    crate::protocol::WORLD_STATE_CAPABILITY,
];

#[derive(Clone)]
struct Control {
    store: Arc<Store>,
    capabilities: Vec<&'static str>,
    bodies: Arc<BodyGate>,
}

/// The control routes, to be nested under [`PREFIX`]; request bodies are
/// read against `bodies`, the budget the ECS API shares.
pub(super) fn routes<S: Clone + Send + Sync + 'static>(
    store: Arc<Store>,
    auth: bool,
    bodies: Arc<BodyGate>,
) -> Router<S> {
    let capabilities = ALL_CAPABILITIES
        .iter()
        .copied()
        .filter(|c| auth || *c != "auth")
        .collect();
    Router::new()
        .route("/capabilities", get(capabilities_handler))
        .route("/worlds", post(create_world))
        .route("/worlds/{world_id}", get(get_world).delete(delete_world))
        .route("/worlds/{world_id}/instances/{instance_id}", get(get_instance))
        .route("/worlds/{world_id}/clock", post(advance_clock))
        .with_state(Control {
            store,
            capabilities,
            bodies,
        })
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, axum::Json(json!({ "error": message.to_string() }))).into_response()
}

/// The JSON body, or the protocol's JSON error: a `Content-Type` that is
/// not JSON (415), a body over the limit, too slow or over the server's
/// budget. The connection closes after a refused body, since the rest of
/// it may still be on its way.
///
/// A missing `Content-Type` is refused too: the protocol says every body
/// is `application/json`, and mocks built on common frameworks (Express's
/// `json()`, axum's `Json`, Flask's `get_json()`) ignore or refuse an
/// unlabelled body, so a harness that forgets the header must fail here,
/// against the reference, first.
async fn body_of(c: &Control, headers: &HeaderMap, body: Body) -> Result<Buffered, Response> {
    let ctype = headers
        .get("content-type")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if !ctype.as_deref().is_some_and(is_json) {
        let got = ctype.map_or("none".to_string(), |t| format!("`{t}`"));
        let mut r = error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("$: the body must be sent with Content-Type: application/json (got {got})"),
        );
        r.headers_mut()
            .insert("connection", axum::http::HeaderValue::from_static("close"));
        return Err(r);
    }
    read_body(&c.bodies, headers, body, BODY_LIMIT).await.map_err(|e| {
        let mut r = match e {
            BodyRead::TooLarge => error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("$: the body is larger than {BODY_LIMIT} bytes, this server's limit"),
            ),
            BodyRead::Broken => error(StatusCode::BAD_REQUEST, "$: the body was broken off"),
            BodyRead::TimedOut => error(
                StatusCode::REQUEST_TIMEOUT,
                format!("$: the body did not arrive within {} s", c.bodies.timeout.as_secs_f64()),
            ),
            BodyRead::OverBudget => error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "$: the server is buffering {} bytes of request bodies, its limit: retry later",
                    c.bodies.budget()
                ),
            ),
        };
        r.headers_mut()
            .insert("connection", axum::http::HeaderValue::from_static("close"));
        r
    })
}

/// `application/json` or a `+json` type, with any parameters.
fn is_json(ctype: &str) -> bool {
    let media = ctype.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// Path segments that are not UTF-8 once percent-decoded (`%FF`) name no
/// world or instance: the protocol's JSON 404, not axum's plain text.
fn not_an_id(what: &str, e: &PathRejection) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("unknown {what}: the path is not a valid id ({})", e.body_text()),
    )
}

async fn capabilities_handler(State(c): State<Control>) -> Response {
    axum::Json(json!({ "protocol": PROTOCOL, "capabilities": c.capabilities })).into_response()
}

async fn create_world(State(c): State<Control>, headers: HeaderMap, body: Body) -> Response {
    let body = match body_of(&c, &headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let world = match World::from_json(&body.bytes) {
        Ok(w) => w,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    drop(body);
    match c.store.create(world) {
        Ok(slot) => (
            StatusCode::CREATED,
            axum::Json(json!({
                "world_id": slot.world_id,
                "access_key_id": slot.access_key_id,
                "access_key_secret": slot.secret,
            })),
        )
            .into_response(),
        Err(e @ (StoreError::TooManyWorlds(_) | StoreError::OverBudget { .. })) => {
            error(StatusCode::SERVICE_UNAVAILABLE, e)
        }
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

async fn delete_world(State(c): State<Control>, path: Result<Path<String>, PathRejection>) -> Response {
    let world_id = match path {
        Ok(Path(id)) => id,
        Err(e) => return not_an_id("world", &e),
    };
    if c.store.delete(&world_id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, format!("unknown world `{world_id}`"))
    }
}

async fn get_instance(State(c): State<Control>, path: Result<Path<(String, String)>, PathRejection>) -> Response {
    let (world_id, instance_id) = match path {
        Ok(Path(ids)) => ids,
        Err(e) => return not_an_id("world or instance", &e),
    };
    let Some(slot) = c.store.by_id(&world_id) else {
        return error(StatusCode::NOT_FOUND, format!("unknown world `{world_id}`"));
    };
    let w = slot.lock();
    match w.state.instance(&instance_id) {
        Some(state) => axum::Json(state).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("unknown instance `{instance_id}`")),
    }
}

/// `world-state`: the world clock and every instance's state, in the order
/// of the World document.
async fn get_world(State(c): State<Control>, path: Result<Path<String>, PathRejection>) -> Response {
    let world_id = match path {
        Ok(Path(id)) => id,
        Err(e) => return not_an_id("world", &e),
    };
    let Some(slot) = c.store.by_id(&world_id) else {
        return error(StatusCode::NOT_FOUND, format!("unknown world `{world_id}`"));
    };
    let w = slot.lock();
    let instances: Vec<_> = w
        .state
        .world
        .instances
        .iter()
        .filter_map(|i| w.state.instance(&i.instance_id))
        .collect();
    axum::Json(json!({ "now": w.now, "instances": instances })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    advance_seconds: u64,
}

async fn advance_clock(
    State(c): State<Control>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let world_id = match path {
        Ok(Path(id)) => id,
        Err(e) => return not_an_id("world", &e),
    };
    let Some(slot) = c.store.by_id(&world_id) else {
        return error(StatusCode::NOT_FOUND, format!("unknown world `{world_id}`"));
    };
    let body = match body_of(&c, &headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let advance: Advance = match serde_json::from_slice(&body.bytes) {
        Ok(a) => a,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("$.advance_seconds: expected a non-negative integer ({e})"),
            );
        }
    };
    let mut w = slot.lock();
    w.now = w
        .now
        .saturating_add(i64::try_from(advance.advance_seconds).unwrap_or(i64::MAX));
    axum::Json(json!({ "now": w.now })).into_response()
}
