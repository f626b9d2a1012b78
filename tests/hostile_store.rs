//! The server's store under hostile use (issue 11, items 3 and 4): worlds
//! larger than the per-world limits are refused naming the JSON path; the
//! total budget of world documents holds and memory is given back after
//! DELETE (measured on a `modspec serve` child); the nonce store is bounded
//! per world and in total, and a full store refuses in plain words rather
//! than forgetting nonces (which would let replays in).

mod common;

use std::time::{Duration, Instant};

use common::child::{MIB, Serve};
use common::*;
use modspec::client::ControlError;
use modspec::server::{Limits, ServerConfig};
use modspec::spec::{World, sample_world};

/// A world at every per-world limit of the defaults: 1,000 instance
/// types, 1,000 images, 1,000 instances and 10,000 allowed changes
/// (about 0.8 MB of JSON).
fn big_world(n: usize, changes: usize) -> World {
    let mut w = sample_world();
    let ty = w.catalog.instance_types[0].clone();
    let img = w.images[0].clone();
    let inst = w.instances[0].clone();
    w.catalog.instance_types = (0..n)
        .map(|i| {
            let mut t = ty.clone();
            t.name = format!("ecs.t{i}.large");
            t
        })
        .collect();
    w.images = (0..n)
        .map(|i| {
            let mut m = img.clone();
            m.image_id = format!("img-{i}");
            m
        })
        .collect();
    w.instances = (0..n)
        .map(|i| {
            let mut x = inst.clone();
            x.instance_id = format!("i-{i}");
            x.instance_type = format!("ecs.t{}.large", i % n);
            x.image_id = format!("img-{}", i % n);
            x
        })
        .collect();
    w.catalog.allowed_changes = (0..changes.div_ceil(n.max(1)))
        .map(|from| {
            let to = (0..n.min(changes - from * n))
                .map(|j| format!("ecs.t{j}.large"))
                .collect();
            (format!("ecs.t{from}.large"), to)
        })
        .collect();
    w
}

async fn refused(t: &Target, w: &World) -> (u16, String) {
    match t.control.create_world(w).await {
        Err(ControlError::Status { status, body, .. }) => (status, body),
        other => panic!("created: {:?}", other.map(|h| h.world_id)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_world_over_a_per_world_limit_is_refused_naming_its_path() {
    let t = start().await;
    // At the limits: accepted.
    let at = t
        .control
        .create_world(&big_world(1000, 10_000))
        .await
        .expect("a world at the limits");
    assert_passed(
        &t,
        &t.send_v3(&t.v3(
            &at,
            &[
                ("InstanceId", "i-3"),
                ("InternetMaxBandwidthOut", "20"),
                ("DryRun", "true"),
            ],
        ))
        .await,
        JSON,
    );
    let over = |f: &dyn Fn(&mut World)| {
        let mut w = big_world(10, 10);
        f(&mut w);
        w
    };
    let cases: [(World, &str); 4] = [
        (
            {
                let mut w = big_world(1001, 0);
                w.instances.truncate(10);
                w
            },
            "$.catalog.instance_types: too many instance types (1001); the server allows at most 1000 per world",
        ),
        (
            over(&|w| {
                let img = w.images[0].clone();
                w.images = (0..1001)
                    .map(|i| {
                        let mut m = img.clone();
                        m.image_id = format!("x-{i}");
                        m
                    })
                    .collect();
                w.instances.clear();
            }),
            "$.images: too many images (1001)",
        ),
        (
            over(&|w| {
                let inst = w.instances[0].clone();
                w.instances = (0..1001)
                    .map(|i| {
                        let mut x = inst.clone();
                        x.instance_id = format!("i-x{i}");
                        x
                    })
                    .collect();
            }),
            "$.instances: too many instances (1001)",
        ),
        (
            big_world(1000, 10_001),
            "$.catalog.allowed_changes: too many allowed changes (all lists together) (10001)",
        ),
    ];
    for (w, words) in cases {
        let (status, body) = refused(&t, &w).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.starts_with(r#"{"error":""#) && body.contains(words), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_world_budget_holds_and_memory_comes_back_after_delete() {
    let mut s = Serve::start(&["--listen", "127.0.0.1:0"]);
    let t = attach(s.addr());
    let w0 = t.sample().await;
    assert_passed(&t, &t.send_v3(&t.v3(&w0, DRY)).await, JSON);
    let idle = s.rss();
    let big = big_world(1000, 10_000);
    let size = serde_json::to_vec(&big).unwrap().len();
    let started = Instant::now();
    let mut made = Vec::new();
    let refusal = loop {
        match t.control.create_world(&big).await {
            Ok(h) => made.push(h),
            Err(ControlError::Status { status, body, .. }) => break (status, body),
            Err(e) => panic!("{e}"),
        }
        assert!(made.len() < 200, "the world budget did not hold");
    };
    let full = s.rss();
    assert_eq!(refusal.0, 503, "{}", refusal.1);
    assert!(
        refusal.1.contains("over its total of 67108864; delete worlds first"),
        "{}",
        refusal.1
    );
    // A request to a world still answers while the store is full.
    assert_passed(&t, &t.send_v3(&t.v3(&w0, DRY)).await, JSON);
    for h in &made {
        t.control.delete_world(&h.world_id).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = s.rss();
    let above = |b: u64| b.saturating_sub(idle.now) / MIB;
    println!(
        "world budget: {} worlds of {} KB until 503 in {:?}; RSS idle {} MiB, full +{} MiB (peak +{} MiB), after deleting all +{} MiB",
        made.len(),
        size / 1000,
        started.elapsed(),
        idle.now / MIB,
        above(full.now),
        above(full.peak),
        above(after.now),
    );
    assert!(
        full.peak - idle.now <= 256 * MIB,
        "peak {} MiB above idle",
        above(full.peak)
    );
    assert!(
        after.now.saturating_sub(idle.now) <= 32 * MIB,
        "{} MiB kept after DELETE",
        above(after.now)
    );
    // The budget is free again.
    t.control.create_world(&big).await.expect("room after deleting");
}

fn nonce_limits(per_world: usize, total: usize) -> ServerConfig {
    ServerConfig {
        limits: Limits {
            max_nonces_per_world: per_world,
            max_nonces_total: total,
            ..Limits::default()
        },
        ..ServerConfig::default()
    }
}

/// A V3 dry run of `w` with this nonce.
fn with_nonce(t: &Target, w: &modspec::client::WorldHandle, nonce: &str) -> V3Req {
    t.v3_with(w, DRY, |r| r.damage.nonce = Some(nonce.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nonce_store_is_bounded_per_world_and_in_total() {
    let t = start_with(nonce_limits(100, 150)).await;
    let (a, b) = (t.sample().await, t.sample().await);
    for i in 0..100 {
        assert_passed(&t, &t.send_v3(&with_nonce(&t, &a, &format!("a-{i}"))).await, JSON);
    }
    let r = t.send_v3(&with_nonce(&t, &a, "a-100")).await;
    assert_eq!(
        (r.status, r.content_type()),
        (503, "text/plain; charset=utf-8"),
        "{r:?}"
    );
    assert!(
        r.body.contains("this world holds 100 nonces of the last 15 minutes"),
        "{r:?}"
    );
    // A used nonce is still refused as used: the bound never forgets one.
    assert_error(
        &t,
        &t.send_v3(&with_nonce(&t, &a, "a-7")).await,
        400,
        "SignatureNonceUsed",
        JSON,
    );
    for i in 0..50 {
        assert_passed(&t, &t.send_v3(&with_nonce(&t, &b, &format!("b-{i}"))).await, JSON);
    }
    let r = t.send_v3(&with_nonce(&t, &b, "b-50")).await;
    assert_eq!(r.status, 503, "{r:?}");
    assert!(r.body.contains("the server holds 150 nonces"), "{r:?}");
    // Deleting a world gives its nonces back to the total.
    t.control.delete_world(&a.world_id).await.unwrap();
    assert_passed(&t, &t.send_v3(&with_nonce(&t, &b, "b-50")).await, JSON);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_nonces_cost_a_bounded_amount_of_memory() {
    // 3,000 verified requests with long nonces: the store keeps a digest
    // of each, so memory does not grow with the nonce's length.
    let mut s = Serve::start(&["--listen", "127.0.0.1:0"]);
    let t = attach(s.addr());
    let w = t.sample().await;
    assert_passed(&t, &t.send_v3(&t.v3(&w, DRY)).await, JSON);
    let idle = s.rss();
    let long = "n".repeat(200);
    let started = Instant::now();
    for i in 0..3000 {
        assert_passed(&t, &t.send_v3(&with_nonce(&t, &w, &format!("{i}-{long}"))).await, JSON);
    }
    let rss = s.rss();
    println!(
        "3,000 nonces of 200+ bytes in {:?}: peak RSS {} MiB above idle",
        started.elapsed(),
        rss.peak.saturating_sub(idle.now) / MIB
    );
    assert!(rss.peak.saturating_sub(idle.now) <= 256 * MIB);
}
