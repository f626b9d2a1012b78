//! Reaching a target: the embedded reference server or a URL, its control
//! protocol and its capabilities, and whether it may be a real cloud.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde::Deserialize;

use super::context::RunContext;
use crate::client::{
    BodyError, ControlClient, EcsClient, HttpOptions, MAX_RESPONSE_BYTES, Secret, TlsOptions, excerpt, host_header,
    http_client, read_capped, tls_problem, transport_cause,
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
    pub fn http_options(&self) -> HttpOptions {
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
    let http = http_client(&c.http_options()).map_err(|e| TargetError::Client(e.to_string()))?;
    let control_url = match &c.control {
        Some(u) => u.clone(),
        None => c
            .target
            .join(CONTROL_PREFIX.trim_start_matches('/'))
            .map_err(|e| TargetError::BadUrl(e.to_string()))?,
    };
    let caps_url = format!("{}/capabilities", control_url.as_str().trim_end_matches('/'));
    let mut info = TargetInfo::default();
    let unreachable = |e: reqwest::Error| match tls_problem(&e) {
        Some(_) => TargetError::Tls {
            url: caps_url.clone(),
            cause: transport_cause(&e),
        },
        None => TargetError::Unreachable {
            url: caps_url.clone(),
            cause: if e.is_timeout() {
                format!("no answer within {:?}", c.timeout)
            } else {
                transport_cause(&e)
            },
        },
    };
    let resp = http
        .get(&caps_url)
        .timeout(c.timeout)
        .send()
        .await
        .map_err(unreachable)?;
    let status = resp.status().as_u16();
    let header = |name| {
        resp.headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let ctype = header(CONTENT_TYPE).unwrap_or_else(|| "no content type".into());
    let location = header(LOCATION);
    let body = match read_capped(resp, MAX_RESPONSE_BYTES).await {
        Ok(b) => Ok(b),
        Err(BodyError::Read(e)) => return Err(unreachable(e)),
        Err(e @ BodyError::TooLarge { .. }) => Err(e),
    };
    let mut capabilities = BTreeSet::new();
    let mut world_state = false;
    let mut control = None;
    match body.as_deref().map(serde_json::from_slice::<Capabilities>) {
        Ok(Ok(caps)) if status == 200 && caps.protocol == CONTROL_PROTOCOL => {
            for name in caps.capabilities {
                if name == WORLD_STATE_CAPABILITY {
                    world_state = true;
                    continue;
                }
                match Capability::parse(&name) {
                    Some(cap) => {
                        capabilities.insert(cap);
                    }
                    None => info.unknown_capabilities.push(name),
                }
            }
            control = Some(ControlClient::new(http.clone(), control_url, c.timeout));
        }
        Ok(Ok(caps)) if status == 200 => {
            info.control_note = Some(format!(
                "the target speaks `{}`, not `{CONTROL_PROTOCOL}`",
                caps.protocol
            ));
        }
        Ok(_) => {
            let detail = match (&location, &body) {
                (Some(to), _) if (300..400).contains(&status) => {
                    format!(
                        ": a redirect to `{}`, which the harness does not follow",
                        excerpt(to.as_bytes())
                    )
                }
                (_, Ok(b)) if !b.is_empty() => format!(": {}", excerpt(b)),
                _ => String::new(),
            };
            info.control_note = Some(format!(
                "{caps_url} answered {status} ({ctype}) without a capabilities document{detail}"
            ))
        }
        Err(e) => info.control_note = Some(format!("{caps_url} answered {status}, but {e}")),
    }
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

/// Why a credentials file could not be used. Never quotes the file's
/// content: it holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read the credentials file {path}: {cause}")]
    Read { path: String, cause: String },
    #[error("credentials file {path}: {what}")]
    Invalid { path: String, what: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsJson {
    access_key_id: String,
    access_key_secret: String,
}

/// Reads `access_key_id` and `access_key_secret` from a file: a JSON object
/// with those two fields, or lines `name = value` (or `name: value`; `#`
/// comments and blank lines ignored, values may be quoted). The secret goes
/// in a file or the environment, never on the command line, where process
/// listings and shell histories would show it.
pub fn load_credentials(path: &std::path::Path) -> Result<(String, Secret), CredentialsError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CredentialsError::Read {
        path: shown.clone(),
        cause: e.to_string(),
    })?;
    let invalid = |what: String| CredentialsError::Invalid {
        path: shown.clone(),
        what,
    };
    if text.trim_start().starts_with('{') {
        // serde's messages name fields and types, never the values.
        let c: CredentialsJson = serde_json::from_str(&text).map_err(|e| invalid(format!("invalid JSON: {e}")))?;
        return checked(c.access_key_id, c.access_key_secret).map_err(invalid);
    }
    let (mut id, mut secret) = (None, None);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once(['=', ':']) else {
            return Err(invalid(format!("line {}: expected `name = value`", n + 1)));
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'').to_string();
        match name.trim() {
            "access_key_id" => id = Some(value),
            "access_key_secret" => secret = Some(value),
            other => {
                return Err(invalid(format!(
                    "line {}: unknown name `{other}` (expected access_key_id or access_key_secret)",
                    n + 1
                )));
            }
        }
    }
    match (id, secret) {
        (Some(id), Some(secret)) => checked(id, secret).map_err(invalid),
        _ => Err(invalid("needs both access_key_id and access_key_secret".into())),
    }
}

fn checked(id: String, secret: String) -> Result<(String, Secret), String> {
    if id.is_empty() || secret.is_empty() {
        return Err("access_key_id and access_key_secret must not be empty".into());
    }
    Ok((id, Secret::new(secret)))
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

    fn load(text: &str) -> Result<(String, Secret), CredentialsError> {
        let path = std::env::temp_dir().join(format!("modspec-creds-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, text).unwrap();
        let r = load_credentials(&path);
        let _ = std::fs::remove_file(path);
        r
    }

    #[test]
    fn credentials_files_in_both_forms_and_errors_never_quote_the_secret() {
        for text in [
            "# ci account\naccess_key_id = LTAIabc\naccess_key_secret = \"s3cr3t\"\n",
            "access_key_id: LTAIabc\naccess_key_secret: s3cr3t",
            r#"{"access_key_id": "LTAIabc", "access_key_secret": "s3cr3t"}"#,
        ] {
            let (id, secret) = load(text).unwrap();
            assert_eq!((id.as_str(), secret.expose()), ("LTAIabc", "s3cr3t"), "{text}");
        }
        for text in [
            "access_key_id = LTAIabc\n",
            "access_key_id = LTAIabc\nsecret s3cr3t\n",
            "access_key_id = LTAIabc\naccess_key_sceret = s3cr3t\n",
            r#"{"access_key_id": "LTAIabc", "access_key_secret": 5, "s3cr3t": 1}"#,
            "access_key_id = \naccess_key_secret = s3cr3t\n",
        ] {
            let e = load(text).unwrap_err().to_string();
            assert!(!e.contains("s3cr3t"), "{e}");
        }
    }
}
