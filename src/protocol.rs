//! The protocol's facts, said once (docs/spec/behaviour.md sections 1–2):
//! the action and version served, the common parameters and headers, the
//! time windows, content types and the XML prolog. Everything else reads
//! them from here; this module depends on nothing.

use std::time::Duration;

/// The one action served (G3) and the API version spoken (G4).
pub(crate) const ACTION: &str = "ModifyInstanceSpec";
pub(crate) const VERSION: &str = "2014-05-26";

/// The V1 common parameters that must be present and non-empty (G2).
pub(crate) const V1_REQUIRED: [&str; 8] = [
    "Signature",
    "Action",
    "Version",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
];

/// The V3 headers that must be present, non-empty and signed (G2), with
/// `host`.
pub(crate) const V3_REQUIRED: [&str; 5] = [
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
];

/// V1 common parameter names and the V3 headers that carry the same thing.
pub(crate) const V1_TO_V3: [(&str, &str); 5] = [
    ("Action", "x-acs-action"),
    ("Version", "x-acs-version"),
    ("Timestamp", "x-acs-date"),
    ("SignatureNonce", "x-acs-signature-nonce"),
    ("Signature", "authorization"),
];

/// How far a signed timestamp may be from the wall clock (G7).
pub(crate) const TIMESTAMP_WINDOW_SECONDS: i64 = 15 * 60;
/// How long a nonce stays used (G10), on the wall clock.
pub const NONCE_WINDOW: Duration = Duration::from_secs(TIMESTAMP_WINDOW_SECONDS.unsigned_abs());
/// The sliding window of the account quota (G12), on the world clock.
pub(crate) const QUOTA_WINDOW_SECONDS: i64 = 60;

/// `Content-Type` of a JSON answer.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=utf-8";
/// `Content-Type` of an XML answer, byte for byte what the SDKs expect.
pub const XML_CONTENT_TYPE: &str = "text/xml;charset=utf-8";
/// The declaration every XML answer starts with (behaviour.md 2.2).
pub const XML_PROLOG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// The optional control-protocol capability of `GET …/worlds/{id}`: every
/// instance's state in one answer (control-protocol.md, "Additions").
pub(crate) const WORLD_STATE_CAPABILITY: &str = "world-state";

/// The header every harness request carries: the scenario's id, so a
/// target's logs can be tied to scenarios.
pub const SCENARIO_HEADER: &str = "x-modspec-scenario";
