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
