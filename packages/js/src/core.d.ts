/** A segment role, as the classifier names it. */
export type Role = 'system' | 'user' | 'assistant' | 'tool' | 'document';

/** A category of extraction. */
export type Category = 'reasoning_trace' | 'hidden_reasoning' | 'synthetic_data' | 'distillation_framing' | 'system_prompt_leak';

/** A span of evidence: UTF-8 byte offsets into the text (with segments: into its segment). */
export interface Span {
  start: number;
  end: number;
  text: string;
  /** With segmented input: the segment's index. */
  segment?: number;
  /** With segmented input: the segment's role. */
  role?: Role;
}

/** One rule that fired. */
export interface Evidence {
  rule: string;
  category: Category;
  weight: number;
  spans: Span[];
  /** `text`, or the projections that matched (`confusables`, `leet+despace`, ...). */
  via: string;
}

/** The verdict, as the classifier gives it on every host. */
export interface Verdict {
  label: 'extraction' | 'benign';
  score: number;
  categories: Partial<Record<Category, number>>;
  evidence: Evidence[];
  /** The template fingerprint (`tpl:xxxxxxxx`). */
  fingerprint: string;
  pack: { name: string; version: string };
  /** The verdict's JSON, byte for byte the native one (not enumerable). */
  readonly json: string;
}

/** An OpenAI chat or Anthropic message (other shapes are read as far as they carry text). */
export interface Message {
  role?: string;
  content?: unknown;
  [key: string]: unknown;
}

/**
 * What `classify` takes: a text (one user segment); an array of messages; or
 * a record / request body: `text`, or `messages` / `input` with `system` /
 * `instructions` (as `distillguard classify --input` reads JSONL records).
 */
export type Input = string | Message[] | Record<string, unknown>;

/** The pack a classifier holds. */
export interface PackInfo {
  readonly name: string;
  readonly version: string;
  /** The score at which the label is `extraction`. */
  readonly threshold: number;
}

/** An error with a stable code: the classifier's (`E1xx`, `E2xx`) or this package's (`EJS1`..`EJS3`). */
export class DistillguardError extends Error {
  readonly code: string;
  readonly detail: string;
}

/** One instance of the core module with one pack loaded. */
export class Classifier {
  /** Instantiates the core module (compiled, or its bytes where the runtime may compile them) and loads a compiled pack into it. */
  static create(module: WebAssembly.Module | BufferSource, pack: Uint8Array | ArrayBuffer): Promise<Classifier>;
  readonly pack: PackInfo;
  /** The verdict as an object. */
  classify(input: Input): Verdict;
  /** The verdict's JSON, byte for byte the native one. */
  classifyJson(input: Input): string;
  /** Classifies segments given as `[role, text]` pairs. */
  classifySegmentsJson(segments: Array<[Role, string]>): string;
}

/** The categories in the classifier's order. */
export const CATEGORIES: readonly Category[];
/** The ABI version this package speaks. */
export const ABI_VERSION: 2;
/** Every piece of prompt text in a request body with its role, in reading order. */
export function segments(body: Record<string, unknown>): Array<[Role, string]>;
/** Name, version and threshold of a compiled pack. */
export function packMeta(pack: Uint8Array): PackInfo;
