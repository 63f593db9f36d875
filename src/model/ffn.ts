// The adaLN-Zero block's feed-forward branch over token chunks:
//   x += gate_mlp ⊙ W2·GELU(W1·(LN(x)·(1 + scale_mlp) + shift_mlp))
// (diffusers FeedForward with GELU(tanh), Peebles & Xie 2023 §3.2). Every row is independent, so
// the rows of each batch item are taken in chunks: the norm, W1 and W2 read and write a row range
// of x bound at its offset, and the hidden activation [chunk, ffn_dim] never exceeds the binding
// limit (at Wan-1.3B 480p × 81 frames it would be 2.19 GiB in f32 for a CFG batch of 2). Chunks never
// straddle batch items, so the item's modulation rows are addressed by offset.
import { maxBindingBytes, type Plan } from '../gpu/plan.js';
import { bytesPer, subTensor, type Tensor } from '../gpu/tensor.js';
import { norm } from '../ops/norm.js';
import { linear, linearGatedResidual, type Scratch, view } from './layers.js';
import type { Weights } from './weights.js';

/**
 * Binding offsets must be multiples of minStorageBufferOffsetAlignment; 256 is the largest value
 * WebGPU allows an adapter to require, so chunk starts aligned to it bind everywhere.
 */
export const OFFSET_ALIGN = 256;

/**
 * Bytes the FFN's hidden activation may take at once, whatever the binding limit: past it the FFN
 * runs over token chunks too. On an adapter with 4 GiB bindings, Wan-1.3B at 480p × 81 frames (CFG
 * batch 2, f16) would otherwise hold ffn_hidden [2,32760,8960] whole, 1.09 GiB, and its activations
 * would be 1.89 GiB against 1.47 GiB for every other live set (issue 13 item 6: under 1.6). Chunks of
 * this size are GEMMs of thousands of rows: as large as a GPU needs.
 */
export const FFN_HIDDEN_MAX_BYTES = 256 * 2 ** 20;

const forced = new WeakMap<Plan, number>();

/**
 * Forces FFN chunks of at most `rows` rows (rounded up to the offset alignment) in blocks recorded
 * into `plan` (tests, benchmarks); Infinity: never chunk (the FFN as before, for comparisons);
 * undefined restores the default.
 */
export function setFfnChunkRows(plan: Plan, rows: number | undefined): void {
  if (rows === undefined) forced.delete(plan);
  else {
    if (rows !== Infinity && (!Number.isInteger(rows) || rows < 1)) throw new Error(`FFN chunk rows must be a positive integer or Infinity, got ${rows}`);
    forced.set(plan, rows);
  }
}

const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);

const forcedItems = new WeakMap<Plan, boolean>();

/** Forces (true) or forbids (false) recording a model's token-wise layers one batch item at a time (tests); undefined restores the default. */
export function setItemwise(plan: Plan, on: boolean | undefined): void {
  if (on === undefined) forcedItems.delete(plan);
  else forcedItems.set(plan, on);
}

/**
 * Whether to record the token-wise layers (patch embedding, blocks, head) one batch item at a time:
 * when the batch's [B, N, D] activations would exceed one binding (Wan-1.3B at 480p × 81 frames with
 * the CFG batch of 2: 192 MiB in f16) and every item's rows start at an aligned offset (`rowElems`:
 * elements per item of each tensor sliced per item). Each item's slices then bind separately, and a
 * block's scratch is one item's.
 */
export function itemwise(plan: Plan, o: { batch: number; tokens: number; dim: number; bytes: number; rowElems: number[] }): boolean {
  const f = forcedItems.get(plan);
  if (o.batch < 2 || f === false) return false;
  if (f === undefined && o.batch * o.tokens * o.dim * o.bytes <= maxBindingBytes(plan.gpu, o.bytes)) return false;
  return o.rowElems.every((n) => (n * o.bytes) % OFFSET_ALIGN === 0);
}

/**
 * Rows per chunk of an item's `tokens` rows: all of them (one chunk over the whole batch, as
 * before) when the hidden activation of the whole batch fits one binding and FFN_HIDDEN_MAX_BYTES
 * and no size is forced; else equal chunks of at most the smaller of the two's worth of hidden
 * rows, a multiple of the rows that keep offsets aligned. 0 when chunk offsets cannot be aligned
 * (item starts not aligned).
 */
export function ffnChunkRows(o: { batch: number; tokens: number; dim: number; ffnDim: number; bytes: number; maxBinding: number; offset?: number; forced?: number }): number {
  const rowBytes = o.dim * o.bytes;
  const whole = o.batch * o.tokens * o.ffnDim * o.bytes;
  const limit = Math.min(o.maxBinding, FFN_HIDDEN_MAX_BYTES);
  if ((o.forced === undefined && whole <= limit) || o.forced === Infinity) return o.tokens * o.batch;
  const unit = OFFSET_ALIGN / gcd(OFFSET_ALIGN, rowBytes); // rows per aligned step
  if (((o.offset ?? 0) % OFFSET_ALIGN) !== 0 || (o.batch > 1 && (o.tokens * rowBytes) % OFFSET_ALIGN !== 0)) return 0;
  const cap = o.forced ?? Math.floor(limit / (o.ffnDim * o.bytes));
  const most = Math.max(unit, Math.floor(cap / unit) * unit);
  const chunks = Math.ceil(o.tokens / most);
  return Math.min(o.tokens, Math.ceil(Math.ceil(o.tokens / chunks) / unit) * unit);
}

export interface FeedForwardArgs {
  /** Weight-key prefix of the block (`blocks.3`); the weights are `<prefix>.<ffn>.net.0.proj` and `.net.2`. */
  prefix: string;
  /** Residual stream [seqs, len, D], updated in place; batch item b is rows b·tokens … (b+1)·tokens − 1. */
  x: Tensor;
  tokens: number;
  /** Modulation rows [B, 6·D] (shift_mlp, scale_mlp, gate_mlp are rows 3, 4, 5). */
  mod: Tensor;
  eps: number;
  names: { ffn: 'ffn' | 'ff'; ffnNorm: 'norm3' | 'norm2' };
}

/** Records the FFN branch (norm, W1 + GELU, W2 + gated residual), chunked over tokens where needed. */
export function feedForward(plan: Plan, s: Scratch, w: Weights, a: FeedForwardArgs): void {
  const D = a.x.shape[a.x.shape.length - 1]!;
  const rows = a.x.size / D;
  const B = rows / a.tokens;
  const f = a.names.ffn;
  const w1 = w.linear(`${a.prefix}.${f}.net.0.proj`);
  const w2 = w.linear(`${a.prefix}.${f}.net.2`);
  const F = w1.w.shape[0]!;
  const S = 6 * D;
  const chunk = ffnChunkRows({ batch: B, tokens: a.tokens, dim: D, ffnDim: F, bytes: bytesPer(a.x.dtype), maxBinding: maxBindingBytes(plan.gpu, bytesPer(a.x.dtype)), offset: a.x.offset, forced: forced.get(plan) });
  if (chunk === 0 || chunk === rows) {
    // one pass over all rows: norm [B·T, D] → hidden [B·T, F] → x
    const lead = a.x.shape.slice(0, -1);
    const n = view(s.get('n', [B, a.tokens, D]), a.x.shape);
    const h = view(s.get('ffn_hidden', [B, a.tokens, F]), [...lead, F]);
    norm(plan, { x: a.x, out: n, eps: a.eps, modulate: { mod: a.mod, stride: S, shiftOffset: 3 * D, scaleOffset: 4 * D }, tokens: a.tokens, layer: a.names.ffnNorm });
    linear(plan, n, w1, h, 'gelu');
    linearGatedResidual(plan, h, w2, a.x, { mod: a.mod, stride: S, offset: 5 * D, tokens: a.tokens });
    return;
  }
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < a.tokens; r += chunk) {
      const m = Math.min(chunk, a.tokens - r);
      const xs = subTensor(a.x, (b * a.tokens + r) * D, [m, D]); // rows r … r+m−1 of item b
      // chunk-shaped scratch (the last chunk uses its first m rows), so one name keeps one shape
      const n = subTensor(s.get('ffn_norm_chunk', [chunk, D]), 0, [m, D]);
      const h = subTensor(s.get('ffn_hidden_chunk', [chunk, F]), 0, [m, F]);
      // every row of the chunk is item b: its modulation rows by offset, one "item" of m rows
      norm(plan, { x: xs, out: n, eps: a.eps, modulate: { mod: a.mod, stride: S, shiftOffset: b * S + 3 * D, scaleOffset: b * S + 4 * D }, tokens: m, layer: a.names.ffnNorm });
      linear(plan, n, w1, h, 'gelu');
      linearGatedResidual(plan, h, w2, xs, { mod: a.mod, stride: S, offset: b * S + 5 * D, tokens: m });
    }
  }
}
