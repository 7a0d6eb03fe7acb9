// The npm package in Chromium: its default (browser) entry point, served as
// static files, classifies a corpus sample in a page; the verdicts must equal
// `distillguard classify --engine native` byte for byte.
//
//   node packages/js/test/browser.mjs target/release/distillguard
//
// Needs /usr/bin/chromium and node_modules/playwright-core (`cargo xtask setup`).
// Waits only on awaited calls; the deadlines bound a failing run.

import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const SRC = path.resolve(HERE, '../src');
const CHROMIUM = process.env.DG_CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
const BUDGET_MS = 120_000;
const PER_FILE = 10;

const bin = process.argv[2];
if (!bin) {
  console.error('usage: node packages/js/test/browser.mjs DISTILLGUARD_BINARY');
  process.exit(2);
}
const watchdog = setTimeout(() => {
  console.error(`FAIL: the package's browser test ran over its ${BUDGET_MS / 1000} s budget`);
  process.exit(1);
}, BUDGET_MS);
watchdog.unref();

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.bin': 'application/octet-stream', '.html': 'text/html' };
const server = http.createServer((req, res) => {
  const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '');
  if (name === '') {
    res.writeHead(200, { 'content-type': 'text/html' });
    return res.end('<!doctype html><title>distillguard package</title>');
  }
  const file = path.join(SRC, name);
  if (!file.startsWith(SRC + path.sep) || !fs.existsSync(file)) {
    res.writeHead(404);
    return res.end();
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;

const dir = path.join(ROOT, 'tests/data/corpus');
const records = [];
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
  const lines = fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter((l) => l.trim());
  const step = Math.max(1, Math.floor(lines.length / PER_FILE));
  for (let i = 0; i < lines.length; i += step) {
    const { id, text } = JSON.parse(lines[i]);
    records.push({ id, text });
    records.push({ id: `${id}-roles`, messages: [{ role: 'system', content: 'Be helpful.' }, { role: 'user', content: text }] });
  }
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-pkg-browser-'));
const sampleFile = path.join(tmp, 'sample.jsonl');
fs.writeFileSync(sampleFile, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
const nat = spawnSync(path.resolve(bin), ['classify', '--engine', 'native', '--format', 'jsonl', '--input', sampleFile], {
  encoding: 'utf8', maxBuffer: 1 << 28,
});
fs.rmSync(tmp, { recursive: true, force: true });
const native = nat.stdout.trimEnd().split('\n');

let failed = false;
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  const got = await page.evaluate(async (recs) => {
    const dg = await import('/index.browser.js');
    const t = performance.now();
    await dg.load();
    const loadMs = performance.now() - t;
    const lines = recs.map(({ id, ...rec }) => `{"id":${JSON.stringify(id)},${dg.classifyJson(rec).slice(1)}`);
    return { lines, loadMs };
  }, records);
  const diff = native.findIndex((l, i) => l !== got.lines[i]);
  if (got.lines.length !== native.length || diff >= 0) {
    failed = true;
    console.log(`FAIL chromium: verdict ${diff} differs\n native: ${native[diff]}\n    got: ${got.lines[diff]}`);
  } else {
    console.log(`ok   chromium: verdicts on ${records.length} prompts equal native ones byte for byte (load ${got.loadMs.toFixed(0)} ms)`);
  }
  if (errors.length) {
    failed = true;
    console.log(`FAIL chromium: page errors: ${errors.join('; ')}`);
  }
} catch (e) {
  failed = true;
  console.log(`FAIL chromium: ${e.stack || e}`);
} finally {
  await browser.close();
  server.close();
}
process.exit(failed ? 1 : 0);
