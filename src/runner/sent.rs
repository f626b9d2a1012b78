//! What a failing step sent, in words, for the report (issue 9): method,
//! path and parameters, the signed headers, with every signature redacted.
//! The secret itself never travels in a request; the signatures derived
//! from it are the only sensitive values, and they are replaced here.

use crate::client::Prepared;
use crate::wire::ParamList;

/// `POST /?Action=…&Signature=[redacted] · body: … · signed: host;…`.
pub(crate) fn describe_sent(p: &Prepared) -> String {
    let mut out = format!("{} /", p.method);
    if !p.query.is_empty() {
        out.push('?');
        out.push_str(&redacted_pairs(&p.query));
    }
    let form = p.headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("content-type")
            && v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded")
    });
    if !p.body.is_empty() {
        let body = String::from_utf8_lossy(&p.body);
        let shown = if form { redacted_pairs(&body) } else { clip(&body) };
        out.push_str(&format!(" · body: {shown}"));
    }
    let auth = p.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    if let Some((_, a)) = auth {
        let signed = a
            .split(',')
            .find_map(|part| part.trim().strip_prefix("SignedHeaders="))
            .unwrap_or("(none)");
        let algorithm = a.split_whitespace().next().unwrap_or_default();
        out.push_str(&format!(" · {algorithm}, signed: {signed}, Signature=[redacted]"));
    }
    out
}

/// `a=1&Signature=…` with the Signature value replaced, in the order sent.
fn redacted_pairs(encoded: &str) -> String {
    let pairs = ParamList::from_query_and_body(Some(encoded), None);
    let shown: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let v = if k == "Signature" { "[redacted]" } else { v };
            format!("{k}={}", clip(v))
        })
        .collect();
    clip(&shown.join("&"))
}

fn clip(s: &str) -> String {
    const MAX: usize = 600;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{EcsRequest, Secret, SignatureStyle, prepare};

    fn request(style: SignatureStyle) -> String {
        let params: ParamList = [("InstanceId", "i-1"), ("InternetMaxBandwidthOut", "7")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let p = prepare(&EcsRequest::modify(style, params), "AK", &Secret::new("s3cr3t"), "h:1");
        describe_sent(&p)
    }

    #[test]
    fn v1_shows_the_parameters_and_hides_the_signature() {
        let text = request(SignatureStyle::V1);
        assert!(text.starts_with("POST /"), "{text}");
        assert!(
            text.contains("InternetMaxBandwidthOut=7") && text.contains("Signature=[redacted]"),
            "{text}"
        );
        let sig_values: Vec<&str> = text.split("Signature=").skip(1).collect();
        assert!(sig_values.iter().all(|v| v.starts_with("[redacted]")), "{text}");
        assert!(!text.contains("s3cr3t"));
    }

    #[test]
    fn v3_shows_the_signed_headers_and_hides_the_signature() {
        let text = request(SignatureStyle::V3);
        assert!(text.contains("InstanceId=i-1"), "{text}");
        assert!(
            text.contains("ACS3-HMAC-SHA256, signed: accept;host;user-agent;x-acs-action"),
            "{text}"
        );
        assert!(text.ends_with("Signature=[redacted]"), "{text}");
    }
}
