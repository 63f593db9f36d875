// WanPipeline's text side: prompt_clean → tokenizer (pad/truncate to max_sequence_length) →
// UMT5EncoderModel → zero past each prompt's length (_get_t5_prompt_embeds), with a cache so the
// same prompt at the same length is encoded once per encoder (CFG's "" negative prompt, repeated
// calls of generate()).
import type { Gpu } from '../gpu/device.js';
import { configPath, openModelFolder } from '../io/model-folder.js';
import { subFolder, type FolderSource } from '../io/source.js';
import type { Plan } from '../gpu/plan.js';
import { Serial } from '../gpu/serial.js';
import { InputError, resolveFolder, shown, withLoadGpu, type TensorData } from '../model/model.js';
import { checkDeviceOptions, loadGpuOf } from '../model/device-option.js';
import { checkOptionNames, checkSignal, checkUnexpectedKeys, throwIfAborted } from '../model/options.js';
import type { UnexpectedKeys } from '../model/weights.js';
import type { Hook } from '../hook.js';
import { parseUmt5Config } from './config.js';
import { loadTokenizer, type T5Tokenizer } from './tokenizer.js';
import { Umt5Encoder, type Umt5LoadOptions } from './umt5.js';

/** Options of loadTextEncoder. */
export interface TextEncoderLoadOptions extends Umt5LoadOptions {
  /** A device from acquireGpu(); one is acquired (and owned by the encoder) when neither this nor `device` is given. */
  gpu?: Gpu;
  /** A GPUDevice of the caller's own instead of `gpu`, as LoadOptions.device (loadModel's). */
  device?: GPUDevice;
  /**
   * Prompt embeddings kept for reuse, in host memory (least recently used evicted first): at most
   * this many prompts (default 64) and at most `cacheBytes`. A cached prompt holds
   * max_sequence_length × d_model × 4 bytes (per distinct prompt and length; negative prompts count):
   * 8 MiB for UMT5-XXL (d_model 4096) at 512 tokens, so the default byte bound keeps 32 of those.
   * 0: no cache.
   */
  cacheSize?: number;
  /** The prompt cache's bound in bytes of host memory: a whole number ≥ 0 (InputError otherwise), default PROMPT_CACHE_BYTES (256 MiB); 0: no cache. A prompt larger than the bound is not cached. */
  cacheBytes?: number;
  /** transformers' weight variant: `model.<variant>.safetensors` or `model.safetensors.index.<variant>.json`. */
  variant?: string;
  /**
   * Cancels the load: checked before the folders are read (an aborted signal reads no file) and before each
   * weight tensor a resident encoder uploads (a streamed one reads its layers in each encode, which this
   * signal does not cancel). An aborted load rejects with a DOMException named 'AbortError',
   * `loadTextEncoder(DIR), before KEY (I/N): aborted (REASON)` (the signal's reason as `cause`), and frees
   * what it uploaded. Not an AbortSignal: InputError.
   */
  signal?: AbortSignal;
  /**
   * Tensors of text_encoder/ the encoder has no place for: 'error' (the default) refuses the load naming them;
   * 'warn' loads without them and reports one line through `onWarning` (as LoadOptions.unexpectedKeys).
   * Missing tensors are an error either way.
   */
  unexpectedKeys?: UnexpectedKeys;
  /** Where the load's warning lines go (default console.warn): the unexpected tensors of `unexpectedKeys: 'warn'`. Awaited; one that throws fails the load. */
  onWarning?: Hook<[line: string]>;
}

/** The prompt cache's default bound in bytes (TextEncoderLoadOptions.cacheBytes): 256 MiB. */
export const PROMPT_CACHE_BYTES = 256 * 2 ** 20;

/** diffusers' default max_sequence_length in WanPipeline.__call__. */
export const DEFAULT_MAX_SEQUENCE_LENGTH = 512;

/**
 * The largest max_sequence_length tessera takes (the CLI's --max-sequence-length too). UMT5's
 * relative positions set no limit of their own, and diffusers pads or truncates to whatever is
 * asked (past tokenizer_config's model_max_length too); this bound keeps a typo from asking for
 * millions of rows before the memory plan refuses it.
 */
export const MAX_SEQUENCE_LENGTH = 65536;

/** Options of Umt5TextEncoder.encodePrompt. */
export interface EncodePromptOptions {
  /** Tokens per prompt: truncated (the template's "</s>" kept) or zero-padded to this; 1..MAX_SEQUENCE_LENGTH, default 512. */
  max_sequence_length?: number;
  /** Profiling hook (Umt5Encoder.encode): runs each recorded plan instead of `plan.run`. */
  runPlan?: (plan: Plan, where: string) => Promise<void>;
}
const ENCODE_PROMPT_OPTIONS: readonly (keyof EncodePromptOptions)[] = ['max_sequence_length', 'runPlan'];
const LOAD_OPTIONS: readonly (keyof TextEncoderLoadOptions)[] = ['gpu', 'device', 'cacheSize', 'cacheBytes', 'variant', 'onProgress', 'maxMemory', 'stream', 'signal', 'unexpectedKeys', 'onWarning'];

/**
 * A prompt option as diffusers takes it (encodePrompt's `prompts`, Pipeline.generate's `prompt` and
 * `negative_prompt`): one string, or a non-empty list of strings (one per batch item).
 * @throws InputError naming `name` (or `name[i]`) and what was given otherwise.
 */
export function promptList(v: unknown, name: string): string[] {
  const given = (x: unknown) => (x === null || x === undefined ? String(x) : `${typeof x} ${shown(x)}`);
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) throw new InputError(`${name}: a string or a list of strings (one per batch item), got ${given(v)}`, { option: name });
  if (v.length === 0) throw new InputError(`${name}: an empty list; give at least one prompt`, { option: name });
  const i = v.findIndex((x) => typeof x !== 'string');
  if (i >= 0) throw new InputError(`${name}[${i}]: a string, got ${given(v[i])}`, { option: name });
  return v as string[];
}

/**
 * The `max_sequence_length` option (default 512) as encodePrompt and Pipeline.generate take it.
 * @throws InputError unless a positive integer up to MAX_SEQUENCE_LENGTH.
 */
export function checkMaxSequenceLength(v: unknown): number {
  const L = v ?? DEFAULT_MAX_SEQUENCE_LENGTH;
  if (typeof L !== 'number' || !Number.isInteger(L) || L < 1 || L > MAX_SEQUENCE_LENGTH) {
    throw new InputError(`max_sequence_length: a positive integer up to ${MAX_SEQUENCE_LENGTH}, got ${shown(L)}`, { option: 'max_sequence_length' });
  }
  return L;
}

/** The encoder's run length is the batch's longest prompt in tokens rounded up to a multiple of this (fewer distinct shapes to record). */
const RUN_MULTIPLE = 16;

/** A note on a prompt taken as given (Umt5TextEncoder.promptNotes): `kind` what it is about, `line` its words for onWarning, `prompt` the prompt. */
export interface PromptNote {
  /** 'cut': longer than max_sequence_length, its last tokens dropped (its first with tokenizer_config's truncation_side "left"); 'empty': no text tokens, only the end token. */
  kind: 'cut' | 'empty';
  line: string;
  /** The prompt the note is about, as given (Pipeline.generate says each note once per prompt and line). */
  prompt: string;
}

/**
 * Prompts to UMT5 prompt embeddings. `encodePrompt(prompts, { max_sequence_length })` returns
 * F32 [prompts, max_sequence_length, d_model], rows past each prompt's tokens zero.
 */
export class Umt5TextEncoder {
  /** (max_sequence_length, prompt) → [L, d_model] rows, least recently used first. */
  private cache = new Map<string, Float32Array>();
  private cachedBytes = 0;
  /** Prompts actually run through the encoder (cache misses), for tests and progress. */
  encodedCount = 0;
  private readonly serial: Serial;

  constructor(
    readonly tokenizer: T5Tokenizer,
    readonly encoder: Umt5Encoder,
    private readonly ownsGpu: boolean,
    private readonly cacheSize = 64,
    private readonly cacheBytes = PROMPT_CACHE_BYTES,
  ) {
    this.serial = new Serial(`text encoder ${encoder.folder.name}`);
  }

  /** d_model: the width of each embedding row (encodePrompt's last dimension; 4096 for UMT5-XXL). */
  get dModel(): number {
    return this.encoder.config.dModel;
  }

  /**
   * Bytes of host memory held by the encoder's caches: the prompt cache (at most cacheSize prompts
   * and cacheBytes) plus the token embedding rows read from the file (at most `encoder.rowCacheLimit`, default EMBEDDING_ROW_CACHE_BYTES).
   */
  get hostCacheBytes(): number {
    return this.cachedBytes + this.encoder.rowCacheBytes;
  }

  /**
   * WanPipeline._get_t5_prompt_embeds(prompts, max_sequence_length).
   * @param prompts One prompt, or a non-empty list of prompts (as diffusers takes them).
   * @returns F32 [prompts, max_sequence_length, d_model], rows past each prompt's tokens zero.
   * `opts.runPlan` (profiling hook, Umt5Encoder.encode): every prompt runs through the encoder, the cache is
   * not read (a profile must see the encoder's work), and the results refresh the cache.
   * Calls on one encoder run one at a time, in call order.
   * @throws InputError naming `prompts[i]`, max_sequence_length or an unknown option, at once (not
   *   after the calls queued before it); LimitError when the encode cannot fit, before GPU work;
   *   DisposedError after dispose(); TextEncoderError for token ids outside the encoder's vocabulary or a prompt
   *   of no tokens; GpuError and TuneEnvError as the encode runs (device lost; a bad TESSERA_TUNE).
   */
  async encodePrompt(prompts: string | readonly string[], opts: EncodePromptOptions = {}): Promise<TensorData> {
    this.serial.check();
    // checked before queueing, as Pipeline.generate does: a bad call is refused without waiting for a long one in flight
    const list = [...promptList(prompts, 'prompts')];
    checkOptionNames(opts, ENCODE_PROMPT_OPTIONS, 'encodePrompt', '{ max_sequence_length: 512 }');
    const L = checkMaxSequenceLength(opts.max_sequence_length);
    const runPlan = opts.runPlan;
    if (runPlan !== undefined && typeof runPlan !== 'function') throw new InputError(`runPlan: a function, got ${shown(runPlan)}`, { option: 'runPlan' });
    return this.serial.run(() => this.encodeNow(list, L, runPlan));
  }

  /**
   * Refuses, before any GPU work, an encode of `prompts` that cannot fit the adapter or the budget: the
   * distinct prompts at the longest one's token count (rounded up as encodePrompt runs them), up to
   * `max_sequence_length`. Tokenizes on the CPU; encodes nothing. No prompts, or prompts of no tokens: nothing checked.
   * @throws LimitError as encodePrompt would; DisposedError once the encoder was freed (dispose(), after the calls before it).
   */
  checkFits(prompts: readonly string[], max_sequence_length: number): void {
    const distinct = [...new Set(prompts)];
    if (!distinct.length) return;
    const t = this.tokenizer.tokenize(distinct, max_sequence_length);
    const longest = Math.max(...t.lengths);
    // prompts of no tokens at all (a tokenizer without an end token, an empty prompt): nothing to plan;
    // the encode refuses them by name (TextEncoderError), which a plan of 0 tokens would pre-empt
    if (longest === 0) return;
    this.encoder.plan(distinct.length, Math.min(max_sequence_length, Math.ceil(longest / RUN_MULTIPLE) * RUN_MULTIPLE));
  }

  /**
   * Notes on prompts the encode takes as given but a caller may not expect (no GPU work; Pipeline.generate sends their
   * lines to onWarning): a prompt cut at `max_sequence_length` (kind 'cut': how many of its tokens are dropped), an empty
   * one (kind 'empty': after prompt_clean only the end token, so nothing for the transformer to follow). `name(i)`: the
   * prompt's name in the lines. One note per distinct prompt, in order.
   */
  promptNotes(prompts: readonly string[], max_sequence_length: number, name: (i: number) => string): PromptNote[] {
    const special = this.tokenizer.specialCount;
    const keep = max_sequence_length - special;
    const notes: PromptNote[] = [];
    prompts.forEach((p, i) => {
      if (prompts.indexOf(p) !== i) return; // said once per distinct prompt
      const n = this.tokenizer.textTokens(p);
      // (a tokenizer without an end token gives an empty prompt no token at all: the encode refuses it by name)
      if (n === 0 && special) notes.push({ kind: 'empty', prompt: p, line: `note: ${name(i)} is empty: the text encoder sees only its end token, so the video follows no text (as an unconditional one)` });
      else if (keep >= 0 && n > keep) {
        const cut = n - keep;
        // tokenizer_config's truncation_side: which end the tokenizer cut
        const [end, seen] = this.tokenizer.truncationSide === 'left' ? ['first', 'last'] : ['last', 'first'];
        const dropped = cut === 1 ? `its ${end} token was dropped` : `its ${end} ${cut} tokens were dropped`;
        notes.push({ kind: 'cut', prompt: p, line: `note: ${name(i)} has ${n + special} tokens, more than max_sequence_length ${max_sequence_length}: ${dropped} (the encoder sees the ${seen} ${keep}${special ? ' and the end token' : ''})` });
      }
    });
    return notes;
  }

  private async encodeNow(prompts: readonly string[], L: number, runPlan: EncodePromptOptions['runPlan']): Promise<TensorData> {
    const D = this.dModel;
    const key = (p: string) => `${L}\u0000${p}`;
    const missing = [...new Set(prompts.filter((p) => runPlan !== undefined || !this.cache.has(key(p))))];
    // This call's rows, held here until copied out: remembering the new rows may evict them or this
    // call's cache hits (the least recently used) under cacheSize or cacheBytes.
    const rows = new Map<string, Float32Array>();
    for (const p of prompts) {
      const hit = runPlan === undefined ? this.cache.get(key(p)) : undefined;
      if (hit) rows.set(key(p), hit);
    }
    if (missing.length) {
      const t = this.tokenizer.tokenize(missing, L);
      // The encoder runs at the longest prompt's token count (rounded up to RUN_MULTIPLE), not at L:
      // positions past a prompt's length are masked keys and zeroed outputs, so its rows do not
      // depend on them (transformers' padded run gives the same rows; tests/text compare the two
      // bit for bit), and an encode costs its tokens, not max_sequence_length (512 by default).
      const n = Math.min(L, Math.ceil(Math.max(...t.lengths) / RUN_MULTIPLE) * RUN_MULTIPLE);
      const ids = n === L ? t.ids : new Int32Array(missing.length * n);
      if (n < L) missing.forEach((_, i) => ids.set(t.ids.subarray(i * L, i * L + n), i * n));
      // the encoder names a row by the caller's index of its prompt (these are the distinct, uncached ones)
      const y = await this.encoder.encode(ids, t.lengths, n, { runPlan, names: missing.map((p) => `prompts[${prompts.indexOf(p)}]`) });
      this.encodedCount += missing.length;
      missing.forEach((p, i) => {
        const row = new Float32Array(L * D); // [L, d_model], zero past the prompt's tokens
        row.set(y.subarray(i * n * D, (i + 1) * n * D));
        rows.set(key(p), row);
        this.remember(key(p), row);
      });
    }
    const out = new Float32Array(prompts.length * L * D);
    prompts.forEach((p, i) => {
      const k = key(p);
      const row = rows.get(k)!;
      // most recently used last (an entry evicted by this call stays out; cachedBytes already dropped it)
      if (this.cache.delete(k)) this.cache.set(k, row);
      out.set(row, i * L * D);
    });
    return { data: out, shape: [prompts.length, L, D] };
  }

  /** Caches `row` as the most recently used, then evicts the least recently used beyond cacheSize prompts or cacheBytes. */
  private remember(k: string, row: Float32Array): void {
    this.forget(k);
    if (this.cacheSize < 1 || row.byteLength > this.cacheBytes) return;
    this.cache.set(k, row);
    this.cachedBytes += row.byteLength;
    while (this.cache.size > this.cacheSize || this.cachedBytes > this.cacheBytes) this.forget(this.cache.keys().next().value!);
  }

  private forget(k: string): void {
    const row = this.cache.get(k);
    if (!row) return;
    this.cache.delete(k);
    this.cachedBytes -= row.byteLength;
  }

  private clearCache(): void {
    this.cache.clear();
    this.cachedBytes = 0;
  }

  /**
   * After a kernel's source changed (invalidateKernel): drops the recorded plan and the cached
   * embeddings (made by the old kernels). Waits for the encodes running or queued (they keep their
   * plan and cache) and runs at once when there are none; encodes called after it record afresh.
   * Never await it inside an encode's runPlan hook: it waits for that encode, which waits for it.
   * @throws DisposedError after dispose() (thrown at once).
   */
  resetPlans(): Promise<void> {
    return this.serial.whenIdle(() => {
      this.encoder.resetPlans();
      this.clearCache();
    });
  }

  /**
   * Frees the encoder (and the device when the encoder acquired it). Calls made before it
   * (running or queued) finish first; later calls throw DisposedError.
   */
  dispose(): void {
    // a call already running uses the encoder until it settles
    this.serial.dispose(() => {
      this.clearCache();
      const gpu = this.encoder.gpu;
      this.encoder.dispose();
      if (this.ownsGpu) gpu.destroy();
    });
  }
}

/** The folders loadTextEncoder reads, each a FolderSource or a string as loadModel takes one (a path or file:// URL in Node, an http(s):// URL). */
export interface TextEncoderFolders {
  /** The pipeline's tokenizer/ folder (tokenizer.json). */
  tokenizer: FolderSource | string;
  /** The pipeline's text_encoder/ folder (UMT5EncoderModel). */
  textEncoder: FolderSource | string;
}
const FOLDER_NAMES: readonly (keyof TextEncoderFolders)[] = ['tokenizer', 'textEncoder'];
const FOLDER_SOURCES = 'a path or URL string (a path or file:// URL in Node, an http(s):// URL), or a FolderSource (nodeFolder(dir) on Node; httpFolder(url) or mapFolder(files) in browsers)';

const isFolderSource = (f: unknown): f is FolderSource => typeof f === 'object' && f !== null && typeof (f as FolderSource).readText === 'function' && typeof (f as FolderSource).open === 'function';

/**
 * loadTextEncoder's first argument as its two folders: a string or FolderSource is the pipeline folder (its
 * tokenizer/ and text_encoder/); an object holds the two folders and nothing else (an option given there,
 * such as maxMemory, would be ignored: options are the second argument), each a string or a FolderSource.
 * A string is opened as loadModel opens one (resolveFolder).
 * @throws InputError naming the key, or the argument, and what it takes.
 */
async function resolveFolders(source: unknown): Promise<{ tokenizer: FolderSource; textEncoder: FolderSource }> {
  const open = async (f: string | FolderSource) => (typeof f === 'string' ? resolveFolder(f) : f);
  if (typeof source === 'string' || isFolderSource(source)) {
    const root = await open(source);
    return { tokenizer: subFolder(root, 'tokenizer'), textEncoder: subFolder(root, 'text_encoder') };
  }
  const options = Object.fromEntries(LOAD_OPTIONS.map((k) => [k, 'its options, the second argument']));
  checkOptionNames(source, FOLDER_NAMES, 'loadTextEncoder', '"Wan2.1-T2V-1.3B-Diffusers" (the pipeline folder) or { tokenizer: dir + "/tokenizer", textEncoder: dir + "/text_encoder" }', options, 'folder');
  for (const k of FOLDER_NAMES) {
    const f = (source as Record<string, unknown>)[k];
    if (f === undefined) throw new InputError(`${k}: missing; give the pipeline's ${k === 'tokenizer' ? 'tokenizer' : 'text_encoder'}/ folder as ${FOLDER_SOURCES}`);
    if (typeof f !== 'string' && !isFolderSource(f)) throw new InputError(`${k}: ${FOLDER_SOURCES}, got ${typeof f === 'object' && f !== null ? 'an object without readText and open' : `${typeof f} ${shown(f)}`}`);
  }
  const { tokenizer, textEncoder } = source as TextEncoderFolders;
  return { tokenizer: await open(tokenizer), textEncoder: await open(textEncoder) };
}

/**
 * Loads a pipeline's tokenizer/ (tokenizer.json) and text_encoder/ (UMT5EncoderModel: config.json
 * + model.safetensors or a sharded index; F32/F16/BF16, F64 read rounded to f32). Checks the tokenizer, config, keys and
 * the memory plan of a [2, 512] encode before reading any weight. Weights and activations are
 * f32 always (there is no dtype option: T5 activations overflow f16).
 * `folders`: the pipeline folder (its tokenizer/ and text_encoder/), as a string — a path or a file:// URL
 * (Node), an http(s):// URL (httpFolder) — or a FolderSource; or `{ tokenizer, textEncoder }`, each a string or
 * a FolderSource. Strings are opened as loadModel and loadPipeline open theirs.
 * @throws InputError for a `folders` key other than tokenizer and textEncoder (an option name there:
 *   options are the second argument), a folder missing or neither a string nor a FolderSource, a malformed
 *   file:// URL, an unknown option, a bad
 *   cacheSize or cacheBytes, a `device` that is not a GPUDevice or is given with `gpu`, or a `gpu` that is not acquireGpu()'s object (before anything is read);
 *   TokenizerError, ConfigError, ModelFolderError, SafetensorsError, WeightError, LimitError; GpuUnavailableError
 *   when no `gpu` is given and there is no adapter; an Error named 'AbortError' when `signal` aborts
 *   (TextEncoderLoadOptions.signal).
 */
export async function loadTextEncoder(source: string | FolderSource | TextEncoderFolders, opts: TextEncoderLoadOptions = {}): Promise<Umt5TextEncoder> {
  const folders = await resolveFolders(source);
  checkOptionNames(opts, LOAD_OPTIONS, 'loadTextEncoder', '{ maxMemory: 2 ** 30 }');
  if (opts.cacheSize !== undefined && (!Number.isInteger(opts.cacheSize) || opts.cacheSize < 0)) throw new InputError(`cacheSize: a whole number of prompts ≥ 0, got ${shown(opts.cacheSize)}`, { option: 'cacheSize' });
  if (opts.cacheBytes !== undefined && (!Number.isSafeInteger(opts.cacheBytes) || opts.cacheBytes < 0)) throw new InputError(`cacheBytes: a whole number of bytes ≥ 0, got ${shown(opts.cacheBytes)}`, { option: 'cacheBytes' });
  checkDeviceOptions(opts);
  checkSignal(opts.signal);
  checkUnexpectedKeys(opts.unexpectedKeys);
  if (opts.onWarning !== undefined && typeof opts.onWarning !== 'function') throw new InputError(`onWarning: a function, got ${shown(opts.onWarning)}`, { option: 'onWarning' });
  const { signal, unexpectedKeys, onWarning, device, ...encoderOpts } = opts;
  throwIfAborted(signal, `loadTextEncoder(${folders.textEncoder.name}), before reading its folder`);
  const tokenizer = await loadTokenizer(folders.tokenizer);
  const folder = await openModelFolder(folders.textEncoder, { library: 'transformers', ...(opts.variant !== undefined ? { variant: opts.variant } : {}) });
  try {
    const config = parseUmt5Config(folder.config, configPath(folder));
    return await withLoadGpu(loadGpuOf({ gpu: opts.gpu, device }), async (gpu, owned) => new Umt5TextEncoder(tokenizer, await Umt5Encoder.load(folder, config, gpu, encoderOpts, [2, DEFAULT_MAX_SEQUENCE_LENGTH], { where: `loadTextEncoder(${folder.name})`, signal, unexpectedKeys, onWarning }), owned, opts.cacheSize, opts.cacheBytes));
  } catch (e) {
    await folder.close();
    throw e;
  }
}
