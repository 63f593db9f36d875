import { describe, expect, it } from 'vitest';
import { dtypes, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { add, gatedProduct, gather, gelu, permute, scale, silu, stridedCopy } from '../../src/ops/elementwise.js';
import { axpbyRef, gatedProductRef, gatherRef, geluRef, permuteRef, siluRef } from '../../src/ref/elementwise.js';
import { randn, rng } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import type { DType } from '../../src/gpu/tensor.js';

// [rows, cols] for the maps: odd, size-1, > one workgroup, model widths (384/1152/1536, FFN 8960).
const MAP_SHAPES: [number, number][] = [
  [1, 1], [1, 7], [3, 5], [2, 33], [17, 127], [4, 129], [9, 257], [2, 1000], [16, 64], [7, 96],
  [3, 48], [11, 384], [5, 1152], [3, 1536], [1, 4097], [3, 200], [1, 31], [13, 65], [5, 17], [2, 8960], [64, 72],
];
// [N, A, B, D] for permute (N = 1 also tested 3-D)
const PERM_SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1], [1, 2, 3, 4], [2, 3, 5, 7], [2, 16, 4, 72], [1, 1, 9, 5], [3, 4, 1, 6], [1, 7, 7, 1], [2, 5, 3, 33],
  [4, 2, 2, 2], [1, 16, 16, 8], [2, 3, 64, 3], [1, 9, 2, 129], [3, 1, 1, 10], [1, 2, 2, 1152], [2, 8, 6, 11],
  [1, 13, 3, 17], [5, 2, 7, 9], [1, 3, 4, 384], [2, 2, 9, 31], [1, 6, 5, 48], [3, 3, 3, 3],
];

const round = (a: Float32Array, d: DType) => (d === 'f16' ? a.map(roundF16) : a);

describe.skipIf(!hasGpu)('elementwise ops vs float64 reference', () => {
  for (const dtype of dtypes) {
    const tol = TOL.elementwise![dtype];
    MAP_SHAPES.forEach(([R, C], i) => {
      it(`${dtype} maps [${R},${C}]`, async () => {
        const n = R * C;
        // wide range for the activations: saturated tails and the region around 0
        const x = round(randn(n, 1 + i, 4), dtype);
        const y = round(randn(n, 100 + i), dtype);
        const bias = round(randn(C, 200 + i), dtype);
        const s = await runOnce((plan, alloc) => silu(plan, { x: alloc.upload(x, [R, C], dtype, 'x'), out: alloc.tensor([R, C], dtype, 'y') }));
        expectClose(s, siluRef(x), [R, C], tol, `silu ${dtype}`);
        const g = await runOnce((plan, alloc) => gelu(plan, { x: alloc.upload(x, [R, C], dtype, 'x'), out: alloc.tensor([R, C], dtype, 'y') }));
        expectClose(g, geluRef(x), [R, C], tol, `gelu ${dtype}`);
        // add: same size (even i) or a row vector repeated over rows (odd i)
        const b = i % 2 ? bias : y;
        const a2 = await runOnce((plan, alloc) => add(plan, { a: alloc.upload(x, [R, C], dtype, 'a'), b: alloc.upload(b, [b.length], dtype, 'b'), out: alloc.tensor([R, C], dtype, 'y') }));
        expectClose(a2, axpbyRef(x, b, 1, 1), [R, C], tol, `add ${dtype}`);
        // gated product (T5 gated-GELU): gelu(a) ⊙ b on most shapes, plain a ⊙ b on every third
        const gact = i % 3 === 2 ? 'none' : 'gelu';
        const gp = await runOnce((plan, alloc) => gatedProduct(plan, { a: alloc.upload(x, [R, C], dtype, 'a'), b: alloc.upload(b, [b.length], dtype, 'b'), out: alloc.tensor([R, C], dtype, 'y'), act: gact }));
        expectClose(gp, gatedProductRef(x, b, gact), [R, C], tol, `gatedProduct ${gact} ${dtype}`);
        const sc = await runOnce((plan, alloc) => scale(plan, { x: alloc.upload(x, [R, C], dtype, 'x'), out: alloc.tensor([R, C], dtype, 'y'), alpha: -0.18215 }));
        expectClose(sc, axpbyRef(x, undefined, -0.18215, 0), [R, C], tol, `scale ${dtype}`);
      });
    });

    PERM_SHAPES.forEach(([N, A, B, D], i) => {
      it(`${dtype} permute [${N},${A},${B},${D}] → [${N},${B},${A},${D}]`, async () => {
        const x = round(randn(N * A * B * D, 300 + i), dtype);
        const got = await runOnce((plan, alloc) => {
          // Latte keeps 3-D tensors: give the 4-D view explicitly (3-D x shape when N = 1 on odd i)
          const xt = alloc.upload(x, N === 1 && i % 2 ? [A, B, D] : [N * A, B, D], dtype, 'x');
          return permute(plan, { x: xt, out: alloc.tensor([N * B, A, D], dtype, 'y'), shape: N === 1 && i % 2 ? undefined : [N, A, B, D] });
        });
        expectClose(got, permuteRef(x, N, A, B, D), [N, B, A, D], TOL.patchify![dtype], `permute ${dtype}`);
      });
    });

    it(`${dtype} permute there and back is the identity (Latte '(b f) t d -> (b t) f d' and back)`, async () => {
      const [Bt, F, S, D] = [2, 5, 6, 12];
      const x = round(randn(Bt * F * S * D, 9), dtype);
      const got = await runOnce((plan, alloc) => {
        const xt = alloc.upload(x, [Bt * F, S, D], dtype, 'x');
        const t = alloc.tensor([Bt * S, F, D], dtype, 't');
        permute(plan, { x: xt, out: t, shape: [Bt, F, S, D] });
        return permute(plan, { x: t, out: alloc.tensor([Bt * F, S, D], dtype, 'y'), shape: [Bt, S, F, D] });
      });
      expectClose(got, x, [Bt * F, S, D], TOL.patchify![dtype], 'permute round trip');
    });

    [[1, 1, 1], [3, 5, 2], [1000, 1152, 4], [1001, 7, 9], [10, 384, 1]].forEach(([V, D, R], i) => {
      it(`${dtype} gather table[${V},${D}] ids[${R}]`, async () => {
        const table = round(randn(V! * D!, 400 + i), dtype);
        const r = rng(500 + i);
        const ids = Uint32Array.from({ length: R! }, (_, k) => (k === 0 ? V! - 1 : Math.floor(r() * V!)));
        const got = await runOnce((plan, alloc) =>
          gather(plan, { table: alloc.upload(table, [V!, D!], dtype, 'table'), ids: alloc.uploadU32(ids, 'ids'), out: alloc.tensor([R!, D!], dtype, 'y'), hostIds: ids }),
        );
        expectClose(got, gatherRef(table, V!, D!, ids), [R!, D!], TOL.patchify![dtype], `gather ${dtype}`);
      });
    });

  }

  it('gather writes a zero row for an out-of-range id the host did not check', async () => {
    const table = randn(4 * 3, 1);
    const got = await runOnce((plan, alloc) => gather(plan, { table: alloc.upload(table, [4, 3], 'f32', 't'), ids: alloc.uploadU32(Uint32Array.from([2, 7]), 'ids'), out: alloc.tensor([2, 3], 'f32', 'y') }));
    expectClose(got, gatherRef(table, 4, 3, [2, 7]), [2, 3], { atol: 0, rtol: 0 }, 'gather oob');
  });

  it('stridedCopy slices a column block into another tensor', async () => {
    const x = randn(4 * 6, 2);
    const got = await runOnce((plan, alloc) => {
      const dst = alloc.upload(new Float32Array(3 * 5), [3, 5], 'f32', 'dst');
      return stridedCopy(plan, { src: alloc.upload(x, [4, 6], 'f32', 'src'), dst, extent: [3, 2], srcStrides: [6, 1], dstStrides: [5, 1], srcOffset: 6 + 3, dstOffset: 1 });
    });
    const want = new Float64Array(15);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 2; c++) want[r * 5 + 1 + c] = x[(r + 1) * 6 + 3 + c]!;
    expectClose(got, want, [3, 5], { atol: 0, rtol: 0 }, 'strided slice');
  });

  it('rejects bad broadcasts, out-of-range ids, in-place use and out-of-bounds copies', async () => {
    await expect(runOnce((plan, alloc) => add(plan, { a: alloc.tensor([3, 4], 'f32', 'a'), b: alloc.tensor([5], 'f32', 'b'), out: alloc.tensor([3, 4], 'f32', 'y') }))).rejects.toThrow(/does not broadcast/);
    await expect(runOnce((plan, alloc) => gather(plan, { table: alloc.tensor([4, 2], 'f32', 't'), ids: alloc.uploadU32(Uint32Array.from([4]), 'ids'), out: alloc.tensor([1, 2], 'f32', 'y'), hostIds: [4] }))).rejects.toThrow(/id 4 at position 0 is outside table t \[0, 4\)/);
    await expect(runOnce((plan, alloc) => { const x = alloc.tensor([8], 'f32', 'x'); return silu(plan, { x, out: x }); })).rejects.toThrow(/same buffer/);
    await expect(runOnce((plan, alloc) => stridedCopy(plan, { src: alloc.tensor([8], 'f32', 's'), dst: alloc.tensor([8], 'f32', 'd'), extent: [3, 3], srcStrides: [3, 1], dstStrides: [3, 1] }))).rejects.toThrow(/reads element 8/);
    await expect(runOnce((plan, alloc) => permute(plan, { x: alloc.tensor([2, 3, 4], 'f32', 'x'), out: alloc.tensor([24], 'f32', 'y'), shape: [2, 2, 2, 4] }))).rejects.toThrow(/32 elements, x x has 24/);
  });

});
