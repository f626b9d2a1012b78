//! Sends signed ModifyInstanceSpec requests (V1 or V3) and reads the
//! answer with a size cap, so a hostile target can neither hang nor
//! exhaust the harness.

use std::time::Duration;

use reqwest::Url;

use super::secret::Secret;
use crate::wire::{ParamList, sign_v1, sign_v3};

/// The most of a response body the harness reads.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Which signature a request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SignatureStyle {
    V1,
    #[default]
    V3,
}

/// One request to send.
#[derive(Clone, Debug)]
pub struct EcsRequest {
    pub method: String,
    pub params: ParamList,
    pub style: SignatureStyle,
    pub action: String,
    pub version: String,
    /// Extra headers sent (and, for V3, signed).
    pub headers: Vec<(String, String)>,
    /// V1 POST: send the parameters as a form body instead of the query.
    pub form_body: bool,
}

impl EcsRequest {
    /// A ModifyInstanceSpec request with default protocol settings.
    pub fn modify(style: SignatureStyle, params: ParamList) -> Self {
        EcsRequest {
            method: "POST".into(),
            params,
            style,
            action: crate::server::ACTION.into(),
            version: crate::server::VERSION.into(),
            headers: Vec::new(),
            form_body: true,
        }
    }
}

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
}

/// Why a request got no usable answer. These are harness or transport
/// errors, never a verdict about the target.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("request to {url} timed out after {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("cannot connect to {url}: {source}")]
    Connect { url: String, source: reqwest::Error },
    #[error("transport error talking to {url}: {source}")]
    Transport { url: String, source: reqwest::Error },
    #[error("response from {url} is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
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
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let stamp = sign_v1::timestamp_now();
        let host = host_header(&self.base);
        let mut url = self.base.clone();
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let (headers, body) = match req.style {
            SignatureStyle::V3 => {
                let signed = sign_v3::sign_request(&sign_v3::V3Input {
                    method: &req.method,
                    host: &host,
                    query: &req.params,
                    body: b"",
                    action: &req.action,
                    version: &req.version,
                    access_key_id,
                    secret: secret.expose(),
                    nonce: &nonce,
                    date: &stamp,
                    extra_headers: &req.headers,
                });
                url.set_query(Some(&signed.query).filter(|q| !q.is_empty()).map(|q| q.as_str()));
                (signed.headers, Vec::new())
            }
            SignatureStyle::V1 => {
                let common = sign_v1::V1Common {
                    access_key_id,
                    nonce: &nonce,
                    timestamp: &stamp,
                    format: None,
                };
                let signed = sign_v1::sign_request(
                    &req.method,
                    &req.params,
                    &req.action,
                    &req.version,
                    &common,
                    secret.expose(),
                );
                let mut headers = req.headers.clone();
                let encoded = signed.to_query_string();
                if req.form_body && req.method == "POST" {
                    headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
                    (headers, encoded.into_bytes())
                } else {
                    url.set_query(Some(&encoded));
                    (headers, Vec::new())
                }
            }
        };
        let mut rb = self.http.request(method, url).timeout(self.timeout);
        for (k, v) in &headers {
            // `host` is set by the HTTP client from the URL, identically.
            if !k.eq_ignore_ascii_case("host") {
                rb = rb.header(k, v);
            }
        }
        self.exchange(rb.body(body)).await
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
        let mut resp = rb.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(SendError::TooLarge {
                    url,
                    limit: MAX_RESPONSE_BYTES,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Exchange { status, headers, body })
    }
}

/// The `host` header value a client sends for this URL.
pub fn host_header(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}
