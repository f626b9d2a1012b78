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

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_only_near_names() {
        let names = ["expect", "request", "steps"];
        assert_eq!(closest("expct", names), Some("expect"));
        assert_eq!(closest("zzzzzzzz", names), None);
    }
}
