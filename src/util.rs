//! Small helpers shared by several layers.

/// The candidate closest to `input` by edit distance, if it is close enough
/// to be a plausible typo (used for "did you mean" hints).
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(input, c), c))
        .filter(|(d, c)| *d <= (c.len().max(input.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// An error and its sources on one line (`a: b: c`), for messages that
/// must name the root cause (connection refused, timed out...).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Removes every " at line N column M" from a parser message.
pub(crate) fn strip_positions(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + " at line ".len()..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        let after = &tail[digits..];
        match after.strip_prefix(" column ") {
            Some(c) if digits > 0 => rest = &c[c.bytes().take_while(u8::is_ascii_digit).count()..],
            _ => {
                out.push_str(" at line ");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `s` made safe to print on a terminal: control characters (C0, DEL,
/// C1: escape sequences, carriage returns, line breaks, NUL) and the
/// Unicode controls that reorder or break lines (bidirectional overrides,
/// line and paragraph separators) are written as escapes (`\x1b`, `\n`,
/// `\u{202e}`), so text from a target or a file can neither drive the
/// terminal nor forge a line of the report.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if needs_escape(c) && (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn terminal_controls_are_escaped_and_plain_text_is_kept() {
        use super::terminal_safe;
        assert_eq!(terminal_safe("a\u{1b}[2Jb"), "a\\x1b[2Jb");
        assert_eq!(terminal_safe("x\nPASS  forged\0"), "x\\nPASS  forged\\0");
        assert_eq!(terminal_safe("\u{9b}\u{202e}\u{7f}"), "\\u{9b}\\u{202e}\\x7f");
        assert!(matches!(terminal_safe("plain ünïcode"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn suggests_only_near_names() {
        let names = ["expect", "request", "steps"];
        assert_eq!(closest("expct", names), Some("expect"));
        assert_eq!(closest("zzzzzzzz", names), None);
    }
    #[test]
    fn positions_are_stripped_everywhere() {
        assert_eq!(
            super::strip_positions("a at line 4 column 46, while b at line 4 column 30"),
            "a, while b"
        );
        assert_eq!(super::strip_positions("x at line y"), "x at line y");
    }
}
