import { describe, expect, it } from 'vitest';
import { dtypes, gpu, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { norm } from '../../src/ops/norm.js';
import { normRef } from '../../src/ref/norm.js';
import { randn } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import type { DType } from '../../src/gpu/tensor.js';

// [batch, tokens, cols]: odd sizes, size-1 dims, sizes not multiples of WG, real model widths.
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 1, 7], [1, 3, 5], [2, 5, 33], [1, 17, 127], [3, 4, 129], [2, 9, 257], [1, 2, 1000],
  [2, 16, 64], [1, 7, 96], [4, 3, 48], [2, 11, 384], [1, 5, 1152], [2, 3, 1536], [1, 1, 4097], [3, 2, 200],
  [2, 1, 31], [1, 13, 65], [5, 2, 17], [2, 4, 2304], [1, 64, 72],
];

const round = (a: Float32Array, d: DType) => (d === 'f16' ? a.map(roundF16) : a);

describe.skipIf(!hasGpu)('norm kernel vs float64 reference', () => {
  for (const dtype of dtypes) {
    SHAPES.forEach(([B, Tk, C], i) => {
      const rms = i % 3 === 1;
      const affine = i % 2 === 0;
      const modulate = i % 4 !== 3;
      // both layouts over the sweep; the workgroup-per-row one takes vec4 loads where C % 4 == 0
      // (1000, 64, 96, 1152, 1536, 2304 here: LN/RMS, affine or not, modulated or not, batch 1 and 2)
      const rowPerThread = i % 5 < 2;
      // and half of the workgroup-per-row cases take the subgroup sums (where the adapter has them)
      const subgroups = !rowPerThread && i % 4 < 2 && !!gpu?.subgroups;
      it(`${dtype} B=${B} T=${Tk} C=${C} ${rms ? 'rms' : 'ln'}${affine ? '+affine' : ''}${modulate ? '+mod' : ''}${rowPerThread ? ' row/thread' : ''}${subgroups ? ' sg' : ''}`, async () => {
        const rows = B * Tk;
        const x = round(randn(rows * C, 1 + i, 2).map((v, j) => v + (j % C) * 0.01 + 3), dtype);
        const w = round(randn(C, 100 + i, 0.5).map((v) => v + 1), dtype);
        const b = round(randn(C, 200 + i, 0.5), dtype);
        const stride = 6 * C; // like Wan's [B, 6, D] modulation
        const mod = round(randn(B * stride, 300 + i, 0.5), dtype);
        const eps = i % 2 ? 1e-6 : 1e-5;
        const got = await runOnce((plan, alloc) => {
          const xt = alloc.upload(x, [B, Tk, C], dtype, 'x');
          const out = alloc.tensor([B, Tk, C], dtype, 'y');
          return norm(plan, {
            x: xt, out, eps, rms,
            weight: affine ? alloc.upload(w, [C], dtype, 'w') : undefined,
            bias: affine && !rms ? alloc.upload(b, [C], dtype, 'b') : undefined,
            modulate: modulate ? { mod: alloc.upload(mod, [B, stride], dtype, 'mod'), stride, shiftOffset: 3 * C, scaleOffset: 4 * C } : undefined,
            tokens: Tk,
            rowPerThread,
            subgroups,
          });
        });
        const ref = normRef(x, {
          rows, cols: C, eps, rms,
          weight: affine ? w : undefined,
          bias: affine && !rms ? b : undefined,
          mod: modulate ? { data: mod, stride, shiftOffset: 3 * C, scaleOffset: 4 * C, tokens: Tk } : undefined,
        });
        expectClose(got, ref, [B, Tk, C], TOL.norm![dtype], `norm ${dtype} ${B}x${Tk}x${C}`);
      });
    });
  }

  // Rows far from zero (mean 1e4..1e6, σ 1): every layout must land near the f32 floor. The exact
  // mean rounded to f32 already errs by up to ulp(mean)/2, i.e. ulp(mean)/(2σ) after normalizing
  // (x − mean itself is exact near the mean). Observed over these rows with seeds 7-11, in units of
  // ulp(mean)/σ: one row per invocation (first-element shift) ≤ 0.46, workgroup tree ≤ 0.95, vec4
  // ≤ 0.76, vec4 + subgroup sums ≤ 1.7. The bound is 3 (+ the f32 row's 1e-5 for the O(1) part);
  // the unshifted sequential sum of the row-per-invocation kernel landed at 4.6 (1e5, C 1152),
  // 6.7 (1e4, C 1536), 10.5 (1e4, C 5120) and 19.7 (1e6).
  const ulpF32 = (v: number) => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);
  const layouts = [
    { name: 'row/thread', rowPerThread: true },
    { name: 'workgroup tree', rowPerThread: false, vec4: false, subgroups: false },
    { name: 'workgroup vec4' + (gpu?.subgroups ? '+sg' : ''), rowPerThread: false },
  ];
  for (const [mean, C] of [[1e4, 1536], [1e4, 5120], [1e5, 1152], [1e6, 1536]] as const) {
    for (const { name, ...layout } of layouts) {
      it(`large-magnitude rows (mean ${mean}, C ${C}, ${name}) stay at the f32 floor`, async () => {
        const x = randn(C, 7).map((v) => mean + v);
        const got = await runOnce((plan, alloc) => norm(plan, { x: alloc.upload(x, [1, C], 'f32', 'x'), out: alloc.tensor([1, C], 'f32', 'y'), eps: 1e-6, ...layout }));
        const ref = normRef(x, { rows: 1, cols: C, eps: 1e-6 });
        let m = 0;
        for (const v of x) m += v / C;
        let sd = 0;
        for (const v of x) sd += (v - m) ** 2 / C;
        sd = Math.sqrt(sd);
        expectClose(got, ref, [1, C], { atol: (3 * ulpF32(mean)) / sd + TOL.norm!.f32.atol, rtol: 0 }, `norm mean ${mean} ${name}`);
      });
    }
  }

  // Rows whose variance (LayerNorm) or mean square (RMSNorm) is of the order of eps, where eps
  // moves the output by O(1): the sweep above has variance ≥ ~4, where eps 1e-5 vs 1e-6 shifts it by
  // < 3e-7 (invisible under TOL.norm), so an eps ignored or hard-coded would pass it. Per row:
  // σ 1e-3 (var ≈ 1e-6), 3e-3 (1e-5), 3e-4 (1e-7: eps dominates) and an exactly constant row;
  // LayerNorm rows sit on a constant 0.25 ("constant plus tiny noise"), RMSNorm rows on 0.
  // f32 LayerNorm bound: the f32 mean errs by ≤ ~ulp(0.25), i.e. ulp(0.25)/√(var + eps) after
  // normalizing (as the large-magnitude rows above): 3·ulp(0.25)/√eps + TOL.norm's atol.
  // Between eps 1e-5 and 1e-6 the σ 1e-3 row's outputs differ by a factor 2.3.
  const SIGMAS = [1e-3, 3e-3, 3e-4, 0];
  for (const dtype of dtypes) {
    for (const rms of [false, true]) {
      for (const { name, ...layout } of layouts) {
        it(`${dtype} ${rms ? 'rms' : 'ln'} rows with variance near eps (1e-5 and 1e-6), ${name}: eps is applied`, async () => {
          const C = 256, rows = SIGMAS.length;
          const c0 = rms ? 0 : 0.25;
          const noise = randn(rows * C, 500);
          const x = round(noise.map((v, j) => (SIGMAS[Math.floor(j / C)] ? c0 + SIGMAS[Math.floor(j / C)]! * v : 0.25)), dtype);
          const w = round(randn(C, 600, 0.5).map((v) => v + 1), dtype);
          const b = round(randn(C, 601, 0.5), dtype);
          for (const eps of [1e-5, 1e-6]) {
            const got = await runOnce((plan, alloc) => norm(plan, {
              x: alloc.upload(x, [1, rows, C], dtype, 'x'), out: alloc.tensor([1, rows, C], dtype, 'y'), eps, rms,
              weight: alloc.upload(w, [C], dtype, 'w'), bias: rms ? undefined : alloc.upload(b, [C], dtype, 'b'), tokens: rows, ...layout,
            }));
            const ref = normRef(x, { rows, cols: C, eps, rms, weight: w, bias: rms ? undefined : b });
            const tol = dtype === 'f32' && !rms ? { atol: (3 * ulpF32(0.25)) / Math.sqrt(eps) + TOL.norm!.f32.atol, rtol: TOL.norm!.f32.rtol } : TOL.norm![dtype];
            expectClose(got, ref, [rows, C], tol, `norm ${dtype} ${rms ? 'rms' : 'ln'} eps ${eps} ${name}`);
          }
        });
      }
    }
  }

  it('rejects mismatched shapes with a message naming the tensor', async () => {
    await expect(runOnce((plan, alloc) => norm(plan, { x: alloc.tensor([2, 8], 'f32', 'x'), out: alloc.tensor([2, 8], 'f32', 'y'), eps: 1e-6, weight: alloc.tensor([7], 'f32', 'w') }))).rejects.toThrow(/weight has 7 elements, expected 8/);
    await expect(runOnce((plan, alloc) => norm(plan, { x: alloc.tensor([2, 6], 'f32', 'x'), out: alloc.tensor([2, 6], 'f32', 'y'), eps: 1e-6, vec4: true, rowPerThread: false }))).rejects.toThrow(/vec4 loads need .* C \(6\)/);
  });

});
