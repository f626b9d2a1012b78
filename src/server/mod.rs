//! The reference server: the executable specification over HTTP.
//!
//! `gateway` runs G1–G9, `api` the rest of a request under the world's lock
//! and the oracle, `respond` writes bodies, `store` holds worlds, `control`
//! serves the control protocol and `app` wires it all into axum.

mod api;
mod app;
mod control;
mod gateway;
mod respond;
mod store;

pub use api::Service;
pub use app::{Server, ServerConfig, router};
pub use control::{ALL_CAPABILITIES, PREFIX as CONTROL_PREFIX, PROTOCOL as CONTROL_PROTOCOL};
pub use gateway::{ACTION, RawRequest, VERSION};
pub use respond::Answer;
pub use store::{Limits, Store};
