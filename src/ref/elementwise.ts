// float64 references for the elementwise / data-movement ops (src/ops/elementwise.ts).
export const siluRef = (x: ArrayLike<number>): Float64Array => Float64Array.from(x, (v) => v / (1 + Math.exp(-v)));

/** GELU, tanh approximation. */
export const geluRef = (x: ArrayLike<number>): Float64Array =>
  Float64Array.from(x, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));

/** α·a + β·b[i mod b.length], then an optional activation. */
export function axpbyRef(a: ArrayLike<number>, b: ArrayLike<number> | undefined, alpha: number, beta: number, act: 'none' | 'silu' | 'gelu' = 'none'): Float64Array {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = alpha * a[i]! + (b ? beta * b[i % b.length]! : 0);
  return act === 'silu' ? siluRef(y) : act === 'gelu' ? geluRef(y) : y;
}

/** act(a) ⊙ b[i mod b.length] (T5's gated feed-forward product). */
export function gatedProductRef(a: ArrayLike<number>, b: ArrayLike<number>, act: 'none' | 'silu' | 'gelu'): Float64Array {
  const y = act === 'silu' ? siluRef(a) : act === 'gelu' ? geluRef(a) : Float64Array.from(a);
  for (let i = 0; i < y.length; i++) y[i]! *= b[i % b.length]!;
  return y;
}

/** out[r] = table[ids[r]] (zero row for ids ≥ V). */
export function gatherRef(table: ArrayLike<number>, V: number, D: number, ids: ArrayLike<number>): Float64Array {
  const y = new Float64Array(ids.length * D);
  for (let r = 0; r < ids.length; r++) {
    const id = ids[r]!;
    if (id >= V) continue;
    for (let c = 0; c < D; c++) y[r * D + c] = table[id * D + c]!;
  }
  return y;
}

/** [N, A, B, D] → [N, B, A, D]. */
export function permuteRef(x: ArrayLike<number>, N: number, A: number, B: number, D: number): Float64Array {
  const y = new Float64Array(N * A * B * D);
  for (let n = 0; n < N; n++)
    for (let a = 0; a < A; a++)
      for (let b = 0; b < B; b++)
        for (let d = 0; d < D; d++) y[((n * B + b) * A + a) * D + d] = x[((n * A + a) * B + b) * D + d]!;
  return y;
}

/** kernels/lincomb.wgsl in float64: v = clamp(Σ coef·base[off + (j/per)·stride + j%per]); returns v (n values). */
export function lincombRef(pool: ArrayLike<number>, src: ArrayLike<number>, n: number, per: number, terms: { coef: number; off: number; stride: number; fromSrc: boolean }[], clamp?: number): Float64Array {
  const v = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const row = Math.floor(j / per);
    const r = j % per;
    let acc = 0;
    for (const t of terms) acc += t.coef * (t.fromSrc ? src : pool)[t.off + row * t.stride + r]!;
    v[j] = clamp === undefined ? acc : Math.min(Math.max(acc, -clamp), clamp);
  }
  return v;
}
