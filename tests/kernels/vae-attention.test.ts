import { describe, it } from 'vitest';
import { dtypes, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { vaeAttention } from '../../src/ops/vae-attention.js';
import { vaeAttentionRef } from '../../src/ref/vae-attention.js';
import { randn } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';
import type { DType } from '../../src/gpu/tensor.js';

// [L, C, blockRows]: one pixel, odd lengths, channel counts past the flash kernel's 128
// (384 Wan2.1, 512 SD VAE) at few pixels, several query blocks (probabilities in pieces).
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [5, 3, 5], [12, 16, 12], [13, 16, 4], [30, 8, 7], [7, 384, 7], [9, 512, 2], [64, 12, 64], [65, 4, 16], [3, 130, 1],
  [20, 24, 3], [41, 6, 41], [17, 96, 5], [2, 200, 1], [50, 2, 9], [8, 64, 8], [26, 10, 13], [11, 33, 4], [4, 256, 3], [33, 5, 32],
];

const round = (a: Float32Array, d: DType) => (d === 'f16' ? a.map(roundF16) : a);

describe.skipIf(!hasGpu)('vae_attention kernel vs float64 reference', () => {
  for (const dtype of dtypes) {
    SHAPES.forEach(([L, C, R], i) => {
      it(`${dtype} L=${L} C=${C} blocks of ${R}`, async () => {
        const [q, k, v] = [1, 2, 3].map((s) => round(randn(L * C, 10 * i + s, 1), dtype));
        const got = await runOnce((plan, alloc) => {
          const up = (a: Float32Array, n: string) => alloc.upload(a, [L, C], dtype, n);
          const out = alloc.tensor([L, C], dtype, 'o');
          return vaeAttention(plan, { q: up(q!, 'q'), k: up(k!, 'k'), v: up(v!, 'v'), out, ml: alloc.tensor([L, 2], 'f32', 'ml'), probs: alloc.tensor([R, L], 'f32', 'p'), blockRows: R });
        });
        expectClose(got, vaeAttentionRef(q!, k!, v!, L, C), [L, C], TOL.vae_attention![dtype], `vae attention ${i}`);
      });
    });
    it(`${dtype} every score of a row far below zero (−144: exp underflows in f32): the softmax of the scores, not 0/0`, async () => {
      // softmax is shift-invariant: the running max must start below every score (mutation round 3: a max starting at 0 gave NaN)
      const [L, C] = [6, 16];
      const q = round(randn(L * C, 91, 0.05).map((x) => x + 6), dtype);
      const k = round(randn(L * C, 92, 0.05).map((x) => x - 6), dtype);
      const v = round(randn(L * C, 93, 1), dtype);
      const got = await runOnce((plan, alloc) => {
        const up = (a: Float32Array, n: string) => alloc.upload(a, [L, C], dtype, n);
        return vaeAttention(plan, { q: up(q, 'q'), k: up(k, 'k'), v: up(v, 'v'), out: alloc.tensor([L, C], dtype, 'o'), ml: alloc.tensor([L, 2], 'f32', 'ml'), probs: alloc.tensor([L, L], 'f32', 'p'), blockRows: L });
      });
      expectClose(got, vaeAttentionRef(q, k, v, L, C), [L, C], TOL.vae_attention![dtype], 'vae attention, scores near −144');
    });
  }
});

// Several images in one [N·L, C] tensor (the decoder's N images per pass): each image's rows attend to that
// image alone, the ml / probs scratch reused image after image.
describe.skipIf(!hasGpu)('vae_attention kernel: several images vs float64 reference per image', () => {
  for (const dtype of dtypes) {
    for (const [N, L, C, R] of [[3, 13, 16, 4], [2, 7, 384, 7], [4, 5, 8, 2]] as const) {
      it(`${dtype} ${N} images L=${L} C=${C} blocks of ${R}`, async () => {
        const [q, k, v] = [1, 2, 3].map((s) => round(randn(N * L * C, 70 + s + L, 1), dtype));
        const got = await runOnce((plan, alloc) => {
          const up = (a: Float32Array, n: string) => alloc.upload(a, [N * L, C], dtype, n);
          const out = alloc.tensor([N * L, C], dtype, 'o');
          return vaeAttention(plan, { q: up(q!, 'q'), k: up(k!, 'k'), v: up(v!, 'v'), out, ml: alloc.tensor([L, 2], 'f32', 'ml'), probs: alloc.tensor([R, L], 'f32', 'p'), blockRows: R, images: N });
        });
        for (let m = 0; m < N; m++) {
          const part = (a: Float32Array) => a.subarray(m * L * C, (m + 1) * L * C);
          expectClose(part(got), vaeAttentionRef(part(q!), part(k!), part(v!), L, C), [L, C], TOL.vae_attention![dtype], `vae attention image ${m}`);
        }
      });
    }
  }
});
