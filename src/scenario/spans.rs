//! Where each node of a case file starts, from the YAML parser's own event
//! spans (saphyr-parser), so a load error points at the node it is about
//! rather than at the first text that happens to look like it.
//!
//! serde_yaml positions only its own errors; the checks that run after
//! deserializing (unknown rule ids, `${vars}`, duplicate rows...) ask this
//! index for the node by its path: `steps.2.expect.one_of.1`.

use std::collections::HashMap;

use std::path::Path;

use saphyr_parser::{Event, Parser, Span};

use super::error::LoadError;
use super::model::ExampleRow;

/// The 1-based (line, column) of every node of one document, by path.
#[derive(Debug, Default)]
pub(crate) struct Spans {
    /// Path of a node → where its value starts.
    values: HashMap<String, (usize, usize)>,
    /// Path of a mapping entry → where its key starts.
    keys: HashMap<String, (usize, usize)>,
    /// Every scalar in document order, with where it starts.
    scalars: Vec<(String, (usize, usize))>,
}

/// One open container while walking the events.
enum Frame {
    /// A mapping: the pending key, once read.
    Map { path: String, key: Option<String> },
    /// A sequence: the index of the next item.
    Seq { path: String, next: usize },
}

fn position(span: &Span) -> (usize, usize) {
    (span.start.line(), span.start.col() + 1)
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

impl Spans {
    /// Indexes `text`. A text the parser rejects gives the nodes read
    /// before the damage (serde_yaml reports the damage itself).
    pub fn index(text: &str) -> Spans {
        let mut spans = Spans::default();
        let mut stack: Vec<Frame> = Vec::new();
        for event in Parser::new_from_str(text) {
            let Ok((event, span)) = event else { break };
            let at = position(&span);
            match event {
                Event::Scalar(value, ..) => {
                    spans.scalars.push((value.to_string(), at));
                    if let Some(path) = spans.enter(&mut stack, at, Some(&value)) {
                        spans.values.insert(path, at);
                    }
                }
                Event::Alias(_) => {
                    if let Some(path) = spans.enter(&mut stack, at, None) {
                        spans.values.insert(path, at);
                    }
                }
                Event::MappingStart(..) => {
                    if let Some(path) = spans.enter(&mut stack, at, None) {
                        spans.values.insert(path.clone(), at);
                        stack.push(Frame::Map { path, key: None });
                    }
                }
                Event::SequenceStart(..) => {
                    if let Some(path) = spans.enter(&mut stack, at, None) {
                        spans.values.insert(path.clone(), at);
                        stack.push(Frame::Seq { path, next: 0 });
                    }
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        spans
    }

    /// A node starts inside the innermost container: its path, or `None`
    /// when the node is a mapping key (recorded in `keys` instead). Keys
    /// that are not scalars have no path and their values are not indexed.
    fn enter(&mut self, stack: &mut [Frame], at: (usize, usize), scalar: Option<&str>) -> Option<String> {
        match stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, next }) => {
                let p = join(path, &next.to_string());
                *next += 1;
                Some(p)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                Some(k) => Some(join(path, &k)),
                None => {
                    // A key: the next node is its value. A complex key
                    // gets a name no path can ask for.
                    let k = scalar.map_or_else(|| "\u{0}".to_string(), str::to_string);
                    self.keys.insert(join(path, &k), at);
                    *key = Some(k);
                    None
                }
            },
        }
    }

    /// Where the node at `path` starts; failing that, its nearest indexed
    /// ancestor; failing all, the top of the file.
    pub fn value(&self, path: &str) -> (usize, usize) {
        let mut p = path;
        loop {
            if let Some(at) = self.values.get(p) {
                return *at;
            }
            match p.rfind('.') {
                Some(i) => p = &p[..i],
                None => return self.values.get("").copied().unwrap_or((1, 1)),
            }
        }
    }

    /// Where the key of the entry at `path` starts (`world:` rather than
    /// its first line), else where its value starts.
    pub fn key(&self, path: &str) -> (usize, usize) {
        self.keys.get(path).copied().unwrap_or_else(|| self.value(path))
    }

    /// The first scalar whose text contains `needle`, in document order:
    /// for an unknown `${var}`, found in whichever field used it.
    pub(crate) fn scalar_containing(&self, needle: &str) -> Option<(usize, usize)> {
        self.scalars.iter().find(|(s, _)| s.contains(needle)).map(|(_, at)| *at)
    }
}

/// Points a load error at a node of the file, by its path in the
/// document (`steps.2.expect.one_of.1`), from the parser's own spans.
pub(super) struct Locator<'a> {
    pub(super) path: &'a Path,
    pub(super) spans: Spans,
}

impl Locator<'_> {
    /// An error at the value of the node at `node`.
    pub(super) fn at(&self, node: &str, message: impl Into<String>) -> LoadError {
        LoadError::new(self.path, self.spans.value(node), message)
    }

    /// An error at the key of the entry at `node` (`world:`).
    pub(super) fn at_key(&self, node: &str, message: impl Into<String>) -> LoadError {
        LoadError::new(self.path, self.spans.key(node), message)
    }

    /// An error inside step `i`, at `steps.i.{sub}`, prefixed `steps[i]:`.
    pub(super) fn in_step(&self, i: usize, sub: &str, message: impl std::fmt::Display) -> LoadError {
        let node = if sub.is_empty() {
            format!("steps.{i}")
        } else {
            format!("steps.{i}.{sub}")
        };
        self.at(&node, format!("steps[{i}]: {message}"))
    }

    /// An unknown `${var}`, at the first field that uses it.
    pub(super) fn unknown_var(&self, v: &str, row: Option<&ExampleRow>) -> LoadError {
        let at = self.spans.scalar_containing(&format!("${{{v}}}")).unwrap_or((1, 1));
        let message = match row {
            Some(r) => format!("`${{{v}}}` is not a column of the examples (row `{}`)", r.name),
            None => format!("`${{{v}}}` is used but the scenario has no examples table"),
        };
        LoadError::new(self.path, at, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = "description: d\nrules: [P3, Q9]\nsteps:\n  - request:\n      params: {InstanceId: i-1, Bw: \"${v}\"}\n    expect:\n      one_of: [D1,\n               E1]\nexamples:\n  - name: a\n    v: 1\n";

    #[test]
    fn paths_find_values_and_keys_where_the_parser_saw_them() {
        let s = Spans::index(CASE);
        assert_eq!(s.value("rules.1"), (2, 13));
        assert_eq!(s.value("steps.0"), (4, 5));
        assert_eq!(s.value("steps.0.request.params.Bw"), (5, 37));
        assert_eq!(s.value("steps.0.expect.one_of.1"), (8, 16));
        assert_eq!(s.key("steps.0.expect"), (6, 5));
        assert_eq!(s.value("examples.0.name"), (10, 11));
        assert_eq!(s.key("examples"), (9, 1));
    }

    #[test]
    fn a_missing_path_falls_back_to_its_nearest_ancestor() {
        let s = Spans::index(CASE);
        assert_eq!(s.value("steps.0.expect.state.Status"), s.value("steps.0.expect"));
        assert_eq!(s.value("nowhere"), (1, 1));
        assert_eq!(s.key("nowhere.at.all"), (1, 1));
    }

    #[test]
    fn scalars_are_searched_by_content_not_by_raw_text() {
        // The raw text holds `${v}` inside a comment first; the parser
        // never reports comments, so the scalar that uses it is found.
        let text = "# uses ${v}\ndescription: \"x ${v}\"\n";
        let s = Spans::index(text);
        assert_eq!(s.scalar_containing("${v}"), Some((2, 14)));
        assert_eq!(s.scalar_containing("${w}"), None);
    }

    #[test]
    fn a_broken_document_keeps_the_nodes_before_the_damage() {
        let s = Spans::index("description: d\nsteps: [\n");
        assert_eq!(s.key("description"), (1, 1));
        assert_eq!(s.value("description"), (1, 14));
    }
}
