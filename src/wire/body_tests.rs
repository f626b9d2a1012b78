//! Tests of `body`: the exact rendered bytes, and parsing of good, odd and
//! hostile bodies. Kept beside `body.rs` so that file stays readable.

use super::*;

fn error_body(message: &str, recommend: Option<&str>) -> ErrorBody {
    ErrorBody {
        request_id: "R-1".into(),
        host_id: "ecs.example.com".into(),
        code: "InvalidParameter".into(),
        message: message.into(),
        recommend: recommend.map(str::to_string),
    }
}

fn parsed(content_type: Option<&str>, body: &str) -> ParsedBody {
    match parse_body(content_type, body.as_bytes()) {
        Ok(p) => p,
        Err(e) => panic!("{body:?} did not parse: {e:?}"),
    }
}

#[test]
fn format_parse_is_case_insensitive_and_strict() {
    assert_eq!(Format::parse("json"), Some(Format::Json));
    assert_eq!(Format::parse("XmL"), Some(Format::Xml));
    for bad in ["", "yaml", " json", "JSON ", "xml2"] {
        assert_eq!(Format::parse(bad), None, "{bad:?}");
    }
    assert_eq!(Format::Xml.content_type(), "text/xml;charset=utf-8");
}

#[test]
fn success_bodies_are_exact() {
    assert_eq!(render_success(Format::Json, "R-1"), r#"{"RequestId":"R-1"}"#);
    assert_eq!(
        render_success(Format::Xml, "R-1"),
        r#"<?xml version="1.0" encoding="UTF-8"?><ModifyInstanceSpecResponse><RequestId>R-1</RequestId></ModifyInstanceSpecResponse>"#
    );
}

#[test]
fn json_error_keys_in_documented_order() {
    let with = render_error(Format::Json, &error_body("m", Some("https://r")));
    assert_eq!(
        with,
        r#"{"RequestId":"R-1","HostId":"ecs.example.com","Code":"InvalidParameter","Message":"m","Recommend":"https://r"}"#
    );
    let without = render_error(Format::Json, &error_body("m", None));
    assert!(!without.contains("Recommend"), "{without}");
}

#[test]
fn xml_error_is_exact_and_has_no_recommend() {
    let xml = render_error(Format::Xml, &error_body("m", Some("https://r")));
    assert_eq!(
        xml,
        r#"<?xml version="1.0" encoding="UTF-8"?><Error><RequestId>R-1</RequestId><HostId>ecs.example.com</HostId><Code>InvalidParameter</Code><Message>m</Message></Error>"#
    );
}

#[test]
fn xml_escaping_round_trips() {
    let message = r#"a<b & c>"d" 'e' &amp; ]]> tab	cr"#.to_string() + "\r\nend";
    let xml = render_error(Format::Xml, &error_body(&message, None));
    assert!(!xml.contains("a<b"), "{xml}");
    let p = parsed(Some(XML_CONTENT_TYPE), &xml);
    assert_eq!(p.message.as_deref(), Some(message.as_str()));
    assert_eq!(p.code.as_deref(), Some("InvalidParameter"));
    assert_eq!(p.root, "Error");
}

#[test]
fn json_escaping_round_trips() {
    let message = "quote \" backslash \\ newline \n nul \u{0} ü";
    let json = render_error(Format::Json, &error_body(message, None));
    let p = parsed(None, &json);
    assert_eq!(p.message.as_deref(), Some(message));
    assert_eq!(p.format, Format::Json);
    assert_eq!(p.root, "json");
}

#[test]
fn control_characters_cannot_break_the_xml() {
    let xml = render_error(Format::Xml, &error_body("a\u{0}b\u{1B}c", None));
    let p = parsed(None, &xml);
    assert_eq!(p.message.as_deref(), Some("a\u{FFFD}b\u{FFFD}c"));
    // The whitespace controls XML carries are kept as they are.
    let xml = render_error(Format::Xml, &error_body("a\tb\nc", None));
    assert_eq!(parsed(None, &xml).message.as_deref(), Some("a\tb\nc"));
}

#[test]
fn success_bodies_parse_with_code_none() {
    let p = parsed(None, &render_success(Format::Xml, "R-9"));
    assert_eq!((p.root.as_str(), p.code), ("ModifyInstanceSpecResponse", None));
    assert_eq!(p.request_id.as_deref(), Some("R-9"));
    let p = parsed(None, &render_success(Format::Json, "R-9"));
    assert_eq!((p.code, p.request_id.as_deref()), (None, Some("R-9")));
}

#[test]
fn format_comes_from_the_body_not_the_content_type() {
    let p = parsed(Some(JSON_CONTENT_TYPE), "\u{FEFF}\n <Error><Code>X</Code></Error>");
    assert_eq!((p.format, p.code.as_deref()), (Format::Xml, Some("X")));
    let p = parsed(Some(XML_CONTENT_TYPE), r#"  {"Code":"Y"}"#);
    assert_eq!((p.format, p.code.as_deref()), (Format::Json, Some("Y")));
}

#[test]
fn json_without_code_is_ok_with_none_and_keys_are_exact_case() {
    let p = parsed(None, r#"{"code":"X","requestId":"r","Message":null}"#);
    assert_eq!((p.code, p.request_id, p.message), (None, None, None));
}

#[test]
fn json_non_string_field_keeps_its_text() {
    let p = parsed(None, r#"{"Code":400,"Message":{"a":1}}"#);
    assert_eq!(p.code.as_deref(), Some("400"));
    assert_eq!(p.message.as_deref(), Some(r#"{"a":1}"#));
}

#[test]
fn xml_reads_direct_children_only_first_wins_and_resolves_references() {
    let body = "<?xml version=\"1.0\"?><!-- c --><Error>\n  <Detail><Code>inner</Code></Detail>\n  \
                <Code>A&amp;B&#x41;&#66;<![CDATA[<x>]]></Code><Code>second</Code><HostId/>\n</Error>trailing";
    let p = parsed(None, body);
    assert_eq!(p.code.as_deref(), Some("A&BAB<x>"));
    assert_eq!(p.host_id.as_deref(), Some(""));
    assert_eq!(p.message, None);
}

#[test]
fn well_formed_html_is_ok_with_html_root_and_no_code() {
    let p = parsed(Some("text/html"), "<html><body><h1>502 Bad Gateway</h1></body></html>");
    assert_eq!((p.root.as_str(), p.code), ("html", None));
}

#[test]
fn malformed_bodies_are_errors() {
    let cases: &[(&str, &[u8])] = &[
        ("empty", b""),
        ("whitespace", b" \r\n\t"),
        ("plain text", b"Bad Gateway"),
        (
            "html with void tag",
            b"<!DOCTYPE html><html><head><meta charset=utf-8></head></html>",
        ),
        ("html entity", b"<html><body>&nbsp;</body></html>"),
        ("truncated xml", b"<?xml version=\"1.0\"?><Error><Code>X</Code>"),
        ("truncated tag", b"<Error><Co"),
        ("mismatched end", b"<Error><Code>X</Message></Error>"),
        ("only declaration", b"<?xml version=\"1.0\"?>"),
        ("bad char ref", b"<Error><Code>&#0;</Code></Error>"),
        (
            "dtd entity",
            b"<!DOCTYPE e [<!ENTITY x \"y\">]><Error><Code>&x;</Code></Error>",
        ),
        ("invalid utf-8", b"<Error><Code>\xff</Code></Error>"),
        ("truncated json", b"{\"Code\":\"X\""),
        ("json array", b"[1,2]"),
        ("json scalar under json type", b"42"),
        ("deep json", &[b'['; 10_000]),
    ];
    for (name, body) in cases {
        let ct = if *name == "json scalar under json type" {
            Some(JSON_CONTENT_TYPE)
        } else {
            None
        };
        let got = parse_body(ct, body);
        assert!(got.is_err(), "{name}: {got:?}");
    }
}

#[test]
fn deep_xml_does_not_overflow() {
    let body = "<a>".repeat(100_000) + &"</a>".repeat(100_000);
    let p = parsed(None, &body);
    assert_eq!(p.root, "a");
}

#[test]
fn ports_are_stripped_only_where_there_is_one() {
    assert_eq!(host_without_port("127.0.0.1:9000"), "127.0.0.1");
    assert_eq!(host_without_port("[::1]:9000"), "[::1]");
    assert_eq!(host_without_port("ecs.aliyuncs.com"), "ecs.aliyuncs.com");
    assert_eq!(host_without_port("::1"), "::1");
    assert_eq!(host_without_port(":9000"), ":9000");
}

#[test]
fn a_body_without_a_telling_first_byte_is_read_by_its_content_type() {
    // Not `{`, `[` or `<`: the content type picks the parser, and its error
    // says which one read it.
    let read = |ct: &str| parse_body(Some(ct), b"oops").unwrap_err();
    assert!(
        matches!(read("application/json"), WireError::Json(_)),
        "{:?}",
        read("application/json")
    );
    assert!(!matches!(
        read("text/xml"),
        WireError::Json(_) | WireError::UnknownBodyFormat { .. }
    ));
    assert!(matches!(read("text/plain"), WireError::UnknownBodyFormat { .. }));
}

#[test]
fn whitespace_between_xml_elements_stays_out_of_the_fields() {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <RequestId>R</RequestId>\n  \
               <HostId>h</HostId>\n  <Code>C</Code>\n  <Message>M</Message>\n</Error>\n";
    let p = parsed(None, xml);
    let fields = (
        p.request_id.as_deref(),
        p.host_id.as_deref(),
        p.code.as_deref(),
        p.message.as_deref(),
    );
    assert_eq!(fields, (Some("R"), Some("h"), Some("C"), Some("M")));
}

#[test]
fn a_field_keeps_its_own_text_around_a_nested_element() {
    let xml = "<Error><RequestId>R</RequestId><Code>C</Code><Message>a<b>x</b>c</Message></Error>";
    assert_eq!(parsed(None, xml).message.as_deref(), Some("ac"));
}
