// The state-dict keys and shapes each config implies, checked against a model folder, and
// uploaded one tensor at a time in the storage dtype.
import type { DType, Tensor } from '../gpu/tensor.js';
import { type Allocator, subTensor, writeTensor } from '../gpu/tensor.js';
import type { DitConfig, LatteConfig, ModelConfig, WanConfig } from './config.js';
import { callHook, type Hook } from '../hook.js';
import { throwIfAborted } from './options.js';
import { FLOAT_DTYPES } from '../io/safetensors.js';

/** Weights that do not match config.json (missing, extra or mis-shaped keys) or hold non-finite values (or, for f16, values outside its range); the message names the key. */
export class WeightError extends Error {
  override name = 'WeightError';
  /** Stable, for a switch (the README's error table); `name` is the class's. */
  readonly code: string = 'ERR_WEIGHTS';
}

export type KeySpec = Map<string, number[]>;

const linear = (m: KeySpec, name: string, out: number, inp: number, bias = true) => {
  m.set(`${name}.weight`, [out, inp]);
  if (bias) m.set(`${name}.bias`, [out]);
};

function wanKeys(c: WanConfig): KeySpec {
  const m: KeySpec = new Map();
  const D = c.dim;
  const [pt, ph, pw] = c.patch;
  m.set('patch_embedding.weight', [D, c.inChannels, pt, ph, pw]);
  m.set('patch_embedding.bias', [D]);
  linear(m, 'condition_embedder.time_embedder.linear_1', D, c.freqDim);
  linear(m, 'condition_embedder.time_embedder.linear_2', D, D);
  linear(m, 'condition_embedder.time_proj', 6 * D, D);
  linear(m, 'condition_embedder.text_embedder.linear_1', D, c.textDim);
  linear(m, 'condition_embedder.text_embedder.linear_2', D, D);
  m.set('scale_shift_table', [1, 2, D]);
  linear(m, 'proj_out', c.outChannels * pt * ph * pw, D);
  for (let i = 0; i < c.layers; i++) {
    const b = `blocks.${i}`;
    m.set(`${b}.scale_shift_table`, [1, 6, D]);
    for (const a of ['attn1', 'attn2']) {
      for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) linear(m, `${b}.${a}.${p}`, D, D);
      m.set(`${b}.${a}.norm_q.weight`, [D]);
      m.set(`${b}.${a}.norm_k.weight`, [D]);
    }
    if (c.crossAttnNorm) {
      m.set(`${b}.norm2.weight`, [D]);
      m.set(`${b}.norm2.bias`, [D]);
    }
    linear(m, `${b}.ffn.net.0.proj`, c.ffnDim, D);
    linear(m, `${b}.ffn.net.2`, D, c.ffnDim);
  }
  return m;
}

function ditKeys(c: DitConfig): KeySpec {
  const m: KeySpec = new Map();
  const D = c.dim;
  m.set('pos_embed.proj.weight', [D, c.inChannels, c.patch, c.patch]);
  m.set('pos_embed.proj.bias', [D]);
  for (let i = 0; i < c.layers; i++) {
    const b = `transformer_blocks.${i}`;
    // diffusers copies the timestep MLP and the class table into every block.
    linear(m, `${b}.norm1.emb.timestep_embedder.linear_1`, D, 256);
    linear(m, `${b}.norm1.emb.timestep_embedder.linear_2`, D, D);
    m.set(`${b}.norm1.emb.class_embedder.embedding_table.weight`, [c.numClasses + 1, D]);
    linear(m, `${b}.norm1.linear`, 6 * D, D);
    for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) linear(m, `${b}.attn1.${p}`, D, D);
    linear(m, `${b}.ff.net.0.proj`, c.ffnDim, D);
    linear(m, `${b}.ff.net.2`, D, c.ffnDim);
  }
  linear(m, 'proj_out_1', 2 * D, D);
  linear(m, 'proj_out_2', c.patch * c.patch * c.outChannels, D);
  return m;
}

function latteKeys(c: LatteConfig): KeySpec {
  const m: KeySpec = new Map();
  const D = c.dim;
  m.set('pos_embed.proj.weight', [D, c.inChannels, c.patch, c.patch]);
  m.set('pos_embed.proj.bias', [D]);
  linear(m, 'adaln_single.emb.timestep_embedder.linear_1', D, 256);
  linear(m, 'adaln_single.emb.timestep_embedder.linear_2', D, D);
  linear(m, 'adaln_single.linear', 6 * D, D);
  linear(m, 'caption_projection.linear_1', D, c.captionChannels);
  linear(m, 'caption_projection.linear_2', D, D);
  m.set('scale_shift_table', [2, D]);
  linear(m, 'proj_out', c.patch * c.patch * c.outChannels, D);
  for (let i = 0; i < c.layers; i++) {
    for (const kind of ['transformer_blocks', 'temporal_transformer_blocks']) {
      const b = `${kind}.${i}`;
      m.set(`${b}.scale_shift_table`, [6, D]);
      for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) linear(m, `${b}.attn1.${p}`, D, D);
      if (kind === 'transformer_blocks') {
        linear(m, `${b}.attn2.to_q`, D, D);
        linear(m, `${b}.attn2.to_k`, D, c.crossAttentionDim);
        linear(m, `${b}.attn2.to_v`, D, c.crossAttentionDim);
        linear(m, `${b}.attn2.to_out.0`, D, D);
      }
      linear(m, `${b}.ff.net.0.proj`, c.ffnDim, D);
      linear(m, `${b}.ff.net.2`, D, c.ffnDim);
    }
  }
  return m;
}

export function expectedKeys(c: ModelConfig): KeySpec {
  return c.family === 'wan' ? wanKeys(c) : c.family === 'dit' ? ditKeys(c) : latteKeys(c);
}

const list = (names: string[], n = 8) => names.slice(0, n).join(', ') + (names.length > n ? `, … (${names.length} in all)` : '');

/**
 * One- and two-layer copies of `c`. Every transformer block holds the same tensors, so a count taken
 * on both extrapolates linearly to c.layers: n(c) = n(one) + (n(two) − n(one))·(c.layers − 1).
 */
export function layerCopies(c: ModelConfig): [one: ModelConfig, two: ModelConfig] {
  return [{ ...c, layers: 1 }, { ...c, layers: 2 }];
}

/**
 * How many tensors expectedKeys(c) lists, without listing them: the keys grow linearly with the
 * layer count, so two small configs give the count of any (a config.json with num_layers 1e6 would
 * otherwise build millions of names before the first mismatch is reported).
 */
export function expectedKeyCount(c: ModelConfig): { total: number; perLayer: number } {
  const [c1, c2] = layerCopies(c);
  const one = expectedKeys(c1).size;
  const perLayer = expectedKeys(c2).size - one;
  return { total: one + perLayer * (c.layers - 1), perLayer };
}

/**
 * Refuses, before listing the keys, a config whose layer count asks for at least one layer's tensors
 * more than the folder holds (WeightError naming config.json's num_layers, the counts and the layers
 * the weights could hold); smaller mismatches are left to checkKeys, which names the keys.
 */
export function checkKeyCount(folder: string, have: ReadonlyMap<string, unknown>, c: ModelConfig): void {
  const { total, perLayer } = expectedKeyCount(c);
  if (total <= have.size + perLayer) return;
  const fit = Math.max(0, c.layers - Math.ceil((total - have.size) / perLayer));
  throw new WeightError(`${folder}: the weights do not match config.json: num_layers ${c.layers} needs ${total} tensors (${perLayer} per layer), the weights hold ${have.size}, enough for at most ${fit} layer${fit === 1 ? '' : 's'}`);
}

/**
 * What a loader does with tensors of the checkpoint the model has no place for (LoadOptions.unexpectedKeys):
 * 'error' (the default) refuses the load naming them; 'warn' loads without them and reports one line
 * (diffusers' from_pretrained warns about such `unexpected_keys` and goes on).
 */
export type UnexpectedKeys = 'error' | 'warn';

/**
 * Stored dtypes a weight may have. F64 is read rounded to f32 (then to f16 under dtype 'f16'), as diffusers'
 * from_pretrained casts a float64 checkpoint to the model's dtype (float32 by default).
 */
export const WEIGHT_DTYPES: ReadonlySet<string> = FLOAT_DTYPES;

/**
 * Missing, extra and mis-shaped keys are errors naming them (and the folder). With `unexpected` 'warn',
 * extra keys are not an error: they are returned (empty when there are none) for the caller to report
 * (unexpectedKeysLine).
 */
export function checkKeys(folder: string, have: Map<string, { shape: number[]; dtype: string }>, want: KeySpec, unexpected: UnexpectedKeys = 'error'): string[] {
  const missing = [...want.keys()].filter((k) => !have.has(k));
  const unused = [...have.keys()].filter((k) => !want.has(k));
  const extra = unexpected === 'error' ? unused : [];
  const misshaped = [...want].filter(([k, s]) => have.has(k) && JSON.stringify(have.get(k)!.shape) !== JSON.stringify(s)).map(([k, s]) => `${k} is [${have.get(k)!.shape.join(',')}], expected [${s.join(',')}]`);
  const badKeys = [...want.keys()].filter((k) => have.has(k) && !WEIGHT_DTYPES.has(have.get(k)!.dtype));
  const badDtype = badKeys.map((k) => `${k} is ${have.get(k)!.dtype}`);
  // A dtype tessera cannot read (FP8, integer-quantized) is not a mismatch with config.json: say so on its own.
  if (badDtype.length && !missing.length && !misshaped.length) {
    const kinds = [...new Set(badKeys.map((k) => have.get(k)!.dtype))];
    throw new WeightError(`${folder}: unsupported weight dtype ${kinds.join(', ')} in ${badDtype.length} tensor${badDtype.length === 1 ? '' : 's'} (${list(badDtype, 4)}): tessera reads F32, F16, BF16 and F64 weights; convert the checkpoint (e.g. load it in diffusers and save_pretrained in float32)`);
  }
  const problems: string[] = [];
  const hint = missing.length ? prefixHint(have.keys(), unused, missing) : null;
  if (hint) problems.push(hint);
  if (missing.length) problems.push(`missing keys: ${list(missing)}`);
  if (extra.length) problems.push(`unexpected keys: ${list(extra)}`);
  if (misshaped.length) problems.push(`wrong shapes: ${list(misshaped, 4)}`);
  if (badDtype.length) problems.push(`unsupported dtypes (need F32/F16/BF16/F64): ${list(badDtype, 4)}`);
  if (problems.length) throw new WeightError(`${folder}: the weights do not match config.json: ${problems.join('; ')}`);
  return unexpected === 'error' ? [] : unused;
}

/**
 * When the checkpoint's names carry a prefix the model's do not (a state dict saved from a wrapper, e.g.
 * `model.diffusion_model.blocks.0…`): the prefix that, removed, turns the most unused names into missing ones,
 * in words for the mismatch line — `every tensor name starts with 'P'` (or `N tensor names start with 'P'`) and how
 * many of the missing keys it accounts for. Null when no prefix accounts for at least half of them.
 */
export function prefixHint(all: Iterable<string>, unused: readonly string[], missing: readonly string[]): string | null {
  const want = new Set(missing);
  const hits = new Map<string, number>();
  for (const k of unused) {
    // each '.'-boundary split of k whose rest is a missing key: a candidate prefix (one count per key)
    for (let i = k.indexOf('.'); i >= 0; i = k.indexOf('.', i + 1)) {
      if (want.has(k.slice(i + 1))) {
        const p = k.slice(0, i + 1);
        hits.set(p, (hits.get(p) ?? 0) + 1);
        break;
      }
    }
  }
  let best = '';
  let n = 0;
  for (const [p, c] of hits) if (c > n) [best, n] = [p, c];
  if (!n || 2 * n < missing.length) return null;
  const names = [...all];
  const starting = names.filter((k) => k.startsWith(best)).length;
  const who = starting === names.length ? `every tensor name starts with '${best}'` : `${starting} of the ${names.length} tensor names start with '${best}'`;
  const fits = n === missing.length ? `without it they are the ${n} keys the model expects` : `without it ${n} of the ${missing.length} missing keys are there`;
  return `${who}: ${fits} (a checkpoint saved with its wrapper's prefix: save the tensors without it)`;
}

/** The one warning line of tensors a load left unused (unexpectedKeys: 'warn'): how many, the first five names. */
export function unexpectedKeysLine(folder: string, keys: readonly string[]): string {
  return `warning: ${folder}: ${keys.length} tensor${keys.length === 1 ? '' : 's'} of the checkpoint not used by the model, ignored (unexpectedKeys: 'warn'): ${list([...keys], 5)}`;
}

/**
 * The self-attention projections uploaded as one fused Linear (diffusers' `fuse_projections`,
 * attention_processor.py: `to_qkv`): every `<P>.attn1` whose to_q, to_k and to_v weights share
 * one shape [N, K] and all have biases or none, where each part is a whole number of 4-byte words
 * in f16 too. Returns the prefixes P.attn1 (a pure function of the key spec, so the memory
 * estimate counts the same buffers).
 */
export function qkvGroups(want: KeySpec): string[] {
  const out: string[] = [];
  for (const [key, shape] of want) {
    const m = /^(.*\.attn1)\.to_q\.weight$/.exec(key);
    if (!m) continue;
    const a = m[1]!;
    const same = (k: string) => JSON.stringify(want.get(`${a}.${k}.weight`)) === JSON.stringify(shape);
    const biases = ['to_q', 'to_k', 'to_v'].map((k) => want.has(`${a}.${k}.bias`));
    if (shape.length !== 2 || !same('to_k') || !same('to_v') || new Set(biases).size !== 1) continue;
    if ((shape[0]! * shape[1]!) % 2 || shape[0]! % 2) continue; // f16 parts written at word offsets
    out.push(a);
  }
  return out;
}

/** Weights on the GPU, looked up by state-dict key. */
export class Weights {
  constructor(
    readonly tensors: Map<string, Tensor>,
    readonly dtype: DType,
    /**
     * Fused self-attention projections by prefix (`blocks.3.attn1`): weight [3N, K] = to_q; to_k;
     * to_v stacked, bias [3N]. The parts in `tensors` are views of these buffers (Tensor.offset).
     */
    readonly fused: Map<string, { w: Tensor; b?: Tensor }> = new Map(),
  ) {}

  /**
   * The fused q|k|v Linear of self-attention `attn` (e.g. `blocks.3.attn1`), labelled with
   * diffusers' fused name `<attn>.to_qkv`, or null when it was not fused at load.
   */
  qkv(attn: string): { w: Tensor; b?: Tensor; key: string } | null {
    const f = this.fused.get(attn);
    return f ? { ...f, key: `${attn}.to_qkv` } : null;
  }

  get(key: string): Tensor {
    const t = this.tensors.get(key);
    if (!t) throw new WeightError(`weight ${key} was not loaded`);
    return t;
  }

  /** A Linear layer's weight [out, in] and bias [out]; `key` (the module path) labels its dispatch. */
  linear(name: string): { w: Tensor; b: Tensor; key: string } {
    return { w: this.get(`${name}.weight`), b: this.get(`${name}.bias`), key: name };
  }

  /** GPU bytes held (each buffer once: fused parts share theirs). */
  get bytes(): number {
    let n = 0;
    for (const b of new Set([...this.tensors.values()].map((t) => t.buffer))) n += b.size;
    return n;
  }
}

/**
 * Buffers for every expected key, no data yet: one tensor per key, except each fused
 * self-attention group (qkvGroups), whose to_q, to_k and to_v weights (and biases) are views of
 * one stacked `<attn>.to_qkv.weight` [3N, K] (`.bias` [3N]) buffer. Works on a planning
 * allocator too (src/gpu/memory-plan.ts), so a dry run records what the real run records.
 */
export function allocateWeights(alloc: Allocator, want: KeySpec, dtype: DType): Weights {
  const tensors = new Map<string, Tensor>();
  const fused = new Map<string, { w: Tensor; b?: Tensor }>();
  const part = new Map<string, { attn: string; i: number; bias: boolean }>();
  for (const a of qkvGroups(want)) {
    ['to_q', 'to_k', 'to_v'].forEach((k, i) => {
      part.set(`${a}.${k}.weight`, { attn: a, i, bias: false });
      part.set(`${a}.${k}.bias`, { attn: a, i, bias: true });
    });
  }
  for (const [key, shape] of want) {
    const at = part.get(key);
    if (!at) {
      tensors.set(key, alloc.tensor(shape, dtype, key));
      continue;
    }
    let f = fused.get(at.attn);
    if (!f) {
      const [N, K] = want.get(`${at.attn}.to_q.weight`)!;
      f = { w: alloc.tensor([3 * N!, K!], dtype, `${at.attn}.to_qkv.weight`) };
      if (want.has(`${at.attn}.to_q.bias`)) f.b = alloc.tensor([3 * N!], dtype, `${at.attn}.to_qkv.bias`);
      fused.set(at.attn, f);
    }
    const n = shape.reduce((x, y) => x * y, 1);
    tensors.set(key, subTensor(at.bias ? f.b! : f.w, at.i * n, shape, key));
  }
  return new Weights(tensors, dtype, fused);
}

/**
 * Refuses a tensor holding NaN/±Infinity, or (f16 storage) a value beyond ±65504:
 * WeightError `<file>: weight <key> …` naming the flat index (no file prefix when `file` is undefined).
 */
export function checkWeightValues(key: string, data: Float32Array, dtype: DType, file?: string): void {
  const at = file === undefined ? '' : `${file}: `;
  let bad = -1;
  for (let j = 0; j < data.length; j++) if (!Number.isFinite(data[j]!)) { bad = j; break; }
  if (bad >= 0) throw new WeightError(`${at}weight ${key} holds a non-finite value (${data[bad]}) at flat index ${bad}`);
  if (dtype === 'f16') {
    let big = -1;
    for (let j = 0; j < data.length; j++) if (Math.abs(data[j]!) > 65504) { big = j; break; }
    if (big >= 0) throw new WeightError(`${at}weight ${key} has a value (${data[big]}) outside the f16 range at flat index ${big}: use dtype: 'f32'`);
  }
}

/**
 * Upload every expected key, one tensor at a time (read → convert → upload → drop), into the
 * buffers of allocateWeights (q, k and v of each fused group straight into their stacked buffer:
 * no second copy at any time). `fileOf(key)`: the safetensors file a key is read from, named in
 * the WeightError for a non-finite or out-of-f16-range value (checkWeightValues).
 */
export async function uploadWeights(
  alloc: Allocator,
  want: KeySpec,
  read: (key: string) => Promise<Float32Array>,
  dtype: DType,
  onProgress?: Hook<[done: number, total: number, key: string]>,
  fileOf?: (key: string) => string,
  abort?: { signal: AbortSignal; where: string },
): Promise<Weights> {
  const weights = allocateWeights(alloc, want, dtype);
  let i = 0;
  for (const key of want.keys()) {
    if (abort) throwIfAborted(abort.signal, `${abort.where}, before ${key} (${i + 1}/${want.size})`);
    const data = await read(key);
    checkWeightValues(key, data, dtype, fileOf?.(key));
    writeTensor(alloc.gpu, weights.get(key), data);
    await callHook('onProgress', `loadModel, ${key}`, onProgress, ++i, want.size, key);
  }
  return weights;
}
