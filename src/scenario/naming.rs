//! The file name of a trial's snapshot, from its id: injective (two ids
//! never share a file, also on case-insensitive file systems) and bounded
//! in length (a file system refuses names over 255 bytes).
//!
//! The names of the built-in library are those of the first scheme (`/` →
//! `__`, `::` → `--`); the escapes only touch what that scheme left
//! ambiguous, which no built-in id contains:
//!
//! - `/` → `__` and `::` → `--`;
//! - a `-` next to a `-` or `:`, a `_` next to a `_` or `/`, a lone `:`,
//!   `%`, `~`, upper-case letters and every byte outside `[a-z0-9._-]` →
//!   `%XX` (upper-case hex), so `--` and `__` in a name always stand for
//!   `::` and `/`;
//! - a name longer than [`MAX_SNAPSHOT_NAME`] keeps its first bytes and
//!   ends in `~` and 16 hex digits of the id's SHA-256 (`~` is otherwise
//!   escaped, so a shortened name never equals a plain one).

use std::collections::BTreeMap;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::error::LoadError;
use super::trial::Library;

/// The longest snapshot name in bytes: with `.snap.new` (insta's pending
/// file) it stays within the 255 bytes of common file systems.
pub const MAX_SNAPSHOT_NAME: usize = 200;

/// The file name (without `.snap`) of the trial `id`'s snapshot.
pub fn snapshot_name(id: &str) -> String {
    let full = encode(id);
    if full.len() <= MAX_SNAPSHOT_NAME {
        return full;
    }
    let digest = hex::encode(Sha256::digest(id.as_bytes()));
    let mut cut = MAX_SNAPSHOT_NAME - 17;
    // Never end the kept part inside a `%XX` escape.
    if let Some(p) = full[..cut].rfind('%').filter(|p| cut - p < 3) {
        cut = p;
    }
    format!("{}~{}", &full[..cut], &digest[..16])
}

fn encode(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let mut out = String::with_capacity(id.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        match c {
            '/' => out.push_str("__"),
            ':' if next == Some(':') => {
                out.push_str("--");
                i += 1;
            }
            '-' if !is_any(prev, &['-', ':']) && !is_any(next, &['-', ':']) => out.push('-'),
            '_' if !is_any(prev, &['_', '/']) && !is_any(next, &['_', '/']) => out.push('_'),
            'a'..='z' | '0'..='9' | '.' => out.push(c),
            _ => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
        i += 1;
    }
    out
}

fn is_any(c: Option<char>, set: &[char]) -> bool {
    c.is_some_and(|c| set.contains(&c))
}

/// Two trials may share neither an id nor a snapshot file: the later one
/// becomes a load error naming the earlier.
pub(crate) fn refuse_name_collisions(lib: &mut Library) {
    let mut first: BTreeMap<String, (String, PathBuf)> = BTreeMap::new();
    let mut kept = Vec::with_capacity(lib.trials.len());
    for t in std::mem::take(&mut lib.trials) {
        let name = snapshot_name(&t.id);
        match first.get(&name) {
            None => {
                first.insert(name, (t.id.clone(), t.file.clone()));
                kept.push(t);
            }
            Some((id, file)) => {
                let what = if *id == t.id {
                    format!("the trial id `{id}` is also that of {}", file.display())
                } else {
                    format!(
                        "the trial `{}` would share the snapshot file `{name}.snap` with `{id}` of {}",
                        t.id,
                        file.display()
                    )
                };
                lib.errors
                    .push(LoadError::new(&t.file, (1, 1), format!("{what}: rename one")).with_id(&t.id));
            }
        }
    }
    lib.trials = kept;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inverse of `encode`: its existence is what makes names injective.
    fn decode(name: &str) -> String {
        let b = name.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match (b[i], b.get(i + 1)) {
                (b'%', _) => {
                    out.push(u8::from_str_radix(&name[i + 1..i + 3], 16).unwrap());
                    i += 3;
                    continue;
                }
                (b'-', Some(b'-')) => out.extend_from_slice(b"::"),
                (b'_', Some(b'_')) => out.push(b'/'),
                (c, _) => {
                    out.push(c);
                    i += 1;
                    continue;
                }
            }
            i += 2;
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_first_schemes_names_stay_for_ids_like_the_built_in_ones() {
        for id in [
            "bandwidth/balance::out-increase",
            "params/out-range::max-100",
            "a/b/c",
            "x::y",
        ] {
            assert_eq!(snapshot_name(id), id.replace("::", "--").replace('/', "__"));
        }
    }

    #[test]
    fn the_colliding_pair_of_the_first_scheme_gets_two_names() {
        let a = snapshot_name("bandwidth/balance::out-increase");
        let b = snapshot_name("bandwidth__balance--out-increase");
        assert_ne!(a, b);
        assert_eq!(b, "bandwidth%5F%5Fbalance%2D%2Dout-increase");
    }

    #[test]
    fn names_decode_back_to_their_ids() {
        let tricky = [
            "a::-b",
            "a-::b",
            "a:::b",
            "a::::b",
            "a:b",
            "a--b",
            "a---b",
            "a__b",
            "a/_b",
            "a_/b",
            "a//b",
            "_a_",
            "-a-",
            "A/b",
            "a b",
            "ä/ü",
            "a%2Db",
            "a~1",
            "x\u{1b}[2J",
            "tab\there",
            "a/b::c/d",
            "::",
            "/",
            "",
        ];
        let mut seen = std::collections::BTreeMap::new();
        for id in tricky {
            let name = snapshot_name(id);
            assert_eq!(decode(&name), id, "{name}");
            assert!(name.bytes().all(|c| c.is_ascii_graphic()), "{name}");
            let unescaped: String = name
                .split('%')
                .enumerate()
                .map(|(i, p)| if i == 0 { p } else { &p[2..] })
                .collect();
            assert!(
                !unescaped.bytes().any(|c| c.is_ascii_uppercase()),
                "case-insensitive file systems: {name}"
            );
            if let Some(other) = seen.insert(name.clone(), id) {
                panic!("{id:?} and {other:?} share {name}");
            }
        }
    }

    #[test]
    fn long_names_are_bounded_and_stay_distinct() {
        let a = format!("found/{}", "x".repeat(250));
        let b = format!("found/{}y", "x".repeat(249));
        let (na, nb) = (snapshot_name(&a), snapshot_name(&b));
        assert!(na.len() <= MAX_SNAPSHOT_NAME && nb.len() <= MAX_SNAPSHOT_NAME);
        assert_ne!(na, nb);
        assert!(na.starts_with("found__xxx") && na.contains('~'));
        let escaped = "É".repeat(100);
        let n = snapshot_name(&escaped);
        assert!(n.len() <= MAX_SNAPSHOT_NAME, "{}", n.len());
        let kept = n.split('~').next().unwrap();
        assert_eq!(kept.len() % 3, 0, "no escape is cut: {n}");
    }
}
