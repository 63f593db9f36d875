// float64 references for attention O = softmax(Q·Kᵀ·scale)·V, per batch item and head.
// Layouts (token-major, heads packed inside each token, as the Q/K/V projections write them):
//   q, out: [B, Lq, H·Dh]   k, v: [B, Lk, H·Dh];  head h of token t is at t·H·Dh + h·Dh.
// attentionRef follows the kernel's algorithm (online softmax over key blocks of `block`);
// attentionNaiveRef materialises each row of scores (textbook softmax).
export interface AttentionRefArgs {
  batch: number;
  lq: number;
  lk: number;
  heads: number;
  headDim: number;
  /** Default 1/sqrt(headDim). */
  scale?: number;
  /** Query rows to compute (default all); other rows of the result stay 0. */
  rows?: readonly number[];
  /** Keys per block of the online softmax (default 16, like the kernel's tiles). */
  block?: number;
}

const allRows = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Online softmax, block by block: running max m, running sum l, rescaled accumulator. */
export function attentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, a: AttentionRefArgs): Float64Array {
  const { batch, lq, lk, heads: H, headDim: D } = a;
  const scale = a.scale ?? 1 / Math.sqrt(D);
  const bk = a.block ?? 16;
  const W = H * D;
  const out = new Float64Array(batch * lq * W);
  const s = new Float64Array(bk);
  const acc = new Float64Array(D);
  for (let b = 0; b < batch; b++) {
    for (const i of a.rows ?? allRows(lq)) {
      for (let h = 0; h < H; h++) {
        const qo = (b * lq + i) * W + h * D;
        let m = -3.4e38; // finite seed, like the kernel
        let l = 0;
        acc.fill(0);
        for (let k0 = 0; k0 < lk; k0 += bk) {
          const n = Math.min(bk, lk - k0);
          let mt = m;
          for (let j = 0; j < n; j++) {
            const ko = (b * lk + k0 + j) * W + h * D;
            let dot = 0;
            for (let d = 0; d < D; d++) dot += q[qo + d]! * k[ko + d]!;
            s[j] = dot * scale;
            mt = Math.max(mt, s[j]!);
          }
          const alpha = Math.exp(m - mt);
          l *= alpha;
          for (let d = 0; d < D; d++) acc[d]! *= alpha;
          for (let j = 0; j < n; j++) {
            const p = Math.exp(s[j]! - mt);
            l += p;
            const vo = (b * lk + k0 + j) * W + h * D;
            for (let d = 0; d < D; d++) acc[d] += p * v[vo + d]!;
          }
          m = mt;
        }
        for (let d = 0; d < D; d++) out[qo + d] = acc[d]! / l;
      }
    }
  }
  return out;
}

/** Textbook: scores row, subtract its max, exponentiate, normalise, weight V. */
export function attentionNaiveRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, a: AttentionRefArgs): Float64Array {
  const { batch, lq, lk, heads: H, headDim: D } = a;
  const scale = a.scale ?? 1 / Math.sqrt(D);
  const W = H * D;
  const out = new Float64Array(batch * lq * W);
  const p = new Float64Array(lk);
  for (let b = 0; b < batch; b++) {
    for (const i of a.rows ?? allRows(lq)) {
      for (let h = 0; h < H; h++) {
        const qo = (b * lq + i) * W + h * D;
        for (let j = 0; j < lk; j++) {
          const ko = (b * lk + j) * W + h * D;
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qo + d]! * k[ko + d]!;
          p[j] = dot * scale;
        }
        const max = p.reduce((x, y) => Math.max(x, y), -Infinity);
        let sum = 0;
        for (let j = 0; j < lk; j++) sum += (p[j] = Math.exp(p[j]! - max));
        for (let d = 0; d < D; d++) {
          let o = 0;
          for (let j = 0; j < lk; j++) o += p[j]! * v[(b * lk + j) * W + h * D + d]!;
          out[qo + d] = o / sum;
        }
      }
    }
  }
  return out;
}

/**
 * The unfolded keys or values of a folded attention (AttentionArgs.keyFold): `x` [batch, len,
 * width] with rows j > keyFold[b] of item b replaced by row keyFold[b] (keyFold[b] ≥ len: item
 * unchanged), so attentionNaiveRef over the result is attention over every padded key, the thing
 * the fold must equal. Returns a new Float32Array.
 */
export function unfoldRows(x: ArrayLike<number>, batch: number, len: number, width: number, keyFold: readonly number[]): Float32Array {
  const out = Float32Array.from(x);
  for (let b = 0; b < batch; b++) {
    const f = keyFold[b]!;
    for (let j = f + 1; j < len; j++) out.set(out.subarray((b * len + f) * width, (b * len + f + 1) * width), (b * len + j) * width);
  }
  return out;
}
