//! The code map cannot go stale: ARCHITECTURE.md's "Dependencies" section
//! says which top-level modules each module may use, and this test reads
//! every `crate::` path in `src/` and fails on an edge the map does not
//! allow, on a module the map does not name, and on a cycle between files
//! of one module (`super::x` / `crate::m::x` edges).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The code of a file without comments and without its test module (a
/// test's `use super::*` is no dependency of the file).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The first segments of every path after `prefix` (`crate::`, `super::`),
/// grouped imports (`use crate::{a::x, b}`) included.
fn heads(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices(prefix) {
        let rest = &code[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => start = true,
                    c if start && depth == 1 && (c.is_ascii_alphabetic() || c == '_') => {
                        out.insert(ident_at(&group[j..]));
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let id = ident_at(rest);
            if !id.is_empty() {
                out.insert(id);
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to (`src/runner/exec.rs` → runner).
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .to_string();
    first.trim_end_matches(".rs").to_string()
}

/// `- `module` uses: `a`, `b`` lines of ARCHITECTURE.md "## Dependencies".
fn the_map() -> BTreeMap<String, BTreeSet<String>> {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let section = doc
        .split("\n## Dependencies")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"## Dependencies\" section");
    let section = section.split("\n## ").next().unwrap_or_default();
    let mut map = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("- `")) {
        let (module, rest) = line[3..].split_once('`').unwrap();
        let uses = rest.split_once("uses:").map_or("", |(_, u)| u);
        let allowed = uses
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect::<BTreeSet<_>>();
        map.insert(module.to_string(), allowed);
    }
    map
}

#[test]
fn every_module_edge_is_on_the_map() {
    let src = root().join("src");
    let map = the_map();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut bad = Vec::new();
    for file in files
        .iter()
        .filter(|f| !f.ends_with("main.rs") && !f.starts_with(src.join("cli")))
    {
        let from = top_module(&src, file);
        if from == "lib" {
            continue;
        }
        let Some(allowed) = map.get(&from) else {
            bad.push(format!("module `{from}` ({}) is not on the map", file.display()));
            continue;
        };
        for to in heads(&code(file), "crate::") {
            if to != from && !allowed.contains(&to) {
                let rel = file.strip_prefix(root()).unwrap().display().to_string();
                bad.push(format!("{rel}: `{from}` uses `{to}`, which the map does not allow"));
            }
        }
    }
    assert!(bad.is_empty(), "ARCHITECTURE.md \"Dependencies\":\n{}", bad.join("\n"));
}

#[test]
fn the_map_names_every_module_of_lib_rs() {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let declared: BTreeSet<String> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';').to_string())
        .collect();
    let mapped: BTreeSet<String> = the_map().keys().cloned().collect();
    assert_eq!(declared, mapped, "lib.rs modules vs ARCHITECTURE.md \"Dependencies\"");
}

/// The file a `super::name` or same-module `crate::m::name` path names.
fn sibling(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(format!("{name}.rs")), dir.join(name).join("mod.rs")]
        .into_iter()
        .find(|p| p.exists())
}

#[test]
fn no_cycle_between_the_files_of_a_module() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for file in &files {
        // mod.rs files are their module's root: they declare and re-export.
        if file.ends_with("mod.rs") || file.ends_with("lib.rs") || file.ends_with("main.rs") {
            continue;
        }
        let dir = file.parent().unwrap();
        let code = code(file);
        let mut to: BTreeSet<PathBuf> = heads(&code, "super::").iter().filter_map(|n| sibling(dir, n)).collect();
        let top = top_module(&src, file);
        let prefix = format!("crate::{top}::");
        if dir != src {
            to.extend(heads(&code, &prefix).iter().filter_map(|n| sibling(&src.join(&top), n)));
        }
        to.remove(file);
        edges.insert(file.clone(), to);
    }
    // Depth-first search for a back edge.
    fn visit(
        f: &PathBuf,
        edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        path: &mut Vec<PathBuf>,
        done: &mut BTreeSet<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        if let Some(i) = path.iter().position(|p| p == f) {
            return Some(path[i..].to_vec());
        }
        if !done.insert(f.clone()) {
            return None;
        }
        path.push(f.clone());
        for t in edges.get(f).into_iter().flatten() {
            if let Some(c) = visit(t, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for f in edges.keys() {
        if let Some(cycle) = visit(f, &edges, &mut Vec::new(), &mut done) {
            let names: Vec<_> = cycle
                .iter()
                .map(|p| p.strip_prefix(root()).unwrap().display().to_string())
                .collect();
            panic!("a cycle between files: {}", names.join(" -> "));
        }
    }
}

#[test]
fn the_scanner_reads_grouped_imports() {
    let code = "use crate::{spec::X, wire::{a, b}};\nuse crate::client::Y;\nlet z = crate::util::f();";
    let found: Vec<_> = heads(code, "crate::").into_iter().collect();
    assert_eq!(found, ["client", "spec", "util", "wire"]);
}
