//! HTTP calls per trial (issue 12): against a target that claims
//! `world-state` the runner reads a world's states in one call, once at
//! the start and once after each step, so the built-in library costs at
//! most 7 calls per trial on average; without the capability it falls back
//! to per-instance reads and never costs less. Counted by a forwarding
//! proxy in front of the reference server, with the whole library run
//! through it by the binary.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::Request;
use axum::http::HeaderName;
use axum::response::{IntoResponse, Response};
use modspec::server::{Server, ServerConfig};

/// Forwards every request to `real` (Host header kept, so V3 signatures
/// verify) and counts them; hides `world-state` if asked.
async fn counting_proxy(hide_world_state: bool) -> (String, Arc<AtomicUsize>) {
    let real = Server::bind("127.0.0.1:0".parse().unwrap(), &ServerConfig::default())
        .await
        .unwrap();
    let real_url = format!("http://{}", real.local_addr().unwrap());
    tokio::spawn(real.run(std::future::pending()));
    modspec::client::tls_provider();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let (http, real_url, calls) = (http.clone(), real_url.clone(), counter.clone());
        async move {
            calls.fetch_add(1, Ordering::Relaxed);
            forward(req, &http, &real_url, hide_world_state).await
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, calls)
}

async fn forward(req: Request, http: &reqwest::Client, real: &str, hide: bool) -> Response {
    let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let method = req.method().clone();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 1 << 22).await.unwrap_or_default();
    let mut rb = http.request(method, format!("{real}{path}")).body(body);
    for (k, v) in &headers {
        if k != "connection" && k != "content-length" {
            rb = rb.header(k, v);
        }
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status();
    let mut out_headers = Vec::new();
    for (k, v) in resp.headers() {
        if k != "content-length" && k != "transfer-encoding" {
            out_headers.push((HeaderName::from(k), v.clone()));
        }
    }
    let mut bytes = resp.bytes().await.unwrap().to_vec();
    if hide && path.ends_with("/capabilities") {
        let text = String::from_utf8(bytes).unwrap().replace(",\"world-state\"", "");
        bytes = text.into_bytes();
    }
    let mut r = (status, bytes).into_response();
    for (k, v) in out_headers {
        r.headers_mut().insert(k, v);
    }
    r
}

/// Runs the whole built-in library through the proxy: (trials, calls).
async fn run_through(hide_world_state: bool) -> (usize, usize) {
    let (url, calls) = counting_proxy(hide_world_state).await;
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_modspec"))
            .args(["run", "--target", &url, "--jobs", "4"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    let last = text.lines().last().unwrap_or_default();
    let trials: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(last.contains(" passed, 0 failed, 0 errors, 0 skipped"), "{last}");
    (trials, calls.load(Ordering::Relaxed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn world_state_keeps_calls_per_trial_at_most_7() {
    let (trials, with) = run_through(false).await;
    let (trials_without, without) = run_through(true).await;
    assert_eq!(trials, trials_without);
    let per_trial = with as f64 / trials as f64;
    println!("{trials} trials: {with} calls with world-state ({per_trial:.2}/trial), {without} without");
    assert!(per_trial <= 7.0, "{per_trial:.2} calls per trial with world-state");
    assert!(with <= without, "world-state cost more calls: {with} > {without}");
}
