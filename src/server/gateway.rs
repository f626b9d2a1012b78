//! The server's side of the gateway rules: `gate` decides G1–G9 from the
//! request, the wall clock and the world a key names; this file looks the
//! key up in the store and lets a planted bug add to a refusal
//! (`planted.rs`).
//! G10–G12 need the world's lock and run in `api`.
//!
//! The `auth` capability is G2, G4 and G6–G10; with `--no-auth` those are
//! skipped but the AccessKeyId still picks the world (G5).

use std::sync::Arc;

use super::planted::Planted;
use super::store::{Limits, Store, WorldSlot};
use crate::gate::{self, Account, Admitted, Bounds, Context, RawRequest, Refused};

impl Account for Arc<WorldSlot> {
    fn secret(&self) -> &str {
        &self.secret
    }
}

/// The bounds of V3 verification among the store's limits.
pub(super) fn bounds(limits: &Limits) -> Bounds {
    Bounds {
        max_signed_headers: limits.max_signed_headers,
        max_canonical_request_bytes: limits.max_canonical_request_bytes,
    }
}

/// Runs G1–G9 against the store's worlds, at the wall clock's now.
pub(super) fn admit(
    store: &Store,
    auth: bool,
    planted: Planted,
    req: &RawRequest,
) -> Result<Admitted<Arc<WorldSlot>>, Refused> {
    let ctx = Context {
        auth,
        now: chrono::Utc::now(),
        bounds: bounds(store.limits()),
        bends: &planted,
    };
    let refused = match gate::admit(req, &ctx, |key| store.by_key(key)) {
        Ok(a) => return Ok(a),
        Err(r) => r,
    };
    planted.after_refusal(&refused, store, req, &ctx);
    Err(refused)
}
