//! The one error type of the `wire` layer.
//!
//! Only parsing can fail here: signing and rendering are total functions.
//! Every variant describes what was wrong with the input so that the server
//! can log it and the runner can report it against the target; none of them
//! carries a secret.

/// Why a header value or a response body could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The `Authorization` header is empty or only whitespace.
    #[error("authorization header is empty")]
    AuthorizationEmpty,

    /// A required `Authorization` field (`Credential`, `SignedHeaders` or
    /// `Signature`) is absent or has an empty value.
    #[error("authorization header has no {field}")]
    AuthorizationMissingField {
        /// Wire name of the missing field.
        field: &'static str,
    },

    /// An `Authorization` field appears twice; taking either copy would let
    /// the verifier and the signer read different values.
    #[error("authorization header repeats {field}")]
    AuthorizationDuplicateField {
        /// Wire name of the repeated field.
        field: &'static str,
    },

    /// A comma-separated part of the `Authorization` header is not
    /// `Credential=…`, `SignedHeaders=…` or `Signature=…`.
    #[error("authorization header has an unexpected part `{part}`")]
    AuthorizationUnexpectedPart {
        /// The offending part, as received.
        part: String,
    },

    /// `SignedHeaders` contains an empty name (`a;;b`, a leading or a
    /// trailing `;`).
    #[error("authorization header lists an empty signed header name")]
    AuthorizationEmptySignedHeader,

    /// A response body is empty or only whitespace.
    #[error("response body is empty")]
    EmptyBody,

    /// A response body starts with neither `{` nor `<`.
    #[error("response body is neither json nor xml (content type {content_type:?}, first byte {first_byte:#04x})")]
    UnknownBodyFormat {
        /// The `Content-Type` the target sent, if any.
        content_type: Option<String>,
        /// The first non-whitespace byte of the body.
        first_byte: u8,
    },

    /// A body that starts with `{` is not valid JSON.
    #[error("response body is not valid json")]
    Json(#[source] serde_json::Error),

    /// A JSON body parsed but its top level is not an object.
    #[error("json response body is not an object")]
    JsonNotObject,

    /// A body that starts with `<` is not valid UTF-8, the only encoding
    /// these APIs answer in.
    #[error("xml response body is not valid utf-8")]
    NotUtf8(#[source] std::str::Utf8Error),

    /// A body that starts with `<` is not well-formed XML.
    #[error("response body is not well-formed xml")]
    Xml(#[source] quick_xml::Error),

    /// An XML body refers to an entity other than the five predefined ones
    /// or to a character reference that is not a valid character.
    #[error("xml response body uses an unknown reference `&{0};`")]
    XmlUnknownEntity(String),

    /// An XML body holds a declaration, comments or whitespace but no element.
    #[error("xml response body has no root element")]
    XmlNoRoot,

    /// An XML body ends before its root element is closed.
    #[error("xml response body ends inside element `{0}`")]
    XmlTruncated(String),
}

#[cfg(test)]
mod tests {
    use super::WireError;

    /// Messages are shown in reports next to other tools' messages, so they
    /// follow the usual convention: lower-case start, no final period.
    #[test]
    fn messages_are_lower_case_without_final_period() {
        let samples = [
            WireError::AuthorizationEmpty,
            WireError::AuthorizationMissingField { field: "Signature" },
            WireError::AuthorizationDuplicateField { field: "Credential" },
            WireError::AuthorizationUnexpectedPart { part: "X=1".into() },
            WireError::AuthorizationEmptySignedHeader,
            WireError::EmptyBody,
            WireError::UnknownBodyFormat {
                content_type: None,
                first_byte: b'h',
            },
            WireError::JsonNotObject,
            WireError::XmlUnknownEntity("nbsp".into()),
            WireError::XmlNoRoot,
            WireError::XmlTruncated("Error".into()),
        ];
        for e in samples {
            let msg = e.to_string();
            let first = msg.chars().next().unwrap_or('?');
            assert!(first.is_lowercase(), "{msg}");
            assert!(!msg.ends_with('.'), "{msg}");
        }
    }

    #[test]
    fn missing_field_names_the_field() {
        let e = WireError::AuthorizationMissingField { field: "SignedHeaders" };
        assert_eq!(e.to_string(), "authorization header has no SignedHeaders");
    }
}
