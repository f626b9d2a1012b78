//! Client of the test-control protocol v1 (control-protocol.md).

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use super::ecs::{BodyError, MAX_RESPONSE_BYTES, read_capped};
use super::secret::Secret;
use crate::spec::World;

/// Why a control-protocol call failed. The target could not be prepared,
/// which is a harness error, never a conformance verdict.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control protocol at {url}{}: {}", if super::unanswered(source).is_some() { " (target not answering)" } else { "" }, super::transport_cause(source))]
    Transport { url: String, source: reqwest::Error },
    #[error("control protocol at {url} answered HTTP {status} (expected {want}): {body}")]
    Status {
        url: String,
        status: u16,
        want: u16,
        body: String,
    },
    #[error("control protocol at {url} answered invalid JSON ({reason}): {body}")]
    Invalid { url: String, reason: String, body: String },
    #[error("control protocol at {url} answered more than {limit} bytes, the harness's response size limit")]
    TooLarge { url: String, limit: usize },
}

impl ControlError {
    /// How the call got no answer at all (timed out, refused, reset), if so.
    pub fn unanswered(&self) -> Option<super::Unanswered> {
        match self {
            ControlError::Transport { source, .. } => super::unanswered(source),
            _ => None,
        }
    }
}

/// The most of a control-protocol answer quoted in an error.
const EXCERPT_BYTES: usize = 300;

/// A short, printable excerpt of an answer for an error message, with the
/// value of any `access_key_secret` masked: a world-creation answer with
/// the wrong status or broken JSON may still carry a secret, and error
/// texts reach every report. The field name is found in any encoding
/// (`"access_key_secre\u0074"` is the same JSON key).
pub fn excerpt(body: &[u8]) -> String {
    const FIELD: &str = "access_key_secret";
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let (mut copied, mut i) = (0, 0);
    let bytes = text.as_bytes();
    while i < bytes.len() {
        let Some(name_end) = super::scrub::find_at(bytes, i, FIELD) else {
            i += 1;
            continue;
        };
        let tail = &text[name_end..];
        // Skip `"` `:` and spaces, then mask a quoted or bare value.
        let value_at = tail
            .find(|c: char| !matches!(c, '"' | ':' | ' ' | '\t' | '\n' | '\r'))
            .unwrap_or(tail.len());
        out.push_str(&text[copied..name_end + value_at]);
        out.push_str("[secret]");
        let end = name_end + value_at + value_end(&tail[value_at..]);
        (copied, i) = (end, end);
    }
    out.push_str(&text[copied..]);
    let mut cut: String = out.chars().take(EXCERPT_BYTES).collect();
    if cut.len() < out.len() {
        cut.push('…');
    }
    if cut.trim().is_empty() {
        "(empty body)".into()
    } else {
        cut.replace(['\n', '\r'], " ")
    }
}

/// Where a masked value ends: at its closing quote (an escaped quote
/// does not close it), or at `,`, `}` or a line end.
fn value_end(value: &str) -> usize {
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' | ',' | '}' | '\n' => return i,
            _ => {}
        }
    }
    value.len()
}

/// A world created on the target.
#[derive(Clone, Debug)]
pub struct WorldHandle {
    pub world_id: String,
    pub access_key_id: String,
    pub secret: Secret,
}

#[derive(Deserialize)]
struct Created {
    world_id: String,
    access_key_id: String,
    access_key_secret: String,
}

/// A client for one target's control protocol.
#[derive(Clone, Debug)]
pub struct ControlClient {
    http: reqwest::Client,
    base: Url,
    timeout: Duration,
}

impl ControlClient {
    /// `base` is the control URL, e.g. `http://host:port/_conformance/v1`.
    pub fn new(http: reqwest::Client, base: Url, timeout: Duration) -> Self {
        ControlClient { http, base, timeout }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    async fn call(&self, rb: reqwest::RequestBuilder, url: &str, want: u16) -> Result<Vec<u8>, ControlError> {
        let transport = |source| ControlError::Transport {
            url: url.to_string(),
            source,
        };
        let resp = rb.timeout(self.timeout).send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let body = read_capped(resp, MAX_RESPONSE_BYTES).await.map_err(|e| match e {
            BodyError::TooLarge { limit } => ControlError::TooLarge {
                url: url.to_string(),
                limit,
            },
            BodyError::Read(e) => transport(e),
        })?;
        if status != want {
            return Err(ControlError::Status {
                url: url.to_string(),
                status,
                want,
                body: excerpt(&body),
            });
        }
        Ok(body)
    }

    fn parse<T: for<'de> Deserialize<'de>>(url: &str, body: &[u8]) -> Result<T, ControlError> {
        serde_json::from_slice(body).map_err(|e| ControlError::Invalid {
            url: url.to_string(),
            reason: e.to_string(),
            body: excerpt(body),
        })
    }

    /// `POST /worlds`.
    pub async fn create_world(&self, world: &World) -> Result<WorldHandle, ControlError> {
        let url = self.url("/worlds");
        let body = self.call(self.http.post(&url).json(world), &url, 201).await?;
        let c: Created = Self::parse(&url, &body)?;
        if c.world_id.is_empty() || c.access_key_id.is_empty() {
            return Err(ControlError::Invalid {
                url,
                reason: "`world_id` and `access_key_id` must not be empty".into(),
                body: excerpt(&body),
            });
        }
        Ok(WorldHandle {
            world_id: c.world_id,
            access_key_id: c.access_key_id,
            secret: Secret::new(c.access_key_secret),
        })
    }

    /// `GET /worlds/{id}/instances/{iid}`: the instance state as JSON, or
    /// `None` for 404.
    pub async fn instance(&self, world_id: &str, instance_id: &str) -> Result<Option<serde_json::Value>, ControlError> {
        let url = self.url(&format!(
            "/worlds/{world_id}/instances/{}",
            crate::wire::pe(instance_id)
        ));
        match self.call(self.http.get(&url), &url, 200).await {
            Ok(body) => Self::parse(&url, &body).map(Some),
            Err(ControlError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /worlds/{id}` (capability `world-state`): every instance's state
    /// by id, in one call; `None` for an unknown world.
    pub(crate) async fn world_states(
        &self,
        world_id: &str,
    ) -> Result<Option<BTreeMap<String, serde_json::Value>>, ControlError> {
        #[derive(Deserialize)]
        struct Doc {
            instances: Vec<serde_json::Value>,
        }
        let url = self.url(&format!("/worlds/{world_id}"));
        let body = match self.call(self.http.get(&url), &url, 200).await {
            Ok(body) => body,
            Err(ControlError::Status { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let doc: Doc = Self::parse(&url, &body)?;
        let states = doc
            .instances
            .into_iter()
            .filter_map(|i| Some((i.get("instance_id")?.as_str()?.to_string(), i)))
            .collect();
        Ok(Some(states))
    }

    /// `POST /worlds/{id}/clock`; returns the world's new time.
    pub async fn advance(&self, world_id: &str, seconds: u64) -> Result<i64, ControlError> {
        #[derive(Deserialize)]
        struct Now {
            now: i64,
        }
        let url = self.url(&format!("/worlds/{world_id}/clock"));
        let body = self
            .call(
                self.http
                    .post(&url)
                    .json(&serde_json::json!({ "advance_seconds": seconds })),
                &url,
                200,
            )
            .await?;
        Ok(Self::parse::<Now>(&url, &body)?.now)
    }

    /// `DELETE /worlds/{id}`.
    pub async fn delete_world(&self, world_id: &str) -> Result<(), ControlError> {
        let url = self.url(&format!("/worlds/{world_id}"));
        self.call(self.http.delete(&url), &url, 204).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn excerpts_mask_secrets_even_in_broken_json() {
        let whole = br#"{"world_id":"w","access_key_secret": "S3CR3T","x":1}"#;
        let cut = br#"{"world_id":"w","access_key_secret":"S3CR3T"#;
        for body in [&whole[..], &cut[..]] {
            let e = excerpt(body);
            assert!(!e.contains("S3CR3T") && e.contains("[secret]"), "{e}");
        }
        // The key written with JSON escapes is the same key.
        for key in [
            r"access_key_secre\u0074",
            r"\u0061ccess_key_secret",
            "access%5Fkey_secret",
        ] {
            let body = format!(r#"{{"world_id":"w","{key}":"S3CR\"3T","x":1}}"#);
            let e = excerpt(body.as_bytes());
            assert!(
                !e.contains("S3CR") && !e.contains("3T") && e.contains("[secret]"),
                "{e}"
            );
        }
        assert_eq!(excerpt(b""), "(empty body)");
        assert!(excerpt(&[b'a'; 1000]).ends_with('…'));
    }
}
