//! Reaching a target: the embedded reference server or a URL, its control
//! protocol and its capabilities, and whether it may be a real cloud.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde::Deserialize;

use super::context::RunContext;
use super::signer_check::{SignerMismatch, check_signer};
use crate::client::{
    BodyError, ControlClient, EcsClient, HttpClientError, HttpOptions, MAX_RESPONSE_BYTES, Secret, TlsOptions, excerpt,
    host_header, http_client, read_capped, tls_problem, transport_cause,
};
use crate::protocol::WORLD_STATE_CAPABILITY;
use crate::scenario::{Capability, Signature};
use crate::server::{CONTROL_PREFIX, CONTROL_PROTOCOL, Server, ServerConfig};

/// Why a run could not start. Never a verdict on conformance.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("target {url} is unreachable: {cause}")]
    Unreachable { url: String, cause: String },
    #[error("TLS with {url} failed: {cause}")]
    Tls { url: String, cause: String },
    #[error("cannot start the embedded server")]
    Embedded(#[from] std::io::Error),
    #[error("invalid URL `{url}`")]
    BadUrl {
        url: String,
        #[source]
        source: <Url as std::str::FromStr>::Err,
    },
    #[error(transparent)]
    Client(#[from] HttpClientError),
    #[error("the harness's own signer departs from the contract, so nothing was sent")]
    Signer(#[from] SignerMismatch),
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
    let url = format!("http://{addr}/");
    let url = Url::parse(&url).map_err(|source| TargetError::BadUrl { url, source })?;
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
    /// Send live requests that could change a real instance even when the
    /// target may be a real cloud (not loopback, no control protocol).
    pub allow_changes: bool,
    /// Host names resolved to these addresses instead of through DNS (for
    /// tests that need a non-loopback name served on loopback).
    pub resolve: Vec<(String, SocketAddr)>,
    /// Which TLS servers to trust (`--cacert`, `--insecure`).
    pub tls: TlsOptions,
}

impl Connect {
    /// The defaults: control at `<target>/_conformance/v1`, V3 signatures,
    /// default (non-strict) matching, no credentials, no real-cloud changes.
    /// Callers set what differs, so adding a field touches one place.
    pub fn new(target: Url, timeout: Duration) -> Self {
        Connect {
            target,
            control: None,
            timeout,
            signature: Signature::V3,
            strict: false,
            env_credentials: None,
            allow_changes: false,
            resolve: Vec::new(),
            tls: TlsOptions::default(),
        }
    }

    /// The options of the HTTP client this connection uses.
    pub(crate) fn http_options(&self) -> HttpOptions {
        HttpOptions {
            resolve: self.resolve.clone(),
            ..HttpOptions::new(self.tls.clone(), self.timeout)
        }
    }
}

/// True if the URL names this machine: a loopback IP or `localhost`.
///
/// Decided from the name as written, never by resolving it: a name that
/// merely resolves to loopback today could be a real endpoint tomorrow,
/// and the safe side is to treat it as remote.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => {
            let d = bare.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
    }
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
    /// Set when live requests that could change an instance are withheld
    /// (the target may be a real cloud): why.
    pub changes_withheld: Option<String>,
}

/// Reads the target's capabilities and builds the run context.
pub async fn connect(c: &Connect) -> Result<(RunContext, TargetInfo), TargetError> {
    check_signer()?;
    let http = http_client(&c.http_options())?;
    let control_url = match &c.control {
        Some(u) => u.clone(),
        None => c
            .target
            .join(CONTROL_PREFIX.trim_start_matches('/'))
            .map_err(|source| TargetError::BadUrl {
                url: format!("{}{}", c.target, CONTROL_PREFIX.trim_start_matches('/')),
                source,
            })?,
    };
    let caps_url = format!("{}/capabilities", control_url.as_str().trim_end_matches('/'));
    let answer = fetch(&http, &caps_url, c.timeout).await?;
    let mut info = TargetInfo::default();
    let claimed = answer.read(&caps_url, &mut info);
    let control = claimed
        .as_ref()
        .map(|_| ControlClient::new(http.clone(), control_url, c.timeout));
    let (capabilities, world_state) = claimed.unwrap_or_default();
    if control.is_none() && !c.allow_changes && !is_loopback(&c.target) {
        info.changes_withheld = Some(format!(
            "{} is not a loopback address and has no control protocol, so it may be a real cloud account",
            c.target
        ));
    }
    let ctx = RunContext {
        ecs: EcsClient::new(http, c.target.clone(), c.timeout),
        control,
        capabilities,
        signature: c.signature,
        strict: c.strict,
        env_credentials: c.env_credentials.clone(),
        host: host_header(&c.target),
        guard_changes: info.changes_withheld.is_some(),
        world_state,
        instance_ids: Vec::new(),
    };
    Ok((ctx, info))
}

/// The capabilities request's answer, read within the size limit.
struct CapsAnswer {
    status: u16,
    ctype: String,
    location: Option<String>,
    body: Result<Vec<u8>, BodyError>,
}

/// Sends the capabilities request. A target that cannot be reached (or
/// whose TLS fails) is an error; any answer is read for [`CapsAnswer::read`].
async fn fetch(http: &reqwest::Client, caps_url: &str, timeout: Duration) -> Result<CapsAnswer, TargetError> {
    let unreachable = |e: reqwest::Error| match tls_problem(&e) {
        Some(_) => TargetError::Tls {
            url: caps_url.to_string(),
            cause: transport_cause(&e),
        },
        None => TargetError::Unreachable {
            url: caps_url.to_string(),
            cause: match e.is_timeout() {
                true => format!("no answer within {timeout:?}"),
                false => transport_cause(&e),
            },
        },
    };
    let resp = http.get(caps_url).timeout(timeout).send().await.map_err(unreachable)?;
    let header = |name| {
        resp.headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let (status, ctype, location) = (
        resp.status().as_u16(),
        header(CONTENT_TYPE).unwrap_or_else(|| "no content type".into()),
        header(LOCATION),
    );
    let body = match read_capped(resp, MAX_RESPONSE_BYTES).await {
        Ok(b) => Ok(b),
        Err(BodyError::Read(e)) => return Err(unreachable(e)),
        Err(e @ BodyError::TooLarge { .. }) => Err(e),
    };
    Ok(CapsAnswer {
        status,
        ctype,
        location,
        body,
    })
}

impl CapsAnswer {
    /// The capabilities claimed and whether `world-state` is one, if the
    /// answer is this protocol's capabilities document; otherwise `None`,
    /// with the reason in `info.control_note`.
    fn read(&self, caps_url: &str, info: &mut TargetInfo) -> Option<(BTreeSet<Capability>, bool)> {
        let status = self.status;
        let caps = match self.body.as_deref().map(serde_json::from_slice::<Capabilities>) {
            Ok(Ok(caps)) if status == 200 => caps,
            Ok(_) => {
                info.control_note = Some(self.no_document(caps_url));
                return None;
            }
            Err(e) => {
                info.control_note = Some(format!("{caps_url} answered {status}, but {e}"));
                return None;
            }
        };
        if caps.protocol != CONTROL_PROTOCOL {
            info.control_note = Some(format!(
                "the target speaks `{}`, not `{CONTROL_PROTOCOL}`",
                caps.protocol
            ));
            return None;
        }
        let (mut known, mut world_state) = (BTreeSet::new(), false);
        for name in caps.capabilities {
            match Capability::parse(&name) {
                _ if name == WORLD_STATE_CAPABILITY => world_state = true,
                Some(cap) => {
                    known.insert(cap);
                }
                None => info.unknown_capabilities.push(name),
            }
        }
        Some((known, world_state))
    }

    /// Why an answer is not a capabilities document, with what came back.
    fn no_document(&self, caps_url: &str) -> String {
        let (status, ctype) = (self.status, &self.ctype);
        let detail = match (&self.location, &self.body) {
            (Some(to), _) if (300..400).contains(&status) => {
                format!(
                    ": a redirect to `{}`, which the harness does not follow",
                    excerpt(to.as_bytes())
                )
            }
            (_, Ok(b)) if !b.is_empty() => format!(": {}", excerpt(b)),
            _ => String::new(),
        };
        format!("{caps_url} answered {status} ({ctype}) without a capabilities document{detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_decided_by_the_name_as_written() {
        for (url, want) in [
            ("http://127.0.0.1:9000/", true),
            ("http://127.8.0.1/", true),
            ("http://[::1]:80/", true),
            ("http://localhost:9/", true),
            ("http://api.localhost/", true),
            ("https://ecs.aliyuncs.com/", false),
            ("http://10.0.0.5/", false),
            ("http://mock:9000/", false),
            ("http://localhost.example.com/", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(url).unwrap()), want, "{url}");
        }
    }
}
