//! The `modspec` binary as a user runs it: exit codes, `serve` start-up
//! and its first answer, the mutant list, the schema.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn modspec() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_modspec"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn exit_codes_separate_pass_fail_and_could_not_run() {
    let pass = modspec()
        .args(["run", "--filter", "bandwidth/out-range"])
        .output()
        .unwrap();
    assert_eq!(pass.status.code(), Some(0), "{}", String::from_utf8_lossy(&pass.stdout));
    let fail = modspec()
        .args([
            "run",
            "--filter",
            "bandwidth/out-range",
            "--mutant",
            "P3-upper-accepts-101",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&fail.stdout);
    assert_eq!(fail.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL  bandwidth/out-range::over-101"), "{out}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = modspec()
        .args(["run", "--timeout", "1", "--target", &format!("http://{closed}/")])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&down.stdout);
    assert_eq!(down.status.code(), Some(2), "{out}");
    assert!(out.contains("unreachable"), "{out}");
}

#[test]
fn serve_prints_its_address_first_and_answers_unsigned_requests_with_json_errors() {
    let started = Instant::now();
    let mut child = modspec()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = Killed(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    let addr: std::net::SocketAddr = first.trim().parse().expect("the first line is the bound address");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "start-up took {:?}",
        started.elapsed()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, ctype, body) = rt.block_on(async {
        // Like `curl -H 'x-acs-action: ModifyInstanceSpec' http://addr/`: V3-looking, so JSON.
        // reqwest's rustls backend needs the crypto provider installed first.
        modspec::client::tls_provider();
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("http://{addr}/"))
            .header("x-acs-action", "ModifyInstanceSpec")
            .send()
            .await
            .unwrap();
        let ctype = r.headers().get("content-type").unwrap().to_str().unwrap().to_string();
        (r.status().as_u16(), ctype, r.text().await.unwrap())
    });
    assert_eq!(status, 400);
    assert_eq!(ctype, "application/json;charset=utf-8");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["Code"], "IncompleteSignature");
    assert!(v["RequestId"].as_str().is_some_and(|s| !s.is_empty()));
}

#[test]
fn mutant_list_and_unknown_mutant() {
    let list = modspec().args(["serve", "--mutant", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.lines().count() >= 40);
    assert!(text.contains("T1-window-299s"));
    let bad = modspec()
        .args(["serve", "--mutant", "T1-window-298s"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("did you mean `T1-window-299s`"));
}

#[test]
fn schema_json_is_the_printed_schema() {
    let out = modspec().arg("schema").output().unwrap();
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.json")).unwrap())
            .unwrap();
    assert_eq!(
        printed, committed,
        "schema.json is stale: run `modspec schema > schema.json`"
    );
    assert!(printed["properties"]["steps"].is_object());
}

/// `modspec rules | head -1` and the like: a reader that has gone away ends
/// the command quietly (SIGPIPE, as for other tools), never with a panic
/// message and exit 101.
#[test]
fn a_closed_stdout_pipe_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    for args in [&["rules"][..], &["schema"][..]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // the first write gets EPIPE
        let out = modspec()
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGPIPE),
            "{args:?}: {:?} {stderr}",
            out.status
        );
    }
}
