//! Adaptive load against a deliberately small target: a proxy in front of
//! the reference server that holds one connection at a time and resets
//! every other one at once, as a one-thread server with a full listen
//! backlog drops what it cannot take. `run` and `fuzz` start at two at
//! once, back off, retry what was dropped, and end with exactly the
//! verdicts they reach against the server itself: no Error, no exit 2.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use modspec::commands::{RunOptions, Selection, run};
use modspec::fuzz::{FuzzOptions, fuzz};
use modspec::report::ExitStatus;
use modspec::runner::{Embedded, Jobs, start_embedded};
use modspec::scenario::Cases;
use modspec::server::ServerConfig;
use tokio::net::{TcpListener, TcpStream};

/// A proxy to `upstream` that keeps at most `room` connections open.
struct Small {
    url: reqwest::Url,
    /// Connections reset because the proxy was full.
    refused: Arc<AtomicUsize>,
}

async fn small_target(upstream: SocketAddr, room: usize) -> Small {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap()).parse().unwrap();
    let refused = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicUsize::new(0));
    let counter = refused.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            if open.load(Ordering::SeqCst) >= room {
                counter.fetch_add(1, Ordering::SeqCst);
                // Closed with a reset, not a polite FIN: the client's
                // request is lost, as with an overflowing server.
                let _ = inbound.set_zero_linger();
                continue;
            }
            open.fetch_add(1, Ordering::SeqCst);
            let open = open.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Small { url, refused }
}

/// The reference server with a planted bug, so the verdicts compared
/// include failures, not only passes.
async fn buggy_reference() -> Embedded {
    let config = ServerConfig {
        mutant: Some("G10-nonce-unchecked".parse().unwrap()),
        ..ServerConfig::default()
    };
    start_embedded(&config).await.unwrap()
}

fn upstream(e: &Embedded) -> SocketAddr {
    let url = &e.url;
    SocketAddr::new(url.host_str().unwrap().parse().unwrap(), url.port().unwrap())
}

/// Trial id and outcome label, in order.
async fn verdicts(target: &reqwest::Url) -> (Vec<(String, &'static str)>, ExitStatus) {
    let mut o = RunOptions::embedded(Cases::BuiltIn);
    o.target = Some(target.clone());
    o.selection = Selection {
        filters: vec!["precedence".into(), "idempotency".into(), "gateway/nonce".into()],
        tags: Vec::new(),
    };
    let out = run(&o).await;
    assert_eq!(o.jobs, Jobs::Adaptive, "the default is adaptive");
    let labels = out.results.iter().map(|r| (r.id.clone(), r.outcome.label())).collect();
    (labels, out.summary.exit_status())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_against_a_one_connection_target_gets_the_reference_verdicts() {
    let reference = buggy_reference().await;
    let (want, want_status) = verdicts(&reference.url).await;
    assert!(want.len() > 100, "{} trials", want.len());
    assert!(
        want.iter().any(|(_, l)| *l == "fail"),
        "the planted bug fails some trials"
    );
    assert_eq!(want_status, ExitStatus::Failed);

    let small = small_target(upstream(&reference), 1).await;
    let (got, status) = verdicts(&small.url).await;
    assert!(
        small.refused.load(Ordering::SeqCst) > 0,
        "the proxy never refused: the test did not load it"
    );
    let errors: Vec<_> = got.iter().filter(|(_, l)| *l == "error").collect();
    assert!(errors.is_empty(), "dropped connections became errors: {errors:?}");
    assert_eq!(got, want, "the verdicts differ from the reference's");
    assert_eq!(status, want_status);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzz_against_a_one_connection_target_gets_the_reference_findings() {
    let reference = buggy_reference().await;
    let small = small_target(upstream(&reference), 1).await;
    let campaign = |target: reqwest::Url| {
        let mut o = FuzzOptions::new(7);
        o.target = Some(target);
        o.runs = Some(300);
        o.record_indices = true;
        o
    };
    let want = fuzz(&campaign(reference.url.clone())).await.unwrap();
    let got = fuzz(&campaign(small.url.clone())).await.unwrap();
    assert!(small.refused.load(Ordering::SeqCst) > 0, "the proxy never refused");
    assert_eq!(
        (got.errors, &got.first_error),
        (0, &None),
        "no case was lost or misjudged"
    );
    assert_eq!(got.ran, want.ran, "every case ran once");
    assert_eq!(got.coverage, want.coverage);
    let keys = |r: &modspec::fuzz::FuzzReport| r.findings.iter().map(|f| (f.key.clone(), f.index)).collect::<Vec<_>>();
    assert!(!keys(&want).is_empty(), "the planted bug is found");
    assert_eq!(keys(&got), keys(&want));
    assert_eq!(got.disagreeing_cases, want.disagreeing_cases);
}
