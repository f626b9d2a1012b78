//! The runner against deliberately broken targets (see `hostile_servers`):
//! every run ends within its timeouts, a target that cannot be talked to is
//! an Error (exit status 2) naming the cause, a target that answers but
//! wrongly is a Fail (exit status 1), and no answer is read past the
//! response size limit.

mod hostile_servers;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hostile_servers::{Api, Control, LEAKY_SECRET, start};
use modspec::client::MAX_RESPONSE_BYTES;
use modspec::commands::{RunOptions, run};
use modspec::report::{ExitStatus, print_results, render_json, render_junit, render_summary};
use modspec::runner::{HarnessError, Outcome};

/// The per-request timeout of every run here.
const TIMEOUT: Duration = Duration::from_secs(1);

/// Few trials, for targets that answer fast (every trial is sent): run
/// from a folder of their own, so loading the library costs nothing.
const SMALL: &str = "bandwidth/out-range";

fn cases_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// A throwaway cases folder with the default world and the SMALL file.
fn small_cases() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("modspec-hostile-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("bandwidth")).unwrap();
    for file in ["world.yaml", "bandwidth/out-range.yaml"] {
        std::fs::copy(cases_root().join(file), dir.join(file)).unwrap();
    }
    dir
}

struct Run {
    out: modspec::commands::RunOutput,
    elapsed: Duration,
    /// Console, summary, JUnit and JSON reports together.
    text: String,
}

/// Runs the whole library (`small` false) or the SMALL file.
async fn run_against(url: &str, small: bool) -> Run {
    let cases = if small { small_cases() } else { cases_root() };
    let mut o = RunOptions::embedded(cases.clone());
    o.target = Some(url.parse().unwrap());
    o.timeout = TIMEOUT;
    let started = Instant::now();
    let out = run(&o).await;
    let elapsed = started.elapsed();
    if small {
        let _ = std::fs::remove_dir_all(cases);
        assert!(out.results.iter().all(|r| r.id.starts_with(SMALL)));
    }
    let mut console = Vec::new();
    print_results(&mut console, &out.results, true).unwrap();
    let text = format!(
        "{}\n{}\n{}\n{}",
        String::from_utf8_lossy(&console),
        render_summary(&out.summary),
        render_junit(&out.results, &out.summary),
        render_json(&out.results, &out.summary)
    );
    Run { out, elapsed, text }
}

/// Runs against a fresh hostile target and checks the exit status, that
/// every word is in the reports, and the wall time.
async fn expect(api: Api, control: Control, small: bool, status: ExitStatus, words: &[&str]) -> Run {
    let target = start(api, control).await;
    let r = run_against(&target.url, small).await;
    let what = format!("{api:?}/{control:?}");
    assert_eq!(
        r.out.summary.exit_status(),
        status,
        "{what}: {}",
        render_summary(&r.out.summary)
    );
    for w in words {
        assert!(
            r.text.contains(w),
            "{what}: no `{w}` in the reports:\n{}",
            &r.text[..r.text.len().min(3000)]
        );
    }
    // Bounded by the timeout, not by the number of scenarios times it.
    let bound = TIMEOUT * 2 + Duration::from_secs(3);
    assert!(r.elapsed < bound, "{what}: took {:?} (bound {bound:?})", r.elapsed);
    println!("{what}: {} in {:?}", render_summary(&r.out.summary), r.elapsed);
    r
}

fn causes(r: &Run) -> Vec<String> {
    r.out
        .results
        .iter()
        .filter_map(|x| match &x.outcome {
            Outcome::Error(e) => Some(e.to_string()),
            _ => None,
        })
        .collect()
}

/// Could-not-run, never a verdict: no trial may be a Fail.
fn assert_no_verdict(r: &Run) {
    assert_eq!(r.out.summary.failed, 0, "a broken transport is never nonconformance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_never_answers_costs_one_timeout_for_the_whole_suite() {
    // Nothing answers: the capabilities request times out.
    let r = expect(
        Api::Silent,
        Control::Hostile,
        false,
        ExitStatus::CouldNotRun,
        &["no answer within"],
    )
    .await;
    assert_no_verdict(&r);
    // The control protocol answers, the API never does: the whole suite
    // (600+ trials) stops at the first timeouts.
    let r = expect(
        Api::Silent,
        Control::Real,
        false,
        ExitStatus::CouldNotRun,
        &["timed out after"],
    )
    .await;
    assert_no_verdict(&r);
    assert!(r.out.results.len() > 500, "the whole suite was selected");
    assert!(
        causes(&r)
            .iter()
            .any(|c| c.contains("not run: the target stopped answering"))
    );
    // By kind: the trials that timed out found the target down (not
    // overloaded: nothing was answered meanwhile), the rest were not sent.
    let errors: Vec<&HarnessError> = r
        .out
        .results
        .iter()
        .filter_map(|x| match &x.outcome {
            Outcome::Error(e) => Some(e),
            _ => None,
        })
        .collect();
    assert!(errors.iter().any(|e| matches!(e, HarnessError::TargetDown { .. })));
    assert!(
        errors
            .iter()
            .all(|e| matches!(e, HarnessError::TargetDown { .. } | HarnessError::NotSent(_))),
        "{errors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dripping_target_is_a_timeout_not_a_hang() {
    let r = expect(
        Api::Drip,
        Control::Real,
        false,
        ExitStatus::CouldNotRun,
        &["timed out after 1s"],
    )
    .await;
    assert_no_verdict(&r);
    let r = expect(
        Api::Drip,
        Control::Hostile,
        false,
        ExitStatus::CouldNotRun,
        &["no answer within 1s"],
    )
    .await;
    assert_no_verdict(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_closed_mid_answer_is_a_transport_error() {
    let r = expect(
        Api::CloseMidResponse,
        Control::Real,
        true,
        ExitStatus::CouldNotRun,
        &[
            "broke off after its head (HTTP 200)",
            "end of file before message length reached",
        ],
    )
    .await;
    assert_no_verdict(&r);
    assert_eq!(r.out.summary.passed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_answer_is_cut_at_the_size_limit() {
    let limit = MAX_RESPONSE_BYTES.to_string();
    let r = expect(
        Api::Huge(10 << 20),
        Control::Real,
        true,
        ExitStatus::CouldNotRun,
        &[&limit, "response size limit"],
    )
    .await;
    assert_no_verdict(&r);
    assert!(causes(&r).iter().all(|c| c.contains(&limit)), "{:?}", causes(&r));
    // A huge capabilities answer: no control protocol, with the reason.
    let r = expect(
        Api::Huge(10 << 20),
        Control::Hostile,
        false,
        ExitStatus::CouldNotRun,
        &[&limit],
    )
    .await;
    let run_error = r.out.summary.run_error.clone().unwrap_or_default();
    assert!(
        run_error.contains("no control protocol") && run_error.contains(&limit),
        "{run_error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_answers_are_failures_with_what_came_back() {
    // HTML from a proxy, JSON without Code, 200 to everything: the target
    // answered, and wrongly, so these are verdicts (exit status 1).
    let cases: [(Api, &[&str]); 4] = [
        (Api::Html502, &["got 502 (no Code)", "502 Bad Gateway"]),
        (Api::JsonWithoutCode, &["got 400 (no Code)", "something went wrong"]),
        (
            Api::Ok200("{}"),
            &["expected 400 InvalidParameter (P3), got 200 (no Code)", "a RequestId"],
        ),
        (Api::Ok200(""), &["unreadable body"]),
    ];
    for (api, words) in cases {
        let r = expect(api, Control::Real, true, ExitStatus::Failed, words).await;
        assert_eq!(r.out.summary.errors, 0, "{api:?}: {:?}", causes(&r));
        assert!(r.out.summary.failed > 0);
    }
    // A well-formed success to everything: refusal rows fail on the
    // answer, E1 rows on the state, which did not change.
    let r = expect(
        Api::Ok200(r#"{"RequestId":"R"}"#),
        Control::Real,
        true,
        ExitStatus::Failed,
        &["state of i-running.internet_max_bandwidth_out: expected 100, got 5"],
    )
    .await;
    assert_eq!(r.out.summary.passed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_a_failure_that_shows_where_it_points_and_is_not_followed() {
    // Followed, the redirect would reach the real reference server and
    // every trial would pass: each must fail on the 307 instead.
    let r = expect(
        Api::Redirect,
        Control::Real,
        true,
        ExitStatus::Failed,
        &["307 redirect (Location: http://127.0.0.1:", "not followed"],
    )
    .await;
    assert_eq!(r.out.summary.passed, 0, "a redirect was followed");
    assert_eq!(r.out.summary.errors, 0, "{:?}", causes(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_without_a_usable_control_protocol_cannot_run() {
    let r = expect(
        Api::Html502,
        Control::Hostile,
        true,
        ExitStatus::CouldNotRun,
        &[
            "no control protocol",
            "answered 502 (text/html) without a capabilities document",
        ],
    )
    .await;
    assert_no_verdict(&r);
    let r = expect(
        Api::Ok200("{}"),
        Control::Hostile,
        true,
        ExitStatus::CouldNotRun,
        &["answered 200 (application/json;charset=utf-8) without a capabilities document"],
    )
    .await;
    assert_no_verdict(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn world_creation_failures_name_the_control_protocol_and_leak_nothing() {
    let r = expect(
        Api::Html502,
        Control::CreateWorld500,
        true,
        ExitStatus::CouldNotRun,
        &[
            "creating the scenario's world failed",
            "answered HTTP 500 (expected 201)",
            "boom",
        ],
    )
    .await;
    assert_no_verdict(&r);
    assert_eq!(r.out.summary.errors, r.out.results.len());
    let r = expect(
        Api::Html502,
        Control::CreateWorldInvalidJson,
        true,
        ExitStatus::CouldNotRun,
        &[
            "creating the scenario's world failed",
            "answered invalid JSON",
            "[secret]",
        ],
    )
    .await;
    assert_no_verdict(&r);
    assert!(
        !r.text.contains(LEAKY_SECRET),
        "the secret of a broken answer reached a report"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_unreachable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let started = Instant::now();
    let r = run_against(&format!("http://{closed}/"), true).await;
    assert_eq!(r.out.summary.exit_status(), ExitStatus::CouldNotRun);
    assert_no_verdict(&r);
    let e = r.out.summary.run_error.unwrap_or_default();
    assert!(e.contains("unreachable") && e.contains("Connection refused"), "{e}");
    assert!(started.elapsed() < TIMEOUT + Duration::from_secs(2));
}
