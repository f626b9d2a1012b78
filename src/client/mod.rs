//! The harness's HTTP clients: the signed ECS API client and the control
//! protocol client. Used by the runner, the fuzzer and the benchmark; they
//! never depend on the server.

mod control;
mod ecs;
mod secret;

pub use control::{ControlClient, ControlError, WorldHandle};
pub use ecs::{EcsClient, EcsRequest, Exchange, SendError, SignatureStyle};
pub use secret::Secret;
