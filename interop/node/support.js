'use strict';
// Helpers of clients.js that are not about any one client.

// Runs fn() with the process clock moved by `ms` (G7: a client machine whose
// clock is wrong). Every client here reads the time through `new Date()`, so
// swapping the global Date for the duration of one call is enough; calls run
// one at a time, so nothing else sees the skewed clock.
async function withSkewedClock(ms, fn) {
  const Real = Date;
  class Skewed extends Real {
    constructor(...args) {
      if (args.length === 0) super(Real.now() + ms);
      else super(...args);
    }
    static now() { return Real.now() + ms; }
  }
  global.Date = Skewed;
  try {
    return await fn();
  } finally {
    global.Date = Real;
  }
}

// The generic clients take the query as strings (what goes on the wire).
function normalizeParams(params) {
  const out = {};
  for (const [k, v] of Object.entries(params)) out[k] = String(v);
  return out;
}

module.exports = { withSkewedClock, normalizeParams };

// ---------------------------------------------------------------------------
// What the client put on the wire, so matrix.py can confirm that a group's
// style (V3 / V1, GET / POST) and Format are what the client really sent.
// Every client here sends through Node's http.request (the control calls go
// through fetch, which does not); the hook only records.
const http = require('http');

const wire = { last: null };
const originalRequest = http.request;
http.request = function recordingRequest(...args) {
  const req = originalRequest.apply(this, args);
  const rec = { method: req.method, path: req.path, headers: {}, body: '' };
  const { write, end } = req;
  req.write = function (chunk, ...rest) {
    if (chunk && typeof chunk !== 'function') rec.body += chunk.toString();
    return write.call(this, chunk, ...rest);
  };
  req.end = function (chunk, ...rest) {
    if (chunk && typeof chunk !== 'function') rec.body += chunk.toString();
    rec.headers = req.getHeaders();
    return end.call(this, chunk, ...rest);
  };
  wire.last = rec;
  return req;
};

// The summary matrix.py reads: {method, v3, signature_in, format}.
function wireSummary() {
  const rec = wire.last;
  if (!rec) return null;
  const query = new URLSearchParams(rec.path.split('?')[1] || '');
  const ctype = String(rec.headers['content-type'] || '');
  const body = ctype.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(rec.body) : new URLSearchParams();
  const auth = String(rec.headers.authorization || '');
  let signatureIn = null;
  if (query.has('Signature')) signatureIn = 'query';
  else if (body.has('Signature')) signatureIn = 'body';
  return {
    method: rec.method,
    v3: auth.startsWith('ACS3-HMAC-SHA256 '),
    signature_in: signatureIn,
    format: query.get('Format') ?? body.get('Format'),
  };
}

function resetWire() { wire.last = null; }

module.exports.wireSummary = wireSummary;
module.exports.resetWire = resetWire;
