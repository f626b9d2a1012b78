//! `modspec fuzz` as a user runs it: exit codes, the files a finding
//! leaves, and `--replay` of such a file against the bug and without it.

use std::path::PathBuf;

mod cli_common;

use cli_common::{modspec, scratch, text};

#[test]
fn a_clean_run_exits_0_and_writes_no_finding() {
    let out = scratch("clean");
    let o = modspec(&["fuzz", "--runs", "300", "--seed", "2", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("cases=300") && text(&o).contains("findings=0"),
        "{}",
        text(&o)
    );
    // The folder is made (a nightly shard with no findings is still a
    // folder for `fuzz merge`), and stays empty.
    let written: Vec<_> = std::fs::read_dir(&out).expect("the --out folder").collect();
    assert!(written.is_empty(), "a clean run wrote {written:?}");
}

#[test]
fn a_finding_exits_1_and_replays_against_the_bug_only() {
    let out = scratch("finding");
    let o = modspec(&[
        "fuzz",
        "--runs",
        "400",
        "--mutant",
        "B1-vpc-in-allowed",
        "--max-findings",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
        .expect("findings folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    // Sorted: exchange, record (.finding.json, read by `fuzz merge`), scenario.
    assert_eq!(files.len(), 3, "{files:?}");
    let record = std::fs::read_to_string(&files[1]).expect("record");
    assert!(record.contains(r#""key": "B1/answer""#), "{record}");
    let exchange = std::fs::read_to_string(&files[0]).expect("exchange");
    assert!(exchange.contains("### disagreement"), "{exchange}");
    let signatures: Vec<&str> = exchange.split("Signature=").skip(1).collect();
    assert!(!signatures.is_empty(), "{exchange}");
    assert!(
        signatures.iter().all(|s| s.starts_with("<redacted>")),
        "a signature leaked: {exchange}"
    );
    let yaml = files[2].to_str().unwrap();
    assert!(yaml.ends_with(".yaml"), "{yaml}");
    let bug = modspec(&["fuzz", "--replay", yaml, "--mutant", "B1-vpc-in-allowed"]);
    assert_eq!(bug.status.code(), Some(1), "{}", text(&bug));
    let clean = modspec(&["fuzz", "--replay", yaml]);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_mutant_needs_the_embedded_server() {
    let o = modspec(&[
        "fuzz",
        "--runs",
        "1",
        "--mutant",
        "B1-vpc-in-allowed",
        "--target",
        "http://127.0.0.1:9/",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--mutant"), "{}", text(&o));
}

#[test]
fn an_unreachable_target_exits_2() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let url = format!("http://{closed}/");
    let o = modspec(&["fuzz", "--runs", "10", "--timeout", "1", "--target", &url]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("unreachable"), "{}", text(&o));
}
