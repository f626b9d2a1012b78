//! Variation mode (`modspec serve --vary SEED`): every contract rule kept,
//! everything the contract leaves free varied, answer by answer.
//!
//! The checks of the runner and the fuzzer may demand only what the
//! contract demands. A check that happens to demand what the reference
//! server always does (a port in `HostId`, compact JSON, a key order) would
//! fail a correct implementation; running the suite against this mode is
//! the standing guard against such checks. The freedoms are listed in
//! docs/spec/behaviour.md section 2.3, each with the rule that leaves it
//! free; this file is their one implementation.

use std::sync::atomic::{AtomicU64, Ordering};

use quick_xml::events::{BytesText, Event};
use quick_xml::{Reader, Writer};
use serde_json::{Map, Value};

use super::respond::Answer;
use crate::wire::{JSON_CONTENT_TYPE, host_without_port};

/// The varied free parts of answers, seeded: one seed gives one sequence.
#[derive(Debug)]
pub struct Variation {
    seed: u64,
    answers: AtomicU64,
}

/// One answer's draws: each bit switches one freedom.
struct Draw(u64);

impl Draw {
    fn bit(&self, n: u32) -> bool {
        self.0 >> n & 1 == 1
    }
    fn pick(&self, shift: u32, choices: u64) -> u64 {
        (self.0 >> shift) % choices
    }
}

/// The JSON field names of the answers, for the extra unknown field.
const EXTRA_FIELD: &str = "AccessDeniedDetail";

impl Variation {
    pub fn new(seed: u64) -> Self {
        Variation {
            seed,
            answers: AtomicU64::new(0),
        }
    }

    /// Whether response header names go out in Title-Case (`Content-Type`)
    /// rather than hyper's lower case: per seed, since it is a connection
    /// setting (HTTP/1 header names are case-insensitive, RFC 9110 5.1).
    pub(crate) fn title_case_headers(&self) -> bool {
        splitmix(self.seed) & 1 == 1
    }

    /// Varies `answer` in place and returns the extra headers to send.
    pub fn apply(&self, answer: &mut Answer) -> Vec<(&'static str, String)> {
        let n = self.answers.fetch_add(1, Ordering::Relaxed);
        let d = Draw(splitmix(self.seed ^ splitmix(n)));
        let mut extra = Vec::new();
        let is_json = answer.content_type == JSON_CONTENT_TYPE;
        let varied = if is_json {
            if d.bit(0) {
                // Media-type parameters: space after `;` (RFC 9110 5.6.6).
                answer.content_type = "application/json; charset=utf-8";
            }
            vary_json(&answer.body, &d)
        } else if answer.body.starts_with("<?xml") {
            vary_xml(&answer.body, &d)
        } else {
            None // the text/plain refusals of oversized requests
        };
        if let Some(body) = varied {
            answer.body = body;
        }
        if d.bit(1) {
            extra.push(("x-acs-request-id", format!("vary-{n}")));
        }
        if d.bit(2) {
            extra.push(("x-modspec-vary", format!("{}", d.pick(40, 1000))));
        }
        extra
    }
}

/// JSON: HostId with or without its port, RequestId in either letter case,
/// an optional `Recommend`, an unknown field, any key order, any whitespace.
fn vary_json(body: &str, d: &Draw) -> Option<String> {
    let Value::Object(mut map) = serde_json::from_str::<Value>(body).ok()? else {
        return None;
    };
    vary_ids(&mut map, d);
    let code = map.get("Code").and_then(Value::as_str).map(str::to_string);
    if let Some(code) = code.filter(|_| d.bit(5) && !map.contains_key("Recommend")) {
        let url = format!("https://api.aliyun.com/troubleshoot?q={code}&product=Ecs");
        map.insert("Recommend".into(), Value::String(url));
    }
    if d.bit(6) {
        map.insert(EXTRA_FIELD.into(), Value::Object(Map::new()));
    }
    let mut entries: Vec<(String, Value)> = map.into_iter().collect();
    match d.pick(8, 3) {
        0 => {}
        1 => entries.reverse(),
        _ => entries.rotate_left(1),
    }
    let map: Map<String, Value> = entries.into_iter().collect();
    let value = Value::Object(map);
    Some(match d.pick(12, 3) {
        0 => value.to_string(),
        1 => serde_json::to_string_pretty(&value).ok()?,
        _ => format!("{value}\n"),
    })
}

fn vary_ids(map: &mut Map<String, Value>, d: &Draw) {
    if let Some(Value::String(h)) = map.get_mut("HostId") {
        if d.bit(3) {
            *h = host_without_port(h).to_string();
        }
    }
    if let Some(Value::String(r)) = map.get_mut("RequestId") {
        if d.bit(4) {
            *r = r.to_ascii_lowercase();
        }
    }
}

/// XML: the same id freedoms, an unknown element, whitespace between
/// elements. The prolog stays first (behaviour.md 2.2).
fn vary_xml(body: &str, d: &Draw) -> Option<String> {
    let mut reader = Reader::from_str(body);
    // Not quick-xml's indenting writer: it would also indent between a
    // text and an entity reference (`bad &amp; x`), changing the text.
    // Whitespace goes only between the root's children.
    let mut writer = Writer::new(Vec::new());
    let indent = d.bit(7);
    let space = |w: &mut Writer<Vec<u8>>, text: &str| {
        if indent {
            w.write_event(Event::Text(BytesText::from_escaped(text))).ok()
        } else {
            Some(())
        }
    };
    let mut inside: Option<String> = None;
    let mut depth = 0usize;
    loop {
        let event = reader.read_event().ok()?;
        match &event {
            Event::Eof => break,
            Event::Start(e) => {
                if depth == 1 {
                    space(&mut writer, "\n  ")?;
                }
                depth += 1;
                inside = Some(e.name().as_ref().to_string());
            }
            Event::Empty(_) if depth == 1 => space(&mut writer, "\n  ")?,
            Event::End(_) => {
                if depth == 1 {
                    if d.bit(6) {
                        space(&mut writer, "\n  ")?;
                        writer
                            .create_element("RequestTrace")
                            .write_text_content(BytesText::new("vary"))
                            .ok()?;
                    }
                    space(&mut writer, "\n")?;
                }
                depth = depth.saturating_sub(1);
                inside = None;
            }
            Event::Decl(_) => {
                writer.write_event(event).ok()?;
                space(&mut writer, "\n")?;
                continue;
            }
            Event::Text(t) => {
                let text = t.xml10_content();
                let changed = match inside.as_deref() {
                    Some("HostId") if d.bit(3) => Some(host_without_port(&text).to_string()),
                    Some("RequestId") if d.bit(4) => Some(text.to_ascii_lowercase()),
                    _ => None,
                };
                if let Some(new) = changed {
                    writer.write_event(Event::Text(BytesText::new(&new))).ok()?;
                    continue;
                }
            }
            _ => {}
        }
        writer.write_event(event).ok()?;
    }
    String::from_utf8(writer.into_inner()).ok()
}

/// SplitMix64: a well-mixed 64-bit value from a counter, enough to spread
/// the draws (nothing here needs unpredictability).
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::respond::error_answer;
    use crate::spec::RuleId;
    use crate::wire::{Format, parse_body};

    fn answers(format: Format, count: usize) -> Vec<(Answer, Vec<(&'static str, String)>)> {
        let v = Variation::new(7);
        (0..count)
            .map(|_| {
                let mut a = error_answer(
                    RuleId::P3,
                    400,
                    "InvalidParameter",
                    "bad & <wrong>",
                    format,
                    "127.0.0.1:9000",
                    None,
                );
                let h = v.apply(&mut a);
                (a, h)
            })
            .collect()
    }

    #[test]
    fn every_varied_answer_keeps_the_contract() {
        for format in [Format::Json, Format::Xml] {
            for (a, _) in answers(format, 64) {
                let p = parse_body(Some(a.content_type), a.body.as_bytes()).unwrap();
                assert_eq!(p.format, format, "{}", a.body);
                assert_eq!(p.code.as_deref(), Some("InvalidParameter"), "{}", a.body);
                assert_eq!(p.message.as_deref(), Some("bad & <wrong>"), "{}", a.body);
                let host = p.host_id.unwrap();
                assert!(host == "127.0.0.1:9000" || host == "127.0.0.1", "{host}");
                assert!(p.request_id.is_some_and(|r| r.len() == 36));
                if format == Format::Xml {
                    assert!(a.body.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#));
                    assert_eq!(p.root, "Error");
                }
            }
        }
    }

    /// A property of one varied answer and its extra headers.
    type Property<'a> = dyn Fn(&Answer, &[(&'static str, String)]) -> bool + 'a;

    #[test]
    fn each_freedom_is_taken_both_ways() {
        let json = answers(Format::Json, 64);
        let xml = answers(Format::Xml, 64);
        let both = |f: &Property<'_>| {
            let all: Vec<bool> = json.iter().chain(&xml).map(|(a, h)| f(a, h)).collect();
            all.contains(&true) && all.contains(&false)
        };
        assert!(both(&|a, _| a.body.contains("127.0.0.1:9000")), "HostId port");
        let request_id = |a: &Answer| parse_body(None, a.body.as_bytes()).unwrap().request_id.unwrap();
        assert!(
            both(&|a, _| request_id(a).chars().any(|c| c.is_ascii_lowercase())),
            "RequestId case"
        );
        assert!(both(&|a, _| a.body.contains("Recommend")), "Recommend");
        assert!(both(&|a, _| a.body.contains('\n')), "whitespace");
        assert!(both(
            &|a, _| a.body.contains(EXTRA_FIELD) || a.body.contains("RequestTrace")
        ));
        assert!(both(&|a, _| a.content_type.contains("; ")), "content-type spacing");
        assert!(
            both(&|_, h| h.iter().any(|(n, _)| *n == "x-acs-request-id")),
            "extra header"
        );
        assert!(both(&|a, _| a.body.starts_with("{\"RequestId\"")), "key order");
    }

    #[test]
    fn one_seed_one_sequence() {
        let run = |seed| {
            let v = Variation::new(seed);
            (0..16)
                .map(|_| {
                    let mut a = error_answer(RuleId::R1, 404, "X", "m", Format::Json, "h:1", None);
                    a.body = a.body.replace(&a.body[14..50], "00000000-0000-0000-0000-000000000000");
                    v.apply(&mut a);
                    a.body
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }
}
