//! The one table of checks: what the harness may find wrong with an
//! exchange, and whether it is contract (fails a target always) or
//! informative (fails it only with `--strict`), with the reason.
//!
//! cases/README.md prints this table ("Checks"); a test keeps the two equal.

use std::fmt;

use serde::Serialize;

/// Whether a check fails a target in the default mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Demanded by the contract, or by real clients: always checked.
    Contract,
    /// Worth a look, not something clients depend on: only with `--strict`
    /// (a warning otherwise, where the check has one).
    Informative,
}

macro_rules! checks {
    ($( $variant:ident = $name:literal, $class:ident, $why:literal; )*) => {
        /// One thing the harness checks about an exchange.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(into = "&'static str")]
        pub enum Check { $( $variant, )* }

        /// Every check, in the order the engine runs them.
        pub static CHECKS: &[CheckSpec] = &[
            $( CheckSpec { check: Check::$variant, name: $name, class: Class::$class, why: $why }, )*
        ];
    };
}

/// A check's row of the table.
#[derive(Debug)]
pub struct CheckSpec {
    pub check: Check,
    /// Its name in reports and finding keys (stable).
    pub name: &'static str,
    pub class: Class,
    /// Why it is in its class (cases/README.md prints it).
    pub why: &'static str,
}

checks! {
    Redirect = "redirect", Contract, "a 3xx is never the API's answer; the harness does not follow it (clients would lose the Authorization header)";
    Body = "body", Contract, "clients parse the body: it must be well-formed JSON or XML (behaviour.md 2.2)";
    Answer = "answer", Contract, "clients branch on (HTTP status, Code): the rule's, or an accepted alias (behaviour.md 4); an alias fails only in strict mode";
    Format = "format", Contract, "JSON or XML as the request asked (Format, else V3 JSON, V1 XML): clients parse one of them";
    ContentType = "content-type", Contract, "XML errors need exactly text/xml;charset=utf-8 (the Python SDK); JSON needs application/json, its exact form only in strict mode (behaviour.md 2.3)";
    XmlProlog = "xml-prolog", Contract, "every XML answer starts with the XML declaration (behaviour.md 2.2)";
    XmlRoot = "xml-root", Contract, "clients look for <Error> and <ModifyInstanceSpecResponse> (behaviour.md 1.2, 2.2)";
    RequestId = "request-id", Contract, "every answer carries a RequestId; its format is free (behaviour.md 2.3)";
    ErrorFields = "error-fields", Contract, "an error body has HostId and Message (behaviour.md 2.2); their text is checked below";
    HostId = "host-id", Contract, "HostId names the host the request was sent to; the port is free (behaviour.md 2.2, section 6)";
    Message = "message", Informative, "message text is informative: snapshotted, compared only in strict mode (behaviour.md 2.2)";
    RetryAfter = "retry-after", Contract, "Throttling answers carry x-acs-retry-after in whole milliseconds (behaviour.md 2.2, section 6)";
    State = "state", Contract, "an accepted request changes exactly what it asked, a refused one nothing (behaviour.md 3)";
}

impl Check {
    pub fn spec(self) -> &'static CheckSpec {
        // The table lists every variant in declaration order.
        &CHECKS[self as usize]
    }
    pub fn name(self) -> &'static str {
        self.spec().name
    }
    pub fn class(self) -> Class {
        self.spec().class
    }
}

impl From<Check> for &'static str {
    fn from(c: Check) -> Self {
        c.name()
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The table as Markdown, for cases/README.md.
pub fn markdown_table() -> String {
    let mut out = String::from("| check | class | why |\n|---|---|---|\n");
    for c in CHECKS {
        let class = match c.class {
            Class::Contract => "contract",
            Class::Informative => "informative (`--strict`)",
        };
        out.push_str(&format!("| `{}` | {class} | {} |\n", c.name, c.why));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_declaration_order_with_unique_names() {
        for (i, c) in CHECKS.iter().enumerate() {
            assert_eq!(c.check as usize, i, "{}", c.name);
            assert_eq!(c.check.spec().name, c.name);
        }
        let mut names: Vec<_> = CHECKS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CHECKS.len());
    }

    #[test]
    fn the_case_documentation_prints_this_table() {
        let readme = include_str!("../../cases/README.md");
        assert!(
            readme.contains(&markdown_table()),
            "cases/README.md \"Checks\" differs from the table:\n{}",
            markdown_table()
        );
    }

    #[test]
    fn only_message_text_is_informative() {
        let informative: Vec<_> = CHECKS
            .iter()
            .filter(|c| c.class == Class::Informative)
            .map(|c| c.check)
            .collect();
        assert_eq!(informative, [Check::Message]);
    }
}
