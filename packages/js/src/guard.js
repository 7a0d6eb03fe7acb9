// `guard()`: the policy of `distillguard serve` for one request in a JS
// runtime (an edge worker, a Node server). It mirrors the proxy's request
// path (host-runtime/src/serve/proxy.rs, policy.rs, extract.rs):
//
// - POST .../v1/chat/completions, /v1/completions, /v1/responses (OpenAI)
//   and /v1/messages (Anthropic) are read and classified, role by role;
//   everything else is forwarded as a stream, unread.
// - A category at or over its threshold trips. `monitor` forwards,
//   `flag` forwards with `x-distillguard-*` verdict headers (to the
//   upstream and on the response), `block` answers 403 in the API's own
//   error shape. Malformed JSON gets 400, compressed bodies 400, bodies over
//   the cap 413, all in the API's shape.
// - Client-sent `x-distillguard-*` headers never reach the upstream, in
//   every mode: only the guard speaks for itself.
// - The upstream's response (SSE included) is passed through as a stream.
//
// Not mirrored: campaign counting and client allowlists need state shared
// across requests, which an edge isolate does not have; a worker that wants
// them keeps counters in its platform's store, keyed by `verdict.fingerprint`.

import { CATEGORIES, segments } from './core.js';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade'];

const ROUTES = [
  ['/v1/chat/completions', 'chat_completions', 'openai'],
  ['/v1/completions', 'completions', 'openai'],
  ['/v1/responses', 'responses', 'openai'],
  ['/v1/messages', 'messages', 'anthropic'],
];

/** `serve`'s defaults. */
const DEFAULTS = { mode: 'monitor', maxBodyBytes: 4 << 20, maxInputBytes: 1 << 20, fail: 'open' };

/**
 * Applies the policy to `request` with `classifier` and forwards it to
 * `options.upstream`; resolves to the response for the client.
 */
export async function guardWith(classifier, request, options = {}) {
  const o = { ...DEFAULTS, ...options };
  if (!['monitor', 'flag', 'block'].includes(o.mode)) throw new TypeError(`guard: unknown mode ${JSON.stringify(o.mode)}`);
  if (typeof o.upstream !== 'string' && !(o.upstream instanceof URL)) throw new TypeError('guard: `upstream` (a base URL) is required');
  const url = new URL(request.url);
  const route = recognise(request.method, url.pathname);
  if (!route) return forward(request, request.body, null, o, guessApi(url.pathname, request.headers));
  const [, , api] = route;

  const declared = Number(request.headers.get('content-length'));
  if (declared > o.maxBodyBytes) return tooLarge(api, o);
  const encoding = request.headers.get('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') {
    return errorResponse(api, 400, 'distillguard_unsupported_encoding',
      'compressed request bodies are not supported on this route; send plain JSON');
  }
  let bytes;
  try {
    bytes = await readCapped(request, o.maxBodyBytes);
  } catch (e) {
    return errorResponse(api, 400, 'distillguard_bad_body', `cannot read the request body: ${e.message}`);
  }
  if (bytes === null) return tooLarge(api, o);
  let body;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    return errorResponse(api, 400, 'distillguard_malformed_request',
      `the request body is not valid JSON (${e.message}); distillguard only forwards well-formed requests`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return errorResponse(api, 400, 'distillguard_malformed_request', 'the request body must be a JSON object');
  }
  const segs = segments(body);
  if (segs.every(([, t]) => t.length === 0)) return forward(request, bytes, null, o, api);

  let verdict;
  try {
    verdict = classifyCapped(classifier, segs, o.maxInputBytes);
  } catch (e) {
    if (o.fail === 'closed') {
      return errorResponse(api, 503, 'distillguard_unavailable',
        'distillguard could not classify this request and is configured to fail closed; retry later');
    }
    return forward(request, bytes, null, o, api);
  }
  const tripped = trippedCategories(verdict, o, classifier.pack.threshold);
  const extraction = tripped.length > 0;
  o.onVerdict?.(verdict, { tripped, route: route[1] });
  if (extraction && o.mode === 'block') return blockedResponse(api, verdict, tripped);
  const extra = o.mode === 'flag' ? flagHeaders(verdict, tripped) : null;
  return forward(request, bytes, extra, o, api);
}

/** The route for a method and path, or null (a prefix before `/v1/` is allowed). */
export function recognise(method, path) {
  if (method !== 'POST') return null;
  const p = path.replace(/\/+$/, '');
  return ROUTES.find(([suffix]) => p.endsWith(suffix)) ?? null;
}

function guessApi(path, headers) {
  return headers.has('anthropic-version') || path.includes('/v1/messages') ? 'anthropic' : 'openai';
}

/** The body, or null when it is larger than `cap` bytes. */
async function readCapped(request, cap) {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > cap) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(n);
  let i = 0;
  for (const c of chunks) {
    out.set(c, i);
    i += c.length;
  }
  return out;
}

/**
 * Classifies the segments; a prompt over the guest's input cap is
 * classified segment by segment in overlapping windows and the
 * highest-scoring verdict kept, as the proxy does.
 */
function classifyCapped(classifier, segs, cap) {
  const enc = new TextEncoder();
  const encoded = segs.map(([r, t]) => [r, enc.encode(t)]);
  const total = encoded.reduce((n, [, b]) => n + b.length + 5, 0);
  if (total <= cap) return JSON.parse(classifier.classifySegmentsJson(segs));
  const dec = new TextDecoder();
  let best = null;
  for (const [role, bytes] of encoded) {
    for (const w of windows(bytes, Math.max(cap - 5, 1))) {
      const v = JSON.parse(classifier.classifySegmentsJson([[role, dec.decode(w)]]));
      if (best === null || v.score > best.score) best = v;
    }
  }
  return best;
}

/** UTF-8 `bytes` in windows of at most `cap` bytes at character boundaries, overlapping. */
export function windows(bytes, cap) {
  if (bytes.length <= cap) return [bytes];
  const boundary = (i) => i >= bytes.length || (bytes[i] & 0xc0) !== 0x80;
  const overlap = Math.min(Math.floor(cap / 4), 4096);
  const out = [];
  let start = 0;
  for (;;) {
    let end = Math.min(start + cap, bytes.length);
    while (!boundary(end)) end--;
    out.push(bytes.subarray(start, end));
    if (end === bytes.length) return out;
    let next = end - overlap;
    while (!boundary(next)) next--;
    start = Math.max(next, start + 1);
    while (!boundary(start)) start++;
  }
}

/** Categories at or over their threshold, in the classifier's order. */
export function trippedCategories(verdict, o, packThreshold) {
  const t = (c) => o.thresholds?.[c] ?? o.threshold ?? packThreshold;
  return CATEGORIES.filter((c) => c in verdict.categories && verdict.categories[c] >= t(c));
}

function flagHeaders(v, tripped) {
  const h = {
    'x-distillguard-label': tripped.length ? 'extraction' : 'benign',
    'x-distillguard-score': String(v.score),
    'x-distillguard-rules': v.evidence.map((e) => e.rule).join(','),
    'x-distillguard-fingerprint': v.fingerprint,
  };
  if (tripped.length) h['x-distillguard-category'] = tripped[0];
  return h;
}

function blockedResponse(api, v, tripped) {
  const rules = v.evidence.map((e) => e.rule);
  const msg = `Request blocked by distillguard: the prompt looks like ${tripped.join(', ')} (score ${v.score}). ` +
    `Rules: ${rules.length ? rules.join(', ') : 'none'}.`;
  const r = errorResponse(api, 403, 'distillguard_blocked', msg);
  for (const [k, val] of Object.entries(flagHeaders(v, tripped))) r.headers.set(k, val);
  return r;
}

function tooLarge(api, o) {
  const r = errorResponse(api, 413, 'distillguard_body_too_large',
    `the request body is larger than the proxy's cap of ${o.maxBodyBytes} bytes`);
  r.headers.set('connection', 'close');
  return r;
}

/** An error in the API's own shape (OpenAI or Anthropic), as the proxy writes it. */
export function errorResponse(api, status, code, message) {
  let body;
  if (api === 'anthropic') {
    const type = { 400: 'invalid_request_error', 408: 'invalid_request_error', 403: 'permission_error',
      413: 'request_too_large', 503: 'overloaded_error', 504: 'timeout_error' }[status] ?? 'api_error';
    body = { type: 'error', error: { type, message } };
  } else {
    const type = [400, 413, 403, 408].includes(status) ? 'invalid_request_error' : 'server_error';
    body = { error: { message, type, param: null, code } };
  }
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'x-distillguard-error': code },
  });
}

function stripHopByHop(h) {
  for (const n of (h.get('connection') ?? '').split(',')) if (n.trim()) h.delete(n.trim());
  for (const n of HOP_BY_HOP) h.delete(n);
}

/** Whether this runtime is workerd (Cloudflare Workers). */
const WORKERD = globalThis.navigator?.userAgent === 'Cloudflare-Workers';

async function forward(request, body, extra, o, api) {
  const url = new URL(request.url);
  const base = new URL(o.upstream);
  const target = base.origin + base.pathname.replace(/\/+$/, '') + url.pathname + url.search;
  const headers = new Headers(request.headers);
  stripHopByHop(headers);
  for (const k of [...headers.keys()]) if (k.startsWith('x-distillguard-')) headers.delete(k);
  for (const k of ['host', 'content-length']) headers.delete(k);
  if (extra) for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  const method = request.method;
  const init = { method, headers, redirect: 'manual' };
  if (method !== 'GET' && method !== 'HEAD' && body !== null) {
    init.body = body;
    if (!(body instanceof Uint8Array)) init.duplex = 'half';
  }
  let resp;
  try {
    resp = await (o.fetch ?? fetch)(target, init);
  } catch {
    return errorResponse(api, 502, 'distillguard_upstream_unreachable', 'the upstream API could not be reached');
  }
  const out = new Headers(resp.headers);
  stripHopByHop(out);
  if (!WORKERD) {
    // fetch() outside workerd hands back a decoded body: its length and
    // encoding headers no longer describe it. workerd re-encodes on return.
    out.delete('content-encoding');
    out.delete('content-length');
  }
  if (extra) for (const [k, v] of Object.entries(extra)) out.set(k, v);
  return new Response(resp.body, { status: resp.status, statusText: resp.statusText, headers: out });
}
