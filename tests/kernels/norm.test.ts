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

  it('large-magnitude rows (mean 1e4) keep their variance (centered second pass)', async () => {
    const C = 1152;
    const x = randn(C, 7).map((v) => 1e4 + v);
    const got = await runOnce((plan, alloc) => norm(plan, { x: alloc.upload(x, [1, C], 'f32', 'x'), out: alloc.tensor([1, C], 'f32', 'y'), eps: 1e-6 }));
    const ref = normRef(x, { rows: 1, cols: C, eps: 1e-6 });
    // |x| ~ 1e4 rounds the mean at ~1e-3 absolute; normalized values keep ~1e-3/σ accuracy.
    expectClose(got, ref, [1, C], { atol: 2e-3, rtol: 1e-3 }, 'norm large-mean');
  });

  it('rejects mismatched shapes with a message naming the tensor', async () => {
    await expect(runOnce((plan, alloc) => norm(plan, { x: alloc.tensor([2, 8], 'f32', 'x'), out: alloc.tensor([2, 8], 'f32', 'y'), eps: 1e-6, weight: alloc.tensor([7], 'f32', 'w') }))).rejects.toThrow(/weight has 7 elements, expected 8/);
    await expect(runOnce((plan, alloc) => norm(plan, { x: alloc.tensor([2, 6], 'f32', 'x'), out: alloc.tensor([2, 6], 'f32', 'y'), eps: 1e-6, vec4: true, rowPerThread: false }))).rejects.toThrow(/vec4 loads need .* C \(6\)/);
  });

});
