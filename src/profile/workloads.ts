// Benchmark workloads: one op at a given size with seeded random data, recorded into a Plan,
// plus a check of its output against the float64 reference (on sampled rows when the full
// reference would be slow). `tessera bench` and the browser demo both use these.
// Browser-safe: no Node imports.
import type { Gpu } from '../gpu/device.js';
import { roundF16 } from '../gpu/half.js';
import { Plan } from '../gpu/plan.js';
import { Allocator, readTensor, type DType, type Tensor } from '../gpu/tensor.js';
import { attention } from '../ops/attention.js';
import { gemm } from '../ops/gemm.js';
import { norm } from '../ops/norm.js';
import { attentionRef } from '../ref/attention.js';
import { gemmRef } from '../ref/gemm.js';
import { normRef } from '../ref/norm.js';
import { randn, rng } from '../ref/random.js';
import { BENCH_TOL, compareRows, type Check } from './check.js';
export { assertCheck, BENCH_TOL, WrongResultError, type Check, type Tol } from './check.js';

export interface Workload {
  name: string;
  /** e.g. `gemm 1024×384×384 f32`. */
  label: string;
  dtype: DType;
  plan: Plan;
  alloc: Allocator;
  /** Runs the plan once and compares with the reference. */
  check(): Promise<Check>;
  destroy(): void;
}

/** Rows to check: all when the reference is cheap, else first, last and seeded random ones. */
export function sampleRows(total: number, costPerRow: number, budget = 3e7, max = 8, seed = 1): number[] {
  if (total * costPerRow <= budget) return Array.from({ length: total }, (_, i) => i);
  const n = Math.max(2, Math.min(max, Math.floor(budget / Math.max(1, costPerRow))));
  const set = new Set([0, total - 1]);
  const r = rng(seed);
  while (set.size < Math.min(n, total)) set.add(Math.floor(r() * total));
  return [...set].sort((a, b) => a - b);
}

function data(n: number, seed: number, scale: number, dtype: DType): Float32Array {
  const a = randn(n, seed, scale);
  return dtype === 'f16' ? a.map(roundF16) : a;
}

function rowsOf(a: Float32Array, rows: readonly number[], cols: number): Float32Array {
  const out = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => out.set(a.subarray(r * cols, (r + 1) * cols), i * cols));
  return out;
}

function base(gpu: Gpu): { alloc: Allocator; plan: Plan; destroy: () => void } {
  const alloc = new Allocator(gpu);
  return { alloc, plan: new Plan(gpu, alloc), destroy: () => alloc.destroyAll() };
}

async function runAndRead(plan: Plan, out: Tensor, where: string): Promise<Float32Array> {
  await plan.run(where);
  return readTensor(plan.gpu, out);
}

/** y[M,N] = x[M,K]·w[N,K]ᵀ (no bias, no activation: the bare GEMM). */
export function gemmWorkload(gpu: Gpu, a: { m: number; k: number; n: number; dtype: DType; tile?: Record<string, number> }): Workload {
  const { m: M, k: K, n: N, dtype } = a;
  const b = base(gpu);
  try {
    const x = data(M * K, 11, 1, dtype);
    const w = data(N * K, 12, 1 / Math.sqrt(K), dtype);
    const xt = b.alloc.upload(x, [M, K], dtype, 'x');
    const wt = b.alloc.upload(w, [N, K], dtype, 'w');
    const out = b.alloc.tensor([M, N], dtype, 'y');
    gemm(b.plan, { x: xt, w: wt, out, layer: 'gemm', ...(a.tile ? { tile: a.tile } : {}) });
    const label = `gemm ${M}×${K}×${N} ${dtype}`;
    return {
      name: 'gemm',
      label,
      dtype,
      ...b,
      async check() {
        const got = await runAndRead(b.plan, out, label);
        const rows = sampleRows(M, N * K);
        const ref = gemmRef(rowsOf(x, rows, K), w, { M: rows.length, K, N });
        return compareRows(got, ref, rows, N, M, BENCH_TOL.gemm[dtype]);
      },
    };
  } catch (e) {
    b.destroy();
    throw e;
  }
}

/** out = softmax(q·kᵀ/√Dh)·v over [batch, tokens, heads·headDim] with kv-tokens keys. */
export function attentionWorkload(gpu: Gpu, a: { batch: number; heads: number; tokens: number; kvTokens: number; headDim: number; dtype: DType; tile?: Record<string, number> }): Workload {
  const { batch: B, heads: H, tokens: Lq, kvTokens: Lk, headDim: D, dtype } = a;
  const W = H * D;
  const b = base(gpu);
  try {
    const q = data(B * Lq * W, 21, 1, dtype);
    const k = data(B * Lk * W, 22, 1, dtype);
    const v = data(B * Lk * W, 23, 1, dtype);
    const qt = b.alloc.upload(q, [B, Lq, W], dtype, 'q');
    const kt = b.alloc.upload(k, [B, Lk, W], dtype, 'k');
    const vt = b.alloc.upload(v, [B, Lk, W], dtype, 'v');
    const out = b.alloc.tensor([B, Lq, W], dtype, 'o');
    attention(b.plan, { q: qt, k: kt, v: vt, out, heads: H, headDim: D, layer: 'attention', ...(a.tile ? { tile: a.tile } : {}) });
    const label = `attention B=${B} H=${H} Lq=${Lq} Lk=${Lk} Dh=${D} ${dtype}`;
    return {
      name: 'attention',
      label,
      dtype,
      ...b,
      async check() {
        const got = await runAndRead(b.plan, out, label);
        // Sampled query rows (per batch item, all heads); rows index [B·Lq] flattened.
        const flat = sampleRows(B * Lq, 2 * H * Lk * D);
        const ref = attentionRef(q, k, v, { batch: B, lq: Lq, lk: Lk, heads: H, headDim: D, rows: [...new Set(flat.map((r) => r % Lq))] });
        const picked = new Float64Array(flat.length * W);
        flat.forEach((r, i) => picked.set(ref.subarray(r * W, (r + 1) * W), i * W));
        return compareRows(got, picked, flat, W, B * Lq, BENCH_TOL.attention[dtype]);
      },
    };
  } catch (e) {
    b.destroy();
    throw e;
  }
}

/** LayerNorm with affine weight and bias over [rows, cols], eps 1e-6. */
export function layernormWorkload(gpu: Gpu, a: { rows: number; cols: number; dtype: DType }): Workload {
  const { rows: R, cols: C, dtype } = a;
  const b = base(gpu);
  try {
    const x = data(R * C, 31, 2, dtype).map((v, i) => (dtype === 'f16' ? roundF16(v + 1) : v + 1));
    const w = data(C, 32, 0.5, dtype).map((v) => (dtype === 'f16' ? roundF16(v + 1) : v + 1));
    const bias = data(C, 33, 0.5, dtype);
    const xt = b.alloc.upload(x, [R, C], dtype, 'x');
    const out = b.alloc.tensor([R, C], dtype, 'y');
    norm(b.plan, { x: xt, out, eps: 1e-6, weight: b.alloc.upload(w, [C], dtype, 'weight'), bias: b.alloc.upload(bias, [C], dtype, 'bias'), layer: 'layernorm' });
    const label = `layernorm ${R}×${C} ${dtype}`;
    return {
      name: 'layernorm',
      label,
      dtype,
      ...b,
      async check() {
        const got = await runAndRead(b.plan, out, label);
        const rows = sampleRows(R, 4 * C, 3e7, 64);
        const ref = normRef(rowsOf(x, rows, C), { rows: rows.length, cols: C, eps: 1e-6, weight: w, bias });
        return compareRows(got, ref, rows, C, R, BENCH_TOL.layernorm[dtype]);
      },
    };
  } catch (e) {
    b.destroy();
    throw e;
  }
}
