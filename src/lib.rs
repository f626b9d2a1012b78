//! modspec: a conformance kit for implementations of the Alibaba Cloud ECS
//! API action ModifyInstanceSpec.
//!
//! # Layout
//!
//! The arrows point down only; see ARCHITECTURE.md for the invariants.
//!
//! - [`protocol`]: the protocol's facts said once (action, version,
//!   common parameters, windows, content types); depends on nothing.
//! - [`spec`]: the executable specification (World document, rules table,
//!   the `decide` oracle, mutants). Pure: no I/O.
//! - [`wire`]: the RPC protocol: parameters, V1/V3 signatures (the one
//!   signer and verifier of each, protocol damage as a parameter), response
//!   bodies. Knows the protocol, not the rules.
//! - [`gate`]: the gateway rules G1–G12 as pure functions beside
//!   `spec::decide`, for the server, the fuzzer's model and the safety
//!   filter; planted bugs bend it through the `Bends` hooks.
//! - [`server`]: the reference server (ECS API + control protocol) over
//!   axum, on its own connection layer (hyper, tokio-rustls): timeouts,
//!   a connection limit, one request-body budget.
//! - [`client`]: what the harness sends: the HTTP client (one builder: TLS
//!   trust, no redirects), ECS requests signed (and optionally damaged) by `wire`, the
//!   control-protocol client.
//! - [`scenario`]: the case format and the case library: the built-in one
//!   compiled into the binary ([`scenario::load_builtin`],
//!   [`scenario::export_builtin`]) or folders given with `--cases`
//!   ([`scenario::Cases`], [`scenario::load_folders`]), read without trusting
//!   the folder (regular files, size and nesting limits), with injective
//!   snapshot names ([`scenario::snapshot_name`]).
//! - [`verdict`]: the verdict engine, the one place an exchange (an answer
//!   and the states read after it) is judged, for the runner and the fuzzer
//!   alike; its table of checks says which are contract and which
//!   informative (`--strict`).
//! - [`runner`]: runs trials against a target, as many at once as it keeps
//!   up with (the load controller and pacer that [`fuzz`] shares), and
//!   judges them through [`verdict`].
//! - [`report`], [`commands`], [`snapshots`]: presentation and the library
//!   side of the subcommands; [`fuzz`] and [`bench`](mod@bench); [`util`]
//!   (`terminal_safe` for every human-readable output).

//! # Example
//!
//! The oracle answers a request in a world at a moment, with no I/O:
//!
//! ```
//! use modspec::spec::{ModifyRequest, RuleId, decide, sample_world, WorldState};
//!
//! let world = WorldState::new(sample_world());
//! let req = ModifyRequest::from_pairs([("InstanceId", "i-conf0001"), ("InternetMaxBandwidthOut", "101")]);
//! let d = decide(&world, 0, &req);
//! assert_eq!((d.rule, d.status, d.code), (RuleId::P3, 400, Some("InvalidParameter")));
//! ```

pub mod bench;
pub mod client;
pub mod commands;
pub mod fuzz;
pub mod gate;
pub mod protocol;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod server;
pub mod snapshots;
pub mod spec;
pub mod verdict;
pub mod wire;

pub mod util;
