//! Snapshot text of a trial's responses, shared by the insta snapshots of
//! `cargo test` and by `modspec run --snapshots DIR` for other targets.

use std::path::{Path, PathBuf};

use crate::runner::{Outcome, TrialResult};

pub use crate::scenario::snapshot_name;

/// The snapshot text: every recorded answer, redacted.
pub fn render(result: &TrialResult) -> String {
    let mut out = String::new();
    for r in &result.recorded {
        out.push_str(&format!(
            "--- {}\nstatus: {}\ncontent-type: {}\n",
            r.step, r.status, r.content_type
        ));
        if r.retry_after.is_some() {
            out.push_str("x-acs-retry-after: present\n");
        }
        out.push_str(&r.body);
        out.push('\n');
        if r.omitted > 0 {
            out.push_str(&format!("[{} more bytes not kept]\n", r.omitted));
        }
    }
    out
}

/// A snapshot file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct SnapshotError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// What [`write_dir`] did.
#[derive(Debug, Default)]
pub struct Written {
    /// Snapshot files that are now current (written or already equal).
    pub current: usize,
    /// Ids whose snapshot text differs from what was there.
    pub changed: Vec<String>,
}

/// Writes one `<name>.snap` per trial into `dir` (names from
/// [`snapshot_name`]: distinct per id, bounded in length). Errors are no
/// verdict and leave their snapshot as it was: a case file that did not
/// load never overwrites the snapshot of the trial it collided with.
pub fn write_dir(dir: &Path, results: &[TrialResult]) -> Result<Written, SnapshotError> {
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SnapshotError { path, source }
    };
    std::fs::create_dir_all(dir).map_err(fail(dir))?;
    let mut done = Written::default();
    for r in results.iter().filter(|r| !matches!(r.outcome, Outcome::Error(_))) {
        done.current += 1;
        let path = dir.join(format!("{}.snap", snapshot_name(&r.id)));
        let text = render(r);
        let old = std::fs::read_to_string(&path).ok();
        if old.as_deref() != Some(text.as_str()) {
            if old.is_some() {
                done.changed.push(r.id.clone());
            }
            std::fs::write(&path, text).map_err(fail(&path))?;
        }
    }
    Ok(done)
}
