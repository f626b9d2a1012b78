//! The runner under bad input and hostile targets: broken case files give
//! located errors and the rest still runs; unreachable, silent and garbage
//! targets give exit status 2 within the timeouts, never 1; secrets never
//! reach any output.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use modspec::client::Unanswered;
use modspec::commands::{RunOptions, run};
use modspec::report::{ExitStatus, print_results, render_json, render_junit, render_summary};
use modspec::runner::{HarnessError, Outcome};
use modspec::server::{Server, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn cases_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// A throwaway cases folder with the real default world and these files.
fn temp_cases(files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("modspec-cases-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(cases_root().join("world.yaml"), dir.join("world.yaml")).unwrap();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const GOOD: &str = "description: a valid case\nrules: [P3]\nsteps:\n  - request:\n      params: {InstanceId: i-running, InternetMaxBandwidthOut: 101}\n    expect: P3\n";
const BROKEN: &str = "description: broken YAML\nsteps:\n  - request: {params: {InstanceId: [i-running}\n";
const TYPO: &str = "description: a misspelled key\nsteps:\n  - request:\n      params: {InstanceId: i-running, InternetMaxBandwidthOut: 7}\n    expct: E1\n";
const BAD_RULE: &str = "description: unknown rule\nrules: [P9]\nsteps:\n  - request:\n      params: {InstanceId: i-running, InternetMaxBandwidthOut: 7}\n    expect: E1\n";
const MISSING_EXPECT: &str =
    "description: no expectation\nsteps:\n  - request:\n      params: {InstanceId: i-running}\n";
const MISSING_COLUMN: &str = "description: examples row without a column\nsteps:\n  - request:\n      params: {InstanceId: i-running, InternetMaxBandwidthOut: \"${out}\"}\n    expect: ${rule}\nexamples:\n  - {name: a, out: \"1\", rule: E1}\n  - {name: b, rule: P3}\n";
const WRONG_TYPE: &str = "description: wrong type\nsteps:\n  - advance: soon\n";
const DUP_ROW: &str = "description: duplicate rows\nsteps:\n  - request:\n      params: {InstanceId: i-running, InternetMaxBandwidthOut: \"${out}\"}\n    expect: E1\nexamples:\n  - {name: a, out: \"1\"}\n  - {name: a, out: \"2\"}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_case_files_are_located_and_the_rest_still_runs() {
    let dir = temp_cases(&[
        ("good.yaml", GOOD),
        ("broken.yaml", BROKEN),
        ("typo.yaml", TYPO),
        ("bad-rule.yaml", BAD_RULE),
        ("missing-expect.yaml", MISSING_EXPECT),
        ("missing-column.yaml", MISSING_COLUMN),
        ("wrong-type.yaml", WRONG_TYPE),
        ("dup-row.yaml", DUP_ROW),
    ]);
    let out = run(&RunOptions::embedded(dir.clone())).await;
    let good = out.results.iter().find(|r| r.id == "good").expect("the valid case ran");
    assert_eq!(good.outcome, Outcome::Pass);
    assert_eq!(out.summary.errors, 7, "{:#?}", out.results);
    assert_eq!(out.summary.exit_status(), ExitStatus::CouldNotRun);
    let mut errors: Vec<String> = out
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Error(e) => Some(e.to_string().replace(&dir.display().to_string(), "<cases>")),
            _ => None,
        })
        .collect();
    errors.sort();
    for e in &errors {
        // Every error is `path:line:col: message`.
        let loc: Vec<&str> = e.splitn(4, ':').collect();
        assert!(
            loc.len() == 4 && loc[1].parse::<usize>().is_ok() && loc[2].parse::<usize>().is_ok(),
            "{e}"
        );
    }
    insta::with_settings!({snapshot_path => Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/errors"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("load_errors", errors.join("\n"));
    });
    let _ = std::fs::remove_dir_all(dir);
}

/// A target that accepts connections and never answers.
async fn silent_target() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    addr
}

/// A target that answers every connection with bytes that are not HTTP.
async fn garbage_target() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(b"\x00\x01garbage that is not HTTP\r\n\r\n").await;
            });
        }
    });
    addr
}

fn options(target: String, timeout: Duration) -> RunOptions {
    let mut o = RunOptions::embedded(cases_root());
    o.target = Some(target.parse().unwrap());
    o.timeout = timeout;
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_silent_and_garbage_targets_cannot_run_never_fail() {
    let timeout = Duration::from_millis(800);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let cases = [
        ("closed port", format!("http://{closed}/"), "unreachable"),
        (
            "silent",
            format!("http://{}/", silent_target().await),
            "no answer within",
        ),
        ("garbage", format!("http://{}/", garbage_target().await), "unreachable"),
    ];
    for (name, url, words) in cases {
        let started = Instant::now();
        let out = run(&options(url, timeout)).await;
        let elapsed = started.elapsed();
        assert_eq!(
            out.summary.exit_status(),
            ExitStatus::CouldNotRun,
            "{name}: {}",
            render_summary(&out.summary)
        );
        assert_eq!(
            out.summary.failed, 0,
            "{name}: an unreachable target is never nonconformant"
        );
        let err = out.summary.run_error.clone().unwrap_or_default();
        assert!(err.contains(words), "{name}: {err}");
        assert!(
            elapsed < timeout * 2 + Duration::from_secs(2),
            "{name} took {elapsed:?}"
        );
    }
}

/// Serves the control protocol of a real server but never answers the API.
async fn hanging_api_target() -> SocketAddr {
    let (app, _) = modspec::server::router(&ServerConfig::default());
    let app = app.layer(axum::middleware::from_fn(
        |req: axum::extract::Request, next: axum::middleware::Next| async move {
            if req.uri().path().starts_with("/_conformance/") {
                next.run(req).await
            } else {
                std::future::pending().await
            }
        },
    ));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_api_costs_one_timeout_not_one_per_scenario() {
    let timeout = Duration::from_millis(600);
    let addr = hanging_api_target().await;
    let started = Instant::now();
    let out = run(&options(format!("http://{addr}/"), timeout)).await;
    let elapsed = started.elapsed();
    assert_eq!(out.summary.exit_status(), ExitStatus::CouldNotRun);
    assert_eq!(out.summary.failed, 0);
    assert!(out.summary.errors > 1);
    assert!(elapsed < timeout * 2 + Duration::from_secs(3), "took {elapsed:?}");
    let causes: Vec<_> = out
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Error(e) => Some(e),
            _ => None,
        })
        .collect();
    // Down, by kind (not overload: nothing was answered meanwhile), in words.
    assert!(
        causes
            .iter()
            .any(|e| matches!(e, HarnessError::TargetDown { cause, how: Unanswered::TimedOut } if cause.contains("timed out"))),
        "{causes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_never_reaches_any_output() {
    const SECRET: &str = "KNOWNSECRETzq81";
    // A mutant makes some scenarios fail, so failure texts are in the outputs too.
    let config = ServerConfig {
        secret_prefix: Some(SECRET.into()),
        mutant: Some("G9-signature-unchecked".parse().unwrap()),
        ..ServerConfig::default()
    };
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), &config).await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(std::future::pending()));
    let out = run(&options(format!("http://{addr}/"), Duration::from_secs(5))).await;
    assert!(
        out.summary.passed > 0 && out.summary.failed > 0,
        "{}",
        render_summary(&out.summary)
    );
    let mut console = Vec::new();
    print_results(&mut console, &out.results, true).unwrap();
    let snaps = std::env::temp_dir().join(format!("modspec-snaps-{}", uuid::Uuid::new_v4().simple()));
    modspec::snapshots::write_dir(&snaps, &out.results).unwrap();
    let mut outputs = vec![
        String::from_utf8(console).unwrap(),
        render_summary(&out.summary),
        render_junit(&out.results, &out.summary),
        render_json(&out.results, &out.summary),
        format!("{:?}", out.results),
    ];
    for e in std::fs::read_dir(&snaps).unwrap() {
        outputs.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    assert!(outputs.len() > 5);
    for o in &outputs {
        assert!(
            !o.contains(SECRET),
            "the secret leaked into: {}",
            &o[..o.len().min(300)]
        );
    }
    let _ = std::fs::remove_dir_all(snaps);
}
