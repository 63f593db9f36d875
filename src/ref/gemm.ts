// float64 reference for the linear layer with fused epilogue (kernels/gemm.wgsl).
export interface GemmRefArgs {
  M: number;
  K: number;
  N: number;
  bias?: ArrayLike<number>; // [N]
  act?: 'none' | 'gelu' | 'silu';
  /** Initial `out` [M, N]: result is residual + (gate ⊙) Y instead of Y. */
  residual?: ArrayLike<number>;
  /** Gate of row m, column n: mod[floor(m / tokens)·stride + offset + n] (needs residual). */
  gate?: { mod: ArrayLike<number>; stride: number; offset: number; tokens: number };
}

/** GELU, tanh approximation. */
export const geluTanh = (y: number): number => 0.5 * y * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (y + 0.044715 * y ** 3)));
export const silu = (y: number): number => y / (1 + Math.exp(-y));

/** x [M, K], w [N, K] (PyTorch layout) → [M, N] = act(x·wᵀ + bias) [+ residual, gated]. */
export function gemmRef(x: ArrayLike<number>, w: ArrayLike<number>, a: GemmRefArgs): Float64Array {
  const { M, K, N } = a;
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let y = 0;
      for (let k = 0; k < K; k++) y += x[m * K + k]! * w[n * K + k]!;
      if (a.bias) y += a.bias[n]!;
      if (a.act === 'gelu') y = geluTanh(y);
      else if (a.act === 'silu') y = silu(y);
      if (a.residual) {
        const g = a.gate ? a.gate.mod[Math.floor(m / a.gate.tokens) * a.gate.stride + a.gate.offset + n]! : 1;
        y = a.residual[m * N + n]! + g * y;
      }
      out[m * N + n] = y;
    }
  }
  return out;
}
