//! Load errors: a position in a case file plus what is wrong, printed the
//! way compilers print them (`path:line:col: message`).

use std::fmt;
use std::path::PathBuf;

use crate::util::closest;

/// A case file that could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// The id the file's trials would have had (`params/out-range`), when
    /// the error belongs to one case file; reports list the error under it.
    pub id: Option<String>,
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl LoadError {
    pub fn new(path: impl Into<PathBuf>, (line, column): (usize, usize), message: impl Into<String>) -> Self {
        LoadError {
            id: None,
            path: path.into(),
            line,
            column,
            message: message.into(),
        }
    }

    /// The same error, filed under the trial id of its case file.
    pub(crate) fn with_id(mut self, id: &str) -> Self {
        self.id = Some(id.to_string());
        self
    }

    /// Converts a serde_yaml error, keeping its position and adding a
    /// "did you mean" hint to unknown keys and variants.
    pub(crate) fn from_yaml(path: impl Into<PathBuf>, e: &serde_yaml::Error) -> Self {
        let pos = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        // serde_yaml writes " at line L column C" into its text; the
        // `path:line:col` prefix says it already.
        let mut message = crate::util::strip_positions(&e.to_string());
        if message.contains("cannot start any token") {
            message.push_str(" (a tab? YAML indents with spaces only)");
        }
        if let Some(hint) = hint_for(&message) {
            message.push_str(&format!(" (did you mean `{hint}`?)"));
        }
        LoadError::new(path, pos, message)
    }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" messages, the
/// expected name closest to `x`.
fn hint_for(message: &str) -> Option<String> {
    let rest = message
        .split("unknown field `")
        .nth(1)
        .or_else(|| message.split("unknown variant `").nth(1))?;
    let (got, expected) = rest.split_once('`')?;
    let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    closest(got, names.iter().copied()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_pick_the_nearest_expected_name() {
        let m = "steps[0]: unknown field `expct`, expected one of `name`, `advance`, `request`, `expect`, `repeat`";
        assert_eq!(hint_for(m).as_deref(), Some("expect"));
        assert_eq!(
            hint_for("unknown variant `v2`, expected `v1` or `v3`").as_deref(),
            Some("v1")
        );
        assert_eq!(hint_for("invalid type: string"), None);
    }
}
