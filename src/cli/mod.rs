//! The subcommands of the binary: argument structs and thin handlers that
//! call the library and print.

use anyhow::Context;

mod bench;
mod cases;
mod flags;
mod fuzz;
mod limits;
mod progress;
mod rules;
mod run;
mod serve;
mod suite;
mod tls;

pub(crate) use bench::*;
pub(crate) use cases::*;
pub(crate) use fuzz::*;
pub(crate) use rules::*;
pub(crate) use run::*;
pub(crate) use serve::*;
pub(crate) use suite::*;
pub(crate) use tls::*;

/// The async runtime every subcommand that does I/O runs on.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
