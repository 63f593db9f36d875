// The vocabulary the model files are written in: scratch buffers, views and Linear layers, thin
// calls into src/ops that record dispatches (the transformer block is block.ts). Scratch tensors
// are named and reused by every block (dispatches in one pass are ordered, so reuse is safe).
import type { Plan } from '../gpu/plan.js';
import type { DType, Tensor } from '../gpu/tensor.js';
import { shapeStr } from '../gpu/tensor.js';
import { gemm } from '../ops/gemm.js';

/**
 * Scratch activations by name. When the plan shares activations by liveness (`plan.activations`,
 * src/gpu/memory-plan.ts), every `get` is a new activation whose buffer the memory plan chooses;
 * otherwise one buffer per name, allocated on first use and reused by every block.
 */
export class Scratch {
  private map = new Map<string, Tensor>();
  constructor(
    readonly plan: Plan,
    readonly dtype: DType,
  ) {}

  get(name: string, shape: number[]): Tensor {
    if (this.plan.activations) return this.plan.activations.take(shape, this.dtype, name);
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
  w: Tensor; // [out, in]
  b?: Tensor; // [out]
  /** The module path in the state dict (`blocks.3.attn1.to_q`); the dispatch's layer label is this path below `plan.layer`. */
  key: string;
}

/** `key` relative to the plan's current layer prefix, so the full label is the module path. */
function label(plan: Plan, key: string): string {
  const pre = plan.layer ? `${plan.layer}.` : '';
  return key === plan.layer ? '' : key.startsWith(pre) ? key.slice(pre.length) : key;
}

/**
 * y = x·Wᵀ + b (optionally through GELU/SiLU). x [..., in] → out [..., out]; with `itemRows`, x [B, L, in] →
 * out [B, L, out] over the first itemRows rows of each item only (GemmArgs.itemRows: one dispatch).
 */
export function linear(plan: Plan, x: Tensor, l: Lin, out: Tensor, act: 'none' | 'gelu' | 'silu' = 'none', itemRows?: number): Tensor {
  return gemm(plan, { x, w: l.w, bias: l.b, out, act, layer: label(plan, l.key), ...(itemRows !== undefined ? { itemRows } : {}) });
}

/** x += gate[b] ⊙ (y·Wᵀ + b)  — the adaLN-Zero gated residual, fused into the GEMM epilogue (no gate: plain residual). */
export function linearGatedResidual(plan: Plan, y: Tensor, l: Lin, x: Tensor, gate: { mod: Tensor; stride: number; offset: number; tokens: number } | undefined): Tensor {
  return gemm(plan, { x: y, w: l.w, bias: l.b, out: x, residual: true, gate, layer: label(plan, l.key) });
}
