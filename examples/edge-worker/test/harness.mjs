// Shared by the edge tests and the edge benchmark: a fake OpenAI/Anthropic
// API on loopback, workerd started on port 0 with its ports read from
// --control-fd (readiness without polling or sleeping), and cleanup.

import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const WORKERD = path.join(ROOT, 'node_modules/.bin/workerd');

/** Every workerd started here; killed when this process exits, however it exits (a watchdog's process.exit too). */
const children = new Set();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Longest wait for workerd to listen (a loaded 2-core machine compiles the module slowly). */
const STARTUP_MS = 90_000;

/** Rejects after `ms` with `what`; never used to wait for anything to happen. */
export function deadline(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
    }),
  ]);
}

/** Chunks of the fake API's streamed chat completion, as sent. */
export const SSE_CHUNKS = [
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"fake","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}\n\n',
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"fake","choices":[{"index":0,"delta":{"content":"lo!"},"finish_reason":null}]}\n\n',
  ': a comment line, which clients ignore and a proxy must keep\n\n',
  'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"fake","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
  'data: [DONE]\n\n',
];

/**
 * The fake upstream: answers chat completions (JSON or SSE) and Anthropic
 * messages, and remembers every request it saw (`seen`).
 */
export async function fakeUpstream() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = null;
      }
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.url.endsWith('/v1/chat/completions') && body?.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (const c of SSE_CHUNKS) res.write(c);
        res.end();
      } else if (req.url.endsWith('/v1/chat/completions')) {
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'fake' });
        res.end(JSON.stringify({
          id: 'c0', object: 'chat.completion', created: 1, model: 'fake',
          choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from upstream' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 },
        }));
      } else if (req.url.endsWith('/v1/messages')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'm0', type: 'message', role: 'assistant', model: 'fake',
          content: [{ type: 'text', text: 'Hello from upstream' }], stop_reason: 'end_turn' }));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
      }
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

/**
 * Starts `workerd serve CONFIG` with `args` and `env`; resolves once every
 * socket in `sockets` listens, to `{ports, pid, stop}`.
 */
export async function startWorkerd(config, sockets, { args = [], env = {} } = {}) {
  const child = spawn(WORKERD, ['serve', config, '--control-fd', '3', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    process.stderr.write(`workerd: ${d}`);
  });
  const ports = {};
  const ready = new Promise((resolve, reject) => {
    let buf = '';
    child.stdio[3].on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const line of lines) {
        const event = JSON.parse(line);
        if (event.event === 'listen') ports[event.socket] = event.port;
      }
      if (sockets.every((s) => s in ports)) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`workerd exited (${code ?? signal}) before listening:\n${stderr}`)));
    child.once('error', reject);
  });
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
  try {
    await deadline(ready, STARTUP_MS, `workerd serve ${path.relative(ROOT, config)}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { ports, pid: child.pid, stop };
}
