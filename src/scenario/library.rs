//! Which case library a command runs ([`Cases`]: the built-in one or
//! folders given with `--cases`) and loading a folder: its own
//! `world.yaml` or the built-in default world, trial ids from the paths,
//! and no two trials sharing an id or a snapshot name.

use std::path::{Component, Path, PathBuf};

use super::builtin::{builtin_default_world, load_builtin};
use super::error::LoadError;
use super::load::{DEFAULT_WORLD_FILE, load_text};
use super::naming::refuse_name_collisions;
use super::trial::Library;
use super::walk::{discover, parse_defaults, read_case_file};
use crate::spec::World;

/// The case library a command runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Cases {
    /// The library compiled into the binary (this repository's `cases/`).
    #[default]
    BuiltIn,
    /// These folders instead (`--cases DIR`, repeatable), in order.
    Folders(Vec<PathBuf>),
}

impl From<PathBuf> for Cases {
    fn from(p: PathBuf) -> Self {
        Cases::Folders(vec![p])
    }
}

impl From<&Path> for Cases {
    fn from(p: &Path) -> Self {
        Cases::Folders(vec![p.to_path_buf()])
    }
}

impl From<Vec<PathBuf>> for Cases {
    /// No folder: the built-in library.
    fn from(v: Vec<PathBuf>) -> Self {
        if v.is_empty() {
            Cases::BuiltIn
        } else {
            Cases::Folders(v)
        }
    }
}

impl Cases {
    /// Loads the trials (and the errors of the files that do not load).
    pub fn load(&self) -> Library {
        match self {
            Cases::BuiltIn => load_builtin(),
            Cases::Folders(dirs) => load_folders(dirs),
        }
    }

    /// For messages: `the built-in library` or the folders.
    pub fn describe(&self) -> String {
        match self {
            Cases::BuiltIn => "the built-in library".into(),
            Cases::Folders(dirs) => dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Loads every `*.yaml` under `root` (recursively, sorted) against the
/// defaults in `root/world.yaml`, or the built-in default world when the
/// folder has none. Trial ids are the paths under `root` without the
/// extension.
pub fn load_library(root: &Path) -> Library {
    let mut lib = Library::default();
    load_folder(root, "", &mut lib);
    refuse_name_collisions(&mut lib);
    lib
}

/// Loads several folders. With more than one, every trial id starts with
/// its folder as given (`findings/…`, `my/cases/…`), so ids stay distinct.
pub fn load_folders(roots: &[PathBuf]) -> Library {
    let mut lib = Library::default();
    for root in roots {
        let prefix = if roots.len() > 1 {
            id_prefix(root)
        } else {
            String::new()
        };
        load_folder(root, &prefix, &mut lib);
    }
    refuse_name_collisions(&mut lib);
    lib
}

/// `./a/b/` → `a/b/` (root and `.` parts dropped).
fn id_prefix(root: &Path) -> String {
    let parts: Vec<String> = root
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    match parts.is_empty() {
        true => String::new(),
        false => format!("{}/", parts.join("/")),
    }
}

fn load_folder(root: &Path, prefix: &str, lib: &mut Library) {
    let world_path = root.join(DEFAULT_WORLD_FILE);
    let own;
    let defaults: &World = if std::fs::symlink_metadata(&world_path).is_ok() {
        match load_defaults(&world_path) {
            Ok(w) => {
                own = w;
                &own
            }
            Err(e) => return lib.errors.push(e),
        }
    } else {
        match builtin_default_world() {
            Ok(w) => w,
            Err(e) => return lib.errors.push(e),
        }
    };
    for file in discover(root, &mut lib.errors) {
        if file == world_path {
            continue;
        }
        let rel = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .with_extension("")
            .to_string_lossy()
            .replace('\\', "/");
        let id = format!("{prefix}{rel}");
        let loaded = read_case_file(&file).and_then(|text| load_text(&id, &file, &text, defaults));
        match loaded {
            Ok(trials) => lib.trials.extend(trials),
            Err(e) => lib.errors.push(e.with_id(&id)),
        }
    }
}

/// Reads a folder's default world file.
pub fn load_defaults(path: &Path) -> Result<World, LoadError> {
    let text = read_case_file(path).map_err(|e| LoadError {
        message: format!("cannot read the default world: {}", e.message),
        ..e
    })?;
    parse_defaults(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_name_the_folder_as_given() {
        assert_eq!(id_prefix(Path::new("./findings/")), "findings/");
        assert_eq!(id_prefix(Path::new("/tmp/x")), "tmp/x/");
        assert_eq!(id_prefix(Path::new("../y")), "../y/");
    }

    #[test]
    fn no_folder_means_the_built_in_library() {
        assert_eq!(Cases::from(Vec::new()), Cases::BuiltIn);
        assert_eq!(Cases::from(PathBuf::from("x")).describe(), "x");
    }
}
