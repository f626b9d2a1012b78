//! RFC 3986 percent-encoding as both Alibaba Cloud signature versions use it.
//!
//! Form encoding (`application/x-www-form-urlencoded`) and URL encoding as
//! browsers do it differ from this in three places that matter for
//! signatures: a space becomes `+` there, and `*` and `~` are treated the
//! other way round. A signer and a verifier that disagree on one of these
//! produce different strings to sign, so every signature path in this crate
//! goes through [`pe`].

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Every byte except the RFC 3986 unreserved set `A-Za-z0-9-_.~`.
///
/// Starting from `NON_ALPHANUMERIC` (which also covers every non-ASCII byte)
/// and removing the four marks keeps the set exact: nothing outside the
/// unreserved set can slip through unencoded.
const RFC3986_RESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes `s` the way Alibaba Cloud signatures require.
///
/// Unreserved characters `A-Za-z0-9-_.~` stay as they are; every other byte
/// of the UTF-8 encoding becomes `%XX` with upper-case hex, so a space is
/// `%20` (never `+`) and `*` is `%2A`.
pub fn pe(s: &str) -> String {
    utf8_percent_encode(s, RFC3986_RESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::pe;

    /// A deliberately naive reference encoder, written from the RFC rather
    /// than from the crate, so the two can be compared on every byte.
    fn reference(s: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    #[test]
    fn space_is_percent_20_not_plus() {
        assert_eq!(pe("a b"), "a%20b");
    }

    #[test]
    fn star_is_encoded_and_tilde_is_not() {
        assert_eq!(pe("*"), "%2A");
        assert_eq!(pe("~"), "~");
    }

    #[test]
    fn plus_slash_equals_ampersand_colon_are_encoded() {
        assert_eq!(pe("+/=&:"), "%2B%2F%3D%26%3A");
    }

    #[test]
    fn unreserved_marks_are_kept() {
        assert_eq!(pe("A-z_0.9~"), "A-z_0.9~");
    }

    #[test]
    fn percent_itself_is_encoded() {
        // Double encoding in the V1 string to sign depends on this.
        assert_eq!(pe("%3A"), "%253A");
    }

    #[test]
    fn non_ascii_is_encoded_per_utf8_byte_in_upper_case() {
        assert_eq!(pe("é"), "%C3%A9");
        assert_eq!(pe("５"), "%EF%BC%95");
        assert_eq!(pe("😀"), "%F0%9F%98%80");
    }

    #[test]
    fn empty_stays_empty() {
        assert_eq!(pe(""), "");
    }

    #[test]
    fn matches_reference_on_every_ascii_character() {
        for b in 0u8..=0x7F {
            let s = char::from(b).to_string();
            assert_eq!(pe(&s), reference(&s), "byte {b:#04x}");
        }
    }

    #[test]
    fn matches_reference_on_mixed_text() {
        let s = "ClientToken=a b*c~d+e/f=g&h?ü\u{0}\t\"'<>";
        assert_eq!(pe(s), reference(s));
    }
}
