//! The reference server's test-control protocol (control-protocol.md),
//! exactly as specified: capabilities, world creation and its validation,
//! instance state, clocks and deletion; and a server without `auth`, whose
//! capabilities say so.

mod common;

use common::*;
use modspec::server::{Limits, ServerConfig};
use modspec::wire::Format;
use serde_json::{Value, json};

fn sample_json() -> Value {
    serde_json::to_value(modspec::spec::sample_world()).expect("sample world as JSON")
}

/// A control-protocol answer: status, content type and JSON body.
async fn call(t: &Target, method: &str, path: &str, body: Option<Vec<u8>>) -> (u16, String, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut rb = t.http.request(method, t.control_url(path));
    if let Some(body) = body {
        rb = rb.header("content-type", "application/json").body(body);
    }
    let resp = rb.send().await.expect("control request");
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let text = resp.text().await.expect("control body");
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text:?}"))
    };
    (status, ct, json)
}

async fn post_json(t: &Target, path: &str, body: &Value) -> (u16, String, Value) {
    call(t, "POST", path, Some(body.to_string().into_bytes())).await
}

/// Asserts a 400 `{"error": …}` whose text names every one of `needles`.
#[track_caller]
fn assert_invalid(what: &str, (status, ct, body): &(u16, String, Value), needles: &[&str]) {
    assert_eq!(*status, 400, "{what}: {body}");
    assert!(ct.starts_with("application/json"), "{what}: content type {ct}");
    let obj = body.as_object().unwrap_or_else(|| panic!("{what}: {body}"));
    assert_eq!(obj.len(), 1, "{what}: {body}");
    let error = obj.get("error").and_then(Value::as_str).unwrap_or_default();
    for n in needles {
        assert!(error.contains(n), "{what}: error {error:?} does not name {n:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities() {
    let t = start().await;
    let (status, ct, body) = call(&t, "GET", "/capabilities", None).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/json"), "{ct}");
    assert_eq!(
        body,
        json!({
            "protocol": "modspec-control/1",
            "capabilities": ["core", "clock", "auth", "xml", "dry-run", "extended-params", "precedence", "faults", "world-state"],
        })
    );
}

/// `world-state`: the clock and every instance, in the World document's
/// order, equal to the per-instance reads; 404 for an unknown world.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn world_state_answers_every_instance_in_document_order() {
    let t = start().await;
    let world = modspec::spec::sample_world();
    let (status, _, created) = call(&t, "POST", "/worlds", Some(serde_json::to_vec(&world).unwrap())).await;
    assert_eq!(status, 201, "{created}");
    let id = created["world_id"].as_str().unwrap();
    call(
        &t,
        "POST",
        &format!("/worlds/{id}/clock"),
        Some(br#"{"advance_seconds": 7}"#.to_vec()),
    )
    .await;
    let (status, ct, doc) = call(&t, "GET", &format!("/worlds/{id}"), None).await;
    assert_eq!(status, 200, "{doc}");
    assert!(ct.starts_with("application/json"), "{ct}");
    assert_eq!(doc["now"], 7);
    let listed: Vec<&str> = doc["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["instance_id"].as_str().unwrap())
        .collect();
    let seeded: Vec<&str> = world.instances.iter().map(|i| i.instance_id.as_str()).collect();
    assert_eq!(listed, seeded);
    for inst in doc["instances"].as_array().unwrap() {
        let one = inst["instance_id"].as_str().unwrap();
        let (_, _, single) = call(&t, "GET", &format!("/worlds/{id}/instances/{one}"), None).await;
        assert_eq!(&single, inst);
    }
    let (status, _, _) = call(&t, "GET", "/worlds/no-such-world", None).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_world_answers_fresh_credentials_that_work() {
    let t = start().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..2 {
        let (status, ct, body) = post_json(&t, "/worlds", &sample_json()).await;
        assert_eq!(status, 201, "{body}");
        assert!(ct.starts_with("application/json"), "{ct}");
        let obj = body.as_object().expect("object");
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["access_key_id", "access_key_secret", "world_id"]);
        for v in obj.values() {
            let v = v.as_str().expect("string field");
            assert!(!v.is_empty() && seen.insert(v.to_string()), "{body}");
        }
    }
    // The credentials of a created world sign requests that get through.
    let w = t.sample().await;
    assert_passed(&t, &t.send_v3(&t.v3(&w, DRY)).await, Format::Json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_worlds_name_the_json_path_and_create_nothing() {
    let t = start_with(ServerConfig {
        limits: Limits {
            max_worlds: 1,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut v = sample_json();
        f(&mut v);
        v.to_string().into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        ("malformed JSON", b"{\"account\": ".to_vec(), vec!["$"]),
        ("not an object", b"[]".to_vec(), vec!["$"]),
        ("empty body", Vec::new(), vec!["$"]),
        (
            "missing nullable field",
            edit(&|v| {
                v["account"].as_object_mut().unwrap().remove("max_requests_per_minute");
            }),
            vec!["$.account", "max_requests_per_minute"],
        ),
        (
            "missing field",
            edit(&|v| {
                v.as_object_mut().unwrap().remove("faults");
            }),
            vec!["$", "faults"],
        ),
        (
            "unknown field",
            edit(&|v| v["instances"][1]["colour"] = json!("red")),
            vec!["$.instances[1]", "colour"],
        ),
        (
            "wrong type",
            edit(&|v| v["operation_seconds"] = json!("5")),
            vec!["$.operation_seconds"],
        ),
        (
            "negative u64",
            edit(&|v| v["instances"][0]["internet_max_bandwidth_out"] = json!(-1)),
            vec!["$.instances[0].internet_max_bandwidth_out"],
        ),
        (
            "bad enum value",
            edit(&|v| v["instances"][0]["status"] = json!("Deleted")),
            vec!["$.instances[0].status"],
        ),
        (
            "bad network type",
            edit(&|v| v["instances"][1]["network_type"] = json!("VPC")),
            vec!["$.instances[1].network_type"],
        ),
        (
            "duplicate instance id",
            edit(&|v| v["instances"][1]["instance_id"] = json!("i-conf0001")),
            vec!["$.instances[1].instance_id"],
        ),
        (
            "duplicate type name",
            edit(&|v| v["catalog"]["instance_types"][2]["name"] = json!("ecs.g6.large")),
            vec!["$.catalog.instance_types[2].name"],
        ),
        (
            "dangling instance_type",
            edit(&|v| v["instances"][0]["instance_type"] = json!("ecs.zz.large")),
            vec!["$.instances[0].instance_type"],
        ),
        (
            "dangling image_id",
            edit(&|v| v["instances"][1]["image_id"] = json!("no_such_image")),
            vec!["$.instances[1].image_id"],
        ),
        (
            "allowed_changes target unknown",
            edit(&|v| v["catalog"]["allowed_changes"]["ecs.g6.large"][1] = json!("ecs.zz.large")),
            vec!["$.catalog.allowed_changes", "ecs.zz.large"],
        ),
        (
            "allowed_changes source unknown",
            edit(&|v| v["catalog"]["allowed_changes"]["ecs.zz.large"] = json!([])),
            vec!["$.catalog.allowed_changes", "ecs.zz.large"],
        ),
    ];
    for (what, body, needles) in cases {
        assert_invalid(what, &call(&t, "POST", "/worlds", Some(body)).await, &needles);
    }
    // None of them took the only world slot: one valid world fits, a second
    // one does not.
    let (status, _, body) = post_json(&t, "/worlds", &sample_json()).await;
    assert_eq!(status, 201, "{body}");
    let (status, _, body) = post_json(&t, "/worlds", &sample_json()).await;
    assert_ne!(
        status, 201,
        "a second world fits: an invalid one was not stored? {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_state_is_the_instance_plus_last_modified_at() {
    let t = start().await;
    let mut world = modspec::spec::sample_world();
    world.instances[1].last_modified_seconds_ago = Some(120);
    let w = t.world(&world).await;
    let seeded = serde_json::to_value(&world).expect("world JSON");

    let path = |id: &str| format!("/worlds/{}/instances/{id}", w.world_id);
    let (status, ct, body) = call(&t, "GET", &path("i-conf0001"), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(ct.starts_with("application/json"), "{ct}");
    let mut want = seeded["instances"][0].clone();
    want["last_modified_at"] = Value::Null;
    assert_eq!(body, want);
    let (_, _, body) = call(&t, "GET", &path("i-conf0002"), None).await;
    let mut want = seeded["instances"][1].clone();
    want["last_modified_at"] = json!(-120);
    assert_eq!(body, want);

    // A successful change shows at once, with the world time it happened at.
    assert_eq!(t.advance(&w, 200).await, 200);
    let r = t.send_v3(&t.v3(&w, CHANGE)).await;
    assert_success(&r, Format::Json);
    let (_, _, body) = call(&t, "GET", &path("i-conf0002"), None).await;
    want["internet_max_bandwidth_out"] = json!(20);
    want["last_modified_at"] = json!(200);
    assert_eq!(body, want);

    let (status, ct, body) = call(&t, "GET", &path("i-nosuch"), None).await;
    assert_eq!(status, 404, "{body}");
    assert!(
        ct.starts_with("application/json") && body["error"].is_string(),
        "{ct} {body}"
    );
    let (status, _, body) = call(&t, "GET", "/worlds/w-nosuch/instances/i-conf0001", None).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_advances_by_non_negative_integers_only() {
    let t = start().await;
    let w = t.sample().await;
    let other = t.sample().await;
    let clock = format!("/worlds/{}/clock", w.world_id);
    let advance = |n: Value| json!({ "advance_seconds": n });

    let (status, ct, body) = post_json(&t, &clock, &advance(json!(5))).await;
    assert_eq!((status, &body), (200, &json!({"now": 5})));
    assert!(ct.starts_with("application/json"), "{ct}");
    assert_eq!(post_json(&t, &clock, &advance(json!(10))).await.2, json!({"now": 15}));

    let invalid = [
        ("negative", advance(json!(-1))),
        ("fractional", advance(json!(1.5))),
        ("string", advance(json!("5"))),
        ("null", advance(Value::Null)),
        ("missing", json!({})),
        ("extra field", json!({"advance_seconds": 1, "also": 1})),
        ("not an object", json!(5)),
    ];
    for (what, body) in invalid {
        assert_invalid(what, &post_json(&t, &clock, &body).await, &[]);
    }
    assert_invalid("malformed", &call(&t, "POST", &clock, Some(b"{".to_vec())).await, &[]);
    // Nothing above moved the clock, and clocks are per world.
    assert_eq!(post_json(&t, &clock, &advance(json!(0))).await.2, json!({"now": 15}));
    assert_eq!(t.advance(&other, 0).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_world_then_it_is_gone() {
    let t = start().await;
    let w = t.sample().await;
    let keep = t.sample().await;
    let path = format!("/worlds/{}", w.world_id);
    let (status, _, body) = call(&t, "DELETE", &path, None).await;
    assert_eq!((status, body), (204, Value::Null));
    let (status, _, body) = call(&t, "DELETE", &path, None).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].is_string(), "{body}");
    let (status, _, _) = call(&t, "GET", &format!("{path}/instances/i-conf0001"), None).await;
    assert_eq!(status, 404);
    let (status, _, _) = post_json(&t, &format!("{path}/clock"), &json!({"advance_seconds": 1})).await;
    assert_eq!(status, 404);
    let r = t.send_v3(&t.v3(&w, DRY)).await;
    assert_error(&t, &r, 404, "InvalidAccessKeyId.NotFound", Format::Json);
    // Other worlds are untouched.
    assert_passed(&t, &t.send_v3(&t.v3(&keep, DRY)).await, Format::Json);
    let (status, _, _) = call(&t, "DELETE", "/worlds/w-nosuch", None).await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_identifies_the_world_by_key_only() {
    let t = start_with(ServerConfig {
        auth: false,
        ..Default::default()
    })
    .await;
    let w = t.sample().await;
    // A V3 request with a wrong signature is not checked.
    let r3 = t.v3_with(&w, DRY, |r| r.damage.wrong_secret = true);
    assert_passed(&t, &t.send_v3(&r3).await, JSON);
    // Nor is a V1 request with nothing but the key, the action and the change.
    let key = w.access_key_id.as_str();
    let p = list(&[("AccessKeyId", key), ("Action", "ModifyInstanceSpec")]);
    let query = format!("{}&{}", p.to_query_string(), list(CHANGE).to_query_string());
    assert_success(&t.send_raw("GET", &query, &[], Vec::new()).await, XML);
    assert_eq!(t.instance(&w, "i-conf0002").await["internet_max_bandwidth_out"], 20);
    // G3 and G5 are core.
    let query = "AccessKeyId=LTAInosuch&Action=ModifyInstanceSpec";
    let r = t.send_raw("GET", query, &[], Vec::new()).await;
    assert_error(&t, &r, 404, "InvalidAccessKeyId.NotFound", XML);
    assert_error(
        &t,
        &t.send_raw("GET", "", &[], Vec::new()).await,
        500,
        "InvalidAction",
        XML,
    );

    let resp = t.http.get(t.control_url("/capabilities")).send().await;
    let caps: serde_json::Value = resp.expect("capabilities").json().await.expect("JSON");
    let caps: Vec<&str> = caps["capabilities"]
        .as_array()
        .expect("array")
        .iter()
        .flat_map(|c| c.as_str())
        .collect();
    let mut want = modspec::server::ALL_CAPABILITIES.to_vec();
    want.retain(|c| *c != "auth");
    assert_eq!(caps, want);
}
