//! The reference server under abuse: every limit of `Limits` holds under
//! concurrency and is refused with a clear answer, never with unbounded
//! memory: too many worlds and too many instances through the control
//! protocol (JSON errors), an oversized body or too many parameters on the
//! ECS API (plain-text 413/414 naming the limit: the rules table has no
//! code for them), an oversized control body (JSON 413). A normal request
//! still works afterwards. And the control protocol, which hands out
//! credentials, is not exposed beside a non-loopback API.

mod common;

use std::time::Duration;

use common::child::Serve;
use common::*;
use modspec::client::ControlError;
use modspec::server::{Limits, ServerConfig};
use modspec::spec::sample_world;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn limited() -> ServerConfig {
    ServerConfig {
        limits: Limits {
            max_worlds: 5,
            max_instances_per_world: 2,
            max_body_bytes: 1024,
            max_params: 32,
            ..Limits::default()
        },
        ..ServerConfig::default()
    }
}

/// Sends a raw request head (no body, whatever `content-length` says) and
/// reads the answer to the end: the status, the content type, the body.
async fn raw_head(t: &Target, head: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(t.addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut answer))
        .await
        .expect("the server answers at once, without waiting for the body")
        .unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let ctype = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, ctype, body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_world_limit_holds_under_a_creation_race_and_is_a_json_error() {
    let t = start_with(limited()).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let control = t.control.clone();
            tokio::spawn(async move { control.create_world(&sample_world()).await })
        })
        .collect();
    let mut made = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(w) => made.push(w),
            Err(ControlError::Status { status, body, .. }) => {
                assert_eq!(status, 503, "{body}");
                assert!(body.contains("too many worlds") && body.contains("at most 5"), "{body}");
            }
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(made.len(), 5, "exactly the limit is created, however the requests race");
    // Deleting a world frees its slot.
    t.control.delete_world(&made[0].world_id).await.unwrap();
    let again = t
        .control
        .create_world(&sample_world())
        .await
        .expect("a freed slot is reusable");
    assert_passed(&t, &t.send_v3(&t.v3(&again, DRY)).await, JSON);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_instances_is_a_json_error_naming_the_path() {
    let t = start_with(limited()).await;
    let mut world = sample_world();
    let mut third = world.instances[1].clone();
    third.instance_id = "i-third".into();
    world.instances.push(third);
    let body = serde_json::to_vec(&world).unwrap();
    let resp = t
        .http
        .post(t.control_url("/worlds"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let v: Value = resp.json().await.unwrap();
    let e = v["error"].as_str().unwrap_or_default();
    assert!(e.starts_with("$.instances") && e.contains("at most 2"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_api_requests_are_refused_in_plain_words() {
    let t = start_with(limited()).await;
    let w = t.sample().await;
    // A body over the limit, sent whole.
    let big = format!("InstanceId=i-conf0002&Padding={}", "x".repeat(2000));
    let r = t.send_raw("POST", "", &form_ct(), big.into_bytes()).await;
    assert_eq!(r.status, 413, "{r:?}");
    assert!(
        r.content_type().starts_with("text/plain") && r.body.contains("larger than 1024 bytes"),
        "{r:?}"
    );
    // A declared length over the limit is refused before any byte is read.
    let (status, ctype, body) = raw_head(
        &t,
        &format!(
            "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
             content-length: 10485760\r\nconnection: close\r\n\r\n",
            t.host()
        ),
    )
    .await;
    assert_eq!((status, ctype.as_str()), (413, "text/plain; charset=utf-8"), "{body}");
    // Too many parameters, in the query or in a form body.
    let many: String = (0..40).map(|i| format!("p{i}=1&")).collect();
    let r = t.send_raw("GET", &many, &[], Vec::new()).await;
    assert_eq!(r.status, 414, "{r:?}");
    assert!(r.body.contains("more than 32 parameters"), "{r:?}");
    let r = t.send_raw("POST", "", &form_ct(), many.clone().into_bytes()).await;
    assert_eq!(r.status, 413, "{r:?}");
    assert!(r.body.contains("more than 32 parameters"), "{r:?}");
    // A request of ordinary size is served as ever.
    assert_passed(&t, &t.send_v1("POST", &v1("POST", &w, DRY), Via::Form).await, XML);
    assert_passed(&t, &t.send_v3(&t.v3(&w, DRY)).await, JSON);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_control_body_is_a_json_error() {
    let t = start_with(limited()).await;
    let (status, ctype, body) = raw_head(
        &t,
        &format!(
            "POST {CONTROL}/worlds HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
             content-length: 104857600\r\nconnection: close\r\n\r\n",
            t.host()
        ),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert!(ctype.starts_with("application/json"), "{ctype}");
    let v: Value = serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{e}: {body:?}"));
    assert!(v["error"].as_str().is_some_and(|e| e.contains("4194304 bytes")), "{v}");
}

fn get_status(url: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // reqwest's rustls backend needs the crypto provider installed first.
        modspec::client::tls_provider();
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(url)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    })
}

#[test]
fn serve_keeps_the_control_protocol_on_loopback_or_off() {
    // Listening on every address: the control protocol moves to loopback.
    let mut s = Serve::start(&["--listen", "0.0.0.0:0"]);
    let api: std::net::SocketAddr = s.line().parse().unwrap();
    let control = s.line();
    let control = control.strip_prefix("control: ").unwrap_or_else(|| panic!("{control}"));
    assert!(control.starts_with("http://127.0.0.1:"), "{control}");
    let (status, body) = get_status(&format!("{control}/capabilities"));
    assert!(status == 200 && body.contains("modspec-control/1"), "{status} {body}");
    let (status, body) = get_status(&format!("http://127.0.0.1:{}/_conformance/v1/capabilities", api.port()));
    assert!(
        status != 200 && !body.contains("modspec-control"),
        "the API listener serves control: {body}"
    );
    // The control listener serves nothing else.
    let root = control.trim_end_matches("/_conformance/v1");
    let (status, body) = get_status(&format!("{root}/?Action=ModifyInstanceSpec"));
    assert!(
        status == 404 && body.contains("not a control-protocol path"),
        "{status} {body}"
    );
    drop(s);
    // --no-control: no control protocol anywhere.
    let mut s = Serve::start(&["--listen", "127.0.0.1:0", "--no-control"]);
    let api = s.line();
    let (status, body) = get_status(&format!("http://{api}/_conformance/v1/capabilities"));
    assert!(status != 200 && !body.contains("modspec-control"), "{status} {body}");
    drop(s);
    let clash = std::process::Command::new(env!("CARGO_BIN_EXE_modspec"))
        .args(["serve", "--no-control", "--control-listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(clash.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_control_protocol_error_is_the_json_error() {
    let t = start().await;
    let json_error = |status: u16, ctype: &str, body: &str, want: u16, words: &str| {
        assert_eq!(status, want, "{body}");
        assert!(ctype.starts_with("application/json"), "{ctype}: {body}");
        let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert!(v["error"].as_str().is_some_and(|e| e.contains(words)), "{v}");
    };
    // `%FF` decodes to no UTF-8 text, so it names no world: the
    // protocol's 404, not axum's plain-text rejection.
    for (method, path) in [
        ("DELETE", "/worlds/%FF"),
        ("GET", "/worlds/w-1/instances/%FF"),
        ("POST", "/worlds/%FF/clock"),
    ] {
        let r = t
            .http
            .request(method.parse().unwrap(), t.control_url(path))
            .header("content-type", "application/json")
            .body(r#"{"advance_seconds":1}"#)
            .send()
            .await
            .unwrap();
        let (status, ctype) = (
            r.status().as_u16(),
            r.headers()["content-type"].to_str().unwrap().to_string(),
        );
        json_error(status, &ctype, &r.text().await.unwrap(), 404, "unknown world");
    }
    // World creation (and the clock) take JSON only, labelled as such.
    let world = serde_json::to_vec(&sample_world()).unwrap();
    for ctype in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        let mut rb = t.http.post(t.control_url("/worlds")).body(world.clone());
        if let Some(c) = ctype {
            rb = rb.header("content-type", c);
        }
        let r = rb.send().await.unwrap();
        let (status, got) = (
            r.status().as_u16(),
            r.headers()["content-type"].to_str().unwrap().to_string(),
        );
        json_error(
            status,
            &got,
            &r.text().await.unwrap(),
            415,
            "Content-Type: application/json",
        );
    }
    for ctype in ["application/json; charset=utf-8", "Application/JSON"] {
        let r = t
            .http
            .post(t.control_url("/worlds"))
            .header("content-type", ctype)
            .body(world.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "{ctype}");
    }
}

#[test]
fn the_server_log_has_no_colours_when_stderr_is_not_a_terminal() {
    let mut s = Serve::start_opts(&["--listen", "127.0.0.1:0", "--mutant", "G1-put-accepted"], None, true);
    let _ = s.addr();
    std::thread::sleep(Duration::from_millis(300));
    let log = s.log();
    assert!(log.contains("serving with mutant"), "{log:?}");
    assert!(!log.contains('\u{1b}'), "ANSI escapes in a piped log: {log:?}");
}

#[test]
fn serve_limit_flags_are_range_checked() {
    let serve = |args: &[&str]| {
        let mut cmd = std::process::Command::new(common::child::bin());
        let out = cmd.arg("serve").args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    for (args, words) in [
        (&["--head-timeout", "0"][..], "0 is not in 1..=3600"),
        (&["--max-head-bytes", "100"][..], "100 is not in 8192..="),
        (&["--max-nonces", "0"][..], "0 is not in 1..="),
        (&["--tls-cert", "cert.pem"][..], "--tls-key"),
    ] {
        let (code, err) = serve(args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(words), "{args:?}: {err}");
    }
    // Under `ulimit -n 256`, at most 256 - 64 connections.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 256 && exec \"$0\" serve --max-connections 500")
        .arg(common::child::bin())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--max-connections 500 needs more file descriptors than this process may open (256 with `ulimit -n`, 64 kept free): at most 192"),
        "{err}"
    );
}
