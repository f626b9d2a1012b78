//! The corpus of broken case files under `tests/bad_cases/`: each file is
//! reported as one located error (`path:line:col: message`), none of them
//! stops the others, and the valid case beside them still runs and passes.
//! The error texts are snapshotted (`snapshots/errors/bad_cases.snap`) so
//! a change in wording or position is reviewed like code.

use std::path::{Path, PathBuf};

use modspec::commands::{RunOptions, run};
use modspec::report::ExitStatus;
use modspec::runner::Outcome;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The corpus plus the real default world in a throwaway cases folder (the
/// loader wants `world.yaml` at the root; a copy in the corpus would drift).
fn corpus() -> (PathBuf, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("modspec-bad-cases-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(manifest().join("cases/world.yaml"), dir.join("world.yaml")).unwrap();
    let mut names = Vec::new();
    for e in std::fs::read_dir(manifest().join("tests/bad_cases")).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::copy(&path, dir.join(&name)).unwrap();
        names.push(name.trim_end_matches(".yaml").to_string());
    }
    names.sort();
    (dir, names)
}

/// `path:line:col: message` with a path, line and column ≥ 1.
fn located(e: &str) -> Option<(&str, usize, usize)> {
    let mut it = e.splitn(4, ':');
    let (path, line, col, msg) = (it.next()?, it.next()?, it.next()?, it.next()?);
    let (line, col) = (line.parse().ok()?, col.parse().ok()?);
    (line >= 1 && col >= 1 && !msg.trim().is_empty()).then_some((path, line, col))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_case_file_is_located_and_the_good_one_still_passes() {
    let (dir, names) = corpus();
    assert!(names.len() >= 20, "the corpus lost files: {names:?}");
    let out = run(&RunOptions::embedded(dir.clone())).await;
    let good = out.results.iter().find(|r| r.id == "good").expect("the valid case ran");
    assert_eq!(good.outcome, Outcome::Pass, "{}", good.details());
    assert_eq!(out.summary.exit_status(), ExitStatus::CouldNotRun);
    assert_eq!(
        out.summary.failed, 0,
        "a broken case file is never a verdict on the target"
    );
    let root = format!("{}{}", dir.display(), std::path::MAIN_SEPARATOR);
    let mut lines = Vec::new();
    for name in names.iter().filter(|n| *n != "good") {
        let errors: Vec<String> = out
            .results
            .iter()
            .filter(|r| &r.id == name)
            .filter_map(|r| match &r.outcome {
                Outcome::Error(e) => Some(e.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(errors.len(), 1, "{name}: one error per broken file, got {errors:?}");
        let e = errors[0].as_str();
        let (path, line, _) = located(e).unwrap_or_else(|| panic!("{name}: not `path:line:col: message`: {e}"));
        assert_eq!(Path::new(path), dir.join(format!("{name}.yaml")), "{e}");
        let text = std::fs::read_to_string(dir.join(format!("{name}.yaml"))).unwrap();
        assert!(
            line <= text.lines().count().max(1),
            "{name}: line {line} is past the end: {e}"
        );
        lines.push(e.replace(&root, ""));
    }
    insta::with_settings!({
        snapshot_path => manifest().join("snapshots/errors"),
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!("bad_cases", lines.join("\n"));
    });
    let _ = std::fs::remove_dir_all(dir);
}
