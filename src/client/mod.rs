//! The harness's HTTP clients: the signed ECS API client and the control
//! protocol client, over the one `reqwest::Client` that `http` builds (TLS
//! trust, no redirects). Used by the runner, the fuzzer and the benchmark;
//! they never depend on the server.

mod control;
mod ecs;
mod http;
mod prepare;
mod scrub;
mod secret;

pub use control::{ControlClient, ControlError, WorldHandle, excerpt};
pub use ecs::{BodyError, EcsClient, Exchange, MAX_RESPONSE_BYTES, SendError, header_pairs, host_header, read_capped};
pub use http::{
    HttpClientError, HttpOptions, TlsOptions, Unanswered, http_client, tls_problem, tls_provider, transport_cause,
    unanswered,
};
pub use prepare::{EcsRequest, Prepared, SignatureStyle, UNKNOWN_ACCESS_KEY, prepare};
pub use scrub::{MARK as SECRET_MARK, scrub, scrub_string};
pub use secret::Secret;
