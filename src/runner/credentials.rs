//! Credentials for live trials from a file (`--credentials-file`), never
//! from the command line.

use serde::Deserialize;

use crate::client::Secret;

/// Why a credentials file could not be used. Never quotes the file's
/// content: it holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("cannot read the credentials file {path}: {cause}")]
    Read { path: String, cause: String },
    #[error("credentials file {path}: {what}")]
    Invalid { path: String, what: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsJson {
    access_key_id: String,
    access_key_secret: String,
}

/// Reads `access_key_id` and `access_key_secret` from a file: a JSON object
/// with those two fields, or lines `name = value` (or `name: value`; `#`
/// comments and blank lines ignored, values may be quoted). The secret goes
/// in a file or the environment, never on the command line, where process
/// listings and shell histories would show it.
pub fn load_credentials(path: &std::path::Path) -> Result<(String, Secret), CredentialsError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CredentialsError::Read {
        path: shown.clone(),
        cause: e.to_string(),
    })?;
    let invalid = |what: String| CredentialsError::Invalid {
        path: shown.clone(),
        what,
    };
    if text.trim_start().starts_with('{') {
        // serde's messages name fields and types, never the values.
        let c: CredentialsJson = serde_json::from_str(&text).map_err(|e| invalid(format!("invalid JSON: {e}")))?;
        return checked(c.access_key_id, c.access_key_secret).map_err(invalid);
    }
    let (mut id, mut secret) = (None, None);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once(['=', ':']) else {
            return Err(invalid(format!("line {}: expected `name = value`", n + 1)));
        };
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'').to_string();
        match name.trim() {
            "access_key_id" => id = Some(value),
            "access_key_secret" => secret = Some(value),
            other => {
                return Err(invalid(format!(
                    "line {}: unknown name `{other}` (expected access_key_id or access_key_secret)",
                    n + 1
                )));
            }
        }
    }
    match (id, secret) {
        (Some(id), Some(secret)) => checked(id, secret).map_err(invalid),
        _ => Err(invalid("needs both access_key_id and access_key_secret".into())),
    }
}

fn checked(id: String, secret: String) -> Result<(String, Secret), String> {
    if id.is_empty() || secret.is_empty() {
        return Err("access_key_id and access_key_secret must not be empty".into());
    }
    Ok((id, Secret::new(secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<(String, Secret), CredentialsError> {
        let path = std::env::temp_dir().join(format!("modspec-creds-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, text).unwrap();
        let r = load_credentials(&path);
        let _ = std::fs::remove_file(path);
        r
    }

    #[test]
    fn credentials_files_in_both_forms_and_errors_never_quote_the_secret() {
        for text in [
            "# ci account\naccess_key_id = LTAIabc\naccess_key_secret = \"s3cr3t\"\n",
            "access_key_id: LTAIabc\naccess_key_secret: s3cr3t",
            r#"{"access_key_id": "LTAIabc", "access_key_secret": "s3cr3t"}"#,
        ] {
            let (id, secret) = load(text).unwrap();
            assert_eq!((id.as_str(), secret.expose()), ("LTAIabc", "s3cr3t"), "{text}");
        }
        for text in [
            "access_key_id = LTAIabc\n",
            "access_key_id = LTAIabc\nsecret s3cr3t\n",
            "access_key_id = LTAIabc\naccess_key_sceret = s3cr3t\n",
            r#"{"access_key_id": "LTAIabc", "access_key_secret": 5, "s3cr3t": 1}"#,
            "access_key_id = \naccess_key_secret = s3cr3t\n",
        ] {
            let e = load(text).unwrap_err().to_string();
            assert!(!e.contains("s3cr3t"), "{e}");
        }
    }
}
