// float64 references of kernels/vae_norm.wgsl over channels-last pixels x[n, C].
const silu = (v: number) => v / (1 + Math.exp(-v));

/** WanRMS_norm: x / max(‖x‖₂, 1e-12) · √C · gamma (F.normalize over channels), then SiLU. */
export function rmsChannelsRef(x: ArrayLike<number>, n: number, C: number, gamma: ArrayLike<number>, act: boolean): Float64Array {
  const y = new Float64Array(n * C);
  for (let p = 0; p < n; p++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[p * C + c]! ** 2;
    const k = Math.sqrt(C) / Math.max(Math.sqrt(ss), 1e-12);
    for (let c = 0; c < C; c++) {
      const v = x[p * C + c]! * k * gamma[c]!;
      y[p * C + c] = act ? silu(v) : v;
    }
  }
  return y;
}

/** torch GroupNorm over all n pixels: (x − mean_g) / √(var_g + eps) · w + b (biased var), then SiLU. */
export function groupNormRef(x: ArrayLike<number>, n: number, C: number, G: number, eps: number, w: ArrayLike<number>, b: ArrayLike<number>, act: boolean): Float64Array {
  const y = new Float64Array(n * C);
  const cg = C / G;
  for (let g = 0; g < G; g++) {
    let s = 0;
    for (let p = 0; p < n; p++) for (let c = g * cg; c < (g + 1) * cg; c++) s += x[p * C + c]!;
    const mean = s / (n * cg);
    let v = 0;
    for (let p = 0; p < n; p++) for (let c = g * cg; c < (g + 1) * cg; c++) v += (x[p * C + c]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / (n * cg) + eps);
    for (let p = 0; p < n; p++) {
      for (let c = g * cg; c < (g + 1) * cg; c++) {
        const o = (x[p * C + c]! - mean) * inv * w[c]! + b[c]!;
        y[p * C + c] = act ? silu(o) : o;
      }
    }
  }
  return y;
}
