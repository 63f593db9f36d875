// One tolerance table for every kernel test: |gpu − ref| ≤ atol + rtol·|ref|.
// How they were set:
// - f32 rows: inputs are O(1); f32 has a unit roundoff of 6e-8, and a reduction of length K
//   accumulates ~sqrt(K)·eps relative error. We allow ~100× the observed worst case over the
//   sweep (set by inspection, see each note), which still catches any indexing or formula bug
//   (those produce O(1) errors).
// - f16 rows: inputs are rounded to f16 before the reference sees them (tests feed the
//   reference the f16-rounded values), so the remaining error is the f16 rounding of the
//   output (2^-11 ≈ 4.9e-4 relative) plus f16-stored intermediates; rtol 4e-3 ≈ 8 ulps.
import type { Tol } from './helpers/compare.js';
import type { DType } from '../src/gpu/tensor.js';

export const TOL: Record<string, Record<DType, Tol>> = {
  // Norm outputs are O(1..10) after modulation; f32 error observed ~1e-6.
  norm: { f32: { atol: 1e-5, rtol: 1e-5 }, f16: { atol: 4e-3, rtol: 4e-3 } },
  // GEMM: K up to 4608 products of O(1) values scaled by 1/sqrt(K); f32 error ~K·eps·|terms|.
  gemm: { f32: { atol: 5e-5, rtol: 1e-4 }, f16: { atol: 1e-2, rtol: 8e-3 } },
  // Attention: softmax-weighted average of V in [-1,1]; online softmax in f32 ~1e-6.
  attention: { f32: { atol: 2e-5, rtol: 1e-4 }, f16: { atol: 4e-3, rtol: 8e-3 } },
  // Pure data movement: must be exact.
  patchify: { f32: { atol: 0, rtol: 0 }, f16: { atol: 0, rtol: 0 } },
  // RoPE: products of cos/sin (computed in f32 on the GPU from f32 angles) with O(1) values.
  rope: { f32: { atol: 2e-5, rtol: 1e-4 }, f16: { atol: 4e-3, rtol: 4e-3 } },
  // Timestep embedding: sin/cos of arguments up to 1000 rad; f32 argument rounding ~6e-5 rad.
  timestep: { f32: { atol: 2e-4, rtol: 0 }, f16: { atol: 2e-3, rtol: 2e-3 } },
  // Elementwise ops (add, scale, SiLU, GELU): a few f32 roundings.
  elementwise: { f32: { atol: 1e-6, rtol: 1e-5 }, f16: { atol: 2e-3, rtol: 2e-3 } },
};
