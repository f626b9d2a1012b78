#!/usr/bin/env node
// The Node clients of the interop matrix (interop/matrix.py runs this file).
//
// For every (client, style, format) group it creates a world through the
// control protocol, sends the checks of ../checks.json through the client's
// own API and prints one JSON line per check with what the client surfaced
// ("outcome"). matrix.py judges the outcomes; this file only observes.
//
// Env: INTEROP_ADDR  host:port of the target (ECS API and /_conformance/v1)
'use strict';

const fs = require('fs');
const path = require('path');
const { withSkewedClock, normalizeParams, wireSummary, resetWire } = require('./support');

const EcsClient = require('@alicloud/ecs20140526').default;
const { ModifyInstanceSpecRequest } = require('@alicloud/ecs20140526');
const OpenApiCore = require('@alicloud/openapi-core');
const { RuntimeOptions, ExtendsParameters, XML } = require('@darabonba/typescript');
const OpenApiClient = require('@alicloud/openapi-client');
const TeaUtil = require('@alicloud/tea-util');
const PopCore = require('@alicloud/pop-core');
const ALY = require('aliyun-sdk');

const ADDR = process.env.INTEROP_ADDR;
const SPEC = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'checks.json'), 'utf8'));
const CONTROL = `http://${ADDR}/_conformance/v1`;
const TIMEOUT_MS = 5000;
const VERSION = '2014-05-26';

// ---------------------------------------------------------------------------
// what a client surfaced, in one shape for matrix.py

function fromError(e) {
  // A JSON/XML body the client could not decode: SyntaxError from JSON.parse,
  // or an error whose message says so (tea's readAsJSON rethrows it as is).
  if (e instanceof SyntaxError || (e.code === undefined && /JSON|Unexpected/i.test(String(e && e.message)))) {
    return { kind: 'parse-error', detail: `${e.name}: ${String(e.message).slice(0, 200)}` };
  }
  if (e && e.code !== undefined && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
    return { kind: 'transport', detail: `${e.code}: ${e.message}` };   // ECONNREFUSED, ETIMEDOUT, ...
  }
  const status = e.statusCode ?? e.data?.statusCode ?? e.entry?.response?.statusCode ?? null;
  return { kind: 'error', status: status === null ? null : Number(status), code: e.code === undefined ? null : String(e.code),
    detail: String(e.message).slice(0, 300) };
}

function fromBody(status, body) {
  // success: the RequestId as the client returned it (a parsed object, or the
  // raw XML string for bodyType 'string', read with the SDK's own XML parser)
  let rid = null;
  if (typeof body === 'string') {
    const m = XML.parseXml(body, null);
    rid = m?.ModifyInstanceSpecResponse?.RequestId ?? null;
  } else if (body) {
    rid = body.requestId ?? body.RequestId ?? null;
  }
  return { kind: 'response', status, request_id: rid };
}

// ---------------------------------------------------------------------------
// the clients: each has groups (style x format) and call(group, creds, params)

function runtimeOpts(format) {
  const rt = new RuntimeOptions({ readTimeout: TIMEOUT_MS, connectTimeout: TIMEOUT_MS, autoretry: false });
  if (format === 'XML') rt.extendsParameters = new ExtendsParameters({ queries: { Format: 'XML' } });
  return rt;
}

const CLIENTS = [
  {
    name: 'node @alicloud/ecs20140526',
    groups: [['V3', 'JSON'], ['V3', 'XML'], ['V1', 'JSON'], ['V1', 'XML']],
    // which XML bodies the client parses, per style (read from its source;
    // a parse failure of any other XML body is a client limit)
    parsesXml: { V3: ['errors'], V1: [] },
    async call([style, format], creds, params) {
      const cfg = new OpenApiCore.$OpenApiUtil.Config({
        accessKeyId: creds.ak, accessKeySecret: creds.sk, endpoint: ADDR, protocol: 'http',
        readTimeout: TIMEOUT_MS, connectTimeout: TIMEOUT_MS,
        ...(style === 'V1' ? { signatureAlgorithm: 'v2' } : {}),
      });
      const client = new EcsClient(cfg);
      const req = new ModifyInstanceSpecRequest(camel(params));
      const resp = await client.modifyInstanceSpecWithOptions(req, runtimeOpts(format));
      return fromBody(resp.statusCode, resp.body);
    },
  },
  {
    name: 'node @alicloud/openapi-client callApi',
    groups: [['V3', 'JSON'], ['V3', 'XML'], ['V1', 'JSON'], ['V1', 'XML']],
    parsesXml: { V3: ['errors', 'success'], V1: ['success'] },
    async call([style, format], creds, params) {
      const cfg = new OpenApiClient.Config({
        accessKeyId: creds.ak, accessKeySecret: creds.sk, endpoint: ADDR, protocol: 'http',
        readTimeout: TIMEOUT_MS, connectTimeout: TIMEOUT_MS,
        ...(style === 'V1' ? { signatureAlgorithm: 'v2' } : {}),
      });
      const client = new OpenApiClient.default(cfg);
      const query = normalizeParams(params);
      if (format === 'XML') query.Format = 'XML';
      const p = new OpenApiClient.Params({
        action: 'ModifyInstanceSpec', version: VERSION, protocol: 'HTTP', pathname: '/', method: 'POST',
        authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: format === 'XML' ? 'string' : 'json',
      });
      const rt = new TeaUtil.RuntimeOptions({ readTimeout: TIMEOUT_MS, connectTimeout: TIMEOUT_MS, autoretry: false });
      const resp = await client.callApi(p, new OpenApiClient.OpenApiRequest({ query }), rt);
      return fromBody(resp.statusCode, resp.body);
    },
  },
  {
    name: 'node @alicloud/pop-core',
    groups: [['V1 GET', 'JSON'], ['V1 POST', 'JSON'], ['V1 GET', 'XML']],
    parsesXml: {},
    async call([style, format], creds, params) {
      const client = new PopCore({
        accessKeyId: creds.ak, accessKeySecret: creds.sk, endpoint: `http://${ADDR}`, apiVersion: VERSION,
      }, true);   // verbose: a success returns [body, entry], and entry has the status
      const query = normalizeParams(params);
      if (format === 'XML') query.Format = 'XML';   // overrides pop-core's Format=JSON
      const method = style.endsWith('POST') ? 'POST' : 'GET';
      const [body, entry] = await client.request('ModifyInstanceSpec', query, { method, timeout: TIMEOUT_MS });
      return fromBody(entry.response.statusCode, body);
    },
  },
  {
    name: 'node aliyun-sdk',
    groups: [['V1 POST', 'JSON'], ['V1 POST', 'XML']],
    parsesXml: {},
    async call([, format], creds, params) {
      if (format === 'XML') {
        return { kind: 'not-sent', detail: 'aliyun-sdk always overwrites Format with JSON (service_interface/pop.js populateBody)' };
      }
      const ecs = new ALY.ECS({
        accessKeyId: creds.ak, secretAccessKey: creds.sk, endpoint: `http://${ADDR}`, apiVersion: VERSION,
        httpOptions: { timeout: TIMEOUT_MS }, maxRetries: 0,
        // its bundled API model lacks ClientToken and marks InstanceId required;
        // without this it refuses to send E1, I1 and P1 at all (the validator
        // is also what fills in the model's default Action, given below)
        paramValidation: false,
      });
      const req = ecs.modifyInstanceSpec({ Action: 'ModifyInstanceSpec', ...normalizeParams(params) });
      return await new Promise((resolve) => {
        req.send((err, data) => {
          const status = req.response?.httpResponse?.statusCode ?? null;
          if (!err) resolve(fromBody(status, data));
          else if (status === null) resolve({ kind: 'not-sent', detail: `${err.code}: ${err.message}` });
          else resolve(fromError({ message: err.message, code: err.code, statusCode: err.statusCode ?? status, name: err.name }));
        });
      });
    },
  },
];

function camel(params) {
  const out = {};
  for (const [k, v] of Object.entries(params)) out[k[0].toLowerCase() + k.slice(1)] = v;
  return out;
}

// ---------------------------------------------------------------------------
// the control protocol (Node's global fetch)

async function control(method, p, body) {
  const r = await fetch(CONTROL + p, {
    method, signal: AbortSignal.timeout(TIMEOUT_MS),
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return [r.status, text ? JSON.parse(text) : null];
}

async function runGroup(client, group, index) {
  const [style, format] = group;
  const emit = (check, outcome) => process.stdout.write(JSON.stringify({
    client: client.name, style, format, check: check.id, outcome, parses_xml: client.parsesXml[style] || [],
  }) + '\n');
  const [st, w] = await control('POST', '/worlds', SPEC.world);
  if (st !== 201) throw new Error(`POST /worlds -> ${st} ${JSON.stringify(w)}`);
  const token = `tok ${index}*~/:`;
  for (const check of SPEC.checks) {
    const params = {};
    for (const [k, v] of Object.entries(check.params)) params[k] = v === '$TOKEN' ? token : v;
    const creds = { ak: w.access_key_id, sk: w.access_key_secret };
    if (check.credentials === 'unknown-key') creds.ak = 'LTAIunknownAccessKey';
    if (check.credentials === 'wrong-secret') creds.sk = `${w.access_key_secret}x`;
    let outcome;
    resetWire();
    try {
      const send = () => client.call(group, creds, params);
      outcome = check.clock_skew_seconds ? await withSkewedClock(check.clock_skew_seconds * 1000, send) : await send();
    } catch (e) {
      outcome = fromError(e);
    }
    outcome.wire = wireSummary();
    if (check.state && outcome.kind === 'response') {
      const [s, inst] = await control('GET', `/worlds/${w.world_id}/instances/${check.state.instance_id}`);
      outcome.state = s === 200 ? inst : { error: s };
    }
    emit(check, outcome);
  }
  await control('DELETE', `/worlds/${w.world_id}`);
}

async function main() {
  if (!ADDR) throw new Error('INTEROP_ADDR is not set');
  let index = 100;   // ClientTokens need only be unique per world; distinct numbers keep logs apart
  for (const client of CLIENTS) {
    for (const group of client.groups) {
      try {
        await runGroup(client, group, index++);
      } catch (e) {
        process.stdout.write(JSON.stringify({ client: client.name, style: group[0], format: group[1],
          check: 'setup', outcome: { kind: 'transport', detail: String(e && e.stack || e).slice(0, 500) } }) + '\n');
      }
    }
  }
}

main().catch((e) => { console.error(e); process.exit(2); });
