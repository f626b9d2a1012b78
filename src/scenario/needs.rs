//! Which control-protocol capabilities a trial needs: those it declares
//! plus those its steps imply, so a case author cannot forget one.

use std::collections::BTreeSet;

use super::model::{Capability, Signature};
use super::trial::{Trial, TrialStep};
use crate::spec::names;

impl Trial {
    /// True if the trial can run with no world (a `live` case).
    pub(crate) fn is_live(&self) -> bool {
        self.needs.is_empty()
    }

    /// Declared plus implied capabilities, given the run's default signature.
    pub fn required(&self, default_signature: Signature) -> BTreeSet<Capability> {
        let mut need = self.needs.clone();
        if self.tags.iter().any(|t| t == "precedence") {
            need.insert(Capability::Precedence);
        }
        if self
            .worlds
            .values()
            .any(|w| !w.faults.internal_error_on_instances.is_empty())
        {
            need.insert(Capability::Faults);
        }
        for step in &self.steps {
            let (req, expect) = match step {
                TrialStep::Advance(_) => {
                    need.insert(Capability::Clock);
                    continue;
                }
                TrialStep::Request { request, expect, .. } => (request, expect),
            };
            let sig = req.signature_style().unwrap_or(default_signature);
            let format = req.format.as_deref().map(str::to_ascii_lowercase);
            let xml_answer = match format.as_deref() {
                Some("xml") => true,
                Some("json") => false,
                _ => sig == Signature::V1,
            };
            if xml_answer
                || expect
                    .full
                    .format
                    .as_deref()
                    .is_some_and(|f| f.eq_ignore_ascii_case("xml"))
            {
                need.insert(Capability::Xml);
            }
            let has = |n: &str| {
                req.params
                    .keys()
                    .chain(req.pairs.iter().map(|(k, _)| k))
                    .any(|k| k == n)
            };
            if has(names::DRY_RUN) {
                need.insert(Capability::DryRun);
            }
            if [
                names::DRY_RUN,
                names::ASYNC,
                names::ALLOW_MIGRATE,
                names::SYSTEM_DISK_CATEGORY,
            ]
            .iter()
            .any(|n| has(n))
            {
                need.insert(Capability::ExtendedParams);
            }
            if let Some(d) = &req.protocol {
                let core_only = d.omit.is_empty()
                    && !d.wrong_secret
                    && d.timestamp_offset.is_none()
                    && d.nonce.is_none()
                    && d.algorithm.is_none()
                    && d.unsigned_headers.is_empty()
                    && d.content_sha256.is_none()
                    && d.after_signing.is_empty()
                    && d.set
                        .keys()
                        .all(|k| k == "Action" || k == "x-acs-action" || k == "Format");
                if !core_only {
                    need.insert(Capability::Auth);
                }
            }
            if expect
                .rules()
                .any(|r| r.as_str().starts_with('G') && !matches!(r.as_str(), "G1" | "G3" | "G5" | "G11" | "G12"))
            {
                need.insert(Capability::Auth);
            }
        }
        need
    }
}
