//! Turns a decision into the bytes of an answer (behaviour.md 2.2): body,
//! content type, `x-acs-retry-after`. The protocol mutants (`W-…`,
//! `G12-no-retry-after`) bend the answer here.

use crate::spec::{Mutant, RuleId};
use crate::wire::{ErrorBody, Format, JSON_CONTENT_TYPE, XML_CONTENT_TYPE, render_error, render_success};

/// An answer of the ECS API, independent of the HTTP library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// `x-acs-retry-after`, in milliseconds (Throttling answers).
    pub retry_after_ms: Option<i64>,
    /// The rule that decided the answer (for the request log).
    pub rule: RuleId,
    /// The error code, if any (for the request log).
    pub code: Option<&'static str>,
}

impl Answer {
    /// Adds `x-acs-retry-after` (unless the mutant drops it).
    pub(crate) fn with_retry_after(mut self, ms: i64, mutant: Option<Mutant>) -> Self {
        match mutant {
            Some(Mutant::G12NoRetryAfter) => {}
            Some(Mutant::T1RetryAfterSeconds) => self.retry_after_ms = Some((ms + 999) / 1000),
            _ => self.retry_after_ms = Some(ms),
        }
        self
    }
}

/// A fresh RequestId in the platform's upper-case UUID form.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string().to_ascii_uppercase()
}

fn content_type(format: Format) -> &'static str {
    match format {
        Format::Json => JSON_CONTENT_TYPE,
        Format::Xml => XML_CONTENT_TYPE,
    }
}

/// The 200 answer of an accepted (E1) or replayed (I3) request.
pub(crate) fn success_answer(rule: RuleId, format: Format) -> Answer {
    Answer {
        status: 200,
        content_type: content_type(format),
        body: render_success(format, &request_id()),
        retry_after_ms: None,
        rule,
        code: None,
    }
}

/// An error answer written in `format`.
pub(crate) fn error_answer(
    rule: RuleId,
    status: u16,
    code: &'static str,
    message: &str,
    format: Format,
    host: &str,
    mutant: Option<Mutant>,
) -> Answer {
    let body = ErrorBody {
        request_id: request_id(),
        host_id: host.to_string(),
        code: code.to_string(),
        message: message.to_string(),
        recommend: None,
    };
    let mut text = render_error(format, &body);
    let mut ctype = content_type(format);
    match (format, mutant) {
        (Format::Json, Some(Mutant::WJsonLowercaseCode)) => text = text.replacen("\"Code\":", "\"code\":", 1),
        (Format::Xml, Some(Mutant::WXmlErrorContentType)) => ctype = "application/xml",
        _ => {}
    }
    Answer {
        status,
        content_type: ctype,
        body: text,
        retry_after_ms: None,
        rule,
        code: Some(code),
    }
}
