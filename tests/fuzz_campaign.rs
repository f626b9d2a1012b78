//! `modspec fuzz` end to end through the library: no disagreement with the
//! reference server, identical findings for one seed, and planted bugs
//! found and written as scenarios that the runner fails against the bug and
//! passes against the unmutated server.
//!
//! Campaigns here run the server's handler in-process (no sockets) to stay
//! fast in debug builds; the findings are then checked with the runner over
//! HTTP, as `modspec run` would. CI also runs the release binary over
//! loopback (`.ci/run`).

use std::path::{Path, PathBuf};

use modspec::commands::{RunOptions, run};
use modspec::fuzz::FuzzReport;
use modspec::report::ExitStatus;
use modspec::spec::Mutant;

mod cli_common;

use cli_common::{campaign, go, runtime};

#[test]
fn the_reference_server_agrees_with_the_oracle_on_5000_cases() {
    let report = go(&runtime(), &campaign(1, 5000, None));
    assert_eq!(report.cases, 5000);
    assert!(report.requests > 10_000, "only {} requests", report.requests);
    let found: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{}\n{}", f.disagreement, f.scenario))
        .collect();
    assert!(found.is_empty(), "disagreements:\n{}", found.join("\n"));
}

#[test]
fn the_same_seed_gives_identical_findings() {
    let rt = runtime();
    let mut o = campaign(7, 2000, Some("P3-upper-accepts-101"));
    o.max_findings = 3;
    let a = go(&rt, &o);
    o.jobs = modspec::runner::Jobs::Fixed(13);
    let b = go(&rt, &o);
    let view = |r: &FuzzReport| -> Vec<(String, String)> {
        r.findings
            .iter()
            .map(|f| (f.name.clone(), f.scenario.clone()))
            .collect()
    };
    assert!(!a.findings.is_empty(), "the mutant was not found");
    assert_eq!(view(&a), view(&b));
    assert_eq!(a.disagreeing_cases, b.disagreeing_cases);
    o.seed = 8;
    assert_ne!(view(&a), view(&go(&rt, &o)), "another seed, other cases");
}

/// A fresh cases folder holding the default world and one finding.
fn cases_with(name: &str, scenario: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("modspec-fuzz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("found")).expect("mkdir");
    let world = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/world.yaml");
    std::fs::copy(world, root.join("world.yaml")).expect("copy world.yaml");
    std::fs::write(root.join("found").join(format!("{name}.yaml")), scenario).expect("write");
    root
}

fn verdict(rt: &tokio::runtime::Runtime, cases: &Path, mutant: Option<Mutant>) -> (ExitStatus, String) {
    let mut o = RunOptions::embedded(cases.to_path_buf());
    o.mutant = mutant;
    let out = rt.block_on(run(&o));
    let details: Vec<String> = out
        .results
        .iter()
        .map(|r| format!("{}: {:?}", r.id, r.outcome))
        .collect();
    (out.summary.exit_status(), details.join("\n"))
}

#[test]
fn planted_bugs_are_found_and_their_scenarios_fail_only_against_the_bug() {
    let rt = runtime();
    let mutants = [
        "P3-upper-accepts-101",
        "P2-token-65-accepted",
        "B1-vpc-in-allowed",
        "W-xml-error-content-type",
        "G9-v1-plus-not-decoded",
        "G10-nonce-unchecked",
        "T1-window-299s",
        "I3-replay-applies-again",
    ];
    let mut table = Vec::new();
    for name in mutants {
        let mut o = campaign(1, 20_000, Some(name));
        o.stop_at_first = true;
        o.max_findings = 1;
        let report = go(&rt, &o);
        let Some(f) = report.findings.first() else {
            panic!("{name}: no disagreement in 20,000 runs");
        };
        let cases = cases_with(&f.name, &f.scenario);
        let mutant = o.mutant;
        let (against_bug, details) = verdict(&rt, &cases, mutant);
        assert_eq!(
            against_bug,
            ExitStatus::Failed,
            "{name}: the finding passes against the bug\n{details}\n{}",
            f.scenario
        );
        let (clean, details) = verdict(&rt, &cases, None);
        assert_eq!(
            clean,
            ExitStatus::Passed,
            "{name}: the finding fails the reference\n{details}\n{}",
            f.scenario
        );
        let _ = std::fs::remove_dir_all(&cases);
        table.push(format!("{name:<28} found at case {:>5}: {}", f.index, f.disagreement));
    }
    eprintln!("{}", table.join("\n"));
}

/// Generated cases printed as scenarios pass against the reference server
/// under the runner, which checks more than the fuzzer does (the state of
/// every instance after every step, HostId, Message): the printed
/// scenarios, the model and the runner agree.
#[test]
fn generated_scenarios_pass_against_the_reference_server() {
    use arbitrary::Unstructured;
    use modspec::fuzz::{Profile, case_bytes, default_world, expected, generate, scenario_yaml};
    let defaults = default_world().expect("default world");
    let n: u64 = std::env::var("MODSPEC_FUZZ_SCENARIOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let root = cases_with("generated", "description: placeholder\nsteps: [{advance: 1}]\n");
    for i in 0..n {
        let bytes = case_bytes(21, i);
        let case = generate(&mut Unstructured::new(&bytes), Profile::FULL).expect("case");
        let (want, _) = expected(&case, case.world.world(defaults), true);
        let rule = want.last().map_or(modspec::spec::RuleId::E1, |e| e.rule);
        let yaml = scenario_yaml(&case, defaults, rule, &format!("generated case {i}"), &[]).expect("yaml");
        std::fs::write(root.join("found").join(format!("case-{i:05}.yaml")), yaml).expect("write");
    }
    let rt = runtime();
    let (status, details) = verdict(&rt, &root, None);
    let failed: Vec<&str> = details.lines().filter(|l| !l.ends_with(": Pass")).collect();
    assert_eq!(status, ExitStatus::Passed, "{}", failed.join("\n"));
    let _ = std::fs::remove_dir_all(&root);
}

/// A finding is keyed by the rule the oracle expected and the check that
/// failed, not by what the target answered: one planted bug is one finding,
/// however many cases showed it, and that finding's scenario fails against
/// the bug and passes against the reference.
#[test]
fn one_planted_bug_gives_one_finding_that_replays() {
    let rt = runtime();
    for name in ["P3-upper-accepts-101", "B1-vpc-in-allowed"] {
        let report = go(&rt, &campaign(3, 4000, Some(name)));
        let keys: Vec<String> = report
            .findings
            .iter()
            .map(|f| format!("{} ({} cases)", f.disagreement, f.count))
            .collect();
        assert_eq!(report.findings.len(), 1, "{name}: {keys:#?}");
        let f = &report.findings[0];
        assert!(f.count > 1, "{name}: {keys:?}");
        assert_eq!(f.count, report.disagreeing_cases, "{name}");
        let cases = cases_with(&f.name, &f.scenario);
        let mutant = Some(name.parse::<Mutant>().unwrap());
        assert_eq!(
            verdict(&rt, &cases, mutant).0,
            ExitStatus::Failed,
            "{name}: {}",
            f.scenario
        );
        assert_eq!(
            verdict(&rt, &cases, None).0,
            ExitStatus::Passed,
            "{name}: {}",
            f.scenario
        );
        let _ = std::fs::remove_dir_all(&cases);
    }
}
