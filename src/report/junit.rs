//! JUnit XML, written with quick-xml, one testcase per trial. quick-xml
//! escapes markup; characters XML 1.0 cannot carry at all (most C0
//! controls, as a hostile target may send) are written as `\x1b` text.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::summary::Summary;
use crate::runner::{Outcome, TrialResult};

/// Renders the results as a JUnit XML document.
pub fn render_junit(results: &[TrialResult], summary: &Summary) -> String {
    write(results, summary).unwrap_or_default()
}

fn write(results: &[TrialResult], s: &Summary) -> Result<String, std::io::Error> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let total = results.len().to_string();
    let failures = s.failed.to_string();
    let errors = s.errors.to_string();
    let skipped = s.skipped.to_string();
    let time = format!("{:.3}", s.elapsed.as_secs_f64());
    let mut suite = BytesStart::new("testsuite");
    suite.push_attribute(("name", "modspec"));
    suite.push_attribute(("tests", total.as_str()));
    suite.push_attribute(("failures", failures.as_str()));
    suite.push_attribute(("errors", errors.as_str()));
    suite.push_attribute(("skipped", skipped.as_str()));
    suite.push_attribute(("time", time.as_str()));
    w.write_event(Event::Start(suite))?;
    for r in results {
        let mut case = BytesStart::new("testcase");
        let time = format!("{:.3}", r.duration.as_secs_f64());
        case.push_attribute(("name", xml_safe(&r.id).as_ref()));
        case.push_attribute(("classname", "modspec"));
        case.push_attribute(("file", xml_safe(&r.file).as_ref()));
        case.push_attribute(("time", time.as_str()));
        let child = match &r.outcome {
            Outcome::Pass => None,
            // The first mismatch says what failed; the text holds them all.
            Outcome::Fail { mismatches } => Some((
                "failure",
                mismatches.first().map_or_else(String::new, |m| {
                    let more = mismatches.len() - 1;
                    if more == 0 {
                        m.line()
                    } else {
                        format!("{} (and {more} more)", m.line())
                    }
                }),
            )),
            Outcome::Error(e) => Some(("error", e.to_string())),
            Outcome::Skipped { reason } => Some(("skipped", reason.clone())),
        };
        match child {
            None => w.write_event(Event::Empty(case))?,
            Some((tag, message)) => {
                w.write_event(Event::Start(case))?;
                let mut el = BytesStart::new(tag);
                el.push_attribute(("message", xml_safe(&message).as_ref()));
                w.write_event(Event::Start(el))?;
                w.write_event(Event::Text(BytesText::new(&xml_safe(&r.details()))))?;
                w.write_event(Event::End(BytesEnd::new(tag)))?;
                w.write_event(Event::End(BytesEnd::new("testcase")))?;
            }
        }
    }
    w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    String::from_utf8(w.into_inner()).map_err(std::io::Error::other)
}

/// `s` without the characters XML 1.0 forbids (escaped as text instead).
fn xml_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let allowed =
        |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
    if s.chars().all(allowed) {
        return std::borrow::Cow::Borrowed(s);
    }
    s.chars()
        .map(|c| {
            if allowed(c) {
                c.to_string()
            } else {
                format!("\\x{:02x}", c as u32)
            }
        })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn characters_xml_cannot_carry_become_text() {
        assert_eq!(super::xml_safe("a\u{1b}[2J\0b\nc"), "a\\x1b[2J\\x00b\nc");
        assert_eq!(super::xml_safe("plain"), "plain");
    }
}
