//! The built-in case library: this repository's `cases/` (its default
//! world, its README) and `schema.json`, compiled into the binary by
//! `build.rs`, so an installed `modspec` runs the suite from any directory.
//! `modspec cases export DIR` writes them out for a user to extend.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::error::LoadError;
use super::load::{DEFAULT_WORLD_FILE, load_text};
use super::trial::Library;
use crate::spec::World;

include!(concat!(env!("OUT_DIR"), "/builtin_cases.rs"));

/// The path under which reports and errors name a built-in file
/// (`<built-in>/cases/params/out-range.yaml`): it is `cases/` of the
/// repository, and no file in the working directory.
pub const BUILTIN_ROOT: &str = "<built-in>/cases";

/// `schema.json` of the repository (equal to what `modspec schema` prints;
/// a unit test keeps the two the same).
pub const BUILTIN_SCHEMA: &str = include_str!("../../schema.json");

const BUILTIN_README: &str = include_str!("../../cases/README.md");

/// The built-in case files as (path relative to `cases/`, text), sorted,
/// the default world (`world.yaml`) included.
pub fn builtin_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    BUILTIN_FILES.iter().copied()
}

fn builtin_path(rel: &str) -> PathBuf {
    PathBuf::from(format!("{BUILTIN_ROOT}/{rel}"))
}

/// The built-in default world (`cases/world.yaml`), parsed once.
pub fn builtin_default_world() -> Result<&'static World, LoadError> {
    static WORLD: OnceLock<Result<World, LoadError>> = OnceLock::new();
    WORLD
        .get_or_init(|| {
            let text = builtin_files()
                .find(|(rel, _)| *rel == DEFAULT_WORLD_FILE)
                .map(|(_, t)| t)
                .unwrap_or_default();
            super::walk::parse_defaults(&builtin_path(DEFAULT_WORLD_FILE), text)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Loads the built-in library. Trial ids are the paths under `cases/`
/// without the extension, exactly as when `cases/` is loaded as a folder.
pub fn load_builtin() -> Library {
    let mut lib = Library::default();
    let defaults = match builtin_default_world() {
        Ok(w) => w,
        Err(e) => {
            lib.errors.push(e);
            return lib;
        }
    };
    for (rel, text) in builtin_files().filter(|(rel, _)| *rel != DEFAULT_WORLD_FILE) {
        let id = rel.trim_end_matches(".yaml");
        match load_text(id, &builtin_path(rel), text, defaults) {
            Ok(trials) => lib.trials.extend(trials),
            Err(e) => lib.errors.push(e.with_id(id)),
        }
    }
    super::naming::refuse_name_collisions(&mut lib);
    lib
}

/// What `cases export` could not do.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{} file(s) exist already (--force overwrites them): {}", .0.len(), list(.0))]
    Exists(Vec<PathBuf>),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

fn list(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().take(5).map(|p| p.display().to_string()).collect();
    let more = paths.len().saturating_sub(5);
    match more {
        0 => shown.join(", "),
        n => format!("{} and {n} more", shown.join(", ")),
    }
}

/// The files `cases export` writes: every built-in case file (its schema
/// line pointing at the exported `schema.json`), the README and the schema.
fn export_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = builtin_files()
        .map(|(rel, text)| (rel.to_string(), relink_schema(rel, text)))
        .collect();
    files.push(("README.md".into(), BUILTIN_README.into()));
    files.push(("schema.json".into(), BUILTIN_SCHEMA.into()));
    files
}

/// In the repository a case file at `cases/a/b.yaml` names the schema at
/// the repository root; exported, the schema sits at the export's root.
fn relink_schema(rel: &str, text: &str) -> String {
    const MODELINE: &str = "# yaml-language-server: $schema=";
    match text.strip_prefix(MODELINE) {
        Some(rest) => {
            let after = rest.find('\n').map_or("", |i| &rest[i..]);
            let up = "../".repeat(rel.matches('/').count());
            format!("{MODELINE}{up}schema.json{after}")
        }
        None => text.to_string(),
    }
}

/// Writes the built-in library, its README and `schema.json` into `dir`
/// (created if needed). Refuses, writing nothing, when any of the files
/// exists, unless `force`. Returns the files written.
pub fn export_builtin(dir: &Path, force: bool) -> Result<Vec<PathBuf>, ExportError> {
    let files = export_files();
    let existing: Vec<PathBuf> = files
        .iter()
        .map(|(rel, _)| dir.join(rel))
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .collect();
    if !existing.is_empty() && !force {
        return Err(ExportError::Exists(existing));
    }
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = dir.join(&rel);
        let write = |p: &Path| {
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(p, &text)
        };
        write(&path).map_err(|source| ExportError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_schema_is_what_the_types_generate() {
        let generated = serde_json::to_string_pretty(&super::super::json_schema()).unwrap();
        assert_eq!(
            BUILTIN_SCHEMA.trim_end(),
            generated,
            "schema.json is stale: run `modspec schema > schema.json`"
        );
    }

    #[test]
    fn the_library_is_compiled_in_with_its_default_world() {
        assert!(builtin_files().count() > 100);
        assert!(builtin_files().any(|(rel, _)| rel == "bandwidth/out-range.yaml"));
        assert!(builtin_default_world().is_ok());
        let lib = load_builtin();
        assert!(lib.errors.is_empty(), "{:?}", lib.errors);
        let t = lib
            .trials
            .iter()
            .find(|t| t.id == "bandwidth/out-range::over-101")
            .unwrap();
        assert_eq!(t.file, Path::new("<built-in>/cases/bandwidth/out-range.yaml"));
    }

    #[test]
    fn exported_schema_lines_point_at_the_exported_schema() {
        let text = "# yaml-language-server: $schema=../../schema.json\ndescription: x\n";
        assert_eq!(
            relink_schema("params/x.yaml", text),
            "# yaml-language-server: $schema=../schema.json\ndescription: x\n"
        );
        assert_eq!(
            relink_schema("x.yaml", text),
            "# yaml-language-server: $schema=schema.json\ndescription: x\n"
        );
        assert_eq!(relink_schema("world.yaml", "# a world\n"), "# a world\n");
    }
}
