// Entry point for Node 20+ (the `node` export condition): the module and the
// pack are read from the package's own files.
import { readFile } from 'node:fs/promises';
import { makeApi } from './api.js';

export { Classifier, DistillguardError, CATEGORIES, segments, packMeta } from './core.js';
export { errorResponse } from './guard.js';
export const { load, classify, classifyJson, guard, wasmModule } = makeApi(
  async () => WebAssembly.compile(await readFile(new URL('./distillguard.wasm', import.meta.url))),
  () => readFile(new URL('./default-pack.bin', import.meta.url)),
);
