//! The protocol layer: parameters, both signature versions and the response
//! bodies of the Alibaba Cloud RPC style (behaviour.md section 2).
//!
//! It knows how requests and answers are written on the wire but nothing of
//! ModifyInstanceSpec's rules; `server` and `runner` build on it, `spec` does
//! not depend on it. Nothing here panics on hostile input: parsing returns a
//! [`WireError`] and signing is total.
//!
//! One signer per version: the server verifies with `sign_v1`/`sign_v3` and
//! every client of the crate signs with their `sign_damaged` (protocol
//! [`Damage`] as a parameter, none for a correct request).
//!
//! `sign_v1` and `sign_v3` stay separate public modules because their
//! functions share names (`string_to_sign`, `verify`, `sign_request`).

mod body;
mod damage;
mod encode;
mod error;
mod params;
pub mod sign_v1;
pub mod sign_v3;

pub use body::{
    ErrorBody, Format, JSON_CONTENT_TYPE, ParsedBody, XML_CONTENT_TYPE, XML_PROLOG, host_without_port, parse_body,
    render_error, render_success,
};
pub use damage::Damage;
pub use encode::pe;
pub use error::WireError;
pub use params::ParamList;
