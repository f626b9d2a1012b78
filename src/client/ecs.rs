//! Sends signed ModifyInstanceSpec requests (V1 or V3) and reads the
//! answer with a size cap, so a hostile target can neither hang nor
//! exhaust the harness.

use std::time::Duration;

use reqwest::Url;

use super::prepare::{EcsRequest, Prepared, prepare};
use super::secret::Secret;

/// The most of a response body the harness reads.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// What came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Exchange {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Replaces every echo of these secrets, in any encoding, in the
    /// header values and the body: done as soon as an answer arrives, so
    /// nothing built from it (checks, reports, snapshots, fuzz exchange
    /// files) can carry one. A body is rewritten only if it held one.
    pub fn scrub(&mut self, secrets: &[&Secret]) {
        for (_, v) in &mut self.headers {
            super::scrub_string(v, secrets);
        }
        let text = String::from_utf8_lossy(&self.body);
        if let std::borrow::Cow::Owned(clean) = super::scrub(&text, secrets) {
            self.body = clean.into_bytes();
        }
    }
}

/// Why a request got no usable answer. These are harness or transport
/// errors, never a verdict about the target.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("request to {url} timed out after {timeout:?} (target not answering)")]
    Timeout { url: String, timeout: Duration },
    #[error("cannot connect to {url} (target not answering): {}", super::transport_cause(source))]
    Connect { url: String, source: reqwest::Error },
    #[error("transport error talking to {url}: {}", super::transport_cause(source))]
    Transport { url: String, source: reqwest::Error },
    #[error(
        "the answer from {url} broke off after its head (HTTP {status}): {}",
        crate::util::error_chain(source)
    )]
    BrokenAnswer {
        url: String,
        status: u16,
        source: reqwest::Error,
    },
    #[error("response from {url} is larger than {limit} bytes, the harness's response size limit")]
    TooLarge { url: String, limit: usize },
}

impl SendError {
    /// How the request got no answer at all (timed out, refused, reset),
    /// if so: the target is overloaded or down, not answering wrongly.
    pub fn unanswered(&self) -> Option<super::Unanswered> {
        match self {
            SendError::Timeout { .. } => Some(super::Unanswered::TimedOut),
            SendError::Connect { source, .. } | SendError::Transport { source, .. } => super::unanswered(source),
            SendError::BrokenAnswer { .. } | SendError::TooLarge { .. } => None,
        }
    }
}

/// A client for one target's ECS API.
#[derive(Clone, Debug)]
pub struct EcsClient {
    http: reqwest::Client,
    base: Url,
    timeout: Duration,
}

impl EcsClient {
    pub fn new(http: reqwest::Client, base: Url, timeout: Duration) -> Self {
        EcsClient { http, base, timeout }
    }

    /// Signs and sends one request with fresh nonce and timestamp.
    pub async fn send(&self, access_key_id: &str, secret: &Secret, req: &EcsRequest) -> Result<Exchange, SendError> {
        let prepared = prepare(req, access_key_id, secret, &host_header(&self.base));
        self.send_prepared(&prepared, &[]).await
    }

    /// Sends a prepared request as is, plus `extra` headers (not signed).
    pub(crate) async fn send_prepared(&self, p: &Prepared, extra: &[(&str, &str)]) -> Result<Exchange, SendError> {
        let mut url = self.base.clone();
        url.set_query(Some(p.query.as_str()).filter(|q| !q.is_empty()));
        let method = reqwest::Method::from_bytes(p.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut rb = self.http.request(method, url).timeout(self.timeout);
        for (k, v) in &p.headers {
            // `host` is set by the HTTP client from the URL, identically.
            if !k.eq_ignore_ascii_case("host") {
                rb = rb.header(k, v);
            }
        }
        for (k, v) in extra {
            rb = rb.header(*k, *v);
        }
        self.exchange(rb.body(p.body.clone())).await
    }

    async fn exchange(&self, rb: reqwest::RequestBuilder) -> Result<Exchange, SendError> {
        let url = self.base.to_string();
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                SendError::Timeout {
                    url: url.clone(),
                    timeout: self.timeout,
                }
            } else if e.is_connect() {
                SendError::Connect {
                    url: url.clone(),
                    source: e,
                }
            } else {
                SendError::Transport {
                    url: url.clone(),
                    source: e,
                }
            }
        };
        let resp = rb.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let headers = header_pairs(resp.headers());
        let body = read_capped(resp, MAX_RESPONSE_BYTES).await.map_err(|e| match e {
            BodyError::TooLarge { limit } => SendError::TooLarge {
                url: url.clone(),
                limit,
            },
            BodyError::Read(e) if e.is_timeout() => classify(e),
            BodyError::Read(source) => SendError::BrokenAnswer {
                url: url.clone(),
                status,
                source,
            },
        })?;
        Ok(Exchange { status, headers, body })
    }
}

/// An answer's headers as (name, value) pairs: names as the HTTP library
/// holds them (lower case), values lossily decoded.
pub fn header_pairs(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Why a response body could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the answer is larger than {limit} bytes, the harness's response size limit")]
    TooLarge { limit: usize },
    #[error(transparent)]
    Read(reqwest::Error),
}

/// Reads a body of at most `limit` bytes and stops as soon as it would be
/// more, so a hostile target answering gigabytes costs the harness `limit`
/// bytes of memory. A declared `Content-Length` over the limit fails before
/// any byte is read. The request's timeout (reqwest's total timeout) also
/// covers the body, so a target dripping a byte a second ends as a timeout.
pub async fn read_capped(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The `host` header value a client sends for this URL.
pub fn host_header(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}
