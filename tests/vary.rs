//! Variation mode as the standing guard against false alarms: the reference
//! server varying everything the contract leaves free (behaviour.md 2.3)
//! must pass every built-in trial and give the fuzzer nothing, whatever the
//! seed. A check that demands more than the contract fails here.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

mod cli_common;

use cli_common::{modspec, text};

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `modspec serve --vary SEED` on a free port; its URL.
fn serve(seed: &str) -> (Serve, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_modspec"))
        .args(["serve", "--listen", "127.0.0.1:0", "--vary", seed])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Serve(child), format!("http://{}/", line.trim()))
}

#[test]
fn every_built_in_trial_passes_against_three_variations() {
    for seed in ["1", "2", "3"] {
        let o = modspec(&["run", "--vary", seed]);
        let last = text(&o).lines().last().unwrap_or_default().to_string();
        assert_eq!(o.status.code(), Some(0), "seed {seed}: {}", text(&o));
        assert!(
            last.contains(" passed, 0 failed, 0 errors, 0 skipped"),
            "seed {seed}: {last}"
        );
    }
}

#[test]
fn the_fuzzer_finds_nothing_in_a_variation() {
    let (_serve, url) = serve("11");
    let o = modspec(&["fuzz", "--target", &url, "--runs", "600", "--seed", "5"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("findings=0"), "{}", text(&o));
}

/// One unsigned GET over a new connection: (status, body).
fn get(addr: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let head =
        format!("GET / HTTP/1.1\r\nhost: {addr}\r\nx-acs-action: ModifyInstanceSpec\r\nconnection: close\r\n\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn a_variation_really_varies_the_free_parts() {
    let (_serve, url) = serve("4");
    // Unsigned requests: G2 in JSON (an x-acs-* header makes the style V3).
    let mut seen_port = [false, false];
    let mut bodies = std::collections::BTreeSet::new();
    let addr = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    for _ in 0..40 {
        let (status, body) = get(&addr);
        assert_eq!(status, 400, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["Code"], "IncompleteSignature", "{body}");
        seen_port[usize::from(v["HostId"].as_str().unwrap().contains(':'))] = true;
        bodies.insert(body.replace(v["RequestId"].as_str().unwrap(), "R"));
    }
    assert_eq!(seen_port, [true, true], "HostId with and without the port");
    assert!(bodies.len() > 3, "only {} body shapes in 40 answers", bodies.len());
}
