// Entry point for workerd / Cloudflare Workers (the `workerd` export
// condition). Workers may not compile wasm from bytes at run time, so the
// core module is imported as a wasm module and the pack as a data module
// (`.bin`: Wrangler's default rule for data modules; config.capnp lists
// both, see examples/edge-worker).
import wasm from './distillguard.wasm';
import pack from './default-pack.bin';
import { makeApi } from './api.js';

export { Classifier, DistillguardError, CATEGORIES, segments, packMeta } from './core.js';
export { errorResponse } from './guard.js';
export const { load, classify, classifyJson, guard, wasmModule } = makeApi(() => wasm, async () => pack);
