//! modspec: a conformance kit for implementations of the Alibaba Cloud ECS
//! API action ModifyInstanceSpec.
//!
//! # Layout
//!
//! The arrows point down only; see ARCHITECTURE.md for the invariants.
//!
//! - [`spec`]: the executable specification (World document, rules table,
//!   the `decide` oracle, mutants). Pure: no I/O.
//! - [`wire`]: the RPC protocol: parameters, V1/V3 signatures, response
//!   bodies. Knows the protocol, not the rules.
//! - [`server`]: the reference server (ECS API + control protocol) over axum.

pub mod bench;
pub mod client;
pub mod commands;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod server;
pub mod snapshots;
pub mod spec;
pub mod wire;

pub mod util;
