//! Finds a known text (a secret, or the name of the field that carries
//! one) wherever a target may have echoed it, in whatever encoding the
//! echo took: raw, JSON-escaped (`\u0074`, `\/`, surrogate pairs),
//! percent-encoded (`%74`, either case, `+` for a space), XML-escaped
//! (`&#116;`, `&#x74;`, `&amp;`), or any mix of these character by
//! character. Everything the harness writes (console, JUnit, JSON reports,
//! snapshots, fuzz exchange files) is built from answers scrubbed with the
//! secrets the harness knows, so an echo cannot carry one out.
//!
//! This is a matcher over encodings, not a parser: it never needs the text
//! to be valid JSON, XML or a query string, so a truncated or deliberately
//! broken answer is scrubbed as well as a clean one.

use std::borrow::Cow;

use super::secret::Secret;

/// What a scrubbed occurrence becomes.
pub const MARK: &str = "[secret]";

/// The longest secret matched in every encoding. The matcher may compare
/// up to a secret's length at each position of a text, so a target that
/// hands out a megabyte "secret" and answers with near-copies of it could
/// make it quadratic; longer secrets (real ones are 30 characters) are
/// replaced raw only, in linear time.
pub(crate) const MAX_ENCODED_SECRET: usize = 256;

/// `text` with every occurrence of every non-empty secret, in any
/// encoding, replaced by [`MARK`].
pub fn scrub<'a>(text: &'a str, secrets: &[&Secret]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for s in secrets.iter().map(|s| s.expose()).filter(|s| !s.is_empty()) {
        let replaced = if s.len() > MAX_ENCODED_SECRET {
            out.contains(s).then(|| out.replace(s, MARK))
        } else {
            replace_all(&out, s)
        };
        if let Some(r) = replaced {
            out = Cow::Owned(r);
        }
    }
    out
}

/// Scrubs a string in place.
pub fn scrub_string(text: &mut String, secrets: &[&Secret]) {
    if let Cow::Owned(s) = scrub(text, secrets) {
        *text = s;
    }
}

/// `text` with every encoded occurrence of `needle` replaced, or `None`
/// if there is none.
fn replace_all(text: &str, needle: &str) -> Option<String> {
    let hay = text.as_bytes();
    let mut out: Option<String> = None;
    let (mut copied, mut i) = (0, 0);
    while i < hay.len() {
        match find_at(hay, i, needle) {
            // Every encoding starts and ends at a character boundary (its
            // pieces are ASCII or whole UTF-8 characters).
            Some(end) if text.is_char_boundary(i) && text.is_char_boundary(end) => {
                let o = out.get_or_insert_with(String::new);
                o.push_str(&text[copied..i]);
                o.push_str(MARK);
                (copied, i) = (end, end);
            }
            _ => i += 1,
        }
    }
    out.map(|mut o| {
        o.push_str(&text[copied..]);
        o
    })
}

/// The end of the longest encoded occurrence of `needle` starting at `at`.
///
/// Breadth-first over the positions each character may end at, so a
/// character that is itself an escape introducer (`%`, `\`, `&`, `+`) is
/// tried both ways without recursion, whatever the needle's length.
pub(crate) fn find_at(hay: &[u8], at: usize, needle: &str) -> Option<usize> {
    let first = needle.chars().next()?;
    if !could_start(hay.get(at).copied()?, first) {
        return None;
    }
    let mut here = vec![at];
    for c in needle.chars() {
        let mut next = Vec::new();
        for &p in &here {
            for end in char_ends(hay, p, c) {
                if !next.contains(&end) {
                    next.push(end);
                }
            }
        }
        if next.is_empty() {
            return None;
        }
        here = next;
    }
    here.into_iter().max()
}

/// A cheap pre-check: can an encoding of `c` start with byte `b`?
fn could_start(b: u8, c: char) -> bool {
    let mut buf = [0u8; 4];
    b == c.encode_utf8(&mut buf).as_bytes()[0] || matches!(b, b'%' | b'\\' | b'&' | b'+')
}

/// Every position an encoding of `c` starting at `p` may end at.
fn char_ends(hay: &[u8], p: usize, c: char) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut buf = [0u8; 4];
    if let Some(e) = bytes_at(hay, p, c.encode_utf8(&mut buf).as_bytes()) {
        ends.push(e);
    }
    if c == ' ' && hay.get(p) == Some(&b'+') {
        ends.push(p + 1);
    }
    if let Some(e) = json_escape_at(hay, p, c) {
        ends.push(e);
    }
    if let Some(e) = xml_escape_at(hay, p, c) {
        ends.push(e);
    }
    ends
}

/// The bytes of one character, each raw or as `%XX`.
fn bytes_at(hay: &[u8], mut p: usize, raw: &[u8]) -> Option<usize> {
    for &b in raw {
        if hay.get(p) == Some(&b) {
            p += 1;
        } else if hay.get(p) == Some(&b'%') && hex_at(hay, p + 1, 2) == Some(u32::from(b)) {
            p += 3;
        } else {
            return None;
        }
    }
    Some(p)
}

/// `\uXXXX` (a surrogate pair beyond the BMP) or a short JSON escape.
fn json_escape_at(hay: &[u8], p: usize, c: char) -> Option<usize> {
    if hay.get(p) != Some(&b'\\') {
        return None;
    }
    let short = match c {
        '"' => Some(b'"'),
        '\\' => Some(b'\\'),
        '/' => Some(b'/'),
        '\u{8}' => Some(b'b'),
        '\u{c}' => Some(b'f'),
        '\n' => Some(b'n'),
        '\r' => Some(b'r'),
        '\t' => Some(b't'),
        _ => None,
    };
    if short.is_some() && hay.get(p + 1).copied() == short {
        return Some(p + 2);
    }
    let mut units = [0u16; 2];
    let mut q = p;
    for &unit in c.encode_utf16(&mut units).iter() {
        let ok = hay.get(q) == Some(&b'\\')
            && hay.get(q + 1) == Some(&b'u')
            && hex_at(hay, q + 2, 4) == Some(u32::from(unit));
        if !ok {
            return None;
        }
        q += 6;
    }
    Some(q)
}

/// `&#NN;`, `&#xHH;` or one of XML's five named entities.
fn xml_escape_at(hay: &[u8], p: usize, c: char) -> Option<usize> {
    if hay.get(p) != Some(&b'&') {
        return None;
    }
    let named: &[u8] = match c {
        '&' => b"&amp;",
        '<' => b"&lt;",
        '>' => b"&gt;",
        '"' => b"&quot;",
        '\'' => b"&apos;",
        _ => b"",
    };
    if !named.is_empty() && hay.get(p..p + named.len()) == Some(named) {
        return Some(p + named.len());
    }
    let rest = hay.get(p + 2..)?;
    if hay.get(p + 1) != Some(&b'#') {
        return None;
    }
    let (radix, digits_at) = match rest.first() {
        Some(b'x' | b'X') => (16, 1),
        _ => (10, 0),
    };
    let digits = rest[digits_at..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let text = std::str::from_utf8(&rest[digits_at..digits_at + digits]).ok()?;
    let value = u32::from_str_radix(text, radix).ok()?;
    let semi = p + 2 + digits_at + digits;
    (value == u32::from(c) && hay.get(semi) == Some(&b';')).then_some(semi + 1)
}

/// The value of `n` hex digits (either case) at `p`.
fn hex_at(hay: &[u8], p: usize, n: usize) -> Option<u32> {
    let digits = hay.get(p..p + n)?;
    digits.iter().try_fold(0u32, |acc, &b| {
        let d = (b as char).to_digit(16)?;
        Some(acc * 16 + d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        scrub(text, &[&Secret::new("Ab/+ cé9")]).into_owned()
    }

    #[test]
    fn every_encoding_and_any_mix_is_scrubbed() {
        for echo in [
            "Ab/+ cé9",
            r"\u0041\u0062\/+ c\u00e99",
            r"\u0041b\u002F+\u0020c\u00E9\u0039",
            "Ab%2F%2B%20c%C3%A99",
            "Ab%2f%2b+c%c3%a99",
            "A%62/+ cé9",
            "&#65;b&#x2F;+ c&#233;9",
            r"A\u0062%2F&#43; cé9",
        ] {
            assert_eq!(s(&format!("<<{echo}>>")), "<<[secret]>>", "{echo}");
        }
    }

    #[test]
    fn other_text_is_left_alone() {
        assert_eq!(s("Ab/+ cé8 and %41"), "Ab/+ cé8 and %41");
        assert!(matches!(scrub("plain", &[&Secret::new("x1")]), Cow::Borrowed(_)));
        assert_eq!(scrub("abc", &[&Secret::new("")]), "abc");
        assert_eq!(s("Ab/+ cé9Ab/+ cé9"), "[secret][secret]");
    }

    #[test]
    fn astral_characters_match_as_surrogate_pairs() {
        let secret = Secret::new("k😀");
        assert_eq!(scrub(r"k\ud83d\ude00!", &[&secret]), "[secret]!");
        assert_eq!(scrub("k%F0%9F%98%80", &[&secret]), "[secret]");
    }

    #[test]
    fn a_long_needle_does_not_recurse() {
        let long = "z".repeat(MAX_ENCODED_SECRET - 1);
        assert_eq!(scrub(&format!("{long}%7A"), &[&Secret::new(format!("{long}z"))]), MARK);
    }

    #[test]
    fn a_hostile_long_secret_costs_linear_time() {
        // Near-copies of a 100 KB secret, 1 MB of them: quadratic in the
        // encodings matcher, linear as a raw replacement.
        let secret = format!("{}!", "z".repeat(100_000));
        let text = "z".repeat(1_000_000);
        let started = std::time::Instant::now();
        assert_eq!(scrub(&text, &[&Secret::new(secret.as_str())]), text);
        assert_eq!(scrub(&format!("a{secret}b"), &[&Secret::new(secret)]), "a[secret]b");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}
