// float64 reference for Wan's fused q/k path (src/ops/rope.ts normRope): RMSNorm across all heads
// with its weight, then 3D RoPE — the two float64 references composed, with no rounding between.
import { normRef } from './norm.js';
import { ropeRef } from './rope.js';

export interface NormRopeRefArgs {
  grid: [number, number, number]; // [F', H', W'], L = F'·H'·W' tokens per batch item
  heads: number;
  headDim: number;
  eps: number;
  weight: ArrayLike<number>; // [heads·headDim]
  theta?: number;
}

/** x [B, L, heads·headDim] → rope(x / sqrt(mean(x²) + eps) · weight), float64. */
export function normRopeRef(x: ArrayLike<number>, a: NormRopeRefArgs): Float64Array {
  const cols = a.heads * a.headDim;
  const n = normRef(x, { rows: x.length / cols, cols, eps: a.eps, rms: true, weight: a.weight });
  return ropeRef(n, { grid: a.grid, heads: a.heads, headDim: a.headDim, theta: a.theta });
}
