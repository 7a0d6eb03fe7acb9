// distillguard in headless Chromium (V8), for `cargo xtask bench`:
//
//   node web-demo/tests/bench.mjs DISTILLGUARD_BINARY WORKLOAD.json MODULE.wasm PACK.dgpack OUT.json
//
// Starts `distillguard demo --port 0`, opens the page in Debian's Chromium
// (playwright-core), and measures, on the texts of WORKLOAD.json (written by
// xtask/bench/peers.py prep):
//
// - `core`: the core-wasm module (MODULE.wasm, the very module wasmtime runs,
//   written by `distillguard bench --module-out`) instantiated in the page
//   with no imports, PACK loaded through its C ABI: instantiate + load time,
//   linear memory after load, throughput, the corpus repeated to ~50 MB, and
//   latency for the workload's prompts;
// - `bindings`: the page's own wasm-bindgen bundle (`window.dgDemo.classifyJson`),
//   what a rule author's browser runs: throughput and latency, and the time
//   the page took to compile the default pack from source.
//
// performance.now() is coarsened to ~0.1 ms in a page that is not
// cross-origin isolated, so latencies are means over batches sized to take
// about 2 ms; p50/p99 are over those batch means.

import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = process.env.DG_CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
const BUDGET_MS = Number(process.env.DG_BENCH_SECONDS || 2) * 1000;
const REPEAT_MB = Number(process.env.DG_BENCH_REPEAT_MB || 50);

const [bin, workloadPath, modulePath, packPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: node web-demo/tests/bench.mjs DISTILLGUARD_BINARY WORKLOAD.json MODULE.wasm PACK.dgpack OUT.json');
  process.exit(2);
}
const watchdog = setTimeout(() => { console.error('browser bench: over its 240 s budget'); process.exit(1); }, 240_000);

function startDemo() {
  return new Promise((resolve, reject) => {
    const child = spawn(path.resolve(bin), ['demo', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let buf = '';
    const timer = setTimeout(() => reject(new Error('distillguard demo printed no address in 30 s')), 30_000);
    child.stderr.on('data', (d) => {
      buf += d;
      // Match only a whole line: a chunk may end inside the address.
      const m = /web demo on (http:\/\/\S+)[^\n]*\n/.exec(buf);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`distillguard demo exited (${code}): ${buf}`)); });
  });
}

const workload = JSON.parse(fs.readFileSync(workloadPath, 'utf8'));
const moduleB64 = fs.readFileSync(modulePath).toString('base64');
const packB64 = fs.readFileSync(packPath).toString('base64');
const { child, url } = await startDemo();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dg-bench-'));
let context;
try {
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), { executablePath: CHROMIUM, headless: true, args: FLAGS });
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('console', (m) => { if (m.type() === 'error') console.error('page console:', m.text()); });
  page.on('response', (r) => { if (r.status() >= 400) console.error('page fetch:', r.status(), r.url()); });
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 90_000 });
  const status = await page.textContent('#status');
  const compiled = /Compiled in ([\d.]+) ms/.exec(status);
  const version = await context.browser()?.version?.() ?? null;

  const result = await page.evaluate(async ({ moduleB64, packB64, texts, prompts, budgetMs, repeatMb }) => {
    const bytesOf = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const encoded = texts.map((t) => enc.encode(t));
    const total = encoded.reduce((n, b) => n + b.length, 0);

    // Core module through its C ABI, as the wasmtime host drives it.
    const t0 = performance.now();
    const { instance } = await WebAssembly.instantiate(bytesOf(moduleB64), {});
    const e = instance.exports;
    const call = (f, buf) => {
      const ptr = e.dg_alloc(buf.length);
      new Uint8Array(e.memory.buffer, ptr, buf.length).set(buf);
      const status = f(ptr, buf.length);
      e.dg_free(ptr, buf.length);
      const out = dec.decode(new Uint8Array(e.memory.buffer, e.dg_result_ptr(), e.dg_result_len()));
      if (status !== 0) throw new Error(out);
      return out;
    };
    call(e.dg_load_pack, bytesOf(packB64));
    const loadMs = performance.now() - t0;
    const memoryBytes = e.memory.buffer.byteLength;
    const coreClassify = (b) => call(e.dg_classify, b);
    const bindingsClassify = (s) => window.dgDemo.classifyJson(s);

    function throughput(f, inputs) {
      const start = performance.now();
      let bytes = 0;
      do {
        for (let i = 0; i < inputs.length; i++) f(inputs[i]);
        bytes += total;
      } while (performance.now() - start < budgetMs);
      return bytes / ((performance.now() - start) / 1000) / 1e6;
    }
    function repeated(f, inputs) {
      const target = repeatMb * 1e6;
      const start = performance.now();
      let bytes = 0;
      for (let i = 0; bytes < target; i++) {
        f(inputs[i % inputs.length]);
        bytes += encoded[i % inputs.length].length;
      }
      return { bytes, mbS: bytes / ((performance.now() - start) / 1000) / 1e6 };
    }
    function latency(f, input) {
      for (let i = 0; i < 20; i++) f(input);
      let t = performance.now();
      for (let i = 0; i < 20; i++) f(input);
      const per = Math.max((performance.now() - t) / 20, 0.001);
      const batch = Math.max(1, Math.round(2 / per));
      const means = [];
      const start = performance.now();
      while ((performance.now() - start < budgetMs / 2 || means.length < 50) && means.length < 5000) {
        t = performance.now();
        for (let k = 0; k < batch; k++) f(input);
        means.push(((performance.now() - t) / batch) * 1000);
      }
      means.sort((a, b) => a - b);
      const q = (p) => means[Math.min(means.length - 1, Math.round((means.length - 1) * p))];
      return { p50: Math.round(q(0.5) * 10) / 10, p99: Math.round(q(0.99) * 10) / 10, batches: means.length, batch };
    }
    // V8 compiles wasm with its baseline compiler first and tiers hot
    // functions up in the background: warm both up before timing.
    for (let k = 0; k < 2; k++) {
      for (let i = 0; i < texts.length; i++) {
        coreClassify(encoded[i]);
        bindingsClassify(texts[i]);
      }
    }
    const sizes = Object.keys(prompts).map(Number).sort((a, b) => a - b);
    const core = {
      load_ms: Math.round(loadMs * 100) / 100,
      memory_bytes: memoryBytes,
      throughput_mb_s: Math.round(throughput(coreClassify, encoded) * 100) / 100,
    };
    const rep = repeated(coreClassify, encoded);
    core.repeated_bytes = rep.bytes;
    core.repeated_mb_s = Math.round(rep.mbS * 100) / 100;
    core.latency_us = sizes.map((s) => ({ prompt_bytes: s, ...latency(coreClassify, enc.encode(prompts[s])) }));
    core.memory_bytes_after = e.memory.buffer.byteLength;
    const bindings = {
      throughput_mb_s: Math.round(throughput(bindingsClassify, texts) * 100) / 100,
      latency_us: sizes.map((s) => ({ prompt_bytes: s, ...latency(bindingsClassify, prompts[s]) })),
    };
    // The core module and the page's bindings must agree, byte for byte.
    const mismatches = texts.slice(0, 200).filter((t, i) => coreClassify(encoded[i]) !== bindingsClassify(t)).length;
    return { core, bindings, mismatches, isolated: self.crossOriginIsolated };
  }, { moduleB64, packB64, texts: workload.texts, prompts: workload.prompts, budgetMs: BUDGET_MS, repeatMb: REPEAT_MB });

  const wasmRes = await fetch(new URL('pkg/distillguard_web_bg.wasm', url));
  result.bindings.wasm_bytes = wasmRes.ok ? (await wasmRes.arrayBuffer()).byteLength : null;
  result.bindings.compile_ms = compiled ? Number(compiled[1]) : null;
  result.chromium = version;
  result.timer_note = result.isolated ? 'cross-origin isolated, 5 µs' : '~100 µs steps, page not cross-origin isolated';
  fs.writeFileSync(outPath, JSON.stringify(result, null, 1) + '\n');
  console.error(`browser: core ${result.core.throughput_mb_s} MB/s, bindings ${result.bindings.throughput_mb_s} MB/s, core vs bindings mismatches ${result.mismatches}`);
} finally {
  await context?.close();
  child.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
  clearTimeout(watchdog);
}
