//! The reference server: the executable specification over HTTP.
//!
//! `gateway` runs G1–G9 through `gate` (with `planted`'s bugs), `api` the rest of a request under the world's lock
//! and the oracle, `respond` writes bodies, `store` holds worlds, `control`
//! serves the control protocol and `app` wires it all into axum; `conn`
//! accepts connections (timeouts and the connection limit, kept by
//! `activity`; TLS from `tls`),
//! `body` reads request bodies against one budget, `limits` holds the
//! connection layer's bounds.

mod activity;
mod api;
mod app;
mod body;
mod conn;
mod control;
mod gateway;
mod limits;
mod nonces;
mod planted;
mod respond;
mod store;
mod tls;
mod vary;

pub use crate::gate::RawRequest;
pub use api::Service;
pub use app::{Server, ServerConfig, router};
pub use control::{ALL_CAPABILITIES, PREFIX as CONTROL_PREFIX, PROTOCOL as CONTROL_PROTOCOL};
pub use limits::{ConnLimits, FD_RESERVE, default_max_connections, fd_limit, max_connections_allowed};
pub use respond::Answer;
pub use store::{Limits, Store, StoreError};
pub use tls::{TlsError, TlsIdentity};
