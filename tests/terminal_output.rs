//! Terminal injection (issue 11 item 12): a target that answers with
//! control characters (a screen clear, a forged report line, NUL, a
//! terminal-title sequence, a bidirectional override) in a capability
//! name, in error codes and in raw answer bytes. `modspec run` prints them
//! escaped; the JSON report carries them JSON-escaped and decodes back to
//! the target's text; the JUnit report stays well-formed XML.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use modspec::server::{Server, ServerConfig};

/// What the hostile target puts into its answers.
const EVIL: &str = "\u{1b}[2J\u{1b}]0;owned\u{7}\r\nPASS  forged/line\u{0}\u{202e}";

/// Starts a real reference server and, in front of it, a target that
/// forwards the control protocol except `capabilities` and answers every
/// API request with `EVIL`: alternately as a JSON `Code` (escaped the JSON
/// way) and as raw bytes in an unreadable body.
async fn hostile_target() -> SocketAddr {
    let real = Server::bind("127.0.0.1:0".parse().unwrap(), &ServerConfig::default())
        .await
        .unwrap();
    let real_url = format!("http://{}", real.local_addr().unwrap());
    tokio::spawn(real.run(std::future::pending()));
    modspec::client::tls_provider();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().fallback(move |req: Request| {
        let (http, real_url, calls) = (http.clone(), real_url.clone(), calls.clone());
        async move { answer(req, &http, &real_url, &calls).await }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn answer(req: Request, http: &reqwest::Client, real: &str, calls: &AtomicUsize) -> Response {
    let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    if path.starts_with("/_conformance/v1/capabilities") {
        let body = serde_json::json!({
            "protocol": "modspec-control/1",
            "capabilities": ["core", "clock", "auth", "xml", "dry-run", "extended-params", "precedence", "faults", EVIL],
        });
        return axum::Json(body).into_response();
    }
    if path.starts_with("/_conformance/") {
        let method = req.method().clone();
        let ctype = req.headers().get(header::CONTENT_TYPE).cloned();
        let body = axum::body::to_bytes(req.into_body(), 1 << 22).await.unwrap_or_default();
        let mut rb = http.request(method, format!("{real}{path}")).body(body);
        if let Some(c) = ctype {
            rb = rb.header(header::CONTENT_TYPE, c);
        }
        let resp = rb.send().await.unwrap();
        let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
        let ctype = resp.headers().get(header::CONTENT_TYPE).cloned();
        let bytes: Bytes = resp.bytes().await.unwrap_or_default();
        let mut out = (status, bytes).into_response();
        if let Some(c) = ctype {
            out.headers_mut().insert(header::CONTENT_TYPE, c);
        }
        return out;
    }
    let json = "application/json;charset=utf-8";
    if calls.fetch_add(1, Ordering::Relaxed) % 2 == 0 {
        let body = serde_json::json!({"RequestId": "r-1", "HostId": "h", "Code": EVIL, "Message": EVIL});
        (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, json)],
            body.to_string(),
        )
            .into_response()
    } else {
        let raw = format!("{{\"Code\": \"{EVIL}");
        (StatusCode::BAD_REQUEST, [(header::CONTENT_TYPE, json)], raw).into_response()
    }
}

/// No byte of `text` is a control character other than the line breaks
/// the report itself writes, and no line starts with the forged text.
fn assert_terminal_safe(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| (c.is_control() && *c != '\n') || *c == '\u{202e}')
        .collect();
    assert!(bad.is_empty(), "{what}: raw control characters {bad:?} in:\n{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("PASS  forged")),
        "{what}: a forged line:\n{text}"
    );
}

#[test]
fn hostile_text_is_escaped_on_the_terminal_and_kept_exactly_in_json_and_junit() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let addr = rt.block_on(hostile_target());
    let dir = std::env::temp_dir().join(format!("modspec-terminal-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_modspec"))
        .args([
            "run",
            "--filter",
            "bandwidth/out-range",
            "--target",
            &format!("http://{addr}/"),
        ])
        .arg("--json")
        .arg(dir.join("r.json"))
        .arg("--junit")
        .arg(dir.join("r.xml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the target is wrong, not unreachable:\n{stdout}"
    );
    assert_terminal_safe("stdout", &stdout);
    assert_terminal_safe("stderr", &String::from_utf8_lossy(&out.stderr));
    // The hostile text is there, escaped, in each place it reached.
    let escaped = "\\x1b[2J\\x1b]0;owned\\x07\\r\\nPASS  forged/line\\0\\u{202e}";
    assert!(
        stdout.contains(&format!("note  the target lists an unknown capability `{escaped}`")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("got 400 {escaped}")), "the code: {stdout}");
    assert!(stdout.contains("unreadable body"), "the raw excerpt: {stdout}");
    assert!(
        stdout.contains("rule P3: InternetMaxBandwidthOut not a number"),
        "{stdout}"
    );

    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("r.json")).unwrap()).unwrap();
    let gots: Vec<String> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["mismatches"].as_array().cloned().unwrap_or_default())
        .map(|m| m["got"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        gots.iter().any(|g| g.contains(EVIL)),
        "JSON keeps the target's exact text: {gots:?}"
    );

    let xml = std::fs::read_to_string(dir.join("r.xml")).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("the JUnit report is not well-formed: {e}\n{xml}"),
        }
    }
    assert!(
        !xml.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')),
        "XML 1.0 cannot carry C0 controls"
    );
    assert!(xml.contains("\\x1b[2J"), "the JUnit text names them: {xml}");
    let _ = std::fs::remove_dir_all(dir);
}
