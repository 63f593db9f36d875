// The vocabulary the model files are written in: Linear, modulated norms, attention — each a
// thin call into src/ops that records dispatches. Scratch tensors are named and reused by every
// block (dispatches in one pass are ordered, so reuse across blocks is safe).
import type { Plan } from '../gpu/plan.js';
import type { DType, Tensor } from '../gpu/tensor.js';
import { shapeStr } from '../gpu/tensor.js';
import { gemm } from '../ops/gemm.js';
import { norm, type Modulation } from '../ops/norm.js';

/** Named activation buffers, allocated on first use and reused by every block. */
export class Scratch {
  private map = new Map<string, Tensor>();
  constructor(
    readonly plan: Plan,
    readonly dtype: DType,
  ) {}

  get(name: string, shape: number[]): Tensor {
    const t = this.map.get(name);
    if (t) {
      if (shapeStr(t.shape) !== shapeStr(shape)) throw new Error(`scratch ${name}: reused with shape ${shapeStr(shape)}, was ${shapeStr(t.shape)}`);
      return t;
    }
    const n = this.plan.alloc.tensor(shape, this.dtype, name);
    this.map.set(name, n);
    return n;
  }
}

/** A tensor view with another shape over the same buffer (no copy). */
export function view(t: Tensor, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== t.size) throw new Error(`view ${t.label}: ${shapeStr(shape)} has ${n} elements, tensor has ${t.size}`);
  return { ...t, shape };
}

export interface Lin {
  w: Tensor;
  b?: Tensor;
}

/** y = x·Wᵀ + b (optionally through GELU/SiLU). */
export function linear(plan: Plan, x: Tensor, l: Lin, out: Tensor, layer: string, act: 'none' | 'gelu' | 'silu' = 'none'): Tensor {
  return gemm(plan, { x, w: l.w, bias: l.b, out, act, layer });
}

/** x += gate[b] ⊙ (y·Wᵀ + b)  — the adaLN-Zero gated residual, fused into the GEMM epilogue. */
export function linearGatedResidual(plan: Plan, y: Tensor, l: Lin, x: Tensor, gate: { mod: Tensor; stride: number; offset: number; tokens: number } | undefined, layer: string): Tensor {
  return gemm(plan, { x: y, w: l.w, bias: l.b, out: x, residual: true, gate, layer });
}

/** LayerNorm (no affine) then ·(1+scale)+shift, scale/shift taken from `mod` per batch item. */
export function layerNormModulated(plan: Plan, x: Tensor, out: Tensor, eps: number, m: Modulation, tokens: number, layer: string): Tensor {
  return norm(plan, { x, out, eps, modulate: m, tokens, layer });
}
