//! Snapshot text of a trial's responses, shared by the insta snapshots of
//! `cargo test` and by `modspec run --snapshots DIR` for other targets.

use std::path::Path;

use crate::runner::TrialResult;

/// The file name of a trial's snapshot (ids contain `/` and `::`).
pub fn snapshot_name(id: &str) -> String {
    id.replace("::", "--").replace('/', "__")
}

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
    }
    out
}

/// Writes one `<name>.snap` per trial into `dir`; returns the ids whose
/// text differs from what was there.
pub fn write_dir(dir: &Path, results: &[TrialResult]) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut changed = Vec::new();
    for r in results {
        let path = dir.join(format!("{}.snap", snapshot_name(&r.id)));
        let text = render(r);
        let old = std::fs::read_to_string(&path).ok();
        if old.as_deref() != Some(text.as_str()) {
            if old.is_some() {
                changed.push(r.id.clone());
            }
            std::fs::write(&path, text)?;
        }
    }
    Ok(changed)
}
