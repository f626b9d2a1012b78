//! Compiles the built-in case library into the binary: every `*.yaml` under
//! `cases/` becomes an entry of `BUILTIN_FILES` (its path relative to
//! `cases/`, its text through `include_str!`), so `modspec run` works from
//! any directory. Cargo reruns this when anything under `cases/` changes
//! (a directory given to `rerun-if-changed` is scanned as a whole).

use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let cases = root.join("cases");
    println!("cargo:rerun-if-changed=cases");
    println!("cargo:rerun-if-changed=schema.json");
    let mut files = Vec::new();
    collect(&cases, &mut files);
    files.sort();
    let mut out = String::from(
        "/// The built-in case files: (path relative to `cases/`, text), sorted by path.\n\
         pub(crate) static BUILTIN_FILES: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        let rel = file
            .strip_prefix(&cases)
            .expect("collected under cases/")
            .to_string_lossy()
            .replace('\\', "/");
        // Relative to CARGO_MANIFEST_DIR, never absolute: a copy of the tree
        // elsewhere that shares this target directory (CI's stand-alone
        // test) gets the same OUT_DIR, so this file must name neither tree.
        let path = format!("/cases/{rel}");
        out.push_str(&format!(
            "    ({rel:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {path:?}))),\n"
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin_cases.rs");
    std::fs::write(&dest, out).expect("write builtin_cases.rs");
}

/// Regular `*.yaml` files only: the repository's own tree, walked without
/// following links.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("a directory entry");
        let kind = entry.file_type().expect("a file type");
        let path = entry.path();
        if kind.is_dir() {
            collect(&path, out);
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}
