// WanPipeline's text side: prompt_clean → tokenizer (pad/truncate to max_sequence_length) →
// UMT5EncoderModel → zero past each prompt's length (_get_t5_prompt_embeds), with a cache so the
// same prompt at the same length is encoded once per encoder (CFG's "" negative prompt, repeated
// calls of generate()).
import type { Gpu } from '../gpu/device.js';
import { configPath, openModelFolder } from '../io/model-folder.js';
import type { FolderSource } from '../io/source.js';
import type { Plan } from '../gpu/plan.js';
import { withLoadGpu, type TensorData } from '../model/model.js';
import { parseUmt5Config } from './config.js';
import { loadTokenizer, type T5Tokenizer } from './tokenizer.js';
import { Umt5Encoder, type Umt5LoadOptions } from './umt5.js';

/** Options of loadTextEncoder. */
export interface TextEncoderLoadOptions extends Umt5LoadOptions {
  /** A device from acquireGpu(); one is acquired (and owned by the encoder) when omitted. */
  gpu?: Gpu;
  /** Prompt embeddings kept for reuse (default 64 prompts). */
  cacheSize?: number;
  /** transformers' weight variant: `model.<variant>.safetensors` or `model.safetensors.index.<variant>.json`. */
  variant?: string;
}

/** diffusers' default max_sequence_length in WanPipeline.__call__. */
export const DEFAULT_MAX_SEQUENCE_LENGTH = 512;

/** The encoder's run length is the batch's longest prompt in tokens rounded up to a multiple of this (fewer distinct shapes to record). */
const RUN_MULTIPLE = 16;

/**
 * Prompts to UMT5 prompt embeddings. `encodePrompt(prompts, { max_sequence_length })` returns
 * F32 [prompts, max_sequence_length, d_model], rows past each prompt's tokens zero.
 */
export class Umt5TextEncoder {
  private cache = new Map<string, Float32Array>();
  /** Prompts actually run through the encoder (cache misses), for tests and progress. */
  encodedCount = 0;

  constructor(
    readonly tokenizer: T5Tokenizer,
    readonly encoder: Umt5Encoder,
    private readonly ownsGpu: boolean,
    private readonly cacheSize = 64,
  ) {}

  get dModel(): number {
    return this.encoder.config.dModel;
  }

  /**
   * WanPipeline._get_t5_prompt_embeds(prompts, max_sequence_length).
   * `opts.runPlan` (profiling hook, Umt5Encoder.encode): every prompt runs through the encoder, the cache is
   * not read (a profile must see the encoder's work), and the results refresh the cache.
   */
  async encodePrompt(prompts: string[], opts: { max_sequence_length?: number; runPlan?: (plan: Plan, where: string) => Promise<void> } = {}): Promise<TensorData> {
    const L = opts.max_sequence_length ?? DEFAULT_MAX_SEQUENCE_LENGTH;
    if (prompts.length < 1) throw new TypeError('encodePrompt: no prompts');
    for (const p of prompts) if (typeof p !== 'string') throw new TypeError(`prompt: expected a string, got ${typeof p}`);
    const D = this.dModel;
    const key = (p: string) => `${L}\u0000${p}`;
    const missing = [...new Set(prompts.filter((p) => opts.runPlan !== undefined || !this.cache.has(key(p))))];
    if (missing.length) {
      const t = this.tokenizer.tokenize(missing, L);
      // The encoder runs at the longest prompt's token count (rounded up to RUN_MULTIPLE), not at L:
      // positions past a prompt's length are masked keys and zeroed outputs, so its rows do not
      // depend on them (transformers' padded run gives the same rows; tests/text compare the two
      // bit for bit), and an encode costs its tokens, not max_sequence_length (512 by default).
      const n = Math.min(L, Math.ceil(Math.max(...t.lengths) / RUN_MULTIPLE) * RUN_MULTIPLE);
      const ids = n === L ? t.ids : new Int32Array(missing.length * n);
      if (n < L) missing.forEach((_, i) => ids.set(t.ids.subarray(i * L, i * L + n), i * n));
      const y = await this.encoder.encode(ids, t.lengths, n, { runPlan: opts.runPlan });
      this.encodedCount += missing.length;
      missing.forEach((p, i) => {
        const row = new Float32Array(L * D); // [L, d_model], zero past the prompt's tokens
        row.set(y.subarray(i * n * D, (i + 1) * n * D));
        this.cache.set(key(p), row);
        if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      });
    }
    const out = new Float32Array(prompts.length * L * D);
    prompts.forEach((p, i) => {
      const k = key(p);
      const row = this.cache.get(k)!;
      this.cache.delete(k); // most recently used last
      this.cache.set(k, row);
      out.set(row, i * L * D);
    });
    return { data: out, shape: [prompts.length, L, D] };
  }

  /** After a kernel's source changed (invalidateKernel): drops the recorded plan and the cached embeddings (made by the old kernels). */
  resetPlans(): void {
    this.encoder.resetPlans();
    this.cache.clear();
  }

  dispose(): void {
    this.cache.clear();
    const gpu = this.encoder.gpu;
    this.encoder.dispose();
    if (this.ownsGpu) gpu.destroy();
  }
}

/**
 * Loads a pipeline's tokenizer/ (tokenizer.json) and text_encoder/ (UMT5EncoderModel: config.json
 * + model.safetensors or a sharded index; F32/F16/BF16). Checks the tokenizer, config, keys and
 * the memory plan of a [2, 512] encode before reading any weight.
 * @throws TokenizerError, ConfigError, ModelFolderError, WeightError, LimitError.
 */
export async function loadTextEncoder(folders: { tokenizer: FolderSource; textEncoder: FolderSource }, opts: TextEncoderLoadOptions = {}): Promise<Umt5TextEncoder> {
  const tokenizer = await loadTokenizer(folders.tokenizer);
  const folder = await openModelFolder(folders.textEncoder, { library: 'transformers', ...(opts.variant !== undefined ? { variant: opts.variant } : {}) });
  try {
    const config = parseUmt5Config(folder.config, configPath(folder));
    return await withLoadGpu(opts.gpu, async (gpu, owned) => new Umt5TextEncoder(tokenizer, await Umt5Encoder.load(folder, config, gpu, opts, [2, DEFAULT_MAX_SEQUENCE_LENGTH]), owned, opts.cacheSize));
  } catch (e) {
    await folder.close();
    throw e;
  }
}
