// The adaLN-Zero transformer block (Peebles & Xie 2023, "Scalable Diffusion Models with
// Transformers", §3.2), the one block Wan, DiT and Latte are built from. diffusers writes it three
// times: WanTransformerBlock (transformer_wan.py) and BasicTransformerBlock with norm_type
// 'ada_norm_zero' (DiT) or 'ada_norm_single' (Latte, attention.py); all compute
//
//   shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = mod[b]          (6 rows of D)
//   x += gate_msa ⊙ attn1(LN(x)·(1 + scale_msa) + shift_msa)     q/k RMSNorm and RoPE optional
//   x += attn2(norm2(x), context)                                  optional; norm2 an affine LN or none
//   x += gate_mlp ⊙ FFN(LN(x)·(1 + scale_mlp) + shift_mlp)        FFN = Linear → GELU(tanh) → Linear
//
// The cross-attention is ungated in all three (diffusers adds its output directly), so the block
// has no cross-attention gate. The LayerNorms have no affine parameters; each branch has its own
// eps because DiT uses 1e-6 before attention but config.norm_eps (1e-5) before the MLP.
// Layer labels are the weight keys below the block prefix (`attn1.to_q`, `ffn.net.2`, ...).
import type { Plan } from '../gpu/plan.js';
import type { Tensor } from '../gpu/tensor.js';
import { adaln } from '../ops/adaln.js';
import { attention } from '../ops/attention.js';
import { norm } from '../ops/norm.js';
import { normRope } from '../ops/rope.js';
import { linear, linearGatedResidual, type Scratch, view } from './layers.js';
import { qkvProjection } from './qkv.js';
import { feedForward } from './ffn.js';
import type { Weights } from './weights.js';

export interface AdaLnZeroBlockArgs {
  /** Weight-key prefix of the block, e.g. `blocks.3`; also the profiler's layer name. */
  prefix: string;
  /** Residual stream [seqs, len, D], updated in place; attention runs within each of the `seqs` sequences. */
  x: Tensor;
  /** Rows of `x` per batch item (adaLN vectors are per item): len for Wan/DiT, F·S for Latte's factorized layouts. */
  tokens: number;
  /**
   * The six modulation rows [B, 6·D]: either computed by the caller (DiT: Linear(SiLU(c))), or
   * `{ table, emb }` = the block's learned `<prefix>.<table>` [1, 6, D] + emb [B, 6·D] (Wan, Latte).
   */
  modulation: Tensor | { table: string; emb: Tensor };
  heads: number;
  headDim: number;
  /** LayerNorm eps before self-attention (norm1) and before the FFN. */
  eps: { attn: number; ffn: number };
  /** diffusers' module names, which differ by model: FFN `ffn` (Wan) or `ff`; its norm `norm3` (Wan, DiT) or `norm2` (Latte). */
  names: { ffn: 'ffn' | 'ff'; ffnNorm: 'norm3' | 'norm2' };
  /** RMSNorm over all heads of q and k (weights `attn{1,2}.norm_q/norm_k`) with this eps (Wan's qk_norm 'rms_norm_across_heads'). */
  qkNormEps?: number;
  /** RoPE cos/sin table [len, headDim/2, 2] applied to the self-attention q and k, fused with their RMSNorm: needs qkNormEps (Error otherwise). */
  rope?: Tensor;
  /**
   * Cross-attention to the text: `kv` = the block's K and V of the context [B, L, D], recorded
   * once per generation by `crossAttentionKV` (they depend on the text only, not on the step);
   * queries are all `tokens` rows of item b. `normEps`: affine LayerNorm `norm2` first (Wan cross_attn_norm).
   * `keyFold`: u32 [B], each item's keys before its trailing run of equal keys (AttentionArgs.keyFold:
   * Wan's zero-padded text attended as one key per run, the same output).
   */
  cross?: { kv: CrossKV; normEps?: number; keyFold?: Tensor };
}

/** One block's cross-attention keys and values [B, L, D] (after `attn2.norm_k` where the model has it). */
export interface CrossKV {
  k: Tensor;
  v: Tensor;
}

/** A block's cross-attention K/V buffers and, where `attn2.norm_k` follows `to_k`, the scratch of the un-normed K. */
export interface CrossKVTensors extends CrossKV {
  kText?: Tensor;
}

/**
 * Allocates block `prefix`'s cross-attention K/V for a context of `shape` [B, L, D]: buffers of
 * their own, `<prefix>.attn2.k` / `.v`, which every step's forward reads; with `qkNorm`, scratch
 * `k_text` [B, L, D] for the un-normed K. Records nothing (recordCrossKV does).
 */
export function crossKVTensors(plan: Plan, s: Scratch, prefix: string, context: Tensor, qkNorm: boolean): CrossKVTensors {
  const { shape, dtype } = context;
  const k = plan.alloc.tensor(shape, dtype, `${prefix}.attn2.k`);
  const v = plan.alloc.tensor(shape, dtype, `${prefix}.attn2.v`);
  return qkNorm ? { k, v, kText: s.get('k_text', shape) } : { k, v };
}

/**
 * Records block `prefix`'s cross-attention K/V projections of `context` [B, L, D] into `out`
 * (tensors of the context's shape, e.g. the same rows of crossKVTensors' buffers): `attn2.to_k`,
 * `attn2.to_v` and, with `qkNormEps`, `attn2.norm_k` (Wan's RMSNorm across heads) from `out.kText`.
 * All three act row by row, so a range of rows can be recorded alone; `itemRows`: only the first
 * itemRows rows of each item of [B, L, D] tensors (one dispatch each over the B items).
 */
export function recordCrossKV(plan: Plan, w: Weights, a: { prefix: string; context: Tensor; out: CrossKVTensors; qkNormEps?: number; itemRows?: number }): void {
  const p = a.prefix;
  const { k, v, kText } = a.out;
  const rows = a.itemRows;
  plan.layer = p;
  if (a.qkNormEps === undefined) linear(plan, a.context, w.linear(`${p}.attn2.to_k`), k, 'none', rows);
  else {
    if (!kText) throw new Error(`${p}: attn2.norm_k needs the scratch k_text (crossKVTensors with qkNorm)`);
    const kc = linear(plan, a.context, w.linear(`${p}.attn2.to_k`), kText, 'none', rows);
    norm(plan, { x: kc, out: k, eps: a.qkNormEps, rms: true, weight: w.get(`${p}.attn2.norm_k.weight`), layer: 'attn2.norm_k', ...(rows !== undefined ? { itemRows: rows } : {}) });
  }
  linear(plan, a.context, w.linear(`${p}.attn2.to_v`), v, 'none', rows);
}

/**
 * Records block `prefix`'s cross-attention K/V projections of `context` [B, L, D] into `plan`
 * (the prepare plan, run once per generation and CFG batch): crossKVTensors, then recordCrossKV
 * (diffusers recomputes K/V per step; the values are the same).
 */
export function crossAttentionKV(plan: Plan, s: Scratch, w: Weights, a: { prefix: string; context: Tensor; qkNormEps?: number }): CrossKVTensors {
  const out = crossKVTensors(plan, s, a.prefix, a.context, a.qkNormEps !== undefined);
  recordCrossKV(plan, w, { ...a, out });
  return out;
}

/** Records one block. Scratch tensors come from `s` (shared by every block of the pass). Returns x. */
export function adaLnZeroBlock(plan: Plan, s: Scratch, w: Weights, a: AdaLnZeroBlockArgs): Tensor {
  const [seqs, len, D] = a.x.shape as [number, number, number];
  const rows = seqs * len;
  const B = rows / a.tokens;
  if (!Number.isInteger(B)) throw new Error(`${a.prefix}: ${rows} rows are not a whole number of items of ${a.tokens} tokens`);
  if (a.rope && a.qkNormEps === undefined) throw new Error(`${a.prefix}: a RoPE table needs qkNormEps (RoPE is applied fused with the q/k RMSNorm)`);
  const p = a.prefix;
  plan.layer = p;
  const v3 = (t: Tensor) => view(t, [seqs, len, D]); // [B, T, D] scratch as attention sequences
  const n = v3(s.get('n', [B, a.tokens, D]));
  const out = s.get('attn', [B, a.tokens, D]);
  const heads = { heads: a.heads, headDim: a.headDim };
  const mod = 'table' in a.modulation
    ? adaln(plan, { table: w.get(`${p}.${a.modulation.table}`), emb: a.modulation.emb, out: s.get('mod', [B, 6 * D]), batch: B, layer: a.modulation.table })
    : a.modulation;
  const row = (j: number) => j * D;
  const gate = (j: number) => ({ mod, stride: 6 * D, offset: row(j), tokens: a.tokens });
  /**
   * q and k as attention reads them: RMSNorm across heads (weights `attn1.norm_q/norm_k`) and RoPE
   * where the model has them. Wan has both: one dispatch each for q and k (normRope, labelled
   * `attn1.norm_q` / `attn1.norm_k`) into scratch `q_norm` / `k_norm`. DiT and Latte have neither.
   * RoPE comes only fused with the norm (a rope table without qkNormEps is refused on entry).
   */
  const qkPrep = (qx: Tensor, kx: Tensor): [Tensor, Tensor] => {
    const eps = a.qkNormEps, table = a.rope;
    if (eps === undefined) return [qx, kx]; // no rope then (checked above)
    const normed = (x: Tensor, name: 'q' | 'k') => {
      const out = view(s.get(`${name}_norm`, [B, a.tokens, D]), x.shape);
      const weight = w.get(`${p}.attn1.norm_${name}.weight`);
      const layer = `attn1.norm_${name}`;
      return table ? normRope(plan, { x, out, weight, table, ...heads, eps, layer }) : norm(plan, { x, out, eps, rms: true, weight, layer });
    };
    return [normed(qx, 'q'), normed(kx, 'k')];
  };

  // self-attention: x += gate_msa ⊙ to_out(attn(q, k, v)) of LN(x)·(1 + scale_msa) + shift_msa
  norm(plan, { x: a.x, out: n, eps: a.eps.attn, modulate: { mod, stride: 6 * D, shiftOffset: row(0), scaleOffset: row(1) }, tokens: a.tokens, layer: 'norm1' });
  // q|k|v in one GEMM (weights stacked at load), as three planes of scratch `qkv` [seqs, len, D] each
  const [q, k, v] = qkvProjection(plan, s, w, `${p}.attn1`, n);
  const [qs, ks] = qkPrep(q, k);
  attention(plan, { q: qs, k: ks, v, out: v3(out), ...heads, layer: 'attn1' });
  linearGatedResidual(plan, v3(out), w.linear(`${p}.attn1.to_out.0`), a.x, gate(2));

  // cross-attention: x += to_out(attn(q of norm2(x), k/v of the context)); all rows of item b attend to context b
  if (a.cross) {
    const xb = view(a.x, [B, a.tokens, D]);
    let xin = xb;
    if (a.cross.normEps !== undefined) {
      xin = norm(plan, { x: xb, out: s.get('n', [B, a.tokens, D]), eps: a.cross.normEps, weight: w.get(`${p}.norm2.weight`), bias: w.get(`${p}.norm2.bias`), layer: 'norm2' });
    }
    const { k: kc, v: vc } = a.cross.kv;
    if (kc.shape.length !== 3 || kc.shape[0] !== B || kc.shape[2] !== D || vc.shape.join() !== kc.shape.join()) {
      throw new Error(`${p}: cross-attention K/V ${kc.label} [${kc.shape}] / ${vc.label} [${vc.shape}] must both be [${B}, L, ${D}]`);
    }
    // fresh scratch (a new activation each, when the plan shares buffers by liveness)
    const qx = s.get('q', [B, a.tokens, D]);
    const co = s.get('attn', [B, a.tokens, D]);
    linear(plan, xin, w.linear(`${p}.attn2.to_q`), qx);
    let qc = qx;
    if (a.qkNormEps !== undefined) {
      qc = s.get('q_norm', [B, a.tokens, D]);
      norm(plan, { x: qx, out: qc, eps: a.qkNormEps, rms: true, weight: w.get(`${p}.attn2.norm_q.weight`), layer: 'attn2.norm_q' });
    }
    attention(plan, { q: qc, k: kc, v: vc, out: co, ...heads, ...(a.cross.keyFold ? { keyFold: a.cross.keyFold } : {}), layer: 'attn2' });
    linearGatedResidual(plan, co, w.linear(`${p}.attn2.to_out.0`), xb, undefined);
  }

  // feed-forward: x += gate_mlp ⊙ W2·GELU(W1·(LN(x)·(1 + scale_mlp) + shift_mlp)), over token chunks where needed (ffn.ts)
  feedForward(plan, s, w, { prefix: p, x: a.x, tokens: a.tokens, mod, eps: a.eps.ffn, names: a.names });
  return a.x;
}
