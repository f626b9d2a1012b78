//! The connection layer of `modspec serve` (a child process) under hostile
//! clients, loopback only, each attack bounded in count and time: unfinished
//! heads, bodies shorter than their Content-Length, a chunk size of 2^64-1,
//! a thousand idle connections under a 1,024-descriptor limit, and 250
//! unfinished control bodies of 4 MiB - 1. Each test checks the named
//! refusal or closing, that peak RSS stays within [`CEILING`] of idle, and
//! that normal signed requests from new clients keep being answered; the
//! latencies it prints (`-- --nocapture`) are the ones in BENCHMARKS.md.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::child::{MIB, Rss, Serve, probe};
use common::*;
use modspec::client::WorldHandle;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Peak resident memory allowed above idle under any attack.
const CEILING: u64 = 256 * MIB;
/// The short timeouts the attacked servers run with, in seconds.
const SHORT: &str = "2";

/// A server under test, a world for normal requests, and its idle memory.
struct Attacked {
    serve: Serve,
    addr: SocketAddr,
    world: WorldHandle,
    idle: Rss,
}

async fn attacked(serve: Serve) -> Attacked {
    let mut serve = serve;
    let addr = serve.addr();
    let t = attach(addr);
    let world = t.sample().await;
    assert_passed(&t, &t.send_v3(&t.v3(&world, DRY)).await, JSON);
    let idle = serve.rss();
    Attacked {
        serve,
        addr,
        world,
        idle,
    }
}

impl Attacked {
    /// `n` normal signed requests under attack (`common::child::probe`),
    /// awaited without blocking the attack's tasks; their latencies.
    async fn probe(&self, n: usize) -> Vec<Duration> {
        let handle = probe(self.addr, self.world.clone(), n);
        tokio::task::spawn_blocking(move || handle.join().expect("the probe"))
            .await
            .expect("the probe")
    }

    /// Asserts the memory ceiling and prints the figures of `attack`.
    fn report(&self, attack: &str, mut latencies: Vec<Duration>) {
        let rss = self.serve.rss();
        let above = rss.peak.saturating_sub(self.idle.now);
        latencies.sort();
        println!(
            "{attack}: normal requests under attack: median {:.1} ms, max {:.1} ms ({} requests); peak RSS {} MiB above idle ({} MiB)",
            latencies[latencies.len() / 2].as_secs_f64() * 1e3,
            latencies[latencies.len() - 1].as_secs_f64() * 1e3,
            latencies.len(),
            above / MIB,
            self.idle.now / MIB,
        );
        assert!(above <= CEILING, "{attack}: peak RSS {} MiB above idle", above / MIB);
    }
}

/// Opens `n` connections and writes `bytes` on each (nothing if empty).
async fn open(addr: SocketAddr, n: usize, bytes: &[u8]) -> Vec<TcpStream> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        if !bytes.is_empty() {
            s.write_all(bytes).await.expect("write");
        }
        conns.push(s);
    }
    conns
}

/// Reads every connection to its end, for at most `within`: what each
/// received before the server closed it, or `None` if it is still open.
async fn closed_within(conns: Vec<TcpStream>, within: Duration) -> Vec<Option<String>> {
    let deadline = tokio::time::Instant::now() + within;
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let mut got = Vec::new();
                match tokio::time::timeout_at(deadline, s.read_to_end(&mut got)).await {
                    Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
                    Err(_) => None,
                }
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn status(answer: &str) -> u16 {
    answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

const FORM: &str = "content-type: application/x-www-form-urlencoded";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_heads_are_closed_at_the_head_timeout() {
    let a = attacked(Serve::start(&["--listen", "127.0.0.1:0", "--head-timeout", SHORT])).await;
    let head = format!("POST / HTTP/1.1\r\nhost: x\r\n{FORM}\r\n");
    let started = Instant::now();
    let conns = open(a.addr, 300, head.as_bytes()).await;
    let latencies = a.probe(20).await;
    let closed = closed_within(conns, Duration::from_secs(8)).await;
    let open_left = closed.iter().filter(|c| c.is_none()).count();
    assert_eq!(
        open_left,
        0,
        "{open_left} of 300 unfinished heads still open after {:?}",
        started.elapsed()
    );
    // Closed without an answer: there is no request to answer yet.
    assert!(closed.iter().all(|c| c.as_deref() == Some("")), "{:?}", closed[0]);
    a.report("300 unfinished heads", latencies);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_shorter_than_their_length_get_408_at_the_body_timeout() {
    let a = attacked(Serve::start(&["--listen", "127.0.0.1:0", "--body-timeout", SHORT])).await;
    let api = format!("POST / HTTP/1.1\r\nhost: x\r\n{FORM}\r\ncontent-length: 60000\r\n\r\nInstanceId=i-");
    let control = "POST /_conformance/v1/worlds HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                   content-length: 4194303\r\n\r\n{\"account\":";
    let mut conns = open(a.addr, 150, api.as_bytes()).await;
    conns.extend(open(a.addr, 150, control.as_bytes()).await);
    let latencies = a.probe(20).await;
    let closed = closed_within(conns, Duration::from_secs(8)).await;
    for (i, c) in closed.iter().enumerate() {
        let c = c.as_deref().unwrap_or_else(|| panic!("connection {i} still open"));
        assert_eq!(status(c), 408, "{c}");
        if i < 150 {
            assert!(c.contains("request body not received within 2 s"), "{c}");
        } else {
            assert!(
                c.contains(r#"{"error":"$: the body did not arrive within 2 s"}"#),
                "{c}"
            );
        }
    }
    a.report("300 bodies shorter than their Content-Length", latencies);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_of_two_to_the_64_bytes_is_cut_off() {
    let a = attacked(Serve::start(&["--listen", "127.0.0.1:0", "--body-timeout", SHORT])).await;
    let head =
        format!("POST / HTTP/1.1\r\nhost: x\r\n{FORM}\r\ntransfer-encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n");
    // Stalled after the chunk size: the body timeout.
    let stalled = open(a.addr, 100, format!("{head}InstanceId=i-").as_bytes()).await;
    // Sending more than the API's body limit: refused as too large at once.
    let mut flooding = open(a.addr, 20, head.as_bytes()).await;
    for s in &mut flooding {
        let _ = s.write_all(&vec![b'x'; 70_000]).await;
    }
    let latencies = a.probe(20).await;
    let closed = closed_within(stalled, Duration::from_secs(8)).await;
    for c in &closed {
        let c = c.as_deref().expect("closed within the body timeout");
        assert_eq!(status(c), 408, "{c}");
    }
    for c in closed_within(flooding, Duration::from_secs(8)).await {
        let c = c.expect("closed");
        assert_eq!(status(&c), 413, "{c}");
        assert!(c.contains("request body larger than 65536 bytes"), "{c}");
    }
    a.report("120 chunks of size 2^64-1", latencies);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_connections_do_not_lock_others_out_under_1024_descriptors() {
    // The issue's setting: 1,024 descriptors, 1,014 idle connections. The
    // default limit is 512 (below 1,024 - 64); at the limit the quietest
    // are closed for newcomers. Timeouts stay at their defaults
    // (10 s head, 60 s idle), so only eviction can make room here.
    let a = attacked(Serve::start_opts(&["--listen", "127.0.0.1:0"], Some(1024), true)).await;
    let ask = format!("GET {CONTROL}/capabilities HTTP/1.1\r\nhost: x\r\n\r\n");
    let mut conns = open(a.addr, 507, b"").await;
    let mut kept_alive = open(a.addr, 507, ask.as_bytes()).await;
    for s in &mut kept_alive {
        let mut buf = [0u8; 512];
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    }
    conns.extend(kept_alive);
    let latencies = a.probe(20).await;
    let closed = closed_within(conns, Duration::from_secs(2)).await;
    let evicted = closed.iter().filter(|c| c.is_some()).count();
    // 1,014 through a limit of 512 (each probe closes its connection
    // when done, so it takes a slot back).
    assert!(evicted >= 1014 - 512, "only {evicted} closed");
    let rss_line = format!("{evicted} of 1,014 idle connections closed to admit new ones");
    let Attacked { serve, idle, .. } = a;
    let peak = serve.rss().peak.saturating_sub(idle.now);
    let log = serve.log();
    assert!(!log.contains("accept failed"), "descriptors ran out:\n{log}");
    assert!(log.contains("at the connection limit (512)"), "{log}");
    let mut l = latencies;
    l.sort();
    println!(
        "1,014 idle connections (ulimit -n 1024): {rss_line}; normal requests: median {:.1} ms, max {:.1} ms; peak RSS {} MiB above idle",
        l[l.len() / 2].as_secs_f64() * 1e3,
        l[l.len() - 1].as_secs_f64() * 1e3,
        peak / MIB
    );
    assert!(peak <= CEILING);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_control_bodies_stay_within_the_body_budget() {
    let a = attacked(Serve::start(&["--listen", "127.0.0.1:0", "--body-timeout", "5"])).await;
    const LEN: usize = 4 * 1024 * 1024 - 1;
    let head = format!(
        "POST {CONTROL}/worlds HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {LEN}\r\n\r\n"
    );
    let body = Arc::new(vec![b' '; LEN - 1]);
    let conns = open(a.addr, 250, head.as_bytes()).await;
    let senders: Vec<_> = conns
        .into_iter()
        .map(|mut s| {
            let body = body.clone();
            tokio::spawn(async move {
                // The server may refuse and close midway: stop writing then.
                for chunk in body.chunks(256 * 1024) {
                    if s.write_all(chunk).await.is_err() {
                        break;
                    }
                }
                s
            })
        })
        .collect();
    let latencies = a.probe(20).await;
    let mut conns = Vec::new();
    for s in senders {
        conns.push(s.await.unwrap());
    }
    let closed = closed_within(conns, Duration::from_secs(15)).await;
    let (mut over_budget, mut timed_out) = (0, 0);
    for c in &closed {
        let c = c.as_deref().expect("every unfinished body is closed");
        match status(c) {
            503 => {
                assert!(
                    c.contains(r#"{"error":"$: the server is buffering 67108864 bytes of request bodies, its limit: retry later"}"#),
                    "{c}"
                );
                over_budget += 1;
            }
            408 => timed_out += 1,
            // Refused while the client was still writing: the answer may
            // be lost to the reset; the connection is closed all the same.
            _ => {}
        }
    }
    println!("250 unfinished control bodies: {over_budget} refused over budget, {timed_out} timed out");
    // The bodies held at once never pass the 64 MiB budget: the rest are
    // refused as they would (the RSS ceiling below is the measure; how many
    // end as 408 depends on how fast this machine sent them).
    assert!(over_budget > 0, "{over_budget} refused / {timed_out} timed out");
    a.report("250 unfinished control bodies of 4 MiB - 1", latencies);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_in_flight_and_closes_idle_connections() {
    let mut s = Serve::start(&["--listen", "127.0.0.1:0"]);
    let addr = s.addr();
    let world = serde_json::to_vec(&modspec::spec::sample_world()).unwrap();
    let (first, rest) = world.split_at(world.len() / 2);
    let mut idle = open(
        addr,
        1,
        format!("GET {CONTROL}/capabilities HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes(),
    )
    .await
    .remove(0);
    let mut buf = [0u8; 1024];
    assert!(idle.read(&mut buf).await.unwrap() > 0);
    let head = format!(
        "POST {CONTROL}/worlds HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        world.len()
    );
    let mut busy = open(addr, 1, head.as_bytes()).await.remove(0);
    busy.write_all(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // The idle connection is closed at once; the request in flight finishes.
    let closed = closed_within(vec![idle], Duration::from_secs(3)).await;
    assert_eq!(closed[0].as_deref(), Some(""), "the idle connection stayed open");
    busy.write_all(rest).await.unwrap();
    let answer = closed_within(vec![busy], Duration::from_secs(5))
        .await
        .remove(0)
        .expect("answered, then closed");
    assert_eq!(status(&answer), 201, "{answer}");
    let started = Instant::now();
    let code = loop {
        if let Some(code) = s.child.try_wait().unwrap() {
            break code;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still running after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(code.success(), "{code:?}");
}
