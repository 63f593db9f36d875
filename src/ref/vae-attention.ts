// float64 reference of kernels/vae_attention.wgsl: o = softmax(q·kᵀ·scale)·v, q/k/v/o [L, C].
export function vaeAttentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, L: number, C: number, scale = 1 / Math.sqrt(C)): Float64Array {
  const o = new Float64Array(L * C);
  const s = new Float64Array(L);
  for (let i = 0; i < L; i++) {
    let m = -Infinity;
    for (let j = 0; j < L; j++) {
      let d = 0;
      for (let c = 0; c < C; c++) d += q[i * C + c]! * k[j * C + c]!;
      s[j] = d * scale;
      m = Math.max(m, s[j]!);
    }
    let l = 0;
    for (let j = 0; j < L; j++) l += (s[j] = Math.exp(s[j]! - m));
    for (let j = 0; j < L; j++) for (let c = 0; c < C; c++) o[i * C + c] += (s[j]! / l) * v[j * C + c]!;
  }
  return o;
}
