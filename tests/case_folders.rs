//! Hostile case folders (issue 11 item 5), each run as a user would run
//! it: `modspec run --cases DIR` as a child process, measured with
//! `wait4` (wall time and peak RSS of exactly that child) and killed by a
//! watchdog if it outlives its bound. Every folder also holds one good case:
//! the hostile file becomes a named, located error and the good case still
//! passes (exit 2: the run was not done as asked, never a verdict).

mod measured;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use measured::{Ran, run_measured};

/// What every hostile run must stay within. Before the fixes these took
/// 4.9 GB and 80 s (a 20 MB file), 150 s (400 KB of nesting), forever (a
/// FIFO) or all memory (a link to /dev/zero).
const WALL: Duration = Duration::from_secs(20);
const RSS_MIB: u64 = 200;

const GOOD: &str = "description: a valid case beside the hostile one\nrules: [P3]\nsteps:\n  - request:\n      params: {InstanceId: i-running, InternetMaxBandwidthOut: \"101\"}\n    expect: P3\n";

/// A fresh folder holding `good.yaml` (and no world.yaml: the built-in
/// default world applies).
fn folder(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("modspec-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("good.yaml"), GOOD).unwrap();
    dir
}

/// Runs `modspec run --cases dir` and measures it.
fn run_cases(dir: &Path) -> Ran {
    measure("run", dir)
}

/// Runs `modspec <command> --cases dir` and measures it; the watchdog
/// kills it at twice the wall bound so a hang fails the test instead of
/// blocking it.
fn measure(command: &str, dir: &Path) -> Ran {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_modspec"));
    cmd.args([command, "--cases"]).arg(dir);
    run_measured(cmd, WALL * 2)
}

/// The bounds, the good case passing, and `words` in the error of `file`.
fn expect_refused(dir: &Path, file: &str, words: &[&str]) -> Ran {
    let r = run_cases(dir);
    let what = format!("{file}: {:?} {} MiB\n{}", r.wall, r.rss_mib, r.stdout);
    assert!(r.wall < WALL, "over the time bound: {what}");
    assert!(r.rss_mib < RSS_MIB, "over the memory bound: {what}");
    assert_eq!(r.code, Some(2), "a refused file is exit 2: {what}");
    assert!(r.stdout.contains("1 passed"), "the good case still runs: {what}");
    let error = r
        .stdout
        .lines()
        .find(|l| l.starts_with("ERROR") && l.contains(file))
        .unwrap_or_else(|| panic!("no error naming {file}: {what}"));
    for w in words {
        assert!(error.contains(w), "no `{w}` in `{error}`");
    }
    println!("{file}: refused in {:?}, peak RSS {} MiB: {error}", r.wall, r.rss_mib);
    let _ = std::fs::remove_dir_all(dir);
    r
}

#[test]
fn self_links_are_reported_as_loops_not_walked() {
    let dir = folder("links");
    std::os::unix::fs::symlink(".", dir.join("a")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("b")).unwrap();
    let r = run_cases(&dir);
    assert!(r.wall < WALL && r.rss_mib < RSS_MIB, "{:?} {} MiB", r.wall, r.rss_mib);
    assert_eq!(r.code, Some(2), "{}", r.stdout);
    let loops: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("a loop, not followed"))
        .collect();
    assert_eq!(loops.len(), 2, "each link once: {}", r.stdout);
    assert!(r.stdout.contains("1 passed, 0 failed, 2 errors"), "{}", r.stdout);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_link_to_a_case_file_inside_the_folder_is_read() {
    let dir = folder("file-link");
    std::os::unix::fs::symlink(dir.join("good.yaml"), dir.join("again.yaml")).unwrap();
    let r = run_cases(&dir);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(r.stdout.contains("2 passed"), "{}", r.stdout);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_fifo_is_refused_without_being_opened() {
    let dir = folder("fifo");
    let fifo = dir.join("p.yaml");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0);
    expect_refused(&dir, "p.yaml", &["not a regular file (a FIFO)"]);
}

#[test]
fn a_link_to_dev_zero_is_refused_without_being_read() {
    let dir = folder("zero");
    std::os::unix::fs::symlink("/dev/zero", dir.join("z.yaml")).unwrap();
    expect_refused(&dir, "z.yaml", &["/dev/zero", "not followed"]);
}

#[test]
fn a_20_mb_case_file_is_refused_before_it_is_read() {
    let dir = folder("big");
    let row = "  - {name: r, out: \"1\"}\n";
    let text = format!("{GOOD}examples:\n{}", row.repeat(20_000_000 / row.len()));
    std::fs::write(dir.join("big.yaml"), text).unwrap();
    expect_refused(&dir, "big.yaml:1:1", &["at most 1048576"]);
}

#[test]
fn deep_nesting_is_refused_before_parsing() {
    let dir = folder("nesting");
    let deep = format!("description: {}{}\n", "[".repeat(200_000), "]".repeat(200_000));
    std::fs::write(dir.join("deep.yaml"), deep).unwrap();
    expect_refused(&dir, "deep.yaml:1:78", &["nested deeper than 64 levels"]);
}

#[test]
fn deep_block_nesting_ends_in_a_located_error_within_the_bounds() {
    // Indentation nests too, where a case takes any value (`expect:` is
    // read as a YAML value first). Each level costs its indentation, so
    // the size limit bounds it (about 1,000 levels in 1 MiB), the scanner
    // is linear in it, and the parser's own depth limit refuses it.
    let dir = folder("block");
    let mut text =
        String::from("description: x\nsteps:\n  - request: {params: {InstanceId: i-running}}\n    expect:\n");
    for depth in 0..700 {
        text.push_str(&format!("{}a:\n", "  ".repeat(depth + 3)));
    }
    std::fs::write(dir.join("block.yaml"), &text).unwrap();
    assert!(text.len() < 1 << 20);
    expect_refused(&dir, "block.yaml:", &["recursion limit exceeded"]);
}

#[test]
fn many_examples_rows_share_their_world() {
    // 1 MiB of rows is about 40,000 trials. Each row used to carry its own
    // copy of the world; now they share one, and loading stays small
    // (`coverage` loads the library and runs nothing).
    let dir = folder("rows");
    let head = "description: many rows\nrules: [P3]\nsteps:\n  - request:\n      params: {InstanceId: i-running, InternetMaxBandwidthOut: \"${out}\"}\n    expect: P3\nexamples:\n";
    let mut text = head.to_string();
    let mut n = 0;
    while text.len() < (1 << 20) - 40 {
        text.push_str(&format!("  - {{name: r{n}, out: \"{}\"}}\n", 101 + n));
        n += 1;
    }
    std::fs::write(dir.join("rows.yaml"), &text).unwrap();
    let r = measure("coverage", &dir);
    println!("{n} rows: loaded in {:?}, peak RSS {} MiB", r.wall, r.rss_mib);
    let last = r.stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with(&format!("{} trials", n + 1)), "{last}");
    assert!(r.wall < WALL, "{n} rows took {:?}", r.wall);
    assert!(r.rss_mib < RSS_MIB, "{n} rows took {} MiB", r.rss_mib);
    let _ = std::fs::remove_dir_all(dir);
}
