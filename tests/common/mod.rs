//! Shared setup of the server integration tests: an in-process reference
//! server, worlds made through the control client, and requests built and
//! signed by the library (`client::prepare`, the builder that run, fuzz and
//! bench send through, signing with `wire`'s one signer). A test damages one
//! part of a request through `EcsRequest`'s protocol `Damage`, so the rest
//! stays valid, or edits the built request before sending it.
//!
//! Self-check: `MODSPEC_TEST_MUTANT=<name> cargo test --test server_gateway`
//! starts every server with that planted bug; the tests about its rule must
//! then fail.

#![allow(dead_code)]

pub mod child;

use std::net::SocketAddr;
use std::time::Duration;

use modspec::client::{ControlClient, EcsRequest, Prepared, SignatureStyle, WorldHandle, prepare};
use modspec::server::{Server, ServerConfig};
use modspec::spec::{World, sample_world};
use modspec::wire::{Format, ParamList, ParsedBody, parse_body};
use tokio::sync::oneshot;

pub const CONTROL: &str = "/_conformance/v1";
pub const JSON_CT: &str = "application/json;charset=utf-8";
pub const XML_CT: &str = "text/xml;charset=utf-8";
pub const XML_PROLOG: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
pub const XML: Format = Format::Xml;
pub const JSON: Format = Format::Json;

/// A V3 request as `client::prepare` built it; `headers` includes `host`
/// (not sent by hand: the HTTP client writes the same value).
pub type V3Req = Prepared;

/// The headers a V3 request must sign (G2), sorted as SDKs list them.
pub const V3_SIGNED: [&str; 6] = [
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
];

/// A bandwidth change of the sample world's Running instance.
pub const CHANGE: &[(&str, &str)] = &[("InstanceId", "i-conf0002"), ("InternetMaxBandwidthOut", "20")];
/// The same as a dry run: passes every check and changes nothing, so the
/// answer (400 DryRunOperation) proves the request got through the gateway.
pub const DRY: &[(&str, &str)] = &[
    ("InstanceId", "i-conf0002"),
    ("InternetMaxBandwidthOut", "20"),
    ("DryRun", "true"),
];

/// A server running on a free port until this value is dropped.
pub struct Target {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:port`
    pub base: String,
    pub http: reqwest::Client,
    pub control: ControlClient,
    _stop: oneshot::Sender<()>,
}

pub async fn start() -> Target {
    start_with(ServerConfig::default()).await
}

/// A default server and a world made from the sample document.
pub async fn start_sample() -> (Target, WorldHandle) {
    let t = start().await;
    let w = t.sample().await;
    (t, w)
}

pub async fn start_with(mut config: ServerConfig) -> Target {
    if let Ok(name) = std::env::var("MODSPEC_TEST_MUTANT") {
        config.mutant = Some(name.parse().unwrap_or_else(|e| panic!("MODSPEC_TEST_MUTANT: {e}")));
    }
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), &config)
        .await
        .expect("bind");
    let addr = server.local_addr().expect("local_addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    Target {
        _stop: stop,
        ..attach(addr)
    }
}

/// A `Target` for a server that is already running at `addr` (a child
/// `modspec serve`).
pub fn attach(addr: SocketAddr) -> Target {
    // reqwest's rustls backend needs the crypto provider installed first.
    modspec::client::tls_provider();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client");
    let base = format!("http://{addr}");
    let control = ControlClient::new(
        http.clone(),
        format!("{base}{CONTROL}").parse().unwrap(),
        Duration::from_secs(10),
    );
    Target {
        addr,
        base,
        http,
        control,
        _stop: oneshot::channel().0,
    }
}

/// A fresh nonce.
pub fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub fn list(pairs: &[(&str, &str)]) -> ParamList {
    owned(pairs).into()
}

pub fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Replaces every pair called `name` with one `name=value` where the first
/// was, or appends it.
pub fn set(pairs: &mut Vec<(String, String)>, name: &str, value: &str) {
    let at = pairs.iter().position(|(k, _)| k == name);
    pairs.retain(|(k, _)| k != name);
    pairs.insert(at.unwrap_or(pairs.len()), (name.to_string(), value.to_string()));
}

pub fn remove(pairs: &mut Vec<(String, String)>, name: &str) {
    pairs.retain(|(k, _)| k != name);
}

/// The value of the first pair called `name` (any case).
pub fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A V1 request for `w` built by the library (fresh nonce, current time,
/// no `Format`), as the pairs it sends.
pub fn v1(method: &str, w: &WorldHandle, op: &[(&str, &str)]) -> ParamList {
    v1_with(method, w, op, |_| {})
}

/// Like [`v1`], after `f` has edited the request (its protocol damage, its
/// `Format`), so only that edit is wrong.
pub fn v1_with(method: &str, w: &WorldHandle, op: &[(&str, &str)], f: impl FnOnce(&mut EcsRequest)) -> ParamList {
    let mut req = EcsRequest::modify(SignatureStyle::V1, list(op));
    req.method = method.to_string();
    // In the query, so the pairs come back whole; `send_v1` places them.
    req.form_body = false;
    f(&mut req);
    let p = prepare(&req, &w.access_key_id, &w.secret, "unused.invalid");
    ParamList::parse_urlencoded(p.query.as_bytes())
}

/// An edit of a request's protocol damage: `set` `name` to `value`
/// (V1 names reach the matching V3 headers).
pub fn damage_set(name: &str, value: &str) -> impl FnOnce(&mut EcsRequest) {
    let (name, value) = (name.to_string(), value.to_string());
    move |r| {
        r.damage.set.insert(name, value);
    }
}

/// Edits of a built request, after signing.
pub trait Edit {
    fn set_header(&mut self, name: &str, value: &str);
    fn remove_header(&mut self, name: &str);
    fn authorization(&self) -> String;
}

impl Edit for Prepared {
    fn set_header(&mut self, name: &str, value: &str) {
        set(&mut self.headers, name, value);
    }

    fn remove_header(&mut self, name: &str) {
        remove(&mut self.headers, name);
    }

    fn authorization(&self) -> String {
        get(&self.headers, "authorization").unwrap_or_default().to_string()
    }
}

/// One answer, read whole.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        get(&self.headers, name)
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }

    pub fn parsed(&self) -> ParsedBody {
        parse_body(self.header("content-type"), self.body.as_bytes())
            .unwrap_or_else(|e| panic!("unparsable answer ({e}): {self:?}"))
    }

    pub fn message(&self) -> String {
        self.parsed().message.unwrap_or_default()
    }
}

/// The `content-type` header of a form body.
pub fn form_ct() -> Vec<(String, String)> {
    owned(&[("content-type", "application/x-www-form-urlencoded")])
}

/// How the parameters of a V1 request travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Query,
    Form,
}

impl Target {
    /// `127.0.0.1:port`, the `host` header and the expected `HostId`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn control_url(&self, path: &str) -> String {
        format!("{}{CONTROL}{path}", self.base)
    }

    pub async fn world(&self, world: &World) -> WorldHandle {
        self.control.create_world(world).await.expect("create world")
    }

    pub async fn sample(&self) -> WorldHandle {
        self.world(&sample_world()).await
    }

    /// The instance state from the control protocol.
    pub async fn instance(&self, w: &WorldHandle, id: &str) -> serde_json::Value {
        self.control
            .instance(&w.world_id, id)
            .await
            .expect("instance state")
            .unwrap_or_else(|| panic!("no instance {id}"))
    }

    pub async fn advance(&self, w: &WorldHandle, seconds: u64) -> i64 {
        self.control.advance(&w.world_id, seconds).await.expect("advance clock")
    }

    /// Sends anything to `/`.
    pub async fn send_raw(&self, method: &str, query: &str, headers: &[(String, String)], body: Vec<u8>) -> Reply {
        let url = if query.is_empty() {
            format!("{}/", self.base)
        } else {
            format!("{}/?{query}", self.base)
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut rb = self.http.request(method, url).body(body);
        for (k, v) in headers {
            if !k.eq_ignore_ascii_case("host") {
                rb = rb.header(k, v);
            }
        }
        let resp = rb.send().await.expect("send");
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = resp.text().await.expect("body");
        Reply { status, headers, body }
    }

    /// Sends V1 parameters in the query or as a form body.
    pub async fn send_v1(&self, method: &str, params: &ParamList, via: Via) -> Reply {
        let encoded = params.to_query_string();
        match via {
            Via::Query => self.send_raw(method, &encoded, &[], Vec::new()).await,
            Via::Form => self.send_raw(method, "", &form_ct(), encoded.into_bytes()).await,
        }
    }

    /// A V3 request for `w`, built by the library after `f` has edited it
    /// (method, headers, protocol damage).
    pub fn v3_with(&self, w: &WorldHandle, op: &[(&str, &str)], f: impl FnOnce(&mut EcsRequest)) -> V3Req {
        let mut req = EcsRequest::modify(SignatureStyle::V3, list(op));
        f(&mut req);
        prepare(&req, &w.access_key_id, &w.secret, &self.host())
    }

    /// A default V3 POST for `w`.
    pub fn v3(&self, w: &WorldHandle, op: &[(&str, &str)]) -> V3Req {
        self.v3_with(w, op, |_| {})
    }

    /// A V1 GET with the parameters in the query.
    pub async fn get(&self, params: &ParamList) -> Reply {
        self.send_v1("GET", params, Via::Query).await
    }

    pub async fn send_v3(&self, r: &V3Req) -> Reply {
        self.send_raw(&r.method, &r.query, &r.headers, r.body.clone()).await
    }
}

/// Asserts an error answer: status, `Code`, the format the body is written
/// in with its exact content type and prolog, and `HostId`.
#[track_caller]
pub fn assert_error(t: &Target, r: &Reply, status: u16, code: &str, format: Format) {
    assert_eq!(r.status, status, "status of {r:?}");
    let p = r.parsed();
    assert_eq!(p.code.as_deref(), Some(code), "code of {r:?}");
    assert_format(r, format);
    assert_eq!(p.host_id.as_deref(), Some(t.host().as_str()), "HostId of {r:?}");
    assert!(p.request_id.is_some_and(|id| !id.is_empty()), "RequestId of {r:?}");
    let root = match format {
        Format::Json => "json",
        Format::Xml => "Error",
    };
    assert_eq!(p.root, root, "root of {r:?}");
}

/// Asserts the body format, content type and (XML) prolog.
#[track_caller]
pub fn assert_format(r: &Reply, format: Format) {
    assert_eq!(r.parsed().format, format, "format of {r:?}");
    match format {
        Format::Json => assert_eq!(r.content_type(), JSON_CT, "content type of {r:?}"),
        Format::Xml => {
            assert_eq!(r.content_type(), XML_CT, "content type of {r:?}");
            assert!(r.body.starts_with(XML_PROLOG), "prolog of {r:?}");
        }
    }
}

/// Asserts a 200 ModifyInstanceSpec answer in `format`.
#[track_caller]
pub fn assert_success(r: &Reply, format: Format) {
    assert_eq!(r.status, 200, "status of {r:?}");
    assert_format(r, format);
    let p = r.parsed();
    assert_eq!(p.code, None, "{r:?}");
    assert!(p.request_id.is_some_and(|id| !id.is_empty()), "RequestId of {r:?}");
    let root = match format {
        Format::Json => "json",
        Format::Xml => "ModifyInstanceSpecResponse",
    };
    assert_eq!(p.root, root, "root of {r:?}");
}

/// Asserts that a [`DRY`] request got through the gateway.
#[track_caller]
pub fn assert_passed(t: &Target, r: &Reply, format: Format) {
    assert_error(t, r, 400, "DryRunOperation", format);
}
