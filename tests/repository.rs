//! The repository stands alone: no tracked file refers to a path outside
//! it (a clone has nothing beside it), and every relative link of the
//! documentation points at a file that exists.
//!
//! Files are listed with `git ls-files` when the tree is a git checkout,
//! else by walking it (CI also runs the tests in a plain copy of the tracked
//! tree), skipping build output and installed tools either way.

use std::path::{Component, Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../`, spelled so that this file does not itself contain what it
/// looks for.
const UP: &str = concat!(".", "./");

/// Folders that hold what a build or an installer made, never sources.
const SKIPPED_DIRS: &[&str] = &[
    "target",
    ".git",
    ".venv",
    "node_modules",
    "corpus",
    "artifacts",
    "__pycache__",
];

fn tracked_files() -> Vec<PathBuf> {
    let git = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root())
        .output();
    if let Ok(out) = git {
        if out.status.success() && !out.stdout.is_empty() {
            return out
                .stdout
                .split(|b| *b == 0)
                .filter(|p| !p.is_empty())
                .map(|p| root().join(String::from_utf8_lossy(p).as_ref()))
                .filter(|p| p.is_file())
                .collect();
        }
    }
    let mut out = Vec::new();
    walk(&root(), &mut out);
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        match e.file_type() {
            Ok(t) if t.is_dir() && !SKIPPED_DIRS.contains(&name.as_str()) => walk(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

/// Resolves `rel` against `dir` lexically; `None` if it climbs above `root`.
fn resolve_inside(root: &Path, dir: &Path, rel: &str) -> Option<PathBuf> {
    let mut parts: Vec<Component> = dir.strip_prefix(root).ok()?.components().collect();
    for c in Path::new(rel).components() {
        match c {
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            other => parts.push(other),
        }
    }
    Some(parts.iter().fold(root.to_path_buf(), |p, c| p.join(c)))
}

/// Every `../…` path written in `text`: from the first `../` to the first
/// character that cannot belong to a path.
fn parent_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(UP) {
        // Back up over earlier `./` and `../` of the same path.
        let start = rest[..i]
            .rfind(|c: char| !matches!(c, '.' | '/'))
            .map_or(0, |j| j + rest[j..].chars().next().map_or(1, char::len_utf8));
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '_' | '-')))
            .unwrap_or(tail.len());
        found.push(tail[..end].to_string());
        // `end` covers at least the `../` found, so the scan moves on.
        rest = &tail[end.max(3)..];
    }
    found
}

#[test]
fn no_tracked_file_refers_outside_the_repository() {
    let root = root();
    let files = tracked_files();
    assert!(
        files.len() > 50,
        "only {} files found under {}",
        files.len(),
        root.display()
    );
    let mut outside = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let dir = file.parent().unwrap_or(&root);
        let is_doc = file.extension().is_some_and(|e| e == "md");
        for (n, line) in text.lines().enumerate() {
            // A documented example of a case file's first line: its path is
            // relative to that case file (under cases/<folder>/), not to the
            // document that shows it.
            if is_doc && line.contains(&format!("$schema={UP}{UP}schema.json")) {
                continue;
            }
            for rel in parent_paths(line) {
                if resolve_inside(&root, dir, &rel).is_none() {
                    let shown = file.strip_prefix(&root).unwrap_or(file).display().to_string();
                    outside.push(format!("{shown}:{}: {rel}", n + 1));
                }
            }
        }
    }
    assert!(
        outside.is_empty(),
        "tracked files refer to paths outside the repository (a clone has nothing beside it):\n{}",
        outside.join("\n")
    );
}

/// Relative targets of Markdown links `[text](target)` in `text`.
fn markdown_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        let tail = &rest[i + 2..];
        if let Some(end) = tail.find(')') {
            let target = tail[..end].split('#').next().unwrap_or_default().trim();
            let external = target.contains("://") || target.starts_with("mailto:");
            if !target.is_empty() && !external && !target.contains(' ') {
                out.push(target.to_string());
            }
        }
        rest = tail;
    }
    out
}

#[test]
fn relative_links_in_the_documentation_point_at_files_that_exist() {
    let root = root();
    let mut broken = Vec::new();
    let docs: Vec<PathBuf> = tracked_files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    assert!(
        docs.iter().any(|d| d.ends_with("docs/spec/behaviour.md")),
        "docs/spec/behaviour.md is missing"
    );
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap_or_default();
        let dir = doc.parent().unwrap_or(&root);
        for link in markdown_links(&text) {
            let ok = resolve_inside(&root, dir, &link).is_some_and(|p| p.exists());
            if !ok {
                broken.push(format!("{}: {link}", doc.strip_prefix(&root).unwrap_or(doc).display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken relative links:\n{}", broken.join("\n"));
}

#[test]
fn the_contract_is_in_the_repository() {
    for f in ["behaviour.md", "control-protocol.md", "vectors.json"] {
        let p = root().join("docs/spec").join(f);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(text.len() > 1000, "{} is too short to be the contract", p.display());
    }
}

#[test]
fn the_scanners_find_what_they_look_for() {
    let shared = format!("{UP}shared/spec/x.md");
    assert_eq!(parent_paths(&format!("see `{shared}`.")), [shared]);
    let twice = format!("./{UP}{UP}b");
    assert_eq!(parent_paths(&format!("a {twice} c")), [twice]);
    assert!(parent_paths("no parent here").is_empty());
    let root = Path::new("/r");
    assert!(resolve_inside(root, Path::new("/r/a"), &format!("{UP}b")).is_some());
    assert!(resolve_inside(root, Path::new("/r/a"), &format!("{UP}{UP}b")).is_none());
    assert_eq!(
        markdown_links("[a](docs/x.md#s) [b](https://e.org) [c](y)"),
        ["docs/x.md", "y"]
    );
}
