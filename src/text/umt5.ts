// UMT5EncoderModel on WebGPU, as transformers computes it (models/umt5/modeling_umt5.py):
//   x = shared[ids]                                   (rows gathered on the host from the file)
//   per block i:  x += o( attn( q(n), k(n), v(n) ) ),  n = T5LayerNorm_i0(x)
//                 attn: scores q·kᵀ (NO 1/√d scaling) + bias_i[bucket(j − i), head], keys past
//                 the prompt's length masked, softmax, ·v — the bias added inside the attention
//                 kernel from a [num_buckets, heads] table and a bucket per relative position
//                 (never an L×L buffer)
//                 x += wo( gelu_tanh(wi_0(m)) ⊙ wi_1(m) ),  m = T5LayerNorm_i1(x)
//   last_hidden_state = T5LayerNorm_final(x)
// then WanPipeline._get_t5_prompt_embeds zeroes every row past the prompt's length.
// Weights and activations are f32 on the GPU (see memory.ts); the encoder is resident or streams
// layer by layer (upload, run, free) when its weights exceed the budget.
import type { Gpu } from '../gpu/device.js';
import { Plan } from '../gpu/plan.js';
import { Serial } from '../gpu/serial.js';
import { Allocator, readTensor, writeTensor, type Tensor } from '../gpu/tensor.js';
import { tensorPath, type ModelFolder } from '../io/model-folder.js';
import { readTensorF32 } from '../io/safetensors.js';
import { checkGpuOption, InputError, shown } from '../model/model.js';
import { prefixHint, unexpectedKeysLine, WEIGHT_DTYPES, WeightError, type UnexpectedKeys } from '../model/weights.js';
import { attention } from '../ops/attention.js';
import { gatedProduct } from '../ops/elementwise.js';
import { gemm } from '../ops/gemm.js';
import { norm } from '../ops/norm.js';
import { relativeBucketTable } from '../ref/umt5.js';
import { EMBED_KEYS, umt5Keys, umt5LayerKeys, type Umt5Config } from './config.js';
import { checkUmt5Fits, planUmt5, type Umt5FitOptions, type Umt5Plan } from './memory.js';
import { callHook, type Hook } from '../hook.js';
import { plural } from '../plural.js';
import { throwIfAborted, warnLine } from '../model/options.js';

/** Token ids that do not fit the text encoder (e.g. a tokenizer of another model), or an encoder folder tessera cannot run. */
export class TextEncoderError extends Error {
  override name = 'TextEncoderError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_TEXT_ENCODER';
}

interface LayerWeights {
  ln0: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  o: Tensor;
  relBias: Tensor; // [num_buckets, heads]
  ln1: Tensor;
  ffn: { wi0: Tensor; wi1: Tensor; wo: Tensor }[]; // chunks along d_ff
}

/** Activations of one [batch, seqLen] shape, kept between encodes of that shape. */
interface Acts {
  key: string;
  alloc: Allocator;
  x: Tensor;
  n: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  a: Tensor;
  h0: Tensor;
  h1: Tensor;
  g: Tensor;
  out: Tensor;
  buckets: Tensor; // u32 [2·seqLen − 1]
  keyLengths: Tensor; // u32 [batch]
  /** Resident mode: the whole forward, recorded once. */
  plan?: Plan;
}

export interface Umt5LoadOptions extends Umt5FitOptions {
  /** Upload progress: `done` of `total` weight tensors while a resident encoder loads (`key` the tensor), and of the layers as a streamed encode runs them (`key` `encoder.block.I`). */
  onProgress?: Hook<[done: number, total: number, key: string]>;
}

/** WeightError naming the safetensors file, the key (`label`: e.g. an embedding row) and the flat index of a NaN/±Infinity. */
function checkFinite(folder: ModelFolder, key: string, d: Float32Array, label = key): void {
  for (let j = 0; j < d.length; j++) if (!Number.isFinite(d[j]!)) throw new WeightError(`${tensorPath(folder, key)}: text_encoder weight ${label} holds a non-finite value (${d[j]}) at flat index ${j}`);
}

/** Options of Umt5Encoder.encode. */
export interface Umt5EncodeOptions {
  /** Profiling hook: runs each recorded plan instead of `plan.run`. */
  runPlan?: (plan: Plan, where: string) => Promise<void>;
  /** What messages call row b (default `prompts[b]`): the caller's name for it when it encodes a subset of its prompts. */
  names?: readonly string[];
}

/**
 * A row's token count must be 1..seqLen: its tokens are the only keys of its attention (keyLengths), and
 * with none every one of its rows would be NaN. A prompt gets 0 tokens only from a tokenizer that appends
 * no end token ("</s>"): then an empty or blank prompt has nothing to encode.
 */
function checkPromptLength(n: number, seqLen: number, name: string): void {
  if (n === 0) {
    throw new TextEncoderError(
      `encode: ${name} tokenized to 0 tokens; a prompt needs at least 1 token: its tokens are the only keys its attention may attend to, and with none its embeddings would be NaN (a tokenizer that appends no end token "</s>" gives an empty or blank prompt none: give a non-empty prompt, or a tokenizer whose post_processor appends "</s>", as UMT5's does)`,
    );
  }
  if (!Number.isInteger(n) || n < 1 || n > seqLen) throw new TextEncoderError(`encode: ${name} has length ${n}, expected an integer in 1..${seqLen} (the token ids given per prompt)`);
}

/**
 * Host memory for the token embedding rows an encoder has read (the table stays in the file: UMT5-XXL's
 * is 4 GiB in f32), least recently used evicted first: 64 MiB, d_model × 4 bytes a row, i.e. 4096
 * rows of UMT5-XXL (d_model 4096), enough for the distinct tokens of many prompts. The default of
 * Umt5Encoder.rowCacheLimit.
 */
export const EMBEDDING_ROW_CACHE_BYTES = 64 * 2 ** 20;

/** A UMT5 encoder over an open text_encoder/ folder; `encode` runs it on the GPU. */
export class Umt5Encoder {
  private resident: LayerWeights[] | null = null;
  /** encoder.final_layer_norm.weight [d_model], uploaded by load() before the encoder is handed out. */
  private finalNorm!: Tensor;
  private readonly weightAlloc: Allocator;
  private acts: Acts | null = null;
  private readonly embedKey: string;
  /** Token embedding rows read from the file, least recently used first (rowCacheLimit bytes at most). */
  private readonly rows = new Map<number, Float32Array>();
  private rowBytes = 0;
  private rowLimit = EMBEDDING_ROW_CACHE_BYTES;
  private readonly serial: Serial;

  private constructor(
    readonly folder: ModelFolder,
    readonly config: Umt5Config,
    readonly gpu: Gpu,
    readonly options: Umt5LoadOptions,
  ) {
    this.serial = new Serial(`text encoder ${folder.name}`);
    this.weightAlloc = new Allocator(gpu);
    this.embedKey = EMBED_KEYS.find((k) => folder.tensors.has(k))!;
  }

  /**
   * Checks every key, shape and dtype of the folder against the config (WeightError naming them),
   * then uploads the final norm, and every layer when the plan for `planFor` is resident.
   * The folder is kept (embedding rows and streamed layers are read from it) until dispose(), but no file handle
   * stays open between calls: its files are released after the load and after each encode, and opened again by
   * the next read (ModelFolder.release), so an encoder never disposed leaves no handle open (Node's DEP0137).
   * `planFor`: the [batch, seqLen] encode whose plan decides resident or streamed (with `opts.maxMemory`, `opts.stream`).
   * `load`: the loader's own options, used by this load only. `signal` is checked before each weight tensor
   * this load reads (not in later encodes); with `unexpectedKeys` 'warn', tensors the encoder has no place for
   * are reported in one line to `onWarning` (else console.warn; `where` names the caller) instead of refused.
   * @throws InputError when `gpu` is not acquireGpu()'s object (before anything is read); WeightError for keys,
   *   shapes or dtypes that do not match the config (before any upload) and for a non-finite weight as it is read;
   *   an AbortError `WHERE, before KEY (I/N): aborted (REASON)` when `signal` aborts (what was uploaded is freed).
   */
  static async load(
    folder: ModelFolder,
    config: Umt5Config,
    gpu: Gpu,
    opts: Umt5LoadOptions = {},
    planFor: [number, number] = [1, 512],
    load: { where: string; signal?: AbortSignal; unexpectedKeys?: UnexpectedKeys; onWarning?: Hook<[line: string]> } = { where: 'Umt5Encoder.load' },
  ): Promise<Umt5Encoder> {
    checkGpuOption(gpu, true);
    const want = umt5Keys(config);
    const have = folder.tensors;
    const embed = EMBED_KEYS.find((k) => have.has(k));
    const problems: string[] = [];
    if (!embed) problems.push(`missing the token embedding (${EMBED_KEYS.join(' or ')})`);
    else {
      const s = have.get(embed)!.shape;
      // transformers' nn.Embedding(vocab_size, d_model) refuses a checkpoint with another row count on load
      if (s.length === 2 && s[1] === config.dModel && s[0] !== config.vocab) problems.push(`${embed} (${tensorPath(folder, embed)}) has ${s[0]} rows but config.json's vocab_size is ${config.vocab}: expected [${config.vocab},${config.dModel}] (vocab_size, d_model), found [${s.join(',')}]`);
      else if (s.length !== 2 || s[1] !== config.dModel) problems.push(`${embed} is [${s.join(',')}], expected [${config.vocab}, ${config.dModel}] (vocab_size, d_model)`);
    }
    const missing = [...want.keys()].filter((k) => !have.has(k));
    const hint = missing.length ? prefixHint(have.keys(), [...have.keys()].filter((k) => !want.has(k)), missing) : null;
    if (hint) problems.push(hint);
    if (missing.length) problems.push(`missing keys: ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? `, … (${missing.length} in all)` : ''}`);
    const extra = [...have.keys()].filter((k) => !want.has(k) && !(EMBED_KEYS as readonly string[]).includes(k));
    if (extra.length && load.unexpectedKeys !== 'warn') problems.push(`unexpected keys: ${extra.slice(0, 6).join(', ')}${extra.length > 6 ? `, … (${extra.length} in all)` : ''}${extra.some((k) => k.startsWith('decoder.')) ? ' (a UMT5Model with a decoder? tessera needs the UMT5EncoderModel as WanPipeline saves it)' : ''}`);
    for (const [k, s] of want) {
      const t = have.get(k);
      if (t && JSON.stringify(t.shape) !== JSON.stringify(s)) problems.push(`${k} is [${t.shape.join(',')}], expected [${s.join(',')}]`);
      if (t && !WEIGHT_DTYPES.has(t.dtype)) problems.push(`${k} is ${t.dtype} (need F32/F16/BF16/F64)`);
    }
    if (problems.length) throw new WeightError(`${folder.name}: the weights do not match config.json: ${problems.join('; ')}`);
    if (extra.length) await warnLine(load.onWarning, load.where, unexpectedKeysLine(folder.name, extra));
    const enc = new Umt5Encoder(folder, config, gpu, opts);
    try {
      const total = 1 + config.layers * 10;
      const { signal } = load;
      const stop = signal && ((key: string, i: number) => throwIfAborted(signal, `${load.where}, before ${key} (${i}/${total})`));
      stop?.('encoder.final_layer_norm.weight', 1);
      const d = await folder.readF32('encoder.final_layer_norm.weight');
      checkFinite(folder, 'encoder.final_layer_norm.weight', d);
      enc.finalNorm = enc.weightAlloc.upload(d, [config.dModel], 'f32', 'encoder.final_layer_norm.weight');
      // resident or streamed is decided by the weights and the budget alone; whether an encode fits is checked per encode
      const p = planUmt5(config, planFor[0], planFor[1], gpu.limits, opts);
      if (p.mode === 'resident') {
        enc.resident = [];
        for (let i = 0; i < config.layers; i++) enc.resident.push(await enc.uploadLayer(i, enc.weightAlloc, p.ffnChunks, i * 10, config.layers * 10, stop && ((key, j) => stop(key, j + 1))));
      }
    } catch (e) {
      enc.weightAlloc.destroyAll();
      throw e;
    }
    await folder.release?.();
    return enc;
  }

  /** The memory plan of an encode of [batch, seqLen] (LimitError when it cannot fit; DisposedError after dispose()). */
  plan(batch: number, seqLen: number): Umt5Plan {
    this.serial.check();
    return this.fits(batch, seqLen);
  }

  private fits(batch: number, seqLen: number): Umt5Plan {
    return checkUmt5Fits(this.config, batch, seqLen, this.gpu.limits, this.options);
  }

  /** 'resident': every layer's weights stay on the GPU; 'stream': each encode uploads one layer at a time (planUmt5). */
  get mode(): 'resident' | 'stream' {
    return this.resident ? 'resident' : 'stream';
  }

  /** `stop(key, n)`: called before tensor `key` is read, the n-th of the load (the abort check of load()). */
  private async uploadLayer(i: number, alloc: Allocator, chunks: number, done = 0, total = 0, stop?: (key: string, n: number) => void): Promise<LayerWeights> {
    const c = this.config;
    const keys = [...umt5LayerKeys(c, i).keys()];
    let n = done;
    const read = (key: string) => {
      stop?.(key, ++n);
      return this.folder.readF32(key);
    };
    const up = async (key: string, shape: number[]): Promise<Tensor> => {
      const d = await read(key);
      checkFinite(this.folder, key, d);
      const t = alloc.upload(d, shape, 'f32', key);
      if (total) await callHook('onProgress', `loadTextEncoder, ${key}`, this.options.onProgress, ++done, total, key);
      return t;
    };
    const [ln0, q, k, v, o, rb, ln1, wi0, wi1, wo] = keys as [string, string, string, string, string, string, string, string, string, string];
    const W = c.heads * c.dKv;
    const lw: LayerWeights = {
      ln0: await up(ln0, [c.dModel]),
      q: await up(q, [W, c.dModel]),
      k: await up(k, [W, c.dModel]),
      v: await up(v, [W, c.dModel]),
      o: await up(o, [c.dModel, W]),
      relBias: await up(rb, [c.numBuckets, c.heads]),
      ln1: await up(ln1, [c.dModel]),
      ffn: [],
    };
    // the feed-forward in chunks of fc along d_ff: rows of wi_0/wi_1, columns of wo
    const fc = c.dFf / chunks;
    const d0 = await read(wi0);
    checkFinite(this.folder, wi0, d0);
    const d1 = await read(wi1);
    checkFinite(this.folder, wi1, d1);
    const dO = await read(wo);
    checkFinite(this.folder, wo, dO);
    for (let j = 0; j < chunks; j++) {
      const cols = new Float32Array(c.dModel * fc); // wo[:, j·fc:(j+1)·fc] as [d_model, fc]
      for (let r = 0; r < c.dModel; r++) cols.set(dO.subarray(r * c.dFf + j * fc, r * c.dFf + (j + 1) * fc), r * fc);
      lw.ffn.push({
        wi0: alloc.upload(d0.subarray(j * fc * c.dModel, (j + 1) * fc * c.dModel), [fc, c.dModel], 'f32', `${wi0}[${j}]`),
        wi1: alloc.upload(d1.subarray(j * fc * c.dModel, (j + 1) * fc * c.dModel), [fc, c.dModel], 'f32', `${wi1}[${j}]`),
        wo: alloc.upload(cols, [c.dModel, fc], 'f32', `${wo}[${j}]`),
      });
    }
    if (total) for (const key of [wi0, wi1, wo]) await callHook('onProgress', `loadTextEncoder, ${key}`, this.options.onProgress, ++done, total, key);
    return lw;
  }

  private activations(batch: number, seqLen: number, p: Umt5Plan): Acts {
    const key = `${batch}x${seqLen}`;
    if (this.acts?.key === key) return this.acts;
    this.acts?.alloc.destroyAll();
    this.acts = null;
    const c = this.config;
    const alloc = new Allocator(this.gpu);
    const W = c.heads * c.dKv;
    const fc = c.dFf / p.ffnChunks;
    const t = (name: string, width: number) => alloc.tensor([batch, seqLen, width], 'f32', name);
    const acts: Acts = {
      key,
      alloc,
      x: t('x', c.dModel),
      n: t('n', c.dModel),
      q: t('q', W),
      k: t('k', W),
      v: t('v', W),
      a: t('attn', W),
      h0: t('ffn_gate', fc),
      h1: t('ffn_linear', fc),
      g: t('ffn_hidden', fc),
      out: t('last_hidden_state', c.dModel),
      buckets: alloc.uploadU32(relativeBucketTable(seqLen, seqLen, c.numBuckets, c.maxDistance), 'relative_position_bucket'),
      keyLengths: alloc.uploadU32(new Uint32Array(batch), 'key_lengths'),
    };
    this.acts = acts;
    return acts;
  }

  /** Records block i: self-attention with the relative position bias, then the gated-GELU feed-forward. */
  private recordLayer(plan: Plan, i: number, w: LayerWeights, s: Acts): void {
    const c = this.config;
    plan.layer = `encoder.block.${i}`;
    norm(plan, { x: s.x, out: s.n, eps: c.eps, rms: true, weight: w.ln0, layer: 'layer.0.layer_norm' });
    gemm(plan, { x: s.n, w: w.q, out: s.q, layer: 'layer.0.SelfAttention.q' });
    gemm(plan, { x: s.n, w: w.k, out: s.k, layer: 'layer.0.SelfAttention.k' });
    gemm(plan, { x: s.n, w: w.v, out: s.v, layer: 'layer.0.SelfAttention.v' });
    attention(plan, { q: s.q, k: s.k, v: s.v, out: s.a, heads: c.heads, headDim: c.dKv, scale: 1, positionBias: { bias: w.relBias, buckets: s.buckets }, keyLengths: s.keyLengths, layer: 'layer.0.SelfAttention' });
    gemm(plan, { x: s.a, w: w.o, out: s.x, residual: true, layer: 'layer.0.SelfAttention.o' });
    norm(plan, { x: s.x, out: s.n, eps: c.eps, rms: true, weight: w.ln1, layer: 'layer.1.layer_norm' });
    w.ffn.forEach((f, j) => {
      const sfx = w.ffn.length > 1 ? `[${j}]` : '';
      gemm(plan, { x: s.n, w: f.wi0, out: s.h0, layer: `layer.1.DenseReluDense.wi_0${sfx}` });
      gemm(plan, { x: s.n, w: f.wi1, out: s.h1, layer: `layer.1.DenseReluDense.wi_1${sfx}` });
      gatedProduct(plan, { a: s.h0, b: s.h1, out: s.g, act: 'gelu', layer: `layer.1.DenseReluDense.act${sfx}` });
      gemm(plan, { x: s.g, w: f.wo, out: s.x, residual: true, layer: `layer.1.DenseReluDense.wo${sfx}` });
    });
    plan.layer = '';
  }

  private recordFinal(plan: Plan, s: Acts): void {
    norm(plan, { x: s.x, out: s.out, eps: this.config.eps, rms: true, weight: this.finalNorm, layer: 'encoder.final_layer_norm' });
  }

  /** Bytes of host memory held by the token embedding rows read so far (rowCacheLimit at most). */
  get rowCacheBytes(): number {
    return this.rowBytes;
  }

  /**
   * The bound of the token embedding row cache, in bytes of host memory (default
   * EMBEDDING_ROW_CACHE_BYTES, 64 MiB; d_model × 4 bytes a row). Setting it evicts the least recently
   * used rows beyond it at once; 0 keeps no row (each encode reads its rows from the file again).
   * The embeddings do not depend on it. Set it on loadTextEncoder's encoder as `encoder.encoder.rowCacheLimit`.
   * @throws InputError (on set) unless a whole number of bytes ≥ 0.
   */
  get rowCacheLimit(): number {
    return this.rowLimit;
  }

  set rowCacheLimit(bytes: number) {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new InputError(`rowCacheLimit: a whole number of bytes ≥ 0, got ${shown(bytes)}`);
    this.rowLimit = bytes;
    this.trimRows();
  }

  /** Evicts the least recently used rows until they hold rowCacheLimit bytes at most. */
  private trimRows(): void {
    for (const [id, row] of this.rows) {
      if (this.rowBytes <= this.rowLimit) break;
      this.rows.delete(id);
      this.rowBytes -= row.byteLength;
    }
  }

  /** Token embedding rows for `ids`, read from the file by byte range (each id once while it stays cached). */
  private async embed(ids: Int32Array): Promise<Float32Array> {
    const c = this.config;
    const info = this.folder.tensors.get(this.embedKey)!;
    const eb = (info.end - info.begin) / (info.shape[0]! * c.dModel);
    const src = await this.folder.source(info.file);
    const x = new Float32Array(ids.length * c.dModel);
    for (let r = 0; r < ids.length; r++) {
      const id = ids[r]!;
      if (!Number.isInteger(id) || id < 0 || id >= c.vocab) throw new TextEncoderError(`token id ${id} at position ${r} is outside the text encoder's vocabulary [0, ${c.vocab}) (does tokenizer/ belong to this text_encoder/?)`);
      let row = this.rows.get(id);
      if (row) {
        // most recently used last
        this.rows.delete(id);
        this.rows.set(id, row);
      } else {
        const begin = info.begin + id * c.dModel * eb;
        row = await readTensorF32(src, { ...info, shape: [c.dModel], begin, end: begin + c.dModel * eb });
        checkFinite(this.folder, this.embedKey, row, `${this.embedKey} row ${id}`);
        this.rows.set(id, row);
        this.rowBytes += row.byteLength;
        this.trimRows();
      }
      x.set(row, r * c.dModel);
    }
    return x;
  }

  /**
   * last_hidden_state of UMT5EncoderModel(ids, attention_mask) for right-padded ids, with every
   * row at or past lengths[b] set to zero (WanPipeline._get_t5_prompt_embeds).
   * ids: [batch·seqLen] token ids; lengths: [batch] real tokens per row (1..seqLen: a prompt's tokens
   * are the only keys its attention may attend to, so 0 is refused rather than giving NaN rows).
   * Returns F32 [batch, seqLen, d_model]. Calls on one encoder run one at a time, in call order
   * (they share its activations).
   * @throws TextEncoderError for ids/lengths that do not fit (a length naming its prompt: `opts.names[b]`,
   *   default `prompts[b]`); LimitError before any GPU work when it cannot fit; DisposedError after dispose().
   * `opts.runPlan`: tessera's own profiling hook, as the VAE's DecodeOptions.runPlan — runs each recorded
   * plan of the encode (the whole forward when resident; one per block and the final norm when streamed)
   * instead of `plan.run`, e.g. `profilePlan(plan, { repeats: 1, warmup: 0 })` to time every dispatch.
   */
  encode(ids: Int32Array, lengths: readonly number[], seqLen: number, opts: Umt5EncodeOptions = {}): Promise<Float32Array> {
    // the rows and streamed layers it reads open the file again; it is closed once the encode settles
    return this.serial.run(() => this.encodeNow(ids, lengths, seqLen, opts).finally(() => this.folder.release?.()));
  }

  private async encodeNow(ids: Int32Array, lengths: readonly number[], seqLen: number, opts: Umt5EncodeOptions): Promise<Float32Array> {
    const B = lengths.length;
    if (B < 1 || ids.length !== B * seqLen) throw new TextEncoderError(`encode: ${ids.length} token ids for ${plural(B, 'prompt')} of ${seqLen}`);
    lengths.forEach((n, b) => checkPromptLength(n, seqLen, opts.names?.[b] ?? `prompts[${b}]`));
    const p = this.fits(B, seqLen);
    const x = await this.embed(ids);
    const s = this.activations(B, seqLen, p);
    writeTensor(this.gpu, s.x, x);
    this.gpu.device.queue.writeBuffer(s.keyLengths.buffer, s.keyLengths.offset ?? 0, Uint32Array.from(lengths));
    const c = this.config;
    const run = (plan: Plan, where: string) => (opts.runPlan ? opts.runPlan(plan, where) : plan.run(where));
    if (this.resident) {
      if (!s.plan) {
        s.plan = new Plan(this.gpu, s.alloc);
        this.resident.forEach((w, i) => this.recordLayer(s.plan!, i, w, s));
        this.recordFinal(s.plan, s);
      }
      await run(s.plan, 'text encoder');
    } else {
      for (let i = 0; i < c.layers; i++) {
        const la = new Allocator(this.gpu);
        try {
          const w = await this.uploadLayer(i, la, p.ffnChunks);
          const plan = new Plan(this.gpu, la);
          this.recordLayer(plan, i, w, s);
          await run(plan, `text encoder block ${i}`);
          await callHook('onProgress', `text encoder, encoder.block.${i}`, this.options.onProgress, i + 1, c.layers, `encoder.block.${i}`);
        } finally {
          la.destroyAll();
        }
      }
      const la = new Allocator(this.gpu);
      try {
        const plan = new Plan(this.gpu, la);
        this.recordFinal(plan, s);
        await run(plan, 'text encoder final norm');
      } finally {
        la.destroyAll();
      }
    }
    const y = await readTensor(this.gpu, s.out);
    for (let b = 0; b < B; b++) y.fill(0, (b * seqLen + lengths[b]!) * c.dModel, (b + 1) * seqLen * c.dModel);
    return y;
  }

  /** Drops the recorded plan (after a kernel's source changed: invalidateKernel), so the next encode records it with the new pipelines. */
  resetPlans(): void {
    if (this.acts) this.acts.plan = undefined;
  }

  /** Bytes held on the GPU (weights + activations). */
  get gpuBytes(): number {
    return this.weightAlloc.liveBytes + (this.acts?.alloc.liveBytes ?? 0);
  }

  /**
   * Frees the weights and activations and closes the folder. Encodes called before it
   * (running or queued) finish first; later calls throw DisposedError.
   */
  dispose(): void {
    // an encode already running reads these buffers (and the folder) until it settles
    this.serial.dispose(() => {
      this.acts?.alloc.destroyAll();
      this.acts = null;
      this.weightAlloc.destroyAll();
      this.resident = null;
      this.rows.clear();
      this.rowBytes = 0;
      void this.folder.close();
    });
  }

  /** The same as dispose() (the name pipelines, VAEs and text encoders use); kept for existing callers. */
  destroy(): void {
    this.dispose();
  }
}
