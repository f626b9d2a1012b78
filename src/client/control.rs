//! Client of the test-control protocol v1 (control-protocol.md).

use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use super::secret::Secret;
use crate::spec::World;

/// Why a control-protocol call failed. The target could not be prepared,
/// which is a harness error, never a conformance verdict.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control protocol at {url}{}: {}", if source.is_timeout() || source.is_connect() { " (target not answering)" } else { "" }, crate::util::error_chain(source))]
    Transport { url: String, source: reqwest::Error },
    #[error("control protocol at {url} answered {status}: {body}")]
    Status { url: String, status: u16, body: String },
    #[error("control protocol at {url} answered invalid JSON: {reason}")]
    Invalid { url: String, reason: String },
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
        let body = resp.bytes().await.map_err(transport)?;
        if status != want {
            let text = String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned();
            return Err(ControlError::Status {
                url: url.to_string(),
                status,
                body: text,
            });
        }
        Ok(body.to_vec())
    }

    fn parse<T: for<'de> Deserialize<'de>>(url: &str, body: &[u8]) -> Result<T, ControlError> {
        serde_json::from_slice(body).map_err(|e| ControlError::Invalid {
            url: url.to_string(),
            reason: e.to_string(),
        })
    }

    /// `POST /worlds`.
    pub async fn create_world(&self, world: &World) -> Result<WorldHandle, ControlError> {
        let url = self.url("/worlds");
        let body = self.call(self.http.post(&url).json(world), &url, 201).await?;
        let c: Created = Self::parse(&url, &body)?;
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
