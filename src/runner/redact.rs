//! Removes what changes between runs (RequestId, HostId's port, the
//! timestamp and nonce inside a V1 StringToSign) and any secret a target
//! echoes, so snapshots are stable and safe to commit.

use quick_xml::events::{BytesText, Event};
use quick_xml::{Reader, Writer};
use serde_json::Value;

use crate::client::Secret;

const SIGNED_TAIL: &str = "server string to sign is:";

fn redact_field(name: &str, text: &str) -> Option<String> {
    match name {
        "RequestId" => Some("[request-id]".into()),
        "HostId" => Some("[host]".into()),
        "Message" => text
            .find(SIGNED_TAIL)
            .map(|i| format!("{}[string-to-sign]", &text[..i + SIGNED_TAIL.len()])),
        _ => None,
    }
}

/// The body with volatile values and the secret replaced.
pub fn redact_body(body: &str, secret: &Secret) -> String {
    let s = secret.expose();
    let body = if s.is_empty() {
        body.to_string()
    } else {
        body.replace(s, "[secret]")
    };
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(trimmed) {
            for (k, v) in map.iter_mut() {
                if let Some(r) = v.as_str().and_then(|t| redact_field(k, t)) {
                    *v = Value::String(r);
                }
            }
            return serde_json::to_string(&Value::Object(map)).unwrap_or(body);
        }
    } else if trimmed.starts_with('<') {
        if let Some(x) = redact_xml(trimmed) {
            return x;
        }
    }
    body
}

fn redact_xml(xml: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    let mut writer = Writer::new(Vec::new());
    // Inside a redactable element, events are held back until its end.
    let mut held: Option<(String, Vec<Event<'static>>, String)> = None;
    loop {
        let ev = reader.read_event().ok()?.into_owned();
        match (&ev, &mut held) {
            (Event::Eof, _) => break,
            (Event::Start(e), None) => {
                let name = e.name().into_inner().to_string();
                writer.write_event(ev.borrow()).ok()?;
                if matches!(name.as_str(), "RequestId" | "HostId" | "Message") {
                    held = Some((name, Vec::new(), String::new()));
                }
            }
            (Event::End(_), Some((name, events, text))) => {
                match redact_field(name, text) {
                    Some(r) => writer.write_event(Event::Text(BytesText::new(&r))).ok()?,
                    None => {
                        for e in events.iter() {
                            writer.write_event(e.borrow()).ok()?;
                        }
                    }
                }
                held = None;
                writer.write_event(ev.borrow()).ok()?;
            }
            (Event::Text(t), Some((_, events, text))) => {
                text.push_str(&t.xml10_content());
                events.push(ev.clone());
            }
            (_, Some((_, events, _))) => events.push(ev.clone()),
            (_, None) => writer.write_event(ev.borrow()).ok()?,
        }
    }
    String::from_utf8(writer.into_inner()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_xml_lose_their_volatile_values_and_secrets() {
        let s = Secret::new("s3cr3t");
        let j = r#"{"RequestId":"ABC","HostId":"127.0.0.1:5","Code":"X","Message":"bad s3cr3t server string to sign is:POST&%2F&a"}"#;
        let r = redact_body(j, &s);
        assert_eq!(
            r,
            r#"{"RequestId":"[request-id]","HostId":"[host]","Code":"X","Message":"bad [secret] server string to sign is:[string-to-sign]"}"#
        );
        let x = r#"<?xml version="1.0" encoding="UTF-8"?><Error><RequestId>A</RequestId><HostId>h:1</HostId><Code>C&amp;D</Code></Error>"#;
        let r = redact_body(x, &s);
        assert!(
            r.contains("<RequestId>[request-id]</RequestId><HostId>[host]</HostId><Code>C&amp;D</Code>"),
            "{r}"
        );
    }
}
