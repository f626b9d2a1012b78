//! The parameter list of an RPC-style request, kept exactly as sent.
//!
//! A map would be the obvious type and the wrong one: the V1 signature covers
//! every pair as sent, repeated names included, while the meaning of a
//! repeated parameter is taken from its first occurrence (behaviour.md 1.1).
//! Both views need the ordered list of pairs, so that is what is stored.

use super::encode::pe;

/// The order in which signed pairs are canonicalised.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum SortOrder {
    /// By the decoded UTF-8 bytes, name then value (behaviour.md section 6).
    #[default]
    Decoded,
    /// By the percent-encoded strings: wrong wherever the two differ, signed
    /// only as deliberate damage.
    Encoded,
}

/// Every parameter pair of a request, in the order it was sent.
///
/// Names are case-sensitive and may repeat; empty values are kept because
/// the V1 signature covers them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamList {
    pairs: Vec<(String, String)>,
}

impl ParamList {
    /// Creates an empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Form-decodes `input` (`application/x-www-form-urlencoded` or a URL
    /// query string).
    ///
    /// `+` decodes to a space and `%XX` to a byte; bytes that are not valid
    /// UTF-8 after decoding are replaced with U+FFFD rather than rejected,
    /// because the gateway must still answer such a request with a proper
    /// error and the signature check will then fail on its own. A segment
    /// without `=` is a name with an empty value; empty segments (`&&`) are
    /// skipped.
    pub fn parse_urlencoded(input: &[u8]) -> Self {
        form_urlencoded::parse(input)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// Merges the URL query string and a form body: query pairs first, then
    /// body pairs, which is the order "first occurrence wins" applies in.
    pub(crate) fn from_query_and_body(query: Option<&str>, form_body: Option<&[u8]>) -> Self {
        let mut list = query.map(|q| Self::parse_urlencoded(q.as_bytes())).unwrap_or_default();
        if let Some(body) = form_body {
            list.pairs.extend(Self::parse_urlencoded(body).pairs);
        }
        list
    }

    /// The value of the first pair called `name`, even when it is empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The value of the first pair called `name`, or `None` when that first
    /// value is empty (the spec treats an empty optional parameter as
    /// absent). A later non-empty repeat does not revive it: the first
    /// occurrence decides the meaning.
    pub(crate) fn get_nonempty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// All pairs, in the order they were sent.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Appends a pair at the end, after any pair of the same name.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.pairs.push((name.into(), value.into()));
    }

    /// Number of pairs, repeats counted (the client's bound on a request).
    pub(crate) fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Iterates over `(name, value)` in the order sent.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Renders the pairs as a client sends them: `pe(name)=pe(value)` joined
    /// with `&`, in the stored order (not sorted, so repeated names keep
    /// their first-occurrence meaning on the far side).
    pub fn to_query_string(&self) -> String {
        self.pairs
            .iter()
            .map(|(k, v)| format!("{}={}", pe(k), pe(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The pairs as `(pe(name), pe(value))`, sorted by the decoded UTF-8
    /// bytes of the name, then of the value, before encoding (behaviour.md
    /// section 6, as the official SDKs sort): the order both signature
    /// versions canonicalise to. `skip` drops pairs by exact name (V1 drops
    /// `Signature`). [`SortOrder::Encoded`] is the order the ruling rejects,
    /// there only so a client can sign it on purpose (protocol damage).
    pub(crate) fn encoded_sorted(&self, skip: Option<&str>, order: SortOrder) -> Vec<(String, String)> {
        let mut raw: Vec<&(String, String)> = self.pairs.iter().filter(|(k, _)| Some(k.as_str()) != skip).collect();
        raw.sort();
        let mut encoded: Vec<(String, String)> = raw.into_iter().map(|(k, v)| (pe(k), pe(v))).collect();
        if order == SortOrder::Encoded {
            encoded.sort();
        }
        encoded
    }
}

impl FromIterator<(String, String)> for ParamList {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self {
            pairs: iter.into_iter().collect(),
        }
    }
}

impl From<Vec<(String, String)>> for ParamList {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }
}

#[cfg(test)]
mod tests {
    use super::{ParamList, SortOrder};

    fn list(pairs: &[(&str, &str)]) -> ParamList {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn first_occurrence_wins() {
        let p = ParamList::parse_urlencoded(b"InstanceType=a&InstanceType=b");
        assert_eq!(p.get("InstanceType"), Some("a"));
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn empty_first_occurrence_is_absent_for_get_nonempty_only() {
        let p = ParamList::parse_urlencoded(b"ClientToken=&ClientToken=x");
        assert_eq!(p.get("ClientToken"), Some(""));
        assert_eq!(p.get_nonempty("ClientToken"), None);
    }

    #[test]
    fn plus_decodes_as_space_and_percent_20_too() {
        let p = ParamList::parse_urlencoded(b"a=x+y&b=x%20y&c=x%2By");
        assert_eq!(p.get("a"), Some("x y"));
        assert_eq!(p.get("b"), Some("x y"));
        assert_eq!(p.get("c"), Some("x+y"));
    }

    #[test]
    fn empty_value_and_bare_name_are_kept() {
        let p = ParamList::parse_urlencoded(b"SignatureType=&DryRun&&x=1");
        assert_eq!(
            p.pairs(),
            &[
                ("SignatureType".to_string(), String::new()),
                ("DryRun".to_string(), String::new()),
                ("x".to_string(), "1".to_string()),
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_replaced_not_rejected() {
        let p = ParamList::parse_urlencoded(b"a=%FF%FE&b=\xff");
        assert_eq!(p.get("a"), Some("\u{FFFD}\u{FFFD}"));
        assert_eq!(p.get("b"), Some("\u{FFFD}"));
    }

    #[test]
    fn query_comes_before_body() {
        let p = ParamList::from_query_and_body(Some("A=q&B=q"), Some(b"A=b&C=b"));
        assert_eq!(p.get("A"), Some("q"));
        assert_eq!(p.get("C"), Some("b"));
        assert_eq!(p.len(), 4);
        assert_eq!(ParamList::from_query_and_body(None, None), ParamList::new());
    }

    #[test]
    fn query_string_round_trips_through_form_decoding() {
        let p = list(&[("b", "a b*c~d+e/f=g&h"), ("a", ""), ("b", "ü")]);
        let q = p.to_query_string();
        assert_eq!(q, "b=a%20b%2Ac~d%2Be%2Ff%3Dg%26h&a=&b=%C3%BC");
        assert_eq!(ParamList::parse_urlencoded(q.as_bytes()), p);
    }

    #[test]
    fn encoded_sorted_orders_repeats_by_value_and_skips() {
        let p = list(&[("b", "2"), ("Signature", "x"), ("b", "10"), ("a", "z"), ("a b", "1")]);
        let got = p.encoded_sorted(Some("Signature"), SortOrder::Decoded);
        let want = [("a", "z"), ("a%20b", "1"), ("b", "10"), ("b", "2")];
        let want: Vec<(String, String)> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn sort_uses_decoded_bytes_not_encoded_bytes() {
        // Raw, '.' (0x2E) sorts before '/' (0x2F); encoded, "%2F" starts
        // with '%' (0x25) and would come first. behaviour.md section 6: the
        // decoded order is the one signed (`tok-ok` before `tok-é` too).
        let p = list(&[("a/", "1"), ("a.", "1"), ("t", "tok-é"), ("t", "tok-ok")]);
        let got: Vec<(String, String)> = p.encoded_sorted(None, SortOrder::Decoded);
        let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a.", "a%2F", "t", "t"]);
        assert_eq!(got[2].1, "tok-ok");
        // The damaged order is the other one, for names and values alike.
        let bad: Vec<(String, String)> = p.encoded_sorted(None, SortOrder::Encoded);
        let keys: Vec<&str> = bad.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a%2F", "a.", "t", "t"]);
        assert_eq!(bad[2].1, "tok-%C3%A9");
    }

    #[test]
    fn push_iter_and_from_vec_agree() {
        let mut p = ParamList::new();
        assert_eq!(p.len(), 0);
        p.push("k", "v");
        p.push(String::from("k"), "w");
        let q = ParamList::from(vec![("k".into(), "v".into()), ("k".into(), "w".into())]);
        assert_eq!(p, q);
        assert_eq!(p.iter().collect::<Vec<_>>(), [("k", "v"), ("k", "w")]);
    }
}
