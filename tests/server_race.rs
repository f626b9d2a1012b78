//! Concurrency of the reference server: requests that race on one instance
//! or one ClientToken serialise on the world's lock, so a change applies
//! exactly once, and worlds under load never see each other.
//!
//! Every burst is built first, then spawned as tokio tasks, one connection
//! each, that release their requests together (last-byte synchronisation,
//! see `send_together`), then joined. V1 (XML) and V3 (JSON)
//! requests alternate; protocol parameters are not part of a token's
//! fingerprint.
//!
//! The runtime has 8 workers, not 2, so that several requests are inside
//! the server's handler at once even on a 2-core machine. Measured with a
//! planted bug that releases the world's lock for 100 µs between `decide`
//! and `apply`: 2 workers caught it in 1 run of 6, 8 workers in 6 of 6. A
//! lock released and retaken with nothing in between is not caught.

mod common;

use std::sync::Arc;

use common::*;
use modspec::client::WorldHandle;
use modspec::spec::{World, sample_world};
use modspec::wire::Format;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Barrier;

const N: usize = 64;

/// A request as raw HTTP/1.1 bytes, sent over a connection of its own.
struct Wire(Vec<u8>);

/// Serialises a request with `connection: close`, so its answer ends at EOF.
fn wire(t: &Target, method: &str, query: &str, headers: &[(String, String)], body: &[u8]) -> Wire {
    let path = if query.is_empty() {
        "/".to_string()
    } else {
        format!("/?{query}")
    };
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n",
        t.host()
    );
    for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    Wire(bytes)
}

/// The i-th request of a burst: V1 form POST for even `i`, V3 for odd.
fn build(t: &Target, w: &WorldHandle, i: usize, op: &[(&str, &str)]) -> Wire {
    if i % 2 == 0 {
        let body = v1("POST", w, op).to_query_string();
        wire(t, "POST", "", &form_ct(), body.as_bytes())
    } else {
        let r = t.v3(w, op);
        wire(t, &r.method, &r.query, &r.headers, &r.body)
    }
}

/// Sends every request on its own connection so that they reach the server
/// together: each task writes all but the last byte, waits at a barrier for
/// every other task to get that far, then writes its last byte. Answers come
/// back in request order.
async fn send_together(t: &Target, reqs: Vec<Wire>) -> Vec<Reply> {
    let barrier = Arc::new(Barrier::new(reqs.len()));
    let tasks: Vec<_> = reqs
        .into_iter()
        .map(|Wire(bytes)| {
            let (addr, barrier) = (t.addr, barrier.clone());
            tokio::spawn(async move {
                let mut s = TcpStream::connect(addr).await.expect("connect");
                s.set_nodelay(true).expect("nodelay");
                let (head, last) = bytes.split_at(bytes.len() - 1);
                s.write_all(head).await.expect("write");
                barrier.wait().await;
                s.write_all(last).await.expect("write last byte");
                let mut answer = Vec::new();
                s.read_to_end(&mut answer).await.expect("read answer");
                parse_http(&String::from_utf8_lossy(&answer))
            })
        })
        .collect();
    let mut replies = Vec::with_capacity(tasks.len());
    for task in tasks {
        replies.push(task.await.expect("request task"));
    }
    replies
}

/// Parses an HTTP/1.1 answer whose body runs to EOF.
fn parse_http(text: &str) -> Reply {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no head: {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    assert!(get(&headers, "transfer-encoding").is_none(), "chunked answer: {text:?}");
    Reply {
        status: status.unwrap_or_else(|| panic!("no status line: {text:?}")),
        headers,
        body: body.to_string(),
    }
}

fn format_of(i: usize) -> Format {
    if i % 2 == 0 { Format::Xml } else { Format::Json }
}

fn world_with(operation_seconds: u64) -> World {
    let mut w = sample_world();
    w.operation_seconds = operation_seconds;
    w
}

/// Bandwidth and last-change time of an instance.
async fn out_and_time(t: &Target, w: &WorldHandle, id: &str) -> (Value, Value) {
    let s = t.instance(w, id).await;
    (s["internet_max_bandwidth_out"].clone(), s["last_modified_at"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn same_token_applies_once_when_operations_finish_at_once() {
    let t = start().await;
    let w = t.world(&world_with(0)).await;
    let mut op = CHANGE.to_vec();
    op.push(("ClientToken", "race-token"));
    let reqs = (0..N).map(|i| build(&t, &w, i, &op)).collect();
    let replies = send_together(&t, reqs).await;
    // One applies, the rest replay its outcome; nothing sees T1, which a
    // second application would have hit.
    for (i, r) in replies.iter().enumerate() {
        assert_success(r, format_of(i));
    }
    assert_eq!(out_and_time(&t, &w, "i-conf0002").await, (json!(20), json!(0)));
    // A later replay changes nothing either: no new 5-minute window.
    assert_eq!(t.advance(&w, 60).await, 60);
    assert_success(&t.send_v3(&t.v3(&w, &op)).await, Format::Json);
    assert_eq!(out_and_time(&t, &w, "i-conf0002").await, (json!(20), json!(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn same_token_applies_once_while_the_operation_is_processing() {
    let t = start().await;
    let w = t.world(&world_with(30)).await;
    let mut op = CHANGE.to_vec();
    op.push(("ClientToken", "race-token"));
    let reqs = (0..N).map(|i| build(&t, &w, i, &op)).collect();
    let replies = send_together(&t, reqs).await;
    let mut applied = 0;
    for (i, r) in replies.iter().enumerate() {
        if r.status == 200 {
            assert_success(r, format_of(i));
            applied += 1;
        } else {
            assert_error(&t, r, 403, "LastTokenProcessing", format_of(i));
        }
    }
    assert_eq!(applied, 1, "answers that applied the change");
    assert_eq!(out_and_time(&t, &w, "i-conf0002").await, (json!(20), json!(0)));
    // Still processing just before completes_at, replayed from it on, and
    // the replay starts no new window.
    assert_eq!(t.advance(&w, 29).await, 29);
    let r = t.send_v3(&t.v3(&w, &op)).await;
    assert_error(&t, &r, 403, "LastTokenProcessing", Format::Json);
    assert_eq!(t.advance(&w, 1).await, 30);
    assert_success(&t.send_v3(&t.v3(&w, &op)).await, Format::Json);
    assert_eq!(out_and_time(&t, &w, "i-conf0002").await, (json!(20), json!(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn different_tokens_one_change_wins_the_rest_hit_t1() {
    let t = start().await;
    let w = t.sample().await;
    let values: Vec<String> = (0..N).map(|i| (30 + i).to_string()).collect();
    let tokens: Vec<String> = (0..N).map(|i| format!("token-{i}")).collect();
    let reqs = (0..N)
        .map(|i| {
            let op = [
                ("InstanceId", "i-conf0002"),
                ("InternetMaxBandwidthOut", values[i].as_str()),
                ("ClientToken", tokens[i].as_str()),
            ];
            build(&t, &w, i, &op)
        })
        .collect();
    let replies = send_together(&t, reqs).await;
    let mut winners = Vec::new();
    for (i, r) in replies.iter().enumerate() {
        if r.status == 200 {
            assert_success(r, format_of(i));
            winners.push(i);
        } else {
            assert_error(&t, r, 400, "Throttling", format_of(i));
        }
    }
    assert_eq!(winners.len(), 1, "successful answers: {winners:?}");
    let won: u64 = values[winners[0]].parse().unwrap();
    assert_eq!(out_and_time(&t, &w, "i-conf0002").await, (json!(won), json!(0)));
    // The other instance of the world was not touched.
    assert_eq!(out_and_time(&t, &w, "i-conf0001").await, (json!(5), Value::Null));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn worlds_stay_isolated_under_load() {
    const WORLDS: usize = 16;
    let t = start().await;
    let id = |k: usize| format!("i-w{k:02}");
    let mut worlds = Vec::new();
    for k in 0..WORLDS {
        let mut world = sample_world();
        world.instances[1].instance_id = id(k);
        worlds.push(t.world(&world).await);
    }
    // Per world: three requests changing its own instance with a token that
    // every world uses (with other values), and one naming the next world's
    // instance, which must stay invisible.
    let mut reqs = Vec::new();
    let mut expect_ok = Vec::new();
    for (k, w) in worlds.iter().enumerate() {
        let value = (10 + k).to_string();
        let own = id(k);
        let op = [
            ("InstanceId", own.as_str()),
            ("InternetMaxBandwidthOut", value.as_str()),
            ("ClientToken", "shared-token"),
        ];
        for j in 0..3 {
            reqs.push(build(&t, w, k + j, &op));
            expect_ok.push(true);
        }
        let foreign = id((k + 1) % WORLDS);
        let op = [
            ("InstanceId", foreign.as_str()),
            ("InternetMaxBandwidthOut", "99"),
            ("ClientToken", "foreign"),
        ];
        reqs.push(build(&t, w, k + 3, &op));
        expect_ok.push(false);
    }
    let formats: Vec<Format> = (0..WORLDS)
        .flat_map(|k| (0..4).map(move |j| format_of(k + j)))
        .collect();
    let replies = send_together(&t, reqs).await;
    assert_eq!(replies.len(), 4 * WORLDS);
    for ((r, ok), format) in replies.iter().zip(&expect_ok).zip(formats) {
        if *ok {
            assert_success(r, format);
        } else {
            assert_error(&t, r, 404, "InvalidInstanceId.NotFound", format);
        }
    }
    for (k, w) in worlds.iter().enumerate() {
        let want = (json!(10 + k), json!(0));
        assert_eq!(out_and_time(&t, w, &id(k)).await, want, "world {k}");
        assert_eq!(
            out_and_time(&t, w, "i-conf0001").await,
            (json!(5), Value::Null),
            "world {k}"
        );
    }
}
