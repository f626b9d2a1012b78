//! Signature version 1.0 (HMAC-SHA1), the classic RPC signature.
//!
//! The whole request is carried in parameters, so the string to sign is
//! built from the parameter list alone (behaviour.md 2.1):
//! `METHOD&%2F&pe(sorted "pe(k)=pe(v)" pairs joined by &)`. Pairs sort by
//! their decoded bytes, before encoding (behaviour.md section 6, as the
//! official SDKs sign). The server verifies with [`verify`] and every client
//! of the crate signs with [`sign_damaged`] (undamaged: [`sign_request`]),
//! so there is one canonicalisation for both sides.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use super::damage::Damage;
use super::encode::pe;
use super::params::{ParamList, SortOrder};

type HmacSha1 = Hmac<Sha1>;

/// Builds the V1 StringToSign for `method` over every pair of `params`
/// except those named `Signature`.
///
/// Empty values are included (`SignatureType=`), repeated names are all
/// included, and pairs are sorted by the decoded bytes of the name, then of
/// the value, before encoding (behaviour.md section 6).
pub fn string_to_sign(method: &str, params: &ParamList) -> String {
    string_to_sign_in(method, params, SortOrder::Decoded)
}

/// [`string_to_sign`] with the pairs in `order` (only damage uses another).
fn string_to_sign_in(method: &str, params: &ParamList, order: SortOrder) -> String {
    let canonical = params
        .encoded_sorted(Some("Signature"), order)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!("{method}&%2F&{}", pe(&canonical))
}

/// A MAC keyed with `secret + "&"`, the V1 key derivation (the part after
/// `&` would be a security token secret, which this API never uses).
fn keyed_mac(secret: &str) -> Option<HmacSha1> {
    // HMAC accepts keys of any length, so this never yields `None`; the
    // Option only spares the code an `expect`.
    HmacSha1::new_from_slice(format!("{secret}&").as_bytes()).ok()
}

/// Computes `Base64(HMAC-SHA1(secret + "&", string_to_sign))`.
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    match keyed_mac(secret) {
        Some(mut mac) => {
            mac.update(string_to_sign.as_bytes());
            BASE64.encode(mac.finalize().into_bytes())
        }
        // Unreachable (see `keyed_mac`); an empty signature never verifies.
        None => String::new(),
    }
}

/// Checks `given_signature` against the request's own parameters.
///
/// On a mismatch the error carries the server's StringToSign, which the
/// `SignatureDoesNotMatch` message quotes so a client can diff it against
/// its own. The comparison runs on the decoded MAC bytes in constant time;
/// a signature that is not valid Base64 is simply a mismatch.
///
/// # Errors
///
/// The server's StringToSign, whenever the signature does not match.
pub fn verify(secret: &str, method: &str, params: &ParamList, given_signature: &str) -> Result<(), String> {
    let sts = string_to_sign(method, params);
    let Ok(given) = BASE64.decode(given_signature) else {
        return Err(sts);
    };
    let Some(mut mac) = keyed_mac(secret) else {
        return Err(sts);
    };
    mac.update(sts.as_bytes());
    match mac.verify_slice(&given) {
        Ok(()) => Ok(()),
        Err(_) => Err(sts),
    }
}

/// The common parameters a V1 client chooses per request.
#[derive(Clone, Copy, Debug)]
pub struct V1Common<'a> {
    /// Sent as `Action`.
    pub action: &'a str,
    /// Sent as `Version`.
    pub version: &'a str,
    /// Sent as `AccessKeyId`; identifies the account (and its secret).
    pub access_key_id: &'a str,
    /// Sent as `SignatureNonce`; must be unique per key within 15 minutes.
    pub nonce: &'a str,
    /// Sent as `Timestamp`, `yyyy-MM-ddTHH:mm:ssZ`.
    pub timestamp: &'a str,
    /// Sent as `Format` when set; the server defaults to XML without it.
    pub format: Option<&'a str>,
}

/// Signs a V1 request as a client would.
///
/// Returns `op_params` (in their order) followed by `Action`, `Version`,
/// `AccessKeyId`, `SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`,
/// `SignatureNonce`, `Timestamp`, `Format` (if given) and finally
/// `Signature`. Send it with [`ParamList::to_query_string`] as the URL query
/// or as a form body.
pub fn sign_request(method: &str, op_params: &ParamList, common: &V1Common, secret: &str) -> ParamList {
    sign_damaged(method, op_params, common, secret, &Damage::default())
}

/// [`sign_request`] with the damage that concerns the signed pairs: the
/// common parameters are `set` and `omit`ted before signing (`Signature`
/// among them: then none is added) and `sort_encoded` signs the wrong
/// order. What is chosen before (key, secret, nonce, timestamp) and after
/// (`after_signing`, the encoding on the wire) is the caller's.
pub fn sign_damaged(
    method: &str,
    op_params: &ParamList,
    common: &V1Common,
    secret: &str,
    damage: &Damage,
) -> ParamList {
    let mut pairs: Vec<(String, String)> = [
        ("Action", common.action),
        ("Version", common.version),
        ("AccessKeyId", common.access_key_id),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", common.nonce),
        ("Timestamp", common.timestamp),
    ]
    .iter()
    .chain(common.format.map(|f| ("Format", f)).iter())
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    damage.bend_common(&mut pairs);
    let mut params = op_params.clone();
    for (k, v) in pairs {
        params.push(k, v);
    }
    if !damage.omit.iter().any(|o| o == "Signature") {
        let signature = sign(secret, &string_to_sign_in(method, &params, damage.sort_order()));
        params.push("Signature", signature);
    }
    params
}

/// Parses a `yyyy-MM-ddTHH:mm:ss[.f+]Z` timestamp and nothing else
/// (behaviour.md section 6: fractional seconds, as the Node `aliyun-sdk`
/// sends them, are valid in V1's `Timestamp` and V3's `x-acs-date`).
///
/// chrono alone would also take single-digit fields, signs and longer years,
/// so the fixed shape is checked first: 19 bytes of digits except `-`, `-`,
/// `T`, `:`, `:` at their places, then optionally `.` and one or more
/// digits, then `Z`. Offsets and lower-case `t`/`z` are rejected (G6).
/// Digits past the ninth (nanoseconds) are read and dropped.
pub(crate) fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    const SHAPE: &[u8; 19] = b"dddd-dd-ddTdd:dd:dd";
    let bytes = s.as_bytes();
    let (head, tail) = (bytes.get(..SHAPE.len())?, bytes.get(SHAPE.len()..)?);
    let shaped = head.iter().zip(SHAPE).all(|(&b, &want)| match want {
        b'd' => b.is_ascii_digit(),
        _ => b == want,
    });
    let fraction = match tail {
        [b'Z'] => &[][..],
        [b'.', digits @ .., b'Z'] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => digits,
        _ => return None,
    };
    if !shaped {
        return None;
    }
    let head = std::str::from_utf8(head).ok()?;
    let naive = NaiveDateTime::parse_from_str(head, "%Y-%m-%dT%H:%M:%S").ok()?;
    let nanos = fraction
        .iter()
        .chain(std::iter::repeat(&b'0'))
        .take(9)
        .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
    Some(naive.and_utc() + chrono::Duration::nanoseconds(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn common<'a>(nonce: &'a str, timestamp: &'a str, format: Option<&'a str>) -> V1Common<'a> {
        V1Common {
            action: "A",
            version: "V",
            access_key_id: "ak",
            nonce,
            timestamp,
            format,
        }
    }

    fn list(pairs: &[(&str, &str)]) -> ParamList {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn signature_pair_is_excluded_and_empty_values_kept() {
        let p = list(&[("b", ""), ("Signature", "zzz"), ("a", "1")]);
        assert_eq!(string_to_sign("GET", &p), "GET&%2F&a%3D1%26b%3D");
    }

    #[test]
    fn repeated_names_are_all_signed_sorted_by_value() {
        let p = list(&[("k", "b"), ("k", "a")]);
        assert_eq!(string_to_sign("POST", &p), "POST&%2F&k%3Da%26k%3Db");
    }

    #[test]
    fn values_are_encoded_twice() {
        // pe once per pair, then once more over the joined string, so a
        // space ends up as %2520 and a colon as %253A.
        let p = list(&[("t", "a b:")]);
        assert_eq!(string_to_sign("GET", &p), "GET&%2F&t%3Da%2520b%253A");
    }

    #[test]
    fn sign_then_verify_and_tamper() {
        let common = common("n1", "2024-01-01T12:00:00Z", Some("JSON"));
        let op = list(&[("InstanceId", "i-1"), ("InstanceType", "ecs.g6.large")]);
        let signed = sign_request("POST", &op, &common, "s");
        let sig = signed.get("Signature").unwrap_or_default().to_string();
        assert!(verify("s", "POST", &signed, &sig).is_ok());
        assert!(verify("wrong", "POST", &signed, &sig).is_err());
        assert!(verify("s", "GET", &signed, &sig).is_err());
        assert!(verify("s", "POST", &signed, "not base64!").is_err());
        assert!(verify("s", "POST", &signed, "").is_err());

        let mut tampered = signed.clone();
        tampered.push("InstanceType", "ecs.g7.large");
        let err = verify("s", "POST", &tampered, &sig).err().unwrap_or_default();
        assert!(err.contains("ecs.g7.large"), "{err}");
    }

    #[test]
    fn sign_request_appends_common_params_in_order() {
        let common = common("n", "t", None);
        let signed = sign_request("GET", &list(&[("X", "1")]), &common, "s");
        let names: Vec<&str> = signed.iter().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "X",
                "Action",
                "Version",
                "AccessKeyId",
                "SignatureMethod",
                "SignatureVersion",
                "SignatureNonce",
                "Timestamp",
                "Signature"
            ]
        );
    }

    #[test]
    fn encoded_order_damage_breaks_the_signature_only_where_orders_differ() {
        let common = common("n", "2024-01-01T12:00:00Z", None);
        let encoded = Damage {
            sort_encoded: true,
            ..Damage::default()
        };
        let sign = |op: &[(&str, &str)], d: &Damage| sign_damaged("POST", &list(op), &common, "s", d);
        let verifies = |p: &ParamList| verify("s", "POST", p, p.get("Signature").unwrap_or_default()).is_ok();
        // `i-st` < `i-é` decoded, `i-%C3%A9` < `i-st` encoded.
        let differ = [("Note", "i-st"), ("Note", "i-é")];
        assert!(verifies(&sign(&differ, &Damage::default())));
        assert!(!verifies(&sign(&differ, &encoded)));
        let coincide = [("Note", "i-st"), ("Note", "i-x")];
        assert_eq!(sign(&coincide, &encoded), sign(&coincide, &Damage::default()));
        assert!(verifies(&sign(&coincide, &encoded)));
    }

    #[test]
    fn set_and_omit_bend_the_common_parameters_before_signing() {
        let common = common("n", "t", Some("XML"));
        let d = Damage {
            set: [("Version".to_string(), "9".to_string())].into(),
            omit: vec!["SignatureNonce".into(), "Signature".into()],
            ..Damage::default()
        };
        let p = sign_damaged("GET", &list(&[("X", "1")]), &common, "s", &d);
        assert_eq!(p.get("Version"), Some("9"));
        assert_eq!(p.get("Format"), Some("XML"));
        assert_eq!((p.get("SignatureNonce"), p.get("Signature")), (None, None));
        let d = Damage {
            omit: vec!["Timestamp".into()],
            ..Damage::default()
        };
        let p = sign_damaged("GET", &list(&[("X", "1")]), &common, "s", &d);
        let sig = p.get("Signature").unwrap_or_default();
        assert!(p.get("Timestamp").is_none() && verify("s", "GET", &p, sig).is_ok());
    }

    #[test]
    fn fractional_seconds_are_valid() {
        let at = |s: &str| parse_timestamp(s).map(|t| t.timestamp_nanos_opt().unwrap());
        let whole = 1_704_110_400_000_000_000i64;
        assert_eq!(at("2024-01-01T12:00:00.5Z"), Some(whole + 500_000_000));
        assert_eq!(at("2024-01-01T12:00:00.374Z"), Some(whole + 374_000_000));
        assert_eq!(at("2024-01-01T12:00:00.123456789999Z"), Some(whole + 123_456_789));
        assert_eq!(at("2024-01-01T12:00:00.000Z"), Some(whole));
    }

    #[test]
    fn timestamp_shape_is_strict() {
        let ok = parse_timestamp("2024-01-01T12:00:00Z").map(|t| t.timestamp());
        assert_eq!(ok, Some(1_704_110_400));
        for bad in [
            "",
            "2024-01-01T12:00:00",
            "2024-01-01 12:00:00Z",
            "2024-01-01t12:00:00z",
            "2024-1-01T12:00:00Z",
            "2024-01-01T12:00:00.Z",
            "2024-01-01T12:00:00.5",
            "2024-01-01T12:00:00.5z",
            "2024-01-01T12:00:00.-5Z",
            "2024-01-01T12:00:00,5Z",
            "2024-01-01T12:00:00.5+00:00",
            "2024-01-01T12:00:00+00:00",
            "+024-01-01T12:00:00Z",
            "2024-13-01T12:00:00Z",
            "2024-02-30T12:00:00Z",
            "2024-01-01T24:00:00Z",
            "２024-01-01T12:00:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }
}
