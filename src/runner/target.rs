//! Reaching a target: the embedded reference server or a URL, its control
//! protocol and its capabilities.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use super::exec::RunContext;
use crate::client::{ControlClient, EcsClient, Secret, host_header};
use crate::scenario::{Capability, Signature};
use crate::server::{CONTROL_PREFIX, CONTROL_PROTOCOL, Server, ServerConfig};

/// Why a run could not start. Never a verdict on conformance.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("target {url} is unreachable: {cause}")]
    Unreachable { url: String, cause: String },
    #[error("cannot start the embedded server: {0}")]
    Embedded(#[from] std::io::Error),
    #[error("invalid URL `{0}`")]
    BadUrl(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// The embedded reference server, stopped when dropped.
pub struct Embedded {
    pub url: Url,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Starts the reference server in-process on 127.0.0.1:0.
pub async fn start_embedded(config: &ServerConfig) -> Result<Embedded, TargetError> {
    let server = Server::bind(SocketAddr::from(([127, 0, 0, 1], 0)), config).await?;
    let addr = server.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    let url = Url::parse(&format!("http://{addr}/")).map_err(|e| TargetError::BadUrl(e.to_string()))?;
    Ok(Embedded { url, _stop: tx })
}

/// How to reach and drive a target.
#[derive(Clone, Debug)]
pub struct Connect {
    pub target: Url,
    /// Default: `<target>/_conformance/v1`.
    pub control: Option<Url>,
    pub timeout: Duration,
    pub signature: Signature,
    pub strict: bool,
    pub env_credentials: Option<(String, Secret)>,
}

#[derive(Deserialize)]
struct Capabilities {
    protocol: String,
    capabilities: Vec<String>,
}

/// What connecting found out, for the report.
#[derive(Clone, Debug, Default)]
pub struct TargetInfo {
    /// Why the control protocol is not used, if it is not.
    pub control_note: Option<String>,
    /// Capability names the target listed that this harness does not know.
    pub unknown_capabilities: Vec<String>,
}

/// Reads the target's capabilities and builds the run context.
pub async fn connect(c: &Connect) -> Result<(RunContext, TargetInfo), TargetError> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(c.timeout)
        .build()
        .map_err(|e| TargetError::Client(e.to_string()))?;
    let control_url = match &c.control {
        Some(u) => u.clone(),
        None => c
            .target
            .join(CONTROL_PREFIX.trim_start_matches('/'))
            .map_err(|e| TargetError::BadUrl(e.to_string()))?,
    };
    let caps_url = format!("{}/capabilities", control_url.as_str().trim_end_matches('/'));
    let mut info = TargetInfo::default();
    let unreachable = |cause: String| TargetError::Unreachable {
        url: caps_url.clone(),
        cause,
    };
    let resp = http.get(&caps_url).timeout(c.timeout).send().await.map_err(|e| {
        if e.is_timeout() {
            unreachable(format!("no answer within {:?}", c.timeout))
        } else {
            unreachable(crate::util::error_chain(&e))
        }
    })?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .map_err(|e| unreachable(crate::util::error_chain(&e)))?;
    let mut capabilities = BTreeSet::new();
    let mut control = None;
    match serde_json::from_slice::<Capabilities>(&body) {
        Ok(caps) if status == 200 && caps.protocol == CONTROL_PROTOCOL => {
            for name in caps.capabilities {
                match Capability::parse(&name) {
                    Some(cap) => {
                        capabilities.insert(cap);
                    }
                    None => info.unknown_capabilities.push(name),
                }
            }
            control = Some(ControlClient::new(http.clone(), control_url, c.timeout));
        }
        Ok(caps) if status == 200 => {
            info.control_note = Some(format!(
                "the target speaks `{}`, not `{CONTROL_PROTOCOL}`",
                caps.protocol
            ));
        }
        _ => info.control_note = Some(format!("{caps_url} answered {status} without a capabilities document")),
    }
    let ctx = RunContext {
        ecs: EcsClient::new(http, c.target.clone(), c.timeout),
        control,
        capabilities,
        signature: c.signature,
        strict: c.strict,
        env_credentials: c.env_credentials.clone(),
        host: host_header(&c.target),
    };
    Ok((ctx, info))
}
