// gemm and norm over the first R rows of each of B items (GemmArgs.itemRows, NormArgs.itemRows: x and
// out [B, L, ·], item b's rows at b·L, one dispatch with the items along the grid's z), against the
// float64 references on those rows; the rows past R of every item keep what out held (a seeded
// pattern). Wan's prepare plan runs its text embedder, to_k/norm_k/to_v this way (model/wan.ts).
// Every GEMM kernel (the heuristic's, tiled, gemv), vec4 and scalar loads (K % 4), odd L, R and N,
// R = L and R = 1, batch 1..3, f32 and f16; every norm layout (row per thread, workgroup per row
// with scalar or vec4 loads, subgroup sums), LayerNorm and RMSNorm. Tolerances: tests/tolerances.ts.
import { describe, expect, it } from 'vitest';
import { dtypes, gpu, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { gemm, type GemmArgs } from '../../src/ops/gemm.js';
import { norm } from '../../src/ops/norm.js';
import { gemmRef } from '../../src/ref/gemm.js';
import { normRef } from '../../src/ref/norm.js';
import { randn } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import { Allocator, type DType } from '../../src/gpu/tensor.js';
import { Plan } from '../../src/gpu/plan.js';

const round = (a: Float32Array, d: DType) => (d === 'f16' ? a.map(roundF16) : a);

/** Rows 0..R−1 of each of B items of a [B, L, C] array, as [B·R, C]. */
function firstRows(a: ArrayLike<number>, B: number, L: number, R: number, C: number): Float64Array {
  const out = new Float64Array(B * R * C);
  for (let b = 0; b < B; b++) for (let i = 0; i < R * C; i++) out[b * R * C + i] = a[b * L * C + i]!;
  return out;
}

/** `init` [B, L, C] with rows 0..R−1 of each item replaced by `rows` [B·R, C]: what out must hold. */
function expected(init: Float32Array, rows: Float64Array, B: number, L: number, R: number, C: number): Float64Array {
  const out = Float64Array.from(init);
  for (let b = 0; b < B; b++) out.set(rows.subarray(b * R * C, (b + 1) * R * C), b * L * C);
  return out;
}

// [B, L, R, K, N]: odd sizes, R = 1, R = L, K not a multiple of 4 (scalar loads), row tiles cut by
// the item's end, Wan's text shapes at small widths.
const GEMM_SHAPES: [number, number, number, number, number][] = [
  [2, 9, 4, 24, 24], [3, 7, 1, 5, 9], [1, 11, 6, 33, 17], [2, 40, 16, 16, 48], [3, 13, 13, 8, 12], [2, 37, 19, 52, 70],
];
const KERNELS: { name: string; tile?: GemmArgs['tile'] }[] = [{ name: 'heuristic' }, { name: 'tiled', tile: { SG: 0 } }, { name: 'gemv', tile: { GEMV: 1 } }];
const EPILOGUES: { bias: boolean; act: 'none' | 'gelu'; residual: boolean }[] = [
  { bias: true, act: 'gelu', residual: false },
  { bias: true, act: 'none', residual: false },
  { bias: false, act: 'none', residual: true },
];

describe.skipIf(!hasGpu)('gemm itemRows: the first R rows of each item, one dispatch', () => {
  for (const dtype of dtypes) {
    for (const [k, kernel] of KERNELS.entries()) {
      GEMM_SHAPES.forEach(([B, L, R, K, N], i) => {
        const e = EPILOGUES[(i + k) % EPILOGUES.length]!;
        it(`${dtype} ${kernel.name} B=${B} L=${L} R=${R} K=${K} N=${N}${e.bias ? ' bias' : ''} ${e.act}${e.residual ? ' residual' : ''}`, async () => {
          const seed = 10 * i + k;
          const x = round(randn(B * L * K, seed), dtype);
          const w = round(randn(N * K, seed + 100, 1 / Math.sqrt(K)), dtype);
          const bias = round(randn(N, seed + 200, 0.5), dtype);
          const init = round(randn(B * L * N, seed + 300), dtype);
          let z = 0;
          const got = await runOnce((plan, alloc) => {
            const out = alloc.upload(init, [B, L, N], dtype, 'out');
            gemm(plan, {
              x: alloc.upload(x, [B, L, K], dtype, 'x'),
              w: alloc.upload(w, [N, K], dtype, 'w'),
              bias: e.bias ? alloc.upload(bias, [N], dtype, 'bias') : undefined,
              out, act: e.act, residual: e.residual, itemRows: R, tile: kernel.tile,
            });
            expect(plan.dispatches).toHaveLength(1);
            z = plan.dispatches[0]!.workgroups[2];
            return out;
          });
          expect(z).toBe(B);
          const rows = gemmRef(firstRows(x, B, L, R, K), w, { M: B * R, K, N, bias: e.bias ? bias : undefined, act: e.act, residual: e.residual ? firstRows(init, B, L, R, N) : undefined });
          expectClose(got, expected(init, rows, B, L, R, N), [B, L, N], TOL.gemm![dtype], `gemm itemRows ${dtype} ${kernel.name}`);
        });
      });
    }
  }

  it('refuses what it does not take, naming it', () => {
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      const x = alloc.tensor([2, 5, 8], 'f32', 'x');
      const w = alloc.tensor([4, 8], 'f32', 'w');
      const out = alloc.tensor([2, 5, 4], 'f32', 'out');
      expect(() => gemm(plan, { x, w, out, itemRows: 6 })).toThrow(/itemRows 6, expected an integer in 1\.\.5/);
      expect(() => gemm(plan, { x, w, out, itemRows: 0 })).toThrow(/itemRows 0/);
      expect(() => gemm(plan, { x: alloc.tensor([10, 8], 'f32', 'x2'), w, out: alloc.tensor([10, 4], 'f32', 'o2'), itemRows: 2 })).toThrow(/itemRows needs x \[B, L, K\]/);
      expect(() => gemm(plan, { x, w, out: alloc.tensor([5, 2, 4], 'f32', 'o3'), itemRows: 2 })).toThrow(/leading dims/);
      const mod = alloc.tensor([2, 4], 'f32', 'mod');
      expect(() => gemm(plan, { x, w, out, residual: true, gate: { mod, stride: 4, offset: 0, tokens: 5 }, itemRows: 2 })).toThrow(/itemRows does not take a gate/);
      expect(() => gemm(plan, { x, w, out: alloc.tensor([40], 'f32', 'o4'), planes: { width: 4, stride: 20 }, itemRows: 2 })).toThrow(/itemRows does not take planes/);
      expect(() => norm(plan, { x, out: alloc.tensor([2, 5, 8], 'f32', 'n'), eps: 1e-6, modulate: { mod: alloc.tensor([2, 16], 'f32', 'm'), stride: 16, shiftOffset: 0, scaleOffset: 8 }, itemRows: 2 })).toThrow(/itemRows does not take modulate/);
      expect(() => norm(plan, { x, out: alloc.tensor([2, 5, 8], 'f32', 'n2'), eps: 1e-6, itemRows: 9 })).toThrow(/itemRows 9, expected an integer in 1\.\.5/);
      expect(plan.dispatches).toHaveLength(0);
    } finally {
      alloc.destroyAll();
    }
  });
});

// [B, L, R, C]; layout i % 4: row per thread, workgroup per row (scalar / vec4 loads), subgroup sums
const NORM_SHAPES: [number, number, number, number][] = [
  [2, 9, 4, 48], [3, 7, 1, 33], [1, 11, 6, 96], [2, 40, 16, 130], [3, 13, 13, 64], [2, 37, 19, 1536], [2, 5, 3, 7], [3, 6, 5, 24],
];

describe.skipIf(!hasGpu)('norm itemRows: the first R rows of each item, one dispatch', () => {
  for (const dtype of dtypes) {
    NORM_SHAPES.forEach(([B, L, R, C], i) => {
      const layout = i % 4;
      const rowPerThread = layout === 0;
      const subgroups = layout === 3 && !!gpu?.subgroups;
      const vec4 = layout >= 2 && C % 4 === 0;
      const rms = i % 2 === 0;
      it(`${dtype} B=${B} L=${L} R=${R} C=${C} ${rms ? 'rms' : 'ln'}+affine ${rowPerThread ? 'row/thread' : `wg/row${vec4 ? ' vec4' : ''}${subgroups ? ' sg' : ''}`}`, async () => {
        const x = round(randn(B * L * C, 50 + i, 2).map((v) => v + 1), dtype);
        const w = round(randn(C, 60 + i, 0.5).map((v) => v + 1), dtype);
        const b = round(randn(C, 70 + i, 0.5), dtype);
        const init = round(randn(B * L * C, 80 + i), dtype);
        let z = 0;
        const got = await runOnce((plan, alloc) => {
          const out = alloc.upload(init, [B, L, C], dtype, 'out');
          norm(plan, {
            x: alloc.upload(x, [B, L, C], dtype, 'x'), out, eps: 1e-6, rms,
            weight: alloc.upload(w, [C], dtype, 'w'),
            bias: rms ? undefined : alloc.upload(b, [C], dtype, 'b'),
            rowPerThread, subgroups, vec4, itemRows: R,
          });
          z = plan.dispatches[0]!.workgroups[2];
          return out;
        });
        expect(z).toBe(B);
        const rows = normRef(firstRows(x, B, L, R, C), { rows: B * R, cols: C, eps: 1e-6, rms, weight: w, bias: rms ? undefined : b });
        expectClose(got, expected(init, rows, B, L, R, C), [B, L, C], TOL.norm![dtype], `norm itemRows ${dtype}`);
      });
    });
  }
});
