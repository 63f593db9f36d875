// Wan's fused q/k path (normRope, kernels/norm_rope.wgsl): RMSNorm across heads with weight, then
// RoPE, one dispatch for q and one for k (as the Wan block records them), against the float64
// reference (src/ref/norm-rope.ts), over every layout (one row per invocation; a workgroup per row
// with vec2 or vec4 units, tree or subgroup sums) and both dtypes.
// Tolerance: TOL.norm's rows (the RMSNorm's row statistics dominate; the rotation adds a few f32
// roundings and the f32-rounded table, rope's 5e-7): observed here f32 max |err| 3.0e-6 at
// |y| ≤ 8.2 (row/thread; 9e-7 with a workgroup per row), f16 2.0e-3 = the output's rounding.
import { describe, expect, it } from 'vitest';
import { dtypes, gpu, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { normRope, ropeTable } from '../../src/ops/rope.js';
import { normRopeRef } from '../../src/ref/norm-rope.js';
import { randn } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import { bytesPer, subTensor, type DType } from '../../src/gpu/tensor.js';

// [B, F', H', W', heads, headDim]: Wan 12×128, heads 1/2/3/12, head dims 8/64/72/128 and
// Dh ≡ 2 (mod 4) (vec2 units only: 18, 30), odd token counts (1, 3, 15, 21, 35), batch 1..3.
const SHAPES: [number, number, number, number, number, number][] = [
  [1, 1, 1, 1, 1, 8], [2, 3, 1, 1, 2, 64], [1, 1, 3, 5, 3, 72], [2, 3, 2, 2, 12, 128], [1, 21, 1, 1, 1, 128],
  [3, 1, 1, 3, 2, 8], [1, 5, 7, 1, 3, 64], [2, 1, 3, 3, 1, 18], [1, 3, 1, 5, 12, 64], [1, 2, 2, 2, 2, 30],
  [2, 1, 5, 3, 3, 128], [1, 7, 1, 5, 2, 72], [1, 1, 1, 9, 12, 8], [2, 2, 3, 1, 1, 64],
];
// [label, rowPerThread, vec4, subgroups]; vec4 where Dh % 4 == 0, subgroups where the adapter has them
const LAYOUTS = [['row/thread', true, false, false], ['wg', false, false, false], ['wg vec4', false, true, false], ['wg sg', false, false, true], ['wg sg vec4', false, true, true]] as const;

const round = (a: Float32Array, d: DType) => (d === 'f16' ? a.map(roundF16) : a);
/** Elements from one 256-byte-aligned plane to the next (as the fused qkv GEMM lays q, k, v out). */
const planeStride = (n: number, d: DType) => Math.ceil((n * bytesPer(d)) / 256) * (256 / bytesPer(d));

describe.skipIf(!hasGpu)('norm_rope kernel (Wan q/k RMSNorm across heads + RoPE) vs float64 reference', () => {
  for (const dtype of dtypes) {
    SHAPES.forEach(([B, Fp, Hp, Wp, H, Dh], i) => {
      const [name, rowPerThread, v4, sg0] = LAYOUTS[i % LAYOUTS.length]!;
      const vec4 = v4 && Dh % 4 === 0;
      const subgroups = sg0 && !!gpu?.subgroups;
      const planes = i % 2 === 0; // q and k as planes of one buffer (the fused qkv GEMM's output), else separate buffers
      it(`${dtype} B=${B} grid[${Fp},${Hp},${Wp}] ${H}x${Dh} ${name}${vec4 ? '' : v4 ? ' (vec2: Dh % 4 = 2)' : ''}${planes ? ' planes' : ''}`, async () => {
        const L = Fp * Hp * Wp, C = H * Dh, n = B * L * C;
        const eps = i % 2 ? 1e-6 : 1e-5;
        const theta = i === 4 ? 500 : 10000;
        // offsets and a scale per column, so each head's sum differs and the weight matters
        const x = (seed: number) => round(randn(n, seed, 1.5).map((v, j) => v + ((j % C) % 7) * 0.2 - 0.5), dtype);
        const q = x(10 + i), k = x(40 + i);
        const wq = round(randn(C, 70 + i, 0.5).map((v) => v + 1), dtype);
        const wk = round(randn(C, 90 + i, 0.5).map((v) => v + 1), dtype);
        const stride = planeStride(n, dtype);
        const got = await runOnce((plan, alloc) => {
          const shape = [B, L, C];
          let qt, kt;
          if (planes) {
            const both = new Float32Array(2 * stride).fill(Number.NaN);
            both.set(q, 0);
            both.set(k, stride);
            const t = alloc.upload(both, [2 * stride], dtype, 'qk');
            [qt, kt] = [subTensor(t, 0, shape, 'q'), subTensor(t, stride, shape, 'k')];
          } else [qt, kt] = [alloc.upload(q, shape, dtype, 'q'), alloc.upload(k, shape, dtype, 'k')];
          const out = alloc.tensor([2 * stride], dtype, 'out');
          const table = alloc.upload(ropeTable([Fp, Hp, Wp], Dh, theta), [L, Dh / 2, 2], 'f32', 'rope');
          const opts = { table, heads: H, headDim: Dh, eps, rowPerThread, vec4, subgroups };
          normRope(plan, { x: qt, out: subTensor(out, 0, shape, 'q_norm'), weight: alloc.upload(wq, [C], dtype, 'norm_q'), ...opts });
          normRope(plan, { x: kt, out: subTensor(out, stride, shape, 'k_norm'), weight: alloc.upload(wk, [C], dtype, 'norm_k'), ...opts });
          return out;
        });
        const ref = (xs: Float32Array, w: Float32Array) => normRopeRef(xs, { grid: [Fp, Hp, Wp], heads: H, headDim: Dh, eps, weight: w, theta });
        expectClose(got.subarray(0, n), ref(q, wq), [B, L, C], TOL.norm![dtype], `norm_rope q ${dtype}`);
        expectClose(got.subarray(stride, stride + n), ref(k, wk), [B, L, C], TOL.norm![dtype], `norm_rope k ${dtype}`);
      });
    });
  }

  // Rows with mean square of the order of eps (σ 1e-3 and 3e-4), where eps 1e-5 vs 1e-6 moves the
  // output by O(1); the sweep above (mean square ≥ ~2) cannot see eps at all.
  for (const dtype of dtypes) {
    for (const [name, rowPerThread, vec4, sg] of LAYOUTS) {
      it(`${dtype} rows with mean square near eps (1e-5 and 1e-6), ${name}: eps is applied`, async () => {
        const [Fp, Hp, Wp, H, Dh] = [1, 2, 3, 2, 64], L = Fp * Hp * Wp, C = H * Dh;
        const x = round(randn(L * C, 800).map((v, j) => v * (Math.floor(j / C) % 2 ? 3e-4 : 1e-3)), dtype);
        const w = round(randn(C, 801, 0.5).map((v) => v + 1), dtype);
        for (const eps of [1e-5, 1e-6]) {
          const got = await runOnce((plan, alloc) => {
            const out = alloc.tensor([1, L, C], dtype, 'q_norm');
            const table = alloc.upload(ropeTable([Fp, Hp, Wp], Dh, 10000), [L, Dh / 2, 2], 'f32', 'rope');
            normRope(plan, { x: alloc.upload(x, [1, L, C], dtype, 'q'), out, weight: alloc.upload(w, [C], dtype, 'norm_q'), table, heads: H, headDim: Dh, eps, rowPerThread, vec4, subgroups: sg && !!gpu?.subgroups });
            return out;
          });
          const ref = normRopeRef(x, { grid: [Fp, Hp, Wp], heads: H, headDim: Dh, eps, weight: w, theta: 10000 });
          expectClose(got, ref, [1, L, C], TOL.norm![dtype], `norm_rope ${dtype} eps ${eps} ${name}`);
        }
      });
    }
  }

  it('the default layout is one row per invocation on a CPU adapter, a workgroup per row with vec4 (and subgroup sums) on a GPU', async () => {
    const keys: string[] = [];
    for (const isCpu of [true, false]) {
      await runOnce((plan, alloc) => {
        const g = plan.gpu;
        Object.defineProperty(plan, 'gpu', { value: { ...g, isCpu } });
        const t = (shape: number[], dt: 'f32' = 'f32') => alloc.tensor(shape, dt, 'x');
        normRope(plan, { x: t([1, 4, 24]), out: t([1, 4, 24]), weight: t([24]), table: t([4, 6, 2]), heads: 2, headDim: 12, eps: 1e-6 });
        keys.push(plan.dispatches.at(-1)!.kernel);
        Object.defineProperty(plan, 'gpu', { value: g });
        return t([1]);
      });
    }
    expect(keys).toEqual(['norm_rope[ROW_PER_THREAD]{WG=64}', `norm_rope[${gpu!.subgroups ? 'SG,' : ''}VEC4]{WG=128}`]);
  });

  it('refuses bad shapes and layouts with one line naming the tensor or option', async () => {
    const call = (o: { C?: number; Dh?: number; wC?: number; tL?: number; vec4?: boolean; rowPerThread?: boolean; subgroups?: boolean; outDtype?: DType }) =>
      runOnce((plan, alloc) => {
        const Dh = o.Dh ?? 12, C = o.C ?? 2 * Dh;
        const t = (shape: number[], label: string, dt: DType = 'f32') => alloc.tensor(shape, dt, label);
        normRope(plan, {
          x: t([1, 4, C], 'q'), out: t([1, 4, C], 'q_norm', o.outDtype), weight: t([o.wC ?? C], 'norm_q'), table: t([o.tL ?? 4, Dh / 2, 2], 'rope'),
          heads: 2, headDim: Dh, eps: 1e-6, vec4: o.vec4, rowPerThread: o.rowPerThread, subgroups: o.subgroups,
        });
        return t([1], 'x');
      });
    await expect(call({ wC: 23 })).rejects.toThrow('normRope: weight norm_q [23] f32 must be [24] f32 (heads·headDim)');
    await expect(call({ tL: 3 })).rejects.toThrow("normRope: x q [1,4,24] has 4 tokens, not a multiple of the table's L=3");
    await expect(call({ C: 30 })).rejects.toThrow('normRope: x q [1,4,30] must end in heads·headDim = 24');
    await expect(call({ Dh: 18, vec4: true, rowPerThread: false })).rejects.toThrow('normRope: vec4 loads need a workgroup per row and headDim (18) a multiple of 4');
    await expect(call({ rowPerThread: true, subgroups: true })).rejects.toThrow(/^normRope: subgroup sums need a workgroup per row and an adapter with subgroups \(this one: (has|lacks) them\)$/);
    if (gpu!.f16) await expect(call({ outDtype: 'f16' })).rejects.toThrow('normRope: out q_norm [1,4,24] f16 must match x q [1,4,24] f32');
  });
});
