//! A scenario's request in the client's terms: what `exec` sends and what
//! the real-cloud safety filter (`safety`) and the fuzzer's findings look
//! at, built in one place so all three see the same request.

use crate::client::{EcsRequest, Secret, SignatureStyle, prepare};
use crate::gate::RawRequest;
use crate::scenario::{Placement, RequestSpec, Signature};
use crate::wire::ParamList;

/// The request as the scenario describes it, with the run's defaults.
pub fn build_request(spec: &RequestSpec, default: Signature) -> EcsRequest {
    let style = match spec.signature_style().unwrap_or(default) {
        Signature::V1 => SignatureStyle::V1,
        Signature::V3 => SignatureStyle::V3,
    };
    let mut params: ParamList = spec.params.iter().map(|(k, v)| (k.clone(), v.to_text())).collect();
    for (k, v) in &spec.pairs {
        params.push(k.clone(), v.clone());
    }
    let mut req = EcsRequest::modify(style, params);
    req.query_params = spec.query.iter().map(|(k, v)| (k.clone(), v.to_text())).collect();
    if let Some(m) = &spec.method {
        req.method.clone_from(m);
    }
    req.format.clone_from(&spec.format);
    req.form_body = spec.placement != Some(Placement::Query);
    req.damage = spec.protocol.clone().unwrap_or_default();
    req.headers = spec.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    req
}

/// The request signed with these credentials, as the gate reads it off
/// the wire: what the fuzzer's model and the safety filter judge, so they
/// see the bytes a server would, not the case's description of them.
pub fn as_sent(req: &EcsRequest, access_key_id: &str, secret: &str, host: &str) -> RawRequest {
    let p = prepare(req, access_key_id, &Secret::new(secret), host);
    RawRequest {
        method: p.method,
        query: Some(p.query).filter(|q| !q.is_empty()),
        headers: p.headers,
        body: p.body,
    }
}
