// Entry point for browsers, Deno and bundlers (the default export
// condition): the module and the pack are fetched next to this file
// (`new URL(..., import.meta.url)`, which bundlers such as Vite and esbuild
// rewrite to the emitted asset).
import { makeApi } from './api.js';

export { Classifier, DistillguardError, CATEGORIES, segments, packMeta } from './core.js';
export { errorResponse } from './guard.js';

async function fetched(name) {
  const r = await fetch(new URL(name, import.meta.url));
  if (!r.ok) throw new Error(`distillguard: cannot fetch ${name}: HTTP ${r.status}`);
  return r;
}

export const { load, classify, classifyJson, guard, wasmModule } = makeApi(
  async () => {
    const r = await fetched('./distillguard.wasm');
    // compileStreaming needs `application/wasm`; any server works through the fallback.
    if (WebAssembly.compileStreaming && r.headers.get('content-type') === 'application/wasm') return WebAssembly.compileStreaming(r);
    return WebAssembly.compile(await r.arrayBuffer());
  },
  async () => new Uint8Array(await (await fetched('./default-pack.bin')).arrayBuffer()),
);
