import { describe, it } from 'vitest';
import { dtypes, gpu, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { groupNorm, rmsNormChannels } from '../../src/ops/vae-norm.js';
import { groupNormRef, rmsChannelsRef } from '../../src/ref/vae-norm.js';
import { randn } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import type { DType, Tensor } from '../../src/gpu/tensor.js';
import { stridedCopy } from '../../src/ops/elementwise.js';
import type { Plan } from '../../src/gpu/plan.js';

// [pixels, C, groups, spans]: odd pixel counts, C not a multiple of anything, 1 channel, one
// pixel, real widths (96, 384, 512 channels / 32 groups) at few pixels; GroupNorm over a frame
// split in 1–3 row-band spans (separate tensors, each with a halo row before its pixels).
const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1], [7, 3, 1, 1], [13, 4, 2, 2], [64, 8, 4, 1], [65, 16, 4, 3], [33, 6, 3, 2], [5, 96, 32, 1], [9, 384, 32, 2],
  [3, 512, 32, 3], [100, 12, 6, 2], [17, 5, 5, 1], [2, 64, 8, 2], [31, 20, 4, 3], [8, 192, 32, 1], [129, 2, 2, 2], [11, 48, 16, 3],
  [6, 7, 7, 2], [40, 24, 8, 1], [3, 128, 32, 3], [21, 10, 2, 2],
];

/** Copy n elements (a span's pixels) into the flat result. */
function stridedCopyRows(plan: Plan, src: Tensor, dst: Tensor, n: number, srcOffset: number, dstOffset: number) {
  stridedCopy(plan, { src, dst, extent: [n], srcStrides: [1], dstStrides: [1], srcOffset, dstOffset });
}

const round = (a: Float32Array, d: DType) => (d === 'f16' ? a.map(roundF16) : a);

describe.skipIf(!hasGpu)('vae_norm kernels vs float64 reference', () => {
  for (const dtype of dtypes) {
    SHAPES.forEach(([n, C, G, nspans], i) => {
      const act = i % 2 === 0;
      const x = round(randn(n * C, 1 + i, 2).map((v, j) => v + (j % C) * 0.05 + 1), dtype);
      const gamma = round(randn(C, 100 + i, 0.3).map((v) => v + 1), dtype);
      const beta = round(randn(C, 200 + i, 0.3), dtype);
      it(`${dtype} RMS over channels n=${n} C=${C}${act ? ' +silu' : ''}`, async () => {
        const got = await runOnce((plan, alloc) => {
          const pad = new Float32Array((n + 1) * C);
          pad.set(x, C);
          const xt = alloc.upload(pad, [n + 1, C], dtype, 'x');
          const out = alloc.tensor([n + 1, C], dtype, 'y');
          rmsNormChannels(plan, { x: { t: xt, offset: C, pixels: n }, out: { t: out, offset: C, pixels: n }, C, gamma: alloc.upload(gamma, [C], dtype, 'g'), silu: act });
          return out;
        });
        expectClose(got.subarray(C), rmsChannelsRef(x, n, C, gamma, act), [n, C], TOL.vae_norm![dtype], `rms ${i}`);
      });
      // the statistics' workgroup sum (common/wg_sum.wgsl): subgroupAdd where the adapter has subgroups on
      // every other shape, the workgroup-memory tree on the rest
      const sg = !!gpu?.subgroups && i % 2 === 0;
      it(`${dtype} GroupNorm n=${n} C=${C} G=${G} in ${nspans} spans${act ? ' +silu' : ''}${sg ? ' (subgroup sums)' : ''}`, async () => {
        const cuts = Array.from({ length: nspans + 1 }, (_, k) => Math.round((k * n) / nspans));
        const got = await runOnce((plan, alloc) => {
          const spans = cuts.slice(0, -1).map((a, k) => {
            const m = cuts[k + 1]! - a;
            const data = new Float32Array((m + 1) * C);
            data.set(x.subarray(a * C, (a + m) * C), C);
            return { t: alloc.upload(data, [m + 1, C], dtype, `x${k}`), offset: C, pixels: m };
          });
          const outs = spans.map((s, k) => ({ ...s, t: alloc.tensor([s.pixels + 1, C], dtype, `y${k}`) }));
          const stats = alloc.tensor([G, 2], 'f32', 'stats');
          groupNorm(plan, { x: spans, out: outs, C, groups: G, eps: 1e-6, weight: alloc.upload(gamma, [C], dtype, 'w'), bias: alloc.upload(beta, [C], dtype, 'b'), stats, silu: act, subgroups: sg });
          // one tensor back: copy every span into a flat result
          const flat = alloc.tensor([n, C], dtype, 'flat');
          let row = 0;
          outs.forEach((o) => {
            stridedCopyRows(plan, o.t, flat, o.pixels * C, C, row * C);
            row += o.pixels;
          });
          return flat;
        });
        expectClose(got, groupNormRef(x, n, C, G, 1e-6, gamma, beta, act), [n, C], TOL.vae_norm![dtype], `groupnorm ${i}`);
      });
    });
  }
});


// Several images in one dispatch (the decoder's [N, rows + 2, W, C] bands): each image normalised on its own,
// GroupNorm statistics per image (images of very different scales side by side), in 1 and 2 spans.
describe.skipIf(!hasGpu)('vae_norm kernels: several images per dispatch vs float64 reference per image', () => {
  for (const dtype of dtypes) {
    for (const [N, n, C, G, nspans] of [[3, 13, 8, 4, 1], [2, 21, 12, 3, 2], [4, 5, 64, 32, 2]] as const) {
      // image m: values of scale 10^(m − 1), offset per channel (within f16's range)
      const xs = Array.from({ length: N }, (_, m) => round(randn(n * C, 40 + m, 10 ** (m - 1)).map((v, j) => v + (j % C) * 0.05 * 10 ** (m - 1)), dtype));
      const gamma = round(randn(C, 300 + n, 0.3).map((v) => v + 1), dtype);
      const beta = round(randn(C, 400 + n, 0.3), dtype);
      const cuts = Array.from({ length: nspans + 1 }, (_, k) => Math.round((k * n) / nspans));
      // span k of every image: image m's pixels from C + m·(pixels + 2)·C (a halo pixel row before and after)
      const run = (op: 'rms' | 'group') =>
        runOnce((plan, alloc) => {
          const ins = cuts.slice(0, -1).map((a, k) => {
            const px = cuts[k + 1]! - a;
            const stride = (px + 2) * C;
            const data = new Float32Array(N * stride);
            xs.forEach((x, m) => data.set(x.subarray(a * C, (a + px) * C), m * stride + C));
            return { t: alloc.upload(data, [N, px + 2, C], dtype, `x${k}`), offset: C, pixels: px, images: N, imageStride: stride };
          });
          const outs = ins.map((s, k) => ({ ...s, t: alloc.tensor([N, s.pixels + 2, C], dtype, `y${k}`) }));
          const w = alloc.upload(gamma, [C], dtype, 'w');
          if (op === 'rms') ins.forEach((s, k) => rmsNormChannels(plan, { x: s, out: outs[k]!, C, gamma: w, silu: true }));
          else groupNorm(plan, { x: ins, out: outs, C, groups: G, eps: 1e-6, weight: w, bias: alloc.upload(beta, [C], dtype, 'b'), stats: alloc.tensor([N * G, 2], 'f32', 'stats'), silu: true });
          // image after image, each in pixel order
          const flat = alloc.tensor([N * n, C], dtype, 'flat');
          outs.forEach((o, k) => stridedCopy(plan, { src: o.t, dst: flat, extent: [N, o.pixels * C], srcStrides: [o.imageStride, 1], dstStrides: [n * C, 1], srcOffset: C, dstOffset: cuts[k]! * C }));
          return flat;
        });
      it(`${dtype} RMS, ${N} images n=${n} C=${C} in ${nspans} spans`, async () => {
        const got = await run('rms');
        xs.forEach((x, m) => expectClose(got.subarray(m * n * C, (m + 1) * n * C), rmsChannelsRef(x, n, C, gamma, true), [n, C], TOL.vae_norm![dtype], `rms image ${m}`));
      });
      it(`${dtype} GroupNorm, ${N} images of scales 0.1…1e${N - 2} n=${n} C=${C} G=${G} in ${nspans} spans`, async () => {
        const got = await run('group');
        xs.forEach((x, m) => expectClose(got.subarray(m * n * C, (m + 1) * n * C), groupNormRef(x, n, C, G, 1e-6, gamma, beta, true), [n, C], TOL.vae_norm![dtype], `groupnorm image ${m}`));
      });
    }
  }
});
