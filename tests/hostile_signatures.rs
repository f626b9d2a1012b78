//! V3 verification under a hostile `SignedHeaders` list, against
//! `modspec serve` as a child, loopback only (issue 11, item 1).
//!
//! The attack needs only a known AccessKeyId: one large header named
//! thousands of times in `SignedHeaders`. The verifier uses the list as
//! given (behaviour.md section 6), so it must neither copy the header per
//! appearance nor hash without bound: the list's length and the canonical
//! request's size are bounded (`--max-signed-headers`,
//! `--max-canonical-request-bytes`) and what is within them is streamed
//! into the hasher. Each test checks the named refusal (400
//! `SignatureDoesNotMatch` in the 2.2 JSON format, the bound in its
//! message), the peak RSS above idle, and that a normal request is answered
//! while the attack runs.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use common::child::{MIB, Serve, probe};
use common::*;
use modspec::client::WorldHandle;

/// How an attack request is signed.
#[derive(Clone, Copy, PartialEq)]
enum Sig {
    /// With the world's secret (by the library's signer).
    Real,
    /// With a guessed secret.
    Guessed,
    /// Not at all: a made-up signature. The attacker knows no secret, and a
    /// refusal never depends on it; building the real one would cost the
    /// test the time the attack aims at.
    MadeUp,
}

/// A dry run of `w` with a `size`-byte `x-big` header named `times` times
/// in `SignedHeaders` after the six required names.
fn attack(t: &Target, w: &WorldHandle, sig: Sig, size: usize, times: usize) -> V3Req {
    let mut signed: Vec<String> = V3_SIGNED.iter().map(|h| h.to_string()).collect();
    signed.extend(std::iter::repeat_n("x-big".to_string(), times));
    let mut r = t.v3_with(w, DRY, |r| {
        r.headers.push(("x-big".into(), "b".repeat(size)));
        r.damage.wrong_secret = sig == Sig::Guessed;
        if sig != Sig::MadeUp {
            r.damage.signed_headers = Some(signed.clone());
        }
    });
    if sig == Sig::MadeUp {
        let auth = modspec::wire::sign_v3::Authorization {
            algorithm: modspec::wire::sign_v3::ALGORITHM.to_string(),
            access_key_id: w.access_key_id.clone(),
            signed_headers: signed,
            signature: "ab".repeat(32),
        };
        r.set_header("authorization", &auth.to_header_value());
    }
    r
}

/// Sends copies of `req` from `clients` tasks, each awaiting its answer,
/// at least `n` in all and on until `done`; returns the answers.
async fn flood(t: &Target, req: &V3Req, clients: usize, n: usize, done: Arc<AtomicBool>) -> Vec<Reply> {
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (t, req, done) = (attach(t.addr), req.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while got.len() < n / clients || !done.load(Ordering::Relaxed) {
                got.push(t.send_v3(&req).await);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("attacker"));
    }
    all
}

/// Runs at least `n` copies of `req` from `clients` clients against `serve` while a probe
/// sends normal requests; asserts every attack got the named refusal and
/// the peak RSS stayed within `ceiling` above idle.
async fn under_attack(
    mut serve: Serve,
    what: &str,
    make: impl Fn(&Target, &WorldHandle) -> V3Req,
    (n, clients): (usize, usize),
    ceiling: u64,
    words: &str,
) {
    let addr = serve.addr();
    let t = attach(addr);
    let w = t.sample().await;
    assert_passed(&t, &t.send_v3(&t.v3(&w, DRY)).await, JSON);
    let idle = serve.rss();
    let req = make(&t, &w);
    let done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let attackers = {
        let (t, req, done) = (attach(addr), req.clone(), done.clone());
        tokio::spawn(async move { flood(&t, &req, clients, n, done).await })
    };
    // The attack runs for as long as the probe does, and longer.
    let mut latencies = tokio::task::spawn_blocking(move || probe(addr, w, 20).join().expect("the probe"))
        .await
        .unwrap();
    done.store(true, Ordering::Relaxed);
    let answers = attackers.await.expect("the attack");
    let took = started.elapsed();
    let n = answers.len();
    for r in &answers {
        assert_error(&t, r, 400, "SignatureDoesNotMatch", JSON);
        assert!(r.message().contains(words), "{what}: {}", r.message());
    }
    let rss = serve.rss();
    let above = rss.peak.saturating_sub(idle.now);
    latencies.sort();
    println!(
        "{what}: {n} attacks in {took:?}; normal requests: median {:.1} ms, max {:.1} ms; peak RSS {} MiB above idle",
        latencies[latencies.len() / 2].as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
        above / MIB,
    );
    assert!(above <= ceiling, "{what}: peak RSS {} MiB above idle", above / MIB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_names_of_one_large_header_are_refused_unverified() {
    // The attack: a 100 KB header named 10,000 times (1.96 GB and
    // 5 s of CPU before), with a head limit raised so it gets through.
    let serve = Serve::start(&["--listen", "127.0.0.1:0", "--max-head-bytes", "1048576"]);
    let make = |t: &Target, w: &WorldHandle| attack(t, w, Sig::MadeUp, 100_000, 10_000);
    let words = "SignedHeaders names 10006 headers, more than this server's limit of 64";
    under_attack(serve, "10,000 x 100 KB signed header", make, (30, 3), 32 * MIB, words).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_list_over_a_large_header_is_bounded_by_the_canonical_size() {
    // Within the name limit, 50 appearances of 100 KB are a 5 MB
    // canonical request: measured, refused, never built or hashed.
    let serve = Serve::start(&["--listen", "127.0.0.1:0", "--max-head-bytes", "1048576"]);
    let make = |t: &Target, w: &WorldHandle| attack(t, w, Sig::MadeUp, 100_000, 50);
    let words = "more than this server's limit of 262144";
    under_attack(serve, "50 x 100 KB signed header", make, (60, 3), 32 * MIB, words).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn within_raised_bounds_the_canonical_request_is_streamed_not_built() {
    // Bounds raised so a 10 MB canonical request is verified: it is hashed
    // as it is written, so memory stays far below its size. One attacker:
    // each costs the server 10 MB of hashing, a debug build's 0.3 s.
    let serve = Serve::start(&[
        "--listen",
        "127.0.0.1:0",
        "--max-head-bytes",
        "1048576",
        "--max-signed-headers",
        "1000",
        "--max-canonical-request-bytes",
        "67108864",
    ]);
    let make = |t: &Target, w: &WorldHandle| attack(t, w, Sig::MadeUp, 100_000, 100);
    // A mismatch proper: the message has no bound in it.
    under_attack(serve, "100 x 100 KB signed header, verified", make, (3, 1), 8 * MIB, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_with_repeated_names_is_verified_as_given() {
    // "As given" (behaviour.md section 6): a repeated name is one more
    // line of the canonical request, and a request signed that way passes.
    let (t, w) = start_sample().await;
    let r = attack(&t, &w, Sig::Real, 100, 3);
    assert_passed(&t, &t.send_v3(&r).await, JSON);
    // The same list with the secret guessed is a plain mismatch.
    let forged = attack(&t, &w, Sig::Guessed, 100, 3);
    assert_error(&t, &t.send_v3(&forged).await, 400, "SignatureDoesNotMatch", JSON);
}
