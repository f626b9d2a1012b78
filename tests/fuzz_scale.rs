//! Fuzzing at scale: shards partition one seed's campaign, `merge`
//! deduplicates findings by key and tells new from known against a
//! baseline, and the campaign reaches every rule of behaviour.md section 3.
//!
//! Campaigns run the reference server's handler in-process with a planted
//! mutant, as tests/fuzz_campaign.rs does, to stay fast in debug builds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use modspec::fuzz::{Boundary, FuzzOptions, FuzzReport, Shard, merge};
use modspec::spec::RuleId;

mod cli_common;

use cli_common::{go, modspec, runtime, scratch};

/// The shared campaign, with findings kept, case indices recorded and
/// written to `out`.
fn campaign(seed: u64, runs: u64, mutant: Option<&str>, out: Option<&Path>) -> FuzzOptions {
    let mut o = cli_common::campaign(seed, runs, mutant);
    o.max_findings = 50;
    o.record_indices = true;
    o.out = out.map(Path::to_path_buf);
    o
}

fn keys(r: &FuzzReport) -> BTreeMap<String, u64> {
    r.findings.iter().map(|f| (f.key.clone(), f.count)).collect()
}

#[test]
fn three_shards_run_the_unsharded_cases_once_and_merge_to_its_keys() {
    let rt = runtime();
    // Two bugs at once give more than one key to partition.
    let mutant = "P5-before-P3";
    let whole = go(&rt, &campaign(5, 900, Some(mutant), Some(&scratch("whole"))));
    assert_eq!(whole.ran.len() as u64, whole.cases);
    assert!(!whole.findings.is_empty(), "the mutant was not found in 900 cases");
    let mut union = Vec::new();
    let mut dirs = Vec::new();
    let mut summed: BTreeMap<String, u64> = BTreeMap::new();
    for k in 1..=3 {
        let dir = scratch(&format!("shard{k}"));
        let mut o = campaign(5, 900, Some(mutant), Some(&dir));
        o.shard = Shard::new(k, 3).expect("shard");
        let r = go(&rt, &o);
        assert!(
            r.ran.iter().all(|i| i % 3 == k - 1),
            "shard {k} ran another shard's case"
        );
        for f in &r.findings {
            assert!(f.name.contains(&format!("-k{k}of3-")), "{}", f.name);
            *summed.entry(f.key.clone()).or_default() += f.count;
        }
        union.extend(r.ran);
        dirs.push(dir);
    }
    let before = union.len();
    union.sort_unstable();
    union.dedup();
    assert_eq!(union.len(), before, "two shards ran one case");
    assert_eq!(union, whole.ran, "the shards' union is not the unsharded run");
    assert_eq!(summed, keys(&whole), "per-key case counts differ");

    let out = scratch("merged");
    let merged = merge(&dirs, &out, None).expect("merge");
    let got: BTreeMap<String, u64> = merged.findings.iter().map(|f| (f.key.clone(), f.count)).collect();
    assert_eq!(got, keys(&whole), "merge gave another key set");
    assert!(
        merged.findings.iter().all(|f| f.new),
        "without a baseline every key is new"
    );
    // Each kept reproducer is there, with its record and exchange.
    for f in &merged.findings {
        for ext in ["yaml", "exchange.txt", "finding.json"] {
            assert!(out.join(format!("{}.{ext}", f.name)).is_file(), "{} {ext}", f.name);
        }
    }
}

#[test]
fn a_baseline_with_one_planted_bug_makes_exactly_the_other_new() {
    let rt = runtime();
    let (a, b) = (scratch("bug-a"), scratch("bug-b"));
    let ra = go(&rt, &campaign(2, 600, Some("B1-vpc-in-allowed"), Some(&a)));
    let rb = go(&rt, &campaign(2, 600, Some("P3-upper-accepts-101"), Some(&b)));
    let (ka, kb) = (keys(&ra), keys(&rb));
    assert!(
        !ka.is_empty() && !kb.is_empty(),
        "a planted bug was not found: {ka:?} {kb:?}"
    );
    assert!(
        ka.keys().all(|k| !kb.contains_key(k)),
        "the bugs share a key: {ka:?} {kb:?}"
    );
    // One planted bug gives one finding.
    assert_eq!((ka.len(), kb.len()), (1, 1), "{ka:?} {kb:?}");

    let baseline = scratch("baseline");
    merge(std::slice::from_ref(&a), &baseline, None).expect("baseline");
    let out = scratch("tonight");
    let report = merge(&[a.clone(), b.clone()], &out, Some(&baseline)).expect("merge");
    let new: BTreeSet<&str> = report.new_keys().into_iter().collect();
    assert_eq!(new, kb.keys().map(String::as_str).collect(), "new keys");
    let listed = std::fs::read_to_string(out.join("new.txt")).expect("new.txt");
    assert_eq!(listed.lines().collect::<BTreeSet<_>>(), new);
    // Against its own merge as baseline, nothing is new.
    let again = merge(&[a, b], &scratch("again"), Some(&out)).expect("merge");
    assert!(again.new_keys().is_empty(), "{:?}", again.new_keys());
}

#[test]
fn ten_thousand_cases_reach_every_rule_of_section_3() {
    let r = go(&runtime(), &campaign(1, 10_000, None, None));
    assert!(r.findings.is_empty(), "the reference disagreed: {:?}", keys(&r));
    let missing: Vec<String> = r.coverage.missing().iter().map(RuleId::to_string).collect();
    assert!(missing.is_empty(), "never reached: {missing:?}\n{}", r.coverage.table());
    assert_eq!(r.coverage.fired.values().sum::<u64>(), r.requests);
    // Steered, every edge of section 3's ranges is met as well.
    let edges = r.coverage.boundaries_missing();
    assert!(edges.is_empty(), "never reached: {edges:?}\n{}", r.coverage.table());
    assert!(r.coverage.pair(RuleId::A4, RuleId::T1) > 0, "{}", r.coverage.table());
}

#[test]
fn a_timed_campaign_logged_to_a_file_prints_progress_and_writes_the_summary() {
    let dir = scratch("timed");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let json = dir.join("s.json");
    // Output is a pipe here, as in a CI log: progress lines, no bar.
    let o = modspec(&[
        "fuzz",
        "--time",
        "10s",
        "--jobs",
        "8",
        "--json",
        json.to_str().unwrap(),
        "--out",
        dir.join("found").to_str().unwrap(),
    ]);
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let lines = err.lines().filter(|l| l.starts_with("fuzz progress: ")).count();
    assert!(lines >= 2, "{lines} progress lines in 10 s:\n{err}");
    assert!(out.contains("spec coverage") && out.contains("  E1 "), "{out}");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("s.json")).expect("JSON");
    assert!(doc["cases"].as_u64().unwrap_or(0) > 0, "{doc}");
    assert!(doc["requests_per_second"].as_f64().unwrap_or(0.0) > 0.0, "{doc}");
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(0), "{doc}");
    let coverage = doc["coverage"].as_array().expect("coverage");
    assert_eq!(coverage.len(), RuleId::all().count());
    let fired: u64 = coverage.iter().map(|r| r["fired"].as_u64().unwrap_or(0)).sum();
    assert_eq!(fired, doc["requests"].as_u64().unwrap_or(0), "{doc}");
    assert_eq!(doc["steered"], true, "{doc}");
    let boundaries = doc["boundaries"].as_array().expect("boundaries");
    assert_eq!(boundaries.len(), Boundary::ALL.len());
    assert!(
        boundaries
            .iter()
            .all(|b| b["rule"].is_string() && b["reached"].is_u64())
    );
    let pairs = doc["precedence_pairs"].as_array().expect("precedence_pairs");
    assert!(!pairs.is_empty(), "{doc}");
    assert!(pairs.iter().all(|p| p["winner"] != p["runner_up"]), "{doc}");
    assert!(
        out.contains("boundaries (requests") && out.contains("precedence pairs"),
        "{out}"
    );
}

#[test]
fn merge_exit_codes_say_whether_anything_is_new() {
    let dir = scratch("cli-merge");
    let found = dir.join("found");
    let o = modspec(&[
        "fuzz",
        "--mutant",
        "B1-vpc-in-allowed",
        "--runs",
        "300",
        "--shard",
        "2/2",
        "--out",
        found.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    let merged = dir.join("merged");
    let (f, m) = (found.to_str().unwrap(), merged.to_str().unwrap());
    let first = modspec(&["fuzz", "merge", f, "--out", m]);
    let text = String::from_utf8_lossy(&first.stdout);
    assert_eq!(first.status.code(), Some(1), "new findings: {text}");
    assert!(text.contains("new   B1/answer") && text.contains("shard=2/2"), "{text}");
    let again = modspec(&[
        "fuzz",
        "merge",
        f,
        "--out",
        dir.join("again").to_str().unwrap(),
        "--baseline",
        m,
    ]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    let missing = modspec(&["fuzz", "merge", dir.join("nothing").to_str().unwrap(), "--out", m]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("is not a folder"));
    let bad = modspec(&["fuzz", "--shard", "4/3", "--runs", "1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid shard"));
}

#[test]
fn replaying_a_finding_the_target_cannot_run_exits_2() {
    let dir = scratch("cannot-run");
    let o = modspec(&[
        "fuzz",
        "--mutant",
        "G9-signature-unchecked",
        "--runs",
        "400",
        "--max-findings",
        "1",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    let yaml = std::fs::read_dir(&dir)
        .expect("findings")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "yaml"))
        .expect("a scenario");
    // A server that checks no signature cannot run a G9 finding.
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_modspec"))
        .args(["serve", "--no-auth", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    let stdout = server.stdout.take().expect("stdout");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("address");
    let url = format!("http://{}/", line.trim());
    let replay = modspec(&["fuzz", "--replay", yaml.to_str().unwrap(), "--target", &url]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(
        replay.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&replay.stdout)
    );
    assert!(String::from_utf8_lossy(&replay.stderr).contains("could not be replayed"));
}
