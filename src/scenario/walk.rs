//! Finds and reads the case files of a folder without trusting it: regular
//! files only, links never followed into folders (a link loop is reported,
//! not walked), a size limit checked before and while reading, and a
//! nesting limit checked before the YAML parser sees the text.
//!
//! Every refusal is a located [`LoadError`] naming the file; the other
//! files still load.

use std::fs::{File, FileType};
use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::LoadError;
use crate::spec::World;

/// The largest case file, in bytes (the largest built-in one is under 4 KiB).
pub const MAX_CASE_FILE_BYTES: u64 = 1 << 20;

/// The deepest nesting of `[` and `{` in a case file (the built-in ones
/// nest at most 3). The YAML scanner's time grows with the square of it.
pub const MAX_NESTING: usize = 64;

/// Folders nested deeper than this are not walked.
const MAX_FOLDER_DEPTH: usize = 32;

/// The `*.yaml` / `*.yml` files under `root`, sorted; what cannot be used
/// goes to `errors`.
pub(crate) fn discover(root: &Path, errors: &mut Vec<LoadError>) -> Vec<PathBuf> {
    let inside = match std::fs::canonicalize(root) {
        Ok(c) if c.is_dir() => c,
        Ok(_) => {
            errors.push(LoadError::new(root, (1, 1), "the cases folder is not a folder"));
            return Vec::new();
        }
        Err(e) => {
            errors.push(LoadError::new(
                root,
                (1, 1),
                format!("cannot read the cases folder: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    walk(root, &inside, 0, &mut out, errors);
    out.sort();
    out
}

fn is_case_name(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yaml" || e == "yml")
}

fn walk(dir: &Path, inside: &Path, depth: usize, out: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    if depth > MAX_FOLDER_DEPTH {
        errors.push(LoadError::new(
            dir,
            (1, 1),
            format!("folders nested deeper than {MAX_FOLDER_DEPTH} levels: not walked"),
        ));
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(LoadError::new(
                dir,
                (1, 1),
                format!("cannot read the cases folder: {e}"),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        // `DirEntry::file_type` does not follow links.
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            walk(&path, inside, depth + 1, out, errors);
        } else if kind.is_symlink() {
            match follow_link(&path, inside) {
                Ok(true) => out.push(path),
                Ok(false) => {}
                Err(e) => errors.push(e),
            }
        } else if is_case_name(&path) {
            match kind.is_file() {
                true => out.push(path),
                false => errors.push(not_regular(&path, kind)),
            }
        }
    }
}

/// Whether a link is a case file to read: a `*.yaml` link to a regular file
/// inside the folder. Links to folders are reported (they would walk a
/// folder twice, or forever), whatever their name.
fn follow_link(path: &Path, inside: &Path) -> Result<bool, LoadError> {
    let refuse = |why: String| Err(LoadError::new(path, (1, 1), why));
    let target = match std::fs::canonicalize(path) {
        Ok(t) => t,
        Err(e) if is_case_name(path) => return refuse(format!("a symbolic link that cannot be followed: {e}")),
        Err(_) => return Ok(false),
    };
    let Ok(meta) = std::fs::metadata(&target) else {
        return Ok(false);
    };
    if meta.is_dir() {
        let parent = path.parent().and_then(|p| std::fs::canonicalize(p).ok());
        return if parent.is_some_and(|p| p.starts_with(&target)) {
            refuse(format!(
                "a symbolic link to a folder that contains it ({}): a loop, not followed",
                target.display()
            ))
        } else {
            refuse("a symbolic link to a folder: not followed (case folders are walked without following links)".into())
        };
    }
    if !is_case_name(path) {
        return Ok(false);
    }
    if !target.starts_with(inside) {
        return refuse(format!(
            "a symbolic link to {}, outside the cases folder: not followed",
            target.display()
        ));
    }
    if !meta.is_file() {
        return Err(not_regular(path, meta.file_type()));
    }
    Ok(true)
}

fn not_regular(path: &Path, kind: FileType) -> LoadError {
    LoadError::new(
        path,
        (1, 1),
        format!("not a regular file ({}): not read", kind_name(kind)),
    )
}

#[cfg(unix)]
fn kind_name(kind: FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn kind_name(_: FileType) -> &'static str {
    "not a file"
}

/// Reads a case file: a regular file of at most [`MAX_CASE_FILE_BYTES`],
/// in UTF-8. The size is checked before reading and again while reading
/// (the file may grow), so nothing unbounded is ever read.
pub fn read_case_file(path: &Path) -> Result<String, LoadError> {
    let err = |msg: String| LoadError::new(path, (1, 1), msg);
    let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        // Checked before opening: opening a FIFO blocks.
        return Err(not_regular(path, meta.file_type()));
    }
    if meta.len() > MAX_CASE_FILE_BYTES {
        return Err(too_big(path, meta.len()));
    }
    let file = File::open(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_CASE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_CASE_FILE_BYTES {
        return Err(too_big(path, bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        LoadError::new(path, (1, 1), format!("not UTF-8 text (byte {at})"))
    })
}

fn too_big(path: &Path, len: u64) -> LoadError {
    LoadError::new(
        path,
        (1, 1),
        format!("the file has {len} bytes or more; a case file may have at most {MAX_CASE_FILE_BYTES} (1 MiB)"),
    )
}

/// Refuses a text too large or nested too deeply for the YAML parser, with
/// the position where the limit is passed. Brackets are counted wherever
/// they stand (also inside quotes and comments), so the count is never
/// below what the parser would nest.
pub(crate) fn check_limits(path: &Path, text: &str) -> Result<(), LoadError> {
    if text.len() as u64 > MAX_CASE_FILE_BYTES {
        return Err(too_big(path, text.len() as u64));
    }
    let (mut depth, mut line, mut col) = (0usize, 1usize, 0usize);
    for c in text.chars() {
        col += 1;
        match c {
            '\n' => (line, col) = (line + 1, 0),
            '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(LoadError::new(
                        path,
                        (line, col),
                        format!("nested deeper than {MAX_NESTING} levels of `[` and `{{`: not parsed"),
                    ));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

pub(crate) fn parse_defaults(path: &Path, text: &str) -> Result<World, LoadError> {
    check_limits(path, text)?;
    let world: World = serde_yaml::from_str(text).map_err(|e| LoadError::from_yaml(path, &e))?;
    world
        .validate()
        .map_err(|e| LoadError::new(path, (1, 1), format!("invalid default world: {e}")))?;
    Ok(world)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_located_where_it_passes_the_limit() {
        let p = Path::new("x.yaml");
        assert!(check_limits(p, "a: [[{b: [1]}]]\n").is_ok());
        let deep = format!("description: ok\nsteps: {}", "[".repeat(MAX_NESTING + 5));
        let e = check_limits(p, &deep).unwrap_err();
        assert_eq!((e.line, e.column), (2, "steps: ".len() + MAX_NESTING + 1), "{e}");
        let balanced = "[a] ".repeat(MAX_NESTING * 4);
        assert!(check_limits(p, &balanced).is_ok(), "closed brackets do not add up");
    }
}
