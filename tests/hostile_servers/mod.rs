//! Deliberately broken targets for the hostile-target tests: a raw
//! HTTP/1.1 server on 127.0.0.1:0 that misbehaves on the ECS API (and, if
//! asked, on the control protocol) while it forwards the other control
//! calls to a real in-process reference server, so the runner gets past
//! its capabilities check and world creation and meets the misbehaviour
//! where a real broken mock would show it.
//!
//! Raw sockets rather than axum: closing a connection mid-body or dripping
//! bytes needs control of every write.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use modspec::server::{Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the ECS API (or everything) misbehaves.
#[derive(Clone, Copy, Debug)]
pub enum Api {
    /// Accepts the connection, reads the request, never answers.
    Silent,
    /// Promises 1,000 bytes, sends 20, closes the connection.
    CloseMidResponse,
    /// Promises 10,000 bytes and sends one a second.
    Drip,
    /// This many bytes with no `Content-Length`, to the end of the connection.
    Huge(usize),
    /// 502 with an HTML page, like a proxy in front of a dead service.
    Html502,
    /// 400 with a JSON error body that has no `Code`.
    JsonWithoutCode,
    /// 200 with this JSON body to every request.
    Ok200(&'static str),
    /// 307 to the same path and query on the real reference server (on
    /// another port), which would answer correctly if the harness followed.
    Redirect,
    /// 200 with a JSON body of this many bytes (with `Content-Length`).
    Big(usize),
    /// A 200 JSON answer after this many milliseconds.
    Slow(u64),
    /// 400 echoing the secret of the request's AccessKeyId (a world's, as
    /// seen in the world-creation answers it forwarded, or [`ENV_SECRET`]
    /// for [`ENV_KEY`]) raw, JSON-escaped, percent-encoded and mixed, in
    /// the body and in the content type.
    Echo,
}

/// The live credentials the echo tests put into the environment.
pub const ENV_KEY: &str = "LTAIenvKey";
pub const ENV_SECRET: &str = "EnvSecret-5oQ9x";

/// The forms an echo takes: raw, `\u` escapes, percent-encoding, and a
/// mix of all three with XML character references.
pub fn encodings(secret: &str) -> Vec<String> {
    let u: String = secret.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
    let pct: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
    let mix: String = secret
        .chars()
        .enumerate()
        .map(|(i, c)| match i % 4 {
            0 => format!("\\u{:04X}", c as u32),
            1 => format!("%{:02x}", c as u32),
            2 => format!("&#{};", c as u32),
            _ => c.to_string(),
        })
        .collect();
    vec![secret.to_string(), u, pct, mix]
}

/// How the control protocol behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Forwarded to a real reference server.
    Real,
    /// Misbehaves like the API.
    Hostile,
    /// Real, except that world creation answers 500.
    CreateWorld500,
    /// Real, except that world creation answers 201 with truncated JSON
    /// (which carries [`LEAKY_SECRET`]).
    CreateWorldInvalidJson,
}

/// The secret inside the truncated world-creation answer: it must not
/// reach any report.
pub const LEAKY_SECRET: &str = "HOSTILEsecret7731";

/// World secrets by AccessKeyId, sniffed from forwarded world creations.
pub type Seen = Arc<Mutex<HashMap<String, String>>>;

/// A hostile target; its tasks end with the test's runtime.
pub struct Hostile {
    /// `http://127.0.0.1:port/`
    pub url: String,
    /// The world secrets the real server handed out through this target.
    pub seen: Seen,
}

/// Starts a hostile target.
pub async fn start(api: Api, control: Control) -> Hostile {
    let real = Server::bind("127.0.0.1:0".parse().unwrap(), &ServerConfig::default())
        .await
        .expect("bind the real server");
    let real_url = format!("http://{}", real.local_addr().unwrap());
    tokio::spawn(real.run(std::future::pending()));
    // reqwest's rustls backend needs the crypto provider installed first.
    modspec::client::tls_provider();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let seen = Seen::default();
    let handed_out = seen.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let (http, real_url, seen) = (http.clone(), real_url.clone(), seen.clone());
            tokio::spawn(async move { serve(s, api, control, &real_url, &http, &seen).await });
        }
    });
    Hostile { url, seen: handed_out }
}

/// A request as far as the hostile server cares.
struct Request {
    method: String,
    target: String,
    content_type: Option<String>,
    authorization: Option<String>,
    body: Vec<u8>,
}

async fn read_request(s: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 1 << 20 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let mut length = 0;
    let mut content_type = None;
    let mut authorization = None;
    for line in lines {
        let (k, v) = line.split_once(':')?;
        match k.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = v.trim().parse().ok()?,
            "content-type" => content_type = Some(v.trim().to_string()),
            "authorization" => authorization = Some(v.trim().to_string()),
            _ => {}
        }
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request {
        method,
        target,
        content_type,
        authorization,
        body,
    })
}

fn head(status: &str, content_type: &str, length: Option<usize>) -> String {
    let length = length.map(|n| format!("content-length: {n}\r\n")).unwrap_or_default();
    format!("HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n{length}connection: close\r\n\r\n")
}

async fn answer(s: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) {
    let _ = s
        .write_all(head(status, content_type, Some(body.len())).as_bytes())
        .await;
    let _ = s.write_all(body).await;
    let _ = s.shutdown().await;
}

async fn serve(mut s: TcpStream, api: Api, control: Control, real: &str, http: &reqwest::Client, seen: &Seen) {
    let Some(req) = read_request(&mut s).await else {
        return;
    };
    if req.target.starts_with("/_conformance/") {
        let creating = req.method == "POST" && req.target.ends_with("/worlds");
        match control {
            Control::Hostile => {}
            Control::CreateWorld500 if creating => {
                return answer(
                    &mut s,
                    "500 Internal Server Error",
                    "application/json",
                    br#"{"error":"boom"}"#,
                )
                .await;
            }
            Control::CreateWorldInvalidJson if creating => {
                let body = format!(r#"{{"world_id":"w-1","access_key_id":"LTAIx","access_key_secret":"{LEAKY_SECRET}"#);
                return answer(&mut s, "201 Created", "application/json", body.as_bytes()).await;
            }
            _ => return proxy(&mut s, req, real, http, seen).await,
        }
    }
    if let Api::Redirect = api {
        let to = format!("{real}{}", req.target);
        let head = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        let _ = s.write_all(head.as_bytes()).await;
        return;
    }
    if let Api::Echo = api {
        return echo(&mut s, &req, seen).await;
    }
    misbehave(&mut s, api).await;
}

/// The AccessKeyId of a V3 (`Credential=`) or V1 (`AccessKeyId=`) request.
fn access_key_id(req: &Request) -> Option<String> {
    if let Some(a) = &req.authorization {
        let rest = &a[a.find("Credential=")? + "Credential=".len()..];
        return Some(rest.split(',').next()?.to_string());
    }
    let query = req.target.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let body = String::from_utf8_lossy(&req.body);
    query
        .split('&')
        .chain(body.split('&'))
        .find_map(|p| p.strip_prefix("AccessKeyId="))
        .map(str::to_string)
}

async fn echo(s: &mut TcpStream, req: &Request, seen: &Seen) {
    let key = access_key_id(req).unwrap_or_default();
    let secret = match key.as_str() {
        ENV_KEY => Some(ENV_SECRET.to_string()),
        k => seen.lock().unwrap().get(k).cloned(),
    };
    let Some(secret) = secret else {
        return answer(s, "500 Internal Server Error", "text/plain", b"unknown key").await;
    };
    let forms = encodings(&secret);
    let message = format!("raw={} json={} pct={} mix={}", forms[0], forms[1], forms[2], forms[3]);
    let body = format!(
        r#"{{"RequestId":"R","HostId":"h","Code":"Echo{}","Message":"{message}"}}"#,
        forms[2]
    );
    let ctype = format!("application/json;charset=utf-8;echo={}", forms[2]);
    answer(s, "400 Bad Request", &ctype, body.as_bytes()).await;
}

async fn proxy(s: &mut TcpStream, req: Request, real: &str, http: &reqwest::Client, seen: &Seen) {
    let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut rb = http.request(method, format!("{real}{}", req.target)).body(req.body);
    if let Some(ct) = req.content_type {
        rb = rb.header("content-type", ct);
    }
    let Ok(resp) = rb.send().await else {
        return;
    };
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let body = resp.bytes().await.unwrap_or_default();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
        if let (Some(k), Some(secret)) = (v["access_key_id"].as_str(), v["access_key_secret"].as_str()) {
            seen.lock().unwrap().insert(k.to_string(), secret.to_string());
        }
    }
    answer(s, &status.to_string(), &ctype, &body).await;
}

async fn misbehave(s: &mut TcpStream, api: Api) {
    match api {
        Api::Silent => tokio::time::sleep(Duration::from_secs(3600)).await,
        Api::CloseMidResponse => {
            let _ = s
                .write_all(head("200 OK", "application/json;charset=utf-8", Some(1000)).as_bytes())
                .await;
            let _ = s.write_all(br#"{"RequestId":"AB"#).await;
            // Dropping the socket closes the connection 980 bytes short.
        }
        Api::Drip => {
            let _ = s
                .write_all(head("200 OK", "application/json;charset=utf-8", Some(10_000)).as_bytes())
                .await;
            for _ in 0..10_000 {
                if s.write_all(b" ").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        Api::Huge(n) => {
            let _ = s
                .write_all(head("200 OK", "application/json;charset=utf-8", None).as_bytes())
                .await;
            let block = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            while sent < n {
                let k = block.len().min(n - sent);
                if s.write_all(&block[..k]).await.is_err() {
                    return;
                }
                sent += k;
            }
        }
        Api::Html502 => {
            let page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";
            answer(s, "502 Bad Gateway", "text/html", page).await;
        }
        Api::JsonWithoutCode => {
            let body = br#"{"RequestId":"R-1","HostId":"h","Message":"something went wrong"}"#;
            answer(s, "400 Bad Request", "application/json;charset=utf-8", body).await;
        }
        Api::Ok200(body) => answer(s, "200 OK", "application/json;charset=utf-8", body.as_bytes()).await,
        Api::Big(n) => {
            let pad = "x".repeat(n.saturating_sub(40));
            let body = format!(r#"{{"RequestId":"R-big","Pad":"{pad}"}}"#);
            answer(s, "200 OK", "application/json;charset=utf-8", body.as_bytes()).await;
        }
        Api::Slow(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            answer(
                s,
                "200 OK",
                "application/json;charset=utf-8",
                br#"{"RequestId":"R-slow"}"#,
            )
            .await;
        }
        Api::Redirect | Api::Echo => {}
    }
}
