//! Concurrency of the reference server: requests that race on one instance
//! or one ClientToken serialise on the world's lock, so a change applies
//! exactly once, and worlds under load never see each other.
//!
//! Every burst is built first, then spawned as tokio tasks that start
//! together behind a barrier, then joined. V1 (XML) and V3 (JSON) requests
//! alternate; protocol parameters are not part of a token's fingerprint.

mod common;

use std::sync::Arc;

use common::*;
use modspec::client::WorldHandle;
use modspec::spec::{World, sample_world};
use modspec::wire::{Format, ParamList};
use serde_json::{Value, json};
use tokio::sync::Barrier;

const N: usize = 64;

enum Req {
    V1(ParamList),
    V3(V3Req),
}

/// The i-th request of a burst: V1 form POST for even `i`, V3 for odd.
fn build(t: &Target, w: &WorldHandle, i: usize, op: &[(&str, &str)]) -> Req {
    if i % 2 == 0 {
        Req::V1(v1("POST", w, op))
    } else {
        Req::V3(t.v3(w, op))
    }
}

/// Sends every request at once and returns the answers in request order.
async fn burst(t: &Arc<Target>, reqs: Vec<Req>) -> Vec<Reply> {
    let barrier = Arc::new(Barrier::new(reqs.len()));
    let tasks: Vec<_> = reqs
        .into_iter()
        .map(|req| {
            let (t, barrier) = (t.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                match req {
                    Req::V1(p) => t.send_v1("POST", &p, Via::Form).await,
                    Req::V3(r) => t.send_v3(&r).await,
                }
            })
        })
        .collect();
    let mut replies = Vec::with_capacity(tasks.len());
    for task in tasks {
        replies.push(task.await.expect("request task"));
    }
    replies
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_token_applies_once_when_operations_finish_at_once() {
    let t = Arc::new(start().await);
    let w = t.world(&world_with(0)).await;
    let mut op = CHANGE.to_vec();
    op.push(("ClientToken", "race-token"));
    let reqs = (0..N).map(|i| build(&t, &w, i, &op)).collect();
    let replies = burst(&t, reqs).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_token_applies_once_while_the_operation_is_processing() {
    let t = Arc::new(start().await);
    let w = t.world(&world_with(30)).await;
    let mut op = CHANGE.to_vec();
    op.push(("ClientToken", "race-token"));
    let reqs = (0..N).map(|i| build(&t, &w, i, &op)).collect();
    let replies = burst(&t, reqs).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_tokens_one_change_wins_the_rest_hit_t1() {
    let t = Arc::new(start().await);
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
    let replies = burst(&t, reqs).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worlds_stay_isolated_under_load() {
    const WORLDS: usize = 16;
    let t = Arc::new(start().await);
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
    let replies = burst(&t, reqs).await;
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
