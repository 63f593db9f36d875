// float64 references for the UMT5 encoder (transformers models/umt5/modeling_umt5.py,
// UMT5EncoderModel): relative position buckets, attention with a per-head bucket bias and a key
// padding mask and no 1/√d scaling, T5LayerNorm, the gated-GELU feed-forward, and the whole
// encoder as WanPipeline._get_t5_prompt_embeds uses it (rows past each prompt's length zeroed).
import { geluRef } from './elementwise.js';

const fr = Math.fround;

/**
 * T5's bucket of a relative position (key − query), bidirectional (encoder):
 * half the buckets for keys after the query; in each half, exact buckets below
 * max_exact = buckets/4 and log-spaced ones up to `maxDistance` (then clamped).
 * The log branch is evaluated in f32 step by step as torch does it (f32 tensors, a Python
 * float divisor), so boundary positions (e.g. 16 with 32 buckets and 128: log 2 / log 16 · 8 = 2)
 * land in torch's bucket. Returns a bucket in [0, numBuckets).
 */
export function relativePositionBucket(rel: number, numBuckets: number, maxDistance: number): number {
  const nb = Math.floor(numBuckets / 2);
  let bucket = rel > 0 ? nb : 0;
  const a = Math.abs(rel);
  const maxExact = Math.floor(nb / 2);
  if (a < maxExact) return bucket + a;
  const logRatio = fr(Math.log(maxDistance / maxExact)); // math.log(...) in Python, then used as an f32 scalar
  const l = fr(Math.log(fr(a / maxExact)));
  const scaled = fr(fr(l / logRatio) * (nb - maxExact));
  bucket += Math.min(maxExact + Math.trunc(scaled), nb - 1);
  return bucket;
}

/** The bucket of every relative position j − i for i < lq, j < lk: index (j − i) + (lq − 1), length lq + lk − 1. */
export function relativeBucketTable(lq: number, lk: number, numBuckets: number, maxDistance: number): Uint32Array {
  const t = new Uint32Array(lq + lk - 1);
  for (let r = -(lq - 1); r < lk; r++) t[r + lq - 1] = relativePositionBucket(r, numBuckets, maxDistance);
  return t;
}

export interface BiasAttentionRefArgs {
  batch: number;
  lq: number;
  lk: number;
  heads: number;
  headDim: number;
  /** Scores are q·k·scale (UMT5: 1). */
  scale: number;
  /** Per relative position j − i + lq − 1: its bucket (relativeBucketTable). */
  buckets?: ArrayLike<number>;
  /** [numBuckets, heads] (nn.Embedding(num_buckets, n_heads).weight). */
  bias?: ArrayLike<number>;
  /** [batch] keys at or past this index are masked out (right padding). */
  keyLengths?: ArrayLike<number>;
}

/** Textbook attention with scores q·k·scale + bias[bucket(j − i), h], keys past keyLengths[b] masked. q, k, v, out: [B, L, H·Dh]. */
export function biasAttentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, a: BiasAttentionRefArgs): Float64Array {
  const { batch, lq, lk, heads: H, headDim: D } = a;
  const W = H * D;
  const out = new Float64Array(batch * lq * W);
  const p = new Float64Array(lk);
  for (let b = 0; b < batch; b++) {
    const n = Math.min(lk, a.keyLengths ? a.keyLengths[b]! : lk);
    for (let i = 0; i < lq; i++) {
      for (let h = 0; h < H; h++) {
        const qo = (b * lq + i) * W + h * D;
        let max = -Infinity;
        for (let j = 0; j < n; j++) {
          const ko = (b * lk + j) * W + h * D;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qo + d]! * k[ko + d]!;
          const s = dot * a.scale + (a.bias && a.buckets ? a.bias[a.buckets[j - i + lq - 1]! * H + h]! : 0);
          p[j] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let j = 0; j < n; j++) sum += p[j] = Math.exp(p[j]! - max);
        for (let d = 0; d < D; d++) {
          let o = 0;
          for (let j = 0; j < n; j++) o += p[j]! * v[(b * lk + j) * W + h * D + d]!;
          out[qo + d] = o / sum;
        }
      }
    }
  }
  return out;
}

/** T5LayerNorm: x / sqrt(mean(x²) + eps) · weight (no mean, no bias), per row of `cols`. */
export function t5LayerNormRef(x: ArrayLike<number>, weight: ArrayLike<number>, cols: number, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++) {
    let ss = 0;
    for (let c = 0; c < cols; c++) ss += x[r * cols + c]! ** 2;
    const inv = 1 / Math.sqrt(ss / cols + eps);
    for (let c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c]! * inv * weight[c]!;
  }
  return y;
}

/** y = x·Wᵀ, x [rows, K], W [N, K]. */
function matmulT(x: ArrayLike<number>, w: ArrayLike<number>, rows: number, K: number, N: number): Float64Array {
  const y = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let kk = 0; kk < K; kk++) s += x[r * K + kk]! * w[n * K + kk]!;
      y[r * N + n] = s;
    }
  return y;
}

export interface Umt5RefConfig {
  dModel: number;
  dKv: number;
  heads: number;
  dFf: number;
  layers: number;
  numBuckets: number;
  maxDistance: number;
  eps: number;
}

/**
 * UMT5EncoderModel(ids, mask).last_hidden_state with rows past each prompt's length set to zero
 * (WanPipeline._get_t5_prompt_embeds). `w(key)` returns a state-dict tensor by transformers' key
 * (`shared.weight`, `encoder.block.{i}.layer.0.SelfAttention.q.weight`, ...). ids: [B·L]; lengths: [B].
 */
export function umt5EncoderRef(c: Umt5RefConfig, w: (key: string) => ArrayLike<number>, ids: ArrayLike<number>, lengths: readonly number[]): Float64Array {
  const B = lengths.length;
  const L = ids.length / B;
  const D = c.dModel;
  const W = c.heads * c.dKv;
  const rows = B * L;
  const emb = w('shared.weight');
  const x = new Float64Array(rows * D);
  for (let r = 0; r < rows; r++) for (let d = 0; d < D; d++) x[r * D + d] = emb[ids[r]! * D + d]!;
  const buckets = relativeBucketTable(L, L, c.numBuckets, c.maxDistance);
  for (let i = 0; i < c.layers; i++) {
    const p = `encoder.block.${i}.layer`;
    const h = t5LayerNormRef(x, w(`${p}.0.layer_norm.weight`), D, c.eps);
    const q = matmulT(h, w(`${p}.0.SelfAttention.q.weight`), rows, D, W);
    const k = matmulT(h, w(`${p}.0.SelfAttention.k.weight`), rows, D, W);
    const v = matmulT(h, w(`${p}.0.SelfAttention.v.weight`), rows, D, W);
    const a = biasAttentionRef(q, k, v, { batch: B, lq: L, lk: L, heads: c.heads, headDim: c.dKv, scale: 1, buckets, bias: w(`${p}.0.SelfAttention.relative_attention_bias.weight`), keyLengths: lengths });
    const o = matmulT(a, w(`${p}.0.SelfAttention.o.weight`), rows, W, D);
    for (let j = 0; j < x.length; j++) x[j] += o[j]!;
    const h2 = t5LayerNormRef(x, w(`${p}.1.layer_norm.weight`), D, c.eps);
    const g = geluRef(matmulT(h2, w(`${p}.1.DenseReluDense.wi_0.weight`), rows, D, c.dFf));
    const lin = matmulT(h2, w(`${p}.1.DenseReluDense.wi_1.weight`), rows, D, c.dFf);
    for (let j = 0; j < g.length; j++) g[j]! *= lin[j]!;
    const f = matmulT(g, w(`${p}.1.DenseReluDense.wo.weight`), rows, c.dFf, D);
    for (let j = 0; j < x.length; j++) x[j] += f[j]!;
  }
  const y = t5LayerNormRef(x, w('encoder.final_layer_norm.weight'), D, c.eps);
  for (let b = 0; b < B; b++) y.fill(0, (b * L + lengths[b]!) * D, (b + 1) * L * D);
  return y;
}
