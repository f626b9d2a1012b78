//! Response bodies: writing them (server) and reading them (runner).
//!
//! The layouts are fixed by behaviour.md 2.2 because SDKs parse them: the
//! Python SDK, for one, reads an XML error only under the exact
//! [`XML_CONTENT_TYPE`]. Rendering goes through serde_json and quick-xml so
//! escaping is never hand-written. Parsing faces arbitrary targets, so it
//! decides the format from the body itself and reports malformed input as a
//! [`WireError`] instead of panicking.

use std::io;

use quick_xml::Writer;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesDecl, BytesEnd, BytesRef, BytesStart, BytesText, Event};
use quick_xml::reader::Reader;
use serde::Serialize;

use super::error::WireError;

pub use crate::protocol::{JSON_CONTENT_TYPE, XML_CONTENT_TYPE, XML_PROLOG};

/// The two body formats of the RPC protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// `text/xml`, the V1 default.
    Xml,
}

impl Format {
    /// Reads a `Format` parameter value: `JSON` or `XML` in any letter case;
    /// anything else (including empty) is `None`.
    pub fn parse(s: &str) -> Option<Format> {
        if s.eq_ignore_ascii_case("json") {
            Some(Format::Json)
        } else if s.eq_ignore_ascii_case("xml") {
            Some(Format::Xml)
        } else {
            None
        }
    }

    /// The `Content-Type` header that goes with a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => JSON_CONTENT_TYPE,
            Format::Xml => XML_CONTENT_TYPE,
        }
    }
}

/// A `host[:port]` without its port (`127.0.0.1:9000` → `127.0.0.1`,
/// `[::1]:9000` → `[::1]`); a bare IPv6 address or a host without a port
/// is returned as it is. `HostId` may carry the port or not (behaviour.md
/// 2.2): the variation mode strips it, the verdict engine compares without.
pub fn host_without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            if name.contains(':') && !name.starts_with('[') {
                host
            } else {
                name
            }
        }
        _ => host,
    }
}

/// The fields of an error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorBody {
    /// A fresh id per answer, for support tickets.
    pub request_id: String,
    /// The host the request was sent to.
    pub host_id: String,
    /// The error code, what conformance checks key on.
    pub code: String,
    /// Human-readable text; informative only.
    pub message: String,
    /// A diagnosis URL; written in JSON answers only.
    pub recommend: Option<String>,
}

/// JSON success body; a struct rather than a map so field order is fixed.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JsonSuccess<'a> {
    request_id: &'a str,
}

/// JSON error body, keys in the documented order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JsonError<'a> {
    request_id: &'a str,
    host_id: &'a str,
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    recommend: Option<&'a str>,
}

/// Renders the success body of ModifyInstanceSpec.
pub fn render_success(format: Format, request_id: &str) -> String {
    match format {
        Format::Json => to_json(&JsonSuccess { request_id }),
        Format::Xml => to_xml("ModifyInstanceSpecResponse", &[("RequestId", request_id)]),
    }
}

/// Renders an error body; `Recommend` appears in JSON only.
pub fn render_error(format: Format, e: &ErrorBody) -> String {
    match format {
        Format::Json => to_json(&JsonError {
            request_id: &e.request_id,
            host_id: &e.host_id,
            code: &e.code,
            message: &e.message,
            recommend: e.recommend.as_deref(),
        }),
        Format::Xml => to_xml(
            "Error",
            &[
                ("RequestId", &e.request_id),
                ("HostId", &e.host_id),
                ("Code", &e.code),
                ("Message", &e.message),
            ],
        ),
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Serialising a struct of strings cannot fail; an empty body would at
    // least make the failure visible rather than panicking in the server.
    serde_json::to_string(value).unwrap_or_default()
}

/// `<?xml …?><root><name>value</name>…</root>` with library escaping.
fn to_xml(root: &str, fields: &[(&str, &str)]) -> String {
    let mut writer = Writer::new(Vec::new());
    // Writing into a Vec cannot fail; see `to_json` for the fallback.
    if write_xml(&mut writer, root, fields).is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&writer.into_inner()).into_owned()
}

fn write_xml(w: &mut Writer<Vec<u8>>, root: &str, fields: &[(&str, &str)]) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(BytesStart::new(root)))?;
    for (name, value) in fields {
        let text = xml_safe(value);
        w.create_element(*name).write_text_content(BytesText::new(&text))?;
    }
    w.write_event(Event::End(BytesEnd::new(root)))
}

/// Replaces the characters XML 1.0 cannot carry at all, not even as a
/// character reference (most C0 controls, U+FFFE, U+FFFF), with U+FFFD.
/// Messages may quote request values, and a client must still be able to
/// parse the answer to a hostile request.
fn xml_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
            _ => c,
        })
        .collect()
}

/// What a response body says, as far as conformance checks care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedBody {
    /// The format the body was actually written in.
    pub format: Format,
    /// `RequestId`, if present.
    pub request_id: Option<String>,
    /// `HostId`, if present.
    pub host_id: Option<String>,
    /// `Code`, if present; `None` on a success body.
    pub code: Option<String>,
    /// `Message`, if present.
    pub message: Option<String>,
    /// The XML root element's name (`Error`, `ModifyInstanceSpecResponse`,
    /// `html` …), or `"json"` for a JSON object.
    pub root: String,
}

/// Parses a response body from a target that may be wrong or hostile.
///
/// The format is taken from the body's first non-whitespace byte (after an
/// optional UTF-8 BOM): `{` or `[` is JSON, `<` is XML; only when it is
/// neither does a `content_type` naming json or xml choose the parser (for
/// its error message). Fields are read with exact-case names, JSON from the
/// top-level object, XML from the direct children of the root with
/// entities resolved; the first XML occurrence of a field wins and reading
/// stops at the end of the root element.
///
/// A well-formed document without the fields is `Ok` with `None` in them
/// (a success body, or a well-formed HTML page whose `root` is `html`).
/// Everything that is not well-formed JSON or XML is `Err`. A JSON field
/// that is neither a string nor `null` is kept as its JSON text (`400`), so
/// reports show what the target sent.
///
/// # Errors
///
/// An empty body, a body that is neither JSON nor XML, invalid JSON or a
/// JSON value that is not an object, XML that is not UTF-8, not well-formed,
/// truncated, without a root element or using an unknown entity.
pub fn parse_body(content_type: Option<&str>, body: &[u8]) -> Result<ParsedBody, WireError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or(WireError::EmptyBody)?;
    let body = body.get(start..).unwrap_or_default();
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    match body.first() {
        Some(b'{' | b'[') => parse_json(body),
        Some(b'<') => parse_xml(body),
        _ if ct.contains("json") => parse_json(body),
        _ if ct.contains("xml") => parse_xml(body),
        first => Err(WireError::UnknownBodyFormat {
            content_type: content_type.map(str::to_string),
            first_byte: first.copied().unwrap_or_default(),
        }),
    }
}

fn parse_json(body: &[u8]) -> Result<ParsedBody, WireError> {
    // serde_json caps nesting depth, so a deeply nested hostile body is an
    // error, not a stack overflow.
    let value: serde_json::Value = serde_json::from_slice(body).map_err(WireError::Json)?;
    let object = value.as_object().ok_or(WireError::JsonNotObject)?;
    let field = |name: &str| match object.get(name) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    Ok(ParsedBody {
        format: Format::Json,
        request_id: field("RequestId"),
        host_id: field("HostId"),
        code: field("Code"),
        message: field("Message"),
        root: "json".to_string(),
    })
}

/// The child elements read from XML; `fields` in `parse_xml` uses the same
/// indices.
const XML_FIELDS: [&str; 4] = ["RequestId", "HostId", "Code", "Message"];

fn parse_xml(body: &[u8]) -> Result<ParsedBody, WireError> {
    let text = std::str::from_utf8(body).map_err(WireError::NotUtf8)?;
    let mut reader = Reader::from_str(text);
    let mut root: Option<String> = None;
    let mut fields: [Option<String>; 4] = Default::default();
    // Depth 1 is inside the root; depth 2 inside one of its children.
    let mut depth = 0usize;
    // Index into `fields` of the child being read, if it is a wanted one
    // seen for the first time; its text is collected only at depth 2.
    let mut collecting: Option<usize> = None;
    loop {
        match reader.read_event().map_err(WireError::Xml)? {
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                depth += 1;
                if root.is_none() {
                    root = Some(name);
                } else if depth == 2 {
                    collecting = open_field(&mut fields, &name);
                }
            }
            Event::Empty(e) => {
                let name = e.name().as_ref().to_string();
                if root.is_none() {
                    root = Some(name);
                    break;
                }
                if depth == 1 {
                    open_field(&mut fields, &name);
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    collecting = None;
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            Event::Text(t) => push_text(&mut fields, collecting, depth, &t.xml10_content()),
            Event::CData(t) => push_text(&mut fields, collecting, depth, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = resolve_reference(&r)?;
                push_text(&mut fields, collecting, depth, &resolved);
            }
            Event::Eof => {
                return Err(match root {
                    None => WireError::XmlNoRoot,
                    Some(name) => WireError::XmlTruncated(name),
                });
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    let [request_id, host_id, code, message] = fields;
    Ok(ParsedBody {
        format: Format::Xml,
        request_id,
        host_id,
        code,
        message,
        root: root.unwrap_or_default(),
    })
}

/// If `name` is a wanted field not seen before, marks it present (empty
/// until its text arrives) and returns its index; a repeat returns `None`
/// so the first occurrence wins.
fn open_field(fields: &mut [Option<String>; 4], name: &str) -> Option<usize> {
    let i = XML_FIELDS.iter().position(|f| *f == name)?;
    let slot = fields.get_mut(i)?;
    if slot.is_some() {
        return None;
    }
    *slot = Some(String::new());
    Some(i)
}

fn push_text(fields: &mut [Option<String>; 4], collecting: Option<usize>, depth: usize, s: &str) {
    if depth != 2 {
        return;
    }
    if let Some(field) = collecting.and_then(|i| fields.get_mut(i)).and_then(Option::as_mut) {
        field.push_str(s);
    }
}

/// Resolves `&name;` or `&#…;`. Only the five predefined entities exist
/// without a DTD, and DTD entities are deliberately not expanded (entity
/// expansion is the classic hostile-XML attack), so anything else is an
/// error wherever it appears.
fn resolve_reference(r: &BytesRef) -> Result<String, WireError> {
    let unknown = || WireError::XmlUnknownEntity(r.xml10_content().into_owned());
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            _ => Err(unknown()),
        };
    }
    resolve_predefined_entity(&r.xml10_content())
        .map(str::to_string)
        .ok_or_else(unknown)
}

#[cfg(test)]
#[path = "body_tests.rs"]
mod tests;
