//! The binary on its own (issue 8): run from an empty directory it uses
//! the built-in case library; `cases export` writes that library out and
//! `--cases` runs it (or a folder of findings without a world.yaml, or
//! several folders); `rules` lists exactly the rules of
//! docs/spec/behaviour.md section 3; snapshot names never collide and
//! never overflow the file system's name limit.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use modspec::scenario::load_builtin;

/// An empty directory of its own: nothing of the checkout is reachable
/// through relative paths from there.
fn empty_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("modspec-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn modspec(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_modspec"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn all_passed(o: &Output, n: usize) {
    let out = stdout(o);
    let last = out.lines().last().unwrap_or_default();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        last.starts_with(&format!("{n} passed, 0 failed, 0 errors, 0 skipped")),
        "{last}"
    );
}

const FINDING: &str = "# Found by `modspec fuzz --seed 1` (case 7).\ndescription: 'fuzz finding: 0 Answer: expected 400 InvalidParameter (P3)'\nrules: [P3]\nworld:\n  instances:\n    - {instance_id: i-running, internet_max_bandwidth_out: 7}\nsteps:\n  - request:\n      params: {InstanceId: i-running, InternetMaxBandwidthOut: \"+101\"}\n    expect: P3\n";

#[test]
fn the_built_in_library_runs_from_anywhere_and_exports_to_a_folder_that_runs_the_same() {
    let n = load_builtin().trials.len();
    assert!(n > 600, "{n} built-in trials");
    let dir = empty_dir("standalone");
    all_passed(&modspec(&dir, &["run"]), n);
    let export = modspec(&dir, &["cases", "export", "lib"]);
    assert_eq!(export.status.code(), Some(0), "{}", stdout(&export));
    assert!(
        stdout(&export).contains("README.md (the format), schema.json"),
        "{}",
        stdout(&export)
    );
    assert!(dir.join("lib/world.yaml").is_file() && dir.join("lib/schema.json").is_file());
    all_passed(&modspec(&dir, &["run", "--cases", "lib"]), n);
    // Exporting again refuses and names what exists; --force overwrites.
    let again = modspec(&dir, &["cases", "export", "lib"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exist already (--force overwrites them)"));
    assert_eq!(
        modspec(&dir, &["cases", "export", "lib", "--force"]).status.code(),
        Some(0)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn coverage_schema_and_fuzz_work_from_anywhere() {
    let dir = empty_dir("anywhere");
    let coverage = modspec(&dir, &["coverage"]);
    assert_eq!(coverage.status.code(), Some(0), "{}", stdout(&coverage));
    assert!(
        stdout(&coverage).ends_with(", 0 empty cells\n"),
        "{}",
        stdout(&coverage)
    );
    let schema = modspec(&dir, &["schema"]);
    assert_eq!(stdout(&schema).trim_end(), modspec::scenario::BUILTIN_SCHEMA.trim_end());
    let fuzz = modspec(&dir, &["fuzz", "--runs", "200", "--out", "f"]);
    assert_eq!(fuzz.status.code(), Some(0), "{}", stdout(&fuzz));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_folder_of_findings_without_a_world_runs_and_several_folders_keep_distinct_ids() {
    let dir = empty_dir("findings");
    for sub in ["fuzz-findings", "more"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        std::fs::write(dir.join(sub).join("P3-answer-s1-c7.yaml"), FINDING).unwrap();
    }
    let one = modspec(&dir, &["run", "--cases", "fuzz-findings", "-v"]);
    all_passed(&one, 1);
    assert!(stdout(&one).contains("pass  P3-answer-s1-c7"), "{}", stdout(&one));
    let two = modspec(&dir, &["run", "--cases", "fuzz-findings", "--cases", "./more/", "-v"]);
    all_passed(&two, 2);
    for id in ["fuzz-findings/P3-answer-s1-c7", "more/P3-answer-s1-c7"] {
        assert!(stdout(&two).contains(&format!("pass  {id}\n")), "{}", stdout(&two));
    }
    // The same folder twice: the second copy is a named collision, not a
    // silent duplicate.
    let twice = modspec(&dir, &["run", "--cases", "more", "--cases", "more"]);
    assert_eq!(twice.status.code(), Some(2), "{}", stdout(&twice));
    assert!(stdout(&twice).contains("is also that of"), "{}", stdout(&twice));
    let _ = std::fs::remove_dir_all(dir);
}

/// (id, heading) of every rule row in docs/spec/behaviour.md section 3.
fn rules_in_behaviour_md() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/spec/behaviour.md");
    let text = std::fs::read_to_string(path).unwrap();
    let section = text
        .split("\n## 3.")
        .nth(1)
        .and_then(|s| s.split("\n## 4.").next())
        .expect("behaviour.md has sections 3 and 4");
    let mut heading = String::new();
    let mut out = Vec::new();
    for line in section.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            heading = h.trim().to_string();
        }
        let first = line.strip_prefix('|').and_then(|l| l.split('|').next()).map(str::trim);
        if let Some(id) = first.filter(|c| is_rule_id(c)) {
            out.push((id.to_string(), heading.clone()));
        }
    }
    out
}

fn is_rule_id(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_uppercase()) && !s[1..].is_empty() && s[1..].chars().all(|d| d.is_ascii_digit())
}

#[test]
fn rules_lists_the_rules_table_and_every_rule_of_behaviour_md_section_3() {
    let documented = rules_in_behaviour_md();
    assert!(
        documented.len() > 40,
        "the section 3 tables were not found: {documented:?}"
    );
    let out = modspec(&empty_dir("rules"), &["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let listed: Vec<(String, String)> = stdout(&out)
        .lines()
        .filter(|l| l.split(' ').next().is_some_and(is_rule_id))
        .map(|l| {
            let id = l.split(' ').next().unwrap_or_default().to_string();
            (id, l.rsplit("  ").next().unwrap_or_default().to_string())
        })
        .collect();
    let table: Vec<String> = modspec::spec::RuleId::all().map(|r| r.to_string()).collect();
    let listed_ids: Vec<String> = listed.iter().map(|(id, _)| id.clone()).collect();
    let documented_ids: Vec<String> = documented.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(listed_ids, table, "`modspec rules` and spec::RULES differ");
    assert_eq!(
        documented_ids, table,
        "behaviour.md section 3 and spec::RULES differ (order included)"
    );
    assert_eq!(
        listed, documented,
        "a rule is listed under another heading than behaviour.md's"
    );
}

#[test]
fn one_rule_shows_its_aliases_and_an_unknown_id_gets_a_hint() {
    let dir = empty_dir("rule");
    let g3 = stdout(&modspec(&dir, &["rules", "G3"]));
    assert!(g3.starts_with("G3  500 InvalidAction\n"), "{g3}");
    assert!(g3.contains("404 InvalidApi.NotFound"), "{g3}");
    let t1 = stdout(&modspec(&dir, &["rules", "t1"]));
    assert!(t1.contains("aliases:  none"), "{t1}");
    let bad = modspec(&dir, &["rules", "T2"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown rule id `T2` (did you mean `T1`?)"));
}

/// Files in `dir` ending in `.snap`.
fn snaps(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".snap"))
        .collect()
}

#[test]
fn snapshot_names_are_one_per_trial_and_bounded_in_length() {
    let dir = empty_dir("snapnames");
    let cases = dir.join("cases");
    std::fs::create_dir_all(cases.join("bandwidth")).unwrap();
    let balance = load_builtin()
        .trials
        .iter()
        .filter(|t| t.id.starts_with("bandwidth/balance::"))
        .count();
    let builtin = modspec::scenario::builtin_files()
        .find(|(rel, _)| *rel == "bandwidth/balance.yaml")
        .unwrap()
        .1;
    std::fs::write(cases.join("bandwidth/balance.yaml"), builtin).unwrap();
    // The first naming scheme gave this file the name of the row
    // `bandwidth/balance::out-increase`.
    std::fs::write(cases.join("bandwidth__balance--out-increase.yaml"), FINDING).unwrap();
    // The longest file name there is (255 bytes), in a folder: its id and
    // the first scheme's name are longer than a file name may be.
    std::fs::create_dir_all(cases.join("long")).unwrap();
    std::fs::write(cases.join("long").join(format!("{}.yaml", "x".repeat(250))), FINDING).unwrap();
    let trials = balance + 2;
    let first = modspec(&dir, &["run", "--cases", "cases", "--snapshots", "snaps"]);
    let out = stdout(&first);
    assert_eq!(first.status.code(), Some(0), "{out}");
    assert!(
        out.contains(&format!("snapshots: {trials} written to snaps, 0 changed")),
        "{out}"
    );
    let names = snaps(&dir.join("snaps"));
    assert_eq!(names.len(), trials, "one file per trial: {names:?}");
    assert!(names.iter().all(|n| n.len() + ".new".len() <= 255), "{names:?}");
    assert!(
        names.contains("bandwidth__balance--out-increase.snap"),
        "built-in names stay"
    );
    let again = stdout(&modspec(&dir, &["run", "--cases", "cases", "--snapshots", "snaps"]));
    assert!(again.contains(", 0 changed"), "a second run changes nothing: {again}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn two_files_with_one_id_are_a_load_error_and_an_unwritable_snapshot_folder_is_named() {
    let dir = empty_dir("collide");
    std::fs::create_dir_all(dir.join("cases")).unwrap();
    std::fs::write(dir.join("cases/x.yaml"), FINDING).unwrap();
    std::fs::write(dir.join("cases/x.yml"), FINDING).unwrap();
    std::fs::write(dir.join("not-a-folder"), "").unwrap();
    let o = modspec(&dir, &["run", "--cases", "cases", "--snapshots", "not-a-folder"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains("ERROR x: cases/x.yml:1:1: the trial id `x` is also that of cases/x.yaml"),
        "{out}"
    );
    assert!(out.contains("run error: snapshots: cannot write not-a-folder"), "{out}");
    assert!(
        out.contains("1 passed, 0 failed, 1 errors"),
        "the summary is printed: {out}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
