//! Judges one answer against the rule the contract expects: every check of
//! the table that concerns an answer, in order, each finding typed.

use super::Verdict;
use super::check::Check;
use crate::client::Exchange;
use crate::spec::{Match, RuleId, match_answer};
use crate::wire::{Format, JSON_CONTENT_TYPE, ParsedBody, XML_CONTENT_TYPE, XML_PROLOG, host_without_port, parse_body};

/// What a conforming answer to one request is.
#[derive(Clone, Debug)]
pub struct AnswerExpectation<'a> {
    pub rule: RuleId,
    /// The body format due (Format parameter, else V3 JSON, V1 XML).
    pub format: Format,
    /// Strict mode only: text the Message must contain.
    pub message_contains: Option<&'a str>,
    /// The Host the request was sent to (`host[:port]`).
    pub host: &'a str,
    /// The exact `x-acs-retry-after` due on Throttling, when known.
    pub retry_after_ms: Option<u64>,
}

/// The rule's canonical answer in words: `400 InvalidParameter (P3)`.
pub fn describe(rule: RuleId) -> String {
    let s = rule.spec();
    match s.code {
        Some(code) => format!("{} {code} ({rule})", s.status),
        None => format!("{} success ({rule})", s.status),
    }
}

/// The first 200 bytes of a body, on one line.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]).replace('\n', " ");
    if body.len() > 200 { format!("{text}…") } else { text }
}

/// Judges `ex` against `want`. `strict` turns informative checks and
/// accepted aliases into findings.
pub fn judge_answer(want: &AnswerExpectation<'_>, ex: &Exchange, strict: bool) -> Verdict {
    let mut v = Verdict::default();
    if (300..400).contains(&ex.status) {
        let to = ex
            .header("location")
            .map_or("no Location".to_string(), |l| format!("Location: {l}"));
        v.find(
            Check::Redirect,
            describe(want.rule),
            format!("{} redirect ({to}), not followed", ex.status),
        );
        return v;
    }
    let ctype = ex.header("content-type").unwrap_or_default();
    let parsed = match parse_body(Some(ctype), &ex.body) {
        Ok(p) => p,
        Err(e) => {
            let got = format!("{} with an unreadable body ({e}): {}", ex.status, excerpt(&ex.body));
            v.find(Check::Body, describe(want.rule), got);
            return v;
        }
    };
    status_and_code(want, ex, &parsed, strict, &mut v);
    if parsed.format != want.format {
        v.find(
            Check::Format,
            format!("{:?} body", want.format),
            format!("{:?} body", parsed.format),
        );
    }
    content_type(ctype, parsed.format, strict, &mut v);
    shape(want, ex, &parsed, &mut v);
    error_fields(want, ex, &parsed, strict, &mut v);
    retry_after(want, ex, &parsed, &mut v);
    v
}

fn status_and_code(want: &AnswerExpectation<'_>, ex: &Exchange, parsed: &ParsedBody, strict: bool, v: &mut Verdict) {
    let code = parsed.code.as_deref();
    match match_answer(want.rule, ex.status, code) {
        Match::Canonical => {}
        Match::Alias(a) if !strict => v.warnings.push(format!(
            "answered {} {} for {}: an accepted alias ({})",
            a.status, a.code, want.rule, a.why
        )),
        Match::Alias(_) | Match::Mismatch => {
            let got = format!("{} {}: {}", ex.status, code.unwrap_or("(no Code)"), excerpt(&ex.body));
            v.find(Check::Answer, describe(want.rule), got);
        }
    }
}

fn content_type(ctype: &str, format: Format, strict: bool, v: &mut Verdict) {
    let compact = ctype.replace(' ', "").to_ascii_lowercase();
    let shown = if ctype.is_empty() { "none" } else { ctype };
    match format {
        // The Python SDK parses XML errors only under this header (2.2).
        Format::Xml if compact != XML_CONTENT_TYPE => v.find(Check::ContentType, XML_CONTENT_TYPE, shown),
        Format::Json if compact != JSON_CONTENT_TYPE => {
            let media_type_ok = compact.split(';').next() == Some("application/json");
            if strict || !media_type_ok {
                v.find(Check::ContentType, JSON_CONTENT_TYPE, shown);
            } else {
                v.warnings
                    .push(format!("content-type `{ctype}` instead of `{JSON_CONTENT_TYPE}`"));
            }
        }
        _ => {}
    }
}

fn shape(want: &AnswerExpectation<'_>, ex: &Exchange, parsed: &ParsedBody, v: &mut Verdict) {
    if parsed.format == Format::Xml && !ex.body.starts_with(XML_PROLOG.as_bytes()) {
        v.find(Check::XmlProlog, XML_PROLOG, excerpt(&ex.body));
    }
    let is_error = want.rule.spec().is_error();
    if parsed.format == Format::Xml && ex.status / 100 == if is_error { 4 } else { 2 } {
        let root = if is_error {
            "Error"
        } else {
            "ModifyInstanceSpecResponse"
        };
        if parsed.root != root {
            v.find(Check::XmlRoot, format!("<{root}>"), format!("<{}>", parsed.root));
        }
    }
    if parsed.request_id.as_deref().is_none_or(str::is_empty) {
        v.find(Check::RequestId, "a RequestId", excerpt(&ex.body));
    }
}

fn error_fields(want: &AnswerExpectation<'_>, ex: &Exchange, parsed: &ParsedBody, strict: bool, v: &mut Verdict) {
    if !(want.rule.spec().is_error() && ex.status >= 400) {
        return;
    }
    for (field, value) in [("HostId", &parsed.host_id), ("Message", &parsed.message)] {
        if value.is_none() {
            v.find(
                Check::ErrorFields,
                format!("an error body with {field}"),
                excerpt(&ex.body),
            );
        }
    }
    if let Some(h) = parsed.host_id.as_deref().filter(|h| !names_host(h, want.host)) {
        let expected = format!("{:?} (the host the request was sent to; the port is free)", want.host);
        v.find(Check::HostId, expected, format!("{h:?}"));
    }
    if let (true, Some(text), Some(msg)) = (strict, want.message_contains, &parsed.message) {
        if !msg.contains(text) {
            v.find(Check::Message, format!("containing {text:?}"), msg.clone());
        }
    }
}

/// Whether `host_id` names `host`: equal, or equal without the port
/// (behaviour.md 2.2), host names compared without letter case.
pub fn names_host(host_id: &str, host: &str) -> bool {
    let bare = |h: &str| host_without_port(h.trim()).to_ascii_lowercase();
    bare(host_id) == bare(host)
}

fn retry_after(want: &AnswerExpectation<'_>, ex: &Exchange, parsed: &ParsedBody, v: &mut Verdict) {
    let throttling = parsed.code.as_deref() == Some("Throttling")
        || (want.rule.spec().code == Some("Throttling") && parsed.code.is_some());
    if !throttling {
        return;
    }
    match (ex.header("x-acs-retry-after"), want.retry_after_ms) {
        // A value in seconds (or any other unit) is a whole number too:
        // only the exact figure tells the units apart.
        (Some(h), Some(due)) if h.trim().parse::<u64>() != Ok(due) => {
            v.find(Check::RetryAfter, format!("{due} (milliseconds)"), h)
        }
        (Some(h), _) if h.trim().parse::<u64>().is_ok_and(|ms| ms >= 1) => {}
        (Some(h), _) => v.find(Check::RetryAfter, "whole milliseconds, at least 1", h),
        (None, _) => v.find(Check::RetryAfter, "a header on Throttling", "none"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ErrorBody, render_error, render_success};

    /// A JSON error answer whose code is `code` instead of InvalidParameter.
    fn json_error_with_code(code: &str) -> Exchange {
        let mut ex = error(Format::Json, "127.0.0.1", JSON_CONTENT_TYPE);
        ex.body = String::from_utf8(ex.body)
            .unwrap()
            .replace("InvalidParameter", code)
            .into_bytes();
        ex
    }

    fn error(format: Format, host_id: &str, ctype: &str) -> Exchange {
        let body = ErrorBody {
            request_id: "R".into(),
            host_id: host_id.into(),
            code: "InvalidParameter".into(),
            message: "The specified parameter is not valid.".into(),
            recommend: None,
        };
        Exchange {
            status: 400,
            headers: vec![("Content-Type".into(), ctype.into())],
            body: render_error(format, &body).into_bytes(),
        }
    }

    fn want(format: Format) -> AnswerExpectation<'static> {
        AnswerExpectation {
            rule: RuleId::P3,
            format,
            message_contains: Some("not valid"),
            host: "127.0.0.1:9000",
            retry_after_ms: None,
        }
    }

    fn checks(v: &Verdict) -> Vec<Check> {
        v.findings.iter().map(|f| f.check).collect()
    }

    #[test]
    fn conforming_answers_pass_in_both_modes_with_or_without_the_port() {
        for host in ["127.0.0.1:9000", "127.0.0.1"] {
            for strict in [false, true] {
                let v = judge_answer(
                    &want(Format::Json),
                    &error(Format::Json, host, JSON_CONTENT_TYPE),
                    strict,
                );
                assert!(v.findings.is_empty(), "{v:?}");
                let v = judge_answer(&want(Format::Xml), &error(Format::Xml, host, XML_CONTENT_TYPE), strict);
                assert!(v.findings.is_empty(), "{v:?}");
            }
        }
        let ok = Exchange {
            status: 200,
            headers: vec![("content-type".into(), JSON_CONTENT_TYPE.into())],
            body: render_success(Format::Json, "R").into_bytes(),
        };
        let e1 = AnswerExpectation {
            rule: RuleId::E1,
            ..want(Format::Json)
        };
        assert!(judge_answer(&e1, &ok, true).findings.is_empty());
    }

    #[test]
    fn each_contract_check_fires() {
        let json = |ex: &Exchange| checks(&judge_answer(&want(Format::Json), ex, false));
        assert_eq!(
            json(&error(Format::Json, "10.0.0.1:9000", JSON_CONTENT_TYPE)),
            [Check::HostId]
        );
        assert_eq!(
            json(&error(Format::Json, "127.0.0.1", "text/plain")),
            [Check::ContentType]
        );
        assert_eq!(
            json(&error(Format::Xml, "127.0.0.1", XML_CONTENT_TYPE)),
            [Check::Format]
        );
        let mut ex = error(Format::Json, "127.0.0.1", JSON_CONTENT_TYPE);
        ex.status = 404;
        assert_eq!(json(&ex), [Check::Answer]);
        ex.status = 307;
        assert_eq!(json(&ex), [Check::Redirect]);
        ex.status = 400;
        ex.body = b"<html>".to_vec();
        assert_eq!(json(&ex), [Check::Body]);
        let mut xml = error(Format::Xml, "127.0.0.1", XML_CONTENT_TYPE);
        xml.body = xml.body[XML_PROLOG.len()..].to_vec();
        assert_eq!(
            checks(&judge_answer(&want(Format::Xml), &xml, false)),
            [Check::XmlProlog]
        );
        // The XML root names the kind of answer: `<Error>` for a refusal,
        // `<ModifyInstanceSpecResponse>` for a success.
        let e1 = AnswerExpectation {
            rule: RuleId::E1,
            ..want(Format::Xml)
        };
        let mut error_as_success = error(Format::Xml, "127.0.0.1", XML_CONTENT_TYPE);
        error_as_success.status = 200;
        assert!(checks(&judge_answer(&e1, &error_as_success, false)).contains(&Check::XmlRoot));
        let success_as_error = Exchange {
            status: 400,
            headers: vec![("content-type".into(), XML_CONTENT_TYPE.into())],
            body: render_success(Format::Xml, "R").into_bytes(),
        };
        assert!(checks(&judge_answer(&want(Format::Xml), &success_as_error, false)).contains(&Check::XmlRoot));
        let throttled = AnswerExpectation {
            rule: RuleId::T1,
            ..want(Format::Json)
        };
        let mut t = json_error_with_code("Throttling");
        assert_eq!(checks(&judge_answer(&throttled, &t, false)), [Check::RetryAfter]);
        t.headers.push(("x-acs-retry-after".into(), "0".into()));
        assert_eq!(checks(&judge_answer(&throttled, &t, false)), [Check::RetryAfter]);
        t.headers.last_mut().unwrap().1 = "1500".into();
        assert!(judge_answer(&throttled, &t, false).findings.is_empty());
        // With the due value known, seconds fail and the exact figure passes.
        let exact = AnswerExpectation {
            retry_after_ms: Some(200_000),
            ..throttled
        };
        t.headers.last_mut().unwrap().1 = "200".into();
        let v = judge_answer(&exact, &t, false);
        assert_eq!(checks(&v), [Check::RetryAfter]);
        assert_eq!(v.findings[0].expected, "200000 (milliseconds)");
        t.headers.last_mut().unwrap().1 = " 200000".into();
        assert!(judge_answer(&exact, &t, false).findings.is_empty());
    }

    #[test]
    fn an_accepted_alias_warns_and_fails_only_in_strict_mode() {
        let p1 = AnswerExpectation {
            rule: RuleId::P1,
            ..want(Format::Json)
        };
        let ex = json_error_with_code("MissingInstanceId");
        let v = judge_answer(&p1, &ex, false);
        assert!(v.findings.is_empty(), "{v:?}");
        assert!(v.warnings[0].contains("an accepted alias"), "{v:?}");
        assert_eq!(checks(&judge_answer(&p1, &ex, true)), [Check::Answer]);
    }

    #[test]
    fn informative_checks_fail_only_in_strict_mode() {
        let mut w = want(Format::Json);
        w.message_contains = Some("something else");
        let spaced = error(Format::Json, "127.0.0.1", "application/json; charset=utf-8");
        assert!(judge_answer(&w, &spaced, false).findings.is_empty());
        let exact = error(Format::Json, "127.0.0.1", "application/json");
        let default = judge_answer(&w, &exact, false);
        assert!(
            default.findings.is_empty() && !default.warnings.is_empty(),
            "{default:?}"
        );
        assert_eq!(
            checks(&judge_answer(&w, &exact, true)),
            [Check::ContentType, Check::Message]
        );
    }

    #[test]
    fn host_id_is_compared_without_the_port() {
        assert!(names_host("127.0.0.1:9000", "127.0.0.1:9000"));
        assert!(names_host("127.0.0.1", "127.0.0.1:9000"));
        assert!(names_host("[::1]", "[::1]:9000"));
        assert!(names_host("ECS.example.com", "ecs.example.com:443"));
        assert!(!names_host("127.0.0.2", "127.0.0.1:9000"));
        assert!(!names_host("", "127.0.0.1:9000"));
    }
}
