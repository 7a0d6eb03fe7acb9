import type { Classifier, Input, Verdict, Category } from './core.js';
export type { Role, Category, Span, Evidence, Verdict, Message, Input, PackInfo } from './core.js';
export { Classifier, DistillguardError, CATEGORIES, segments, packMeta } from './core.js';

/**
 * Instantiates the core module with a compiled pack (the embedded default
 * pack when absent) and makes it the classifier `classify` and `guard` use.
 * Loading the default pack twice returns the same classifier.
 */
export function load(pack?: Uint8Array | ArrayBuffer): Promise<Classifier>;

/** Classifies with the loaded classifier (call `await load()` first). */
export function classify(input: Input): Verdict;

/** The verdict's JSON, byte for byte the native one. */
export function classifyJson(input: Input): string;

/** The compiled core module of this runtime. */
export function wasmModule(): Promise<WebAssembly.Module>;

/** Options of `guard`: `distillguard serve`'s policy, per request. */
export interface GuardOptions {
  /** Base URL of the OpenAI- or Anthropic-compatible API (a path prefix is allowed). */
  upstream: string | URL;
  /** `monitor` (default, as `serve`): forward; `flag`: forward with `x-distillguard-*` headers; `block`: 403 in the API's shape. */
  mode?: 'monitor' | 'flag' | 'block';
  /** Threshold for every category [default: the pack's]. */
  threshold?: number;
  /** Per-category thresholds; above 1 disables a category. */
  thresholds?: Partial<Record<Category, number>>;
  /** Largest request body on a classified route (413 above) [default: 4 MiB]. */
  maxBodyBytes?: number;
  /** Prompts above this many bytes are classified in overlapping windows [default: 1 MiB]. */
  maxInputBytes?: number;
  /** When classification fails: forward (`open`, default) or answer 503 (`closed`). */
  fail?: 'open' | 'closed';
  /** The classifier to use [default: the loaded one, or the default pack]. */
  classifier?: Classifier;
  /** The fetch used to reach the upstream (a service binding's, say) [default: global fetch]. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Called with each classified request's verdict. */
  onVerdict?: (verdict: Omit<Verdict, 'json'>, info: { tripped: Category[]; route: string }) => void;
}

/**
 * Applies the policy of `distillguard serve` to `request` and forwards it to
 * `options.upstream`: prompt routes (`/v1/chat/completions`,
 * `/v1/completions`, `/v1/responses`, `/v1/messages`) are classified role by
 * role; client-sent `x-distillguard-*` headers are stripped in every mode;
 * responses (SSE included) stream through untouched.
 */
export function guard(request: Request, options: GuardOptions): Promise<Response>;

/** An error response in the API's own shape (`openai` or `anthropic`). */
export function errorResponse(api: 'openai' | 'anthropic', status: number, code: string, message: string): Response;
