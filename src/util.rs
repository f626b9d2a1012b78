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
pub fn strip_positions(message: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::closest;

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
