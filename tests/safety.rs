//! Real-cloud safety and secrets.
//!
//! - A target that is not on loopback and has no control protocol may be a
//!   real account: only live requests that cannot succeed are sent unless
//!   `allow_changes`; the others are reported as withheld. The test serves
//!   a reference server (control protocol hidden) under a fake name that
//!   reqwest resolves to loopback.
//! - A known secret never reaches any output: console, summary, JUnit,
//!   JSON, snapshots, and the server's own logs (captured with a tracing
//!   subscriber at TRACE), which also carry no signature.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use modspec::client::Secret;
use modspec::commands::{RunOptions, Selection, run};
use modspec::report::{ExitStatus, print_results, render_json, render_junit, render_summary};
use modspec::runner::{Outcome, WITHHELD};
use modspec::server::{Server, ServerConfig};
use tokio::net::TcpListener;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const LIVE: &[(&str, &str)] = &[
    (
        "invalid",
        "description: out of range, refused before any instance is looked at\nneeds: []\nrules: [P3]\nsteps:\n  - request:\n      params: {InstanceId: i-running, InternetMaxBandwidthOut: 101}\n    expect: P3\n",
    ),
    (
        "dry-run",
        "description: a dry run changes nothing\nneeds: []\nrules: [D1]\nsteps:\n  - request:\n      params: {InstanceId: i-running, InternetMaxBandwidthOut: 30, DryRun: true}\n    expect: D1\n",
    ),
    (
        "unknown-id",
        "description: no such instance\nneeds: []\nrules: [R1]\nsteps:\n  - request:\n      params: {InstanceId: i-nosuch, InternetMaxBandwidthOut: 30}\n    expect: R1\n",
    ),
    (
        "forged",
        "description: a wrong secret is refused by the gateway\nneeds: []\nrules: [G9]\nsteps:\n  - request:\n      params: {InstanceId: i-running, InternetMaxBandwidthOut: 30}\n      protocol: {wrong_secret: true}\n    expect: G9\n",
    ),
    (
        "change",
        "description: a real change\nneeds: []\nrules: [E1]\nsteps:\n  - request:\n      params: {InstanceId: i-running, InternetMaxBandwidthOut: 20}\n    expect: E1\n",
    ),
    (
        "claims-p3",
        "description: a case bug, valid parameters expected to be refused\nneeds: []\nrules: [P3]\nsteps:\n  - request:\n      params: {InstanceId: i-stopped, InternetMaxBandwidthOut: 30}\n    expect: P3\n",
    ),
];

fn live_cases() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("modspec-live-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("live")).unwrap();
    std::fs::copy(manifest().join("cases/world.yaml"), dir.join("world.yaml")).unwrap();
    for (name, text) in LIVE {
        std::fs::write(dir.join(format!("live/{name}.yaml")), text).unwrap();
    }
    dir
}

/// A reference server whose control protocol is hidden (404), with one
/// world of the cases' default world; counts the ECS API requests.
struct FakeCloud {
    addr: SocketAddr,
    key: String,
    secret: String,
    api_requests: Arc<AtomicUsize>,
    service: Arc<modspec::server::Service>,
}

async fn fake_cloud(cases: &std::path::Path) -> FakeCloud {
    let (app, service) = modspec::server::router(&ServerConfig::default());
    let lib = modspec::scenario::load_library(cases);
    let slot = service.store.create(lib.trials[0].worlds[""].as_ref().clone()).unwrap();
    let api_requests = Arc::new(AtomicUsize::new(0));
    let counter = api_requests.clone();
    let app = app.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let counter = counter.clone();
            async move {
                if req.uri().path().starts_with("/_conformance/") {
                    return axum::http::StatusCode::NOT_FOUND.into_response();
                }
                counter.fetch_add(1, Ordering::SeqCst);
                next.run(req).await
            }
        },
    ));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    FakeCloud {
        addr,
        key: slot.access_key_id.clone(),
        secret: slot.secret.clone(),
        api_requests,
        service,
    }
}

use axum::response::IntoResponse;

impl FakeCloud {
    fn bandwidth_of_i_running(&self) -> u32 {
        let slot = self.service.store.by_key(&self.key).unwrap();
        let w = slot.lock();
        w.state
            .instance("i-running")
            .unwrap()
            .instance
            .internet_max_bandwidth_out
    }
}

const FAKE_HOST: &str = "ecs.cn-hangzhou.modspec-test.example";

fn outcome<'a>(out: &'a modspec::commands::RunOutput, id: &str) -> &'a Outcome {
    &out.results
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
        .outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_possible_real_cloud_gets_only_requests_that_cannot_change_anything() {
    let cases = live_cases();
    let cloud = fake_cloud(&cases).await;
    let mut o = RunOptions::embedded(cases.clone());
    o.target = Some(format!("http://{FAKE_HOST}:{}/", cloud.addr.port()).parse().unwrap());
    o.resolve = vec![(FAKE_HOST.to_string(), cloud.addr)];
    o.env_credentials = Some((cloud.key.clone(), Secret::new(cloud.secret.clone())));
    o.timeout = Duration::from_secs(5);
    let out = run(&o).await;
    let text = render_summary(&out.summary);
    assert_eq!(
        out.summary.exit_status(),
        ExitStatus::Passed,
        "{text}\n{:#?}",
        out.results
    );
    assert!(
        out.info
            .changes_withheld
            .as_deref()
            .is_some_and(|w| w.contains("not a loopback address"))
    );
    for id in ["live/invalid", "live/dry-run", "live/unknown-id", "live/forged"] {
        assert_eq!(outcome(&out, id), &Outcome::Pass, "{id}");
    }
    for (id, rule) in [("live/change", "E1"), ("live/claims-p3", "P3")] {
        match outcome(&out, id) {
            Outcome::Skipped { reason } => {
                assert!(reason.starts_with(WITHHELD), "{reason}");
                assert!(
                    reason.contains(&format!("expects {rule}")) && reason.contains("--allow-changes"),
                    "{reason}"
                );
            }
            other => panic!("{id} was not withheld: {other:?}"),
        }
    }
    assert_eq!(
        cloud.api_requests.load(Ordering::SeqCst),
        4,
        "one request per safe trial, nothing else"
    );
    assert_eq!(cloud.bandwidth_of_i_running(), 5, "nothing changed");

    // With --allow-changes everything is sent: the change is made, and the
    // case bug shows as a failure.
    o.allow_changes = true;
    let out = run(&o).await;
    assert!(out.info.changes_withheld.is_none());
    assert_eq!(outcome(&out, "live/change"), &Outcome::Pass);
    assert!(matches!(outcome(&out, "live/claims-p3"), Outcome::Fail { .. }));
    assert_eq!(out.summary.exit_status(), ExitStatus::Failed);
    assert_eq!(cloud.bandwidth_of_i_running(), 20);
    let _ = std::fs::remove_dir_all(cases);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_live_profile_runs_whole_on_a_possible_real_cloud_and_changes_nothing() {
    let cases = live_cases();
    let cloud = fake_cloud(&cases).await;
    let mut o = RunOptions::embedded(modspec::scenario::Cases::BuiltIn);
    o.target = Some(format!("http://{FAKE_HOST}:{}/", cloud.addr.port()).parse().unwrap());
    o.resolve = vec![(FAKE_HOST.to_string(), cloud.addr)];
    o.env_credentials = Some((cloud.key.clone(), Secret::new(cloud.secret.clone())));
    o.instance_ids = vec!["i-running".into(), "i-stopped".into()];
    o.timeout = Duration::from_secs(5);
    let out = run(&o).await;
    let text = render_summary(&out.summary);
    let live: Vec<_> = out.results.iter().filter(|r| r.id.starts_with("live/")).collect();
    assert!(live.len() >= 150, "{} live trials", live.len());
    for r in &live {
        assert_eq!(r.outcome, Outcome::Pass, "{}: {}", r.id, r.details());
    }
    // Nothing withheld: every built-in live request is one that cannot
    // change an instance, so none needs --allow-changes.
    assert!(out.info.changes_withheld.is_some());
    assert!(
        !out.results
            .iter()
            .any(|r| matches!(&r.outcome, Outcome::Skipped { reason } if reason.starts_with(WITHHELD))),
        "{text}"
    );
    assert_eq!(out.summary.passed, live.len(), "{text}");
    assert_eq!(out.summary.exit_status(), ExitStatus::Passed, "{text}");
    let costs = &out.summary.capability_costs;
    assert_eq!(costs.per_capability.get("core"), Some(&out.summary.skipped), "{text}");
    assert!(
        costs.best.as_ref().is_some_and(|(c, n)| c == "core" && *n > 0),
        "{text}"
    );
    assert!(text.contains("claiming `core` would unlock the most"), "{text}");
    assert_eq!(cloud.bandwidth_of_i_running(), 5, "nothing changed");

    // Without --instance-id the DryRun trials on an existing instance are
    // skipped, saying why; without credentials nothing runs: exit 2.
    o.instance_ids.clear();
    let out = run(&o).await;
    let dry = out
        .results
        .iter()
        .find(|r| r.id.starts_with("live/dry-run-existing::"))
        .unwrap();
    assert!(
        matches!(&dry.outcome, Outcome::Skipped { reason } if reason.contains("--instance-id")),
        "{:?}",
        dry.outcome
    );
    o.env_credentials = None;
    let out = run(&o).await;
    assert_eq!(out.summary.passed + out.summary.failed, 0);
    assert_eq!(out.summary.exit_status(), ExitStatus::CouldNotRun);
    let why = out.summary.run_error.as_deref().unwrap_or_default();
    assert!(why.contains("every selected trial was skipped"), "{why}");
    let _ = std::fs::remove_dir_all(cases);
}

/// Everything every tracing event of this process writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured_logs() -> &'static Capture {
    static LOGS: OnceLock<Capture> = OnceLock::new();
    LOGS.get_or_init(|| {
        let c = Capture::default();
        let writer = c.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");
        c
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_never_reaches_reports_snapshots_or_server_logs() {
    const SECRET: &str = "KNOWNSECRETsafety42";
    let logs = captured_logs();
    // A mutant makes some scenarios fail, so failure texts are in the outputs;
    // gateway cases carry V1 string-to-sign messages.
    let config = ServerConfig {
        secret_prefix: Some(SECRET.into()),
        mutant: Some("G9-signature-unchecked".parse().unwrap()),
        ..ServerConfig::default()
    };
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), &config).await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(std::future::pending()));
    let mut o = RunOptions::embedded(manifest().join("cases"));
    o.target = Some(format!("http://{addr}/").parse().unwrap());
    o.selection = Selection {
        filters: vec!["gateway/".into(), "idempotency/".into(), "isolation/".into()],
        tags: Vec::new(),
    };
    let out = run(&o).await;
    assert!(
        out.summary.passed > 0 && out.summary.failed > 0,
        "{}",
        render_summary(&out.summary)
    );
    let mut console = Vec::new();
    print_results(&mut console, &out.results, true).unwrap();
    let snaps = std::env::temp_dir().join(format!("modspec-safety-{}", uuid::Uuid::new_v4().simple()));
    modspec::snapshots::write_dir(&snaps, &out.results).unwrap();
    let log_text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        log_text.contains("modspec::request"),
        "the server logged no request: the capture is broken"
    );
    let mut outputs = vec![
        ("console", String::from_utf8(console).unwrap()),
        ("summary", render_summary(&out.summary)),
        ("junit", render_junit(&out.results, &out.summary)),
        ("json", render_json(&out.results, &out.summary)),
        ("debug", format!("{:?}", out.results)),
        ("server log", log_text.clone()),
    ];
    for e in std::fs::read_dir(&snaps).unwrap() {
        outputs.push(("snapshot", std::fs::read_to_string(e.unwrap().path()).unwrap()));
    }
    for (what, text) in &outputs {
        assert!(!text.contains(SECRET), "the secret leaked into the {what}");
    }
    // Logs carry no signature either (V3 Authorization or V1 Signature).
    for needle in ["ACS3-HMAC-SHA256 Credential", "Signature=", "SignatureNonce="] {
        assert!(!log_text.contains(needle), "the server log carries `{needle}`");
    }
    let _ = std::fs::remove_dir_all(snaps);
}

fn modspec() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_modspec"));
    c.current_dir(manifest());
    c
}

/// A `modspec serve` child, killed when dropped; `stderr` is its log.
struct Serve {
    child: std::process::Child,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl Serve {
    fn start(args: &[&str]) -> Serve {
        let mut child = modspec()
            .arg("serve")
            .args(args)
            .env("RUST_LOG", "trace")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        use std::io::BufRead;
        let lines = std::io::BufReader::new(stdout).lines();
        Serve { child, lines }
    }

    fn line(&mut self) -> String {
        self.lines.next().expect("a line").expect("utf-8")
    }

    /// Stops the server and returns everything it logged.
    fn log(mut self) -> String {
        use std::io::Read;
        let _ = self.child.kill();
        let mut text = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut text);
        }
        let _ = self.child.wait();
        text
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn credentials_come_from_a_file_and_reach_no_output_of_either_process() {
    const SECRET: &str = "FILESECRETcli9931";
    let cases = live_cases();
    let creds = cases.join("credentials");
    std::fs::write(
        &creds,
        format!("access_key_id = LTAIfromfile\naccess_key_secret = {SECRET}\n"),
    )
    .unwrap();
    let mut s = Serve::start(&["--listen", "127.0.0.1:0", "--no-control"]);
    let api = s.line();
    let out = modspec()
        .args(["run", "--target", &format!("http://{api}/"), "--timeout", "5"])
        .arg("--cases")
        .arg(&cases)
        .arg("--credentials-file")
        .arg(&creds)
        .args(["--junit", "/dev/stdout", "--json", "/dev/stdout", "--verbose"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The server knows no such key: every live case ran and got G5.
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("InvalidAccessKeyId.NotFound"), "{stdout}");
    let server_log = s.log();
    assert!(
        server_log.contains("modspec::request"),
        "no request logged: {server_log}"
    );
    for (what, text) in [
        ("run stdout", stdout.into_owned()),
        ("run stderr", String::from_utf8_lossy(&out.stderr).into_owned()),
        ("server log", server_log),
    ] {
        assert!(!text.contains(SECRET), "the secret leaked into the {what}");
    }
    // There is no way to pass a secret on the command line.
    let flag = modspec().args(["run", "--access-key-secret", SECRET]).output().unwrap();
    assert_eq!(flag.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(cases);
}
