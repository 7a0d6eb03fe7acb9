// The classifier over the core-wasm module (ABI version 2): no embedded
// bytes and no I/O here, so every runtime's entry point (workerd, Node,
// browsers) shares it and only says where the module and the pack come from.
//
// The module does the whole job; this file only frames input (text, or
// segments with roles read from API messages the way the CLI reads
// `messages` records) and reads results. A verdict's JSON is the module's
// result buffer as it is, so it equals the native verdict byte for byte.

/** Segment roles, as the ABI numbers them. */
const ROLE_BYTE = { system: 0, user: 1, assistant: 2, tool: 3, document: 4 };

/** Nesting deeper than this is not read (as `host-runtime/src/prompt.rs`). */
const MAX_DEPTH = 16;

/** The ABI version this file speaks. */
export const ABI_VERSION = 2;

/** Categories in the classifier's order (`Category::ALL`). */
export const CATEGORIES = Object.freeze([
  'reasoning_trace',
  'hidden_reasoning',
  'synthetic_data',
  'distillation_framing',
  'system_prompt_leak',
]);

/**
 * An error of the classifier with its stable code (`E104`, ...), or of this
 * package (`EJS1` wrong input type, `EJS2` not loaded, `EJS3` instance trapped).
 */
export class DistillguardError extends Error {
  constructor(code, message) {
    super(`error[${code}]: ${message}`);
    this.name = 'DistillguardError';
    this.code = code;
    this.detail = message;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/**
 * A loaded classifier: one instance of the core module with one pack.
 * Create it with `Classifier.create` (or the package's `load`).
 */
export class Classifier {
  #module;
  #packBytes;
  #exports = null;
  /** The pack's name, version and decision threshold. */
  pack;

  constructor(module, packBytes, exports, pack) {
    this.#module = module;
    this.#packBytes = packBytes;
    this.#exports = exports;
    this.pack = pack;
  }

  /**
   * Instantiates `module` (a compiled `WebAssembly.Module`, or the module's
   * bytes where the runtime may compile them: not in Workers) and loads the
   * compiled pack `packBytes` into it.
   */
  static async create(module, packBytes) {
    const bytes = toBytes(packBytes, 'the pack');
    const made = await WebAssembly.instantiate(module, {});
    // Given a Module, instantiate() gives an Instance; given bytes, both.
    const instance = made instanceof WebAssembly.Instance ? made : made.instance;
    const exports = checkExports(instance.exports);
    loadPack(exports, bytes);
    return new Classifier(made.module ?? module, bytes, exports, packMeta(bytes));
  }

  /**
   * The verdict as JSON text, byte for byte what the native classifier and
   * `distillguard classify --format jsonl` (without `id`) give.
   *
   * `input`: a string (one user segment, like `classify TEXT`); an array of
   * messages (OpenAI chat or Anthropic shape); or a record/request object
   * (`text`, or `messages`/`input` with `system`/`instructions`, as a
   * `classify --input` JSONL line or an API request body).
   */
  classifyJson(input) {
    const prompt = promptOf(input);
    if (typeof prompt === 'string') return this.#call('dg_classify', encoder.encode(prompt));
    return this.#call('dg_classify_segments', encodeSegments(prompt));
  }

  /** The verdict as an object; its exact JSON is the non-enumerable `json`. */
  classify(input) {
    return parseVerdict(this.classifyJson(input));
  }

  /** Classifies already-framed segments (`[[role, text], ...]`). */
  classifySegmentsJson(segments) {
    return this.#call('dg_classify_segments', encodeSegments(segments));
  }

  #call(fn, bytes) {
    if (this.#exports === null) {
      // The last call trapped: a fresh instance, with the pack loaded again.
      const exports = checkExports(new WebAssembly.Instance(this.#module, {}).exports);
      loadPack(exports, this.#packBytes);
      this.#exports = exports;
    }
    const x = this.#exports;
    try {
      const ptr = x.dg_alloc(bytes.length);
      if (ptr === 0 && bytes.length > 0) throw new DistillguardError('E203', 'the classifier is out of memory');
      new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
      const status = x[fn](ptr, bytes.length);
      x.dg_free(ptr, bytes.length);
      const out = result(x);
      if (status !== 0) throw moduleError(out, status);
      return out;
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        this.#exports = null;
        throw new DistillguardError('EJS3', `the classifier instance trapped and was replaced: ${e.message}`);
      }
      throw e;
    }
  }
}

function checkExports(x) {
  for (const name of ['memory', 'dg_abi_version', 'dg_alloc', 'dg_free', 'dg_load_pack', 'dg_classify',
    'dg_classify_segments', 'dg_result_ptr', 'dg_result_len']) {
    if (!(name in x)) throw new DistillguardError('EJS1', `the wasm module lacks the export \`${name}\``);
  }
  const v = x.dg_abi_version();
  if (v !== ABI_VERSION) throw new DistillguardError('EJS1', `the wasm module speaks ABI ${v}, this package ${ABI_VERSION}`);
  return x;
}

function loadPack(x, bytes) {
  const ptr = x.dg_alloc(bytes.length);
  new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
  const status = x.dg_load_pack(ptr, bytes.length);
  x.dg_free(ptr, bytes.length);
  if (status !== 0) throw moduleError(result(x), status);
}

function result(x) {
  // Read the buffer after the call: memory may have grown (a new ArrayBuffer).
  return decoder.decode(new Uint8Array(x.memory.buffer, x.dg_result_ptr(), x.dg_result_len()));
}

function moduleError(json, status) {
  try {
    const { error } = JSON.parse(json);
    return new DistillguardError(error.code, error.message);
  } catch {
    return new DistillguardError(`E${status}`, json);
  }
}

function parseVerdict(json) {
  const v = JSON.parse(json);
  Object.defineProperty(v, 'json', { value: json, enumerable: false });
  return v;
}

/** `Uint8Array` view of an ArrayBuffer / typed array. */
export function toBytes(b, what) {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  throw new DistillguardError('EJS1', `${what} must be a Uint8Array or an ArrayBuffer`);
}

/**
 * The pack's name, version and threshold, read from the compiled pack's
 * start (every format so far: a 24-byte header of magic, version, CRC and
 * length, then postcard: name, version, description as length-prefixed
 * strings, threshold as f64 LE; see classifier/src/pack.rs).
 * The module has verified the whole pack before this runs.
 */
export function packMeta(bytes) {
  let i = 24;
  const varint = () => {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[i++];
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
      shift += 7;
    }
  };
  const str = () => {
    const n = varint();
    const s = decoder.decode(bytes.subarray(i, i + n));
    i += n;
    return s;
  };
  const name = str();
  const version = str();
  str(); // description
  const threshold = new DataView(bytes.buffer, bytes.byteOffset + i, 8).getFloat64(0, true);
  return Object.freeze({ name, version, threshold });
}

/**
 * What is classified: a string (plain text), or `[role, text]` segments.
 * Follows `Prompt::from_record` and `prompt::segments` of the host runtime.
 */
export function promptOf(input) {
  if (typeof input === 'string') return input;
  if (Array.isArray(input)) return segments({ messages: input });
  if (input !== null && typeof input === 'object') {
    if ('text' in input) {
      if (typeof input.text === 'string') return input.text;
      throw new DistillguardError('EJS1', 'field `text` is not a string');
    }
    const m = 'messages' in input ? input.messages : input.input;
    if (Array.isArray(m) || typeof m === 'string') return segments(input);
    if (m === undefined) throw new DistillguardError('EJS1', 'missing string field `text` (or a `messages` array)');
    throw new DistillguardError('EJS1', 'field `messages` is not an array');
  }
  throw new DistillguardError('EJS1', 'classify takes a string, an array of messages or a record object');
}

/**
 * Every piece of prompt text in a request body (or record) with its role,
 * in reading order: `system`/`instructions` (system), then `messages`,
 * `input`, `prompt`, `suffix` (user unless a message says otherwise).
 */
export function segments(body) {
  const out = [];
  for (const key of ['system', 'instructions']) if (own(body, key)) collect(body[key], 'system', out, 0);
  for (const key of ['messages', 'input', 'prompt', 'suffix']) if (own(body, key)) collect(body[key], 'user', out, 0);
  return out;
}

function own(o, k) {
  return Object.prototype.hasOwnProperty.call(o, k);
}

function collect(v, role, out, depth) {
  if (depth > MAX_DEPTH) return;
  if (typeof v === 'string') {
    if (v.length > 0) out.push([role, v]);
  } else if (Array.isArray(v)) {
    for (const item of v) collect(item, role, out, depth + 1);
  } else if (v !== null && typeof v === 'object') {
    let r = typeof v.role === 'string' ? messageRole(v.role) : role;
    const type = typeof v.type === 'string' ? v.type : undefined;
    if (type === 'tool_result' || type === 'function_call_output' || type === 'tool_call_output') r = 'tool';
    else if (type === 'document' || type === 'input_file' || type === 'file') r = 'document';
    for (const key of ['text', 'content', 'input', 'output']) if (own(v, key)) collect(v[key], r, out, depth + 1);
  }
}

/** A message's `role` as a segment role; unknown roles count as the caller's. */
function messageRole(name) {
  switch (name) {
    case 'system':
    case 'developer':
      return 'system';
    case 'assistant':
    case 'model':
      return 'assistant';
    case 'tool':
    case 'function':
    case 'ipython':
      return 'tool';
    default:
      return 'user';
  }
}

/** The ABI's framing: per segment a role byte, a u32 LE length, the UTF-8 text. */
export function encodeSegments(segs) {
  const texts = segs.map(([role, text]) => {
    if (!(role in ROLE_BYTE)) throw new DistillguardError('EJS1', `unknown role \`${role}\``);
    return [ROLE_BYTE[role], encoder.encode(text)];
  });
  const out = new Uint8Array(texts.reduce((n, [, t]) => n + 5 + t.length, 0));
  const view = new DataView(out.buffer);
  let i = 0;
  for (const [role, t] of texts) {
    out[i] = role;
    view.setUint32(i + 1, t.length, true);
    out.set(t, i + 5);
    i += 5 + t.length;
  }
  return out;
}
