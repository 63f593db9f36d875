// Mutation test (round 3) for vae_norm.wgsl's RMS over channels (WanRMS_norm: F.normalize, eps 1e-12): a pixel whose
// channels are all zero (zero padding, a black frame's features) gives zeros. Without the 1e-12 floor on the norm it
// gave 0 · (√C / 0) = NaN; the random inputs of vae-norm.test never have a zero pixel.
import { describe, expect, it } from 'vitest';
import { dtypes, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { rmsNormChannels } from '../../src/ops/vae-norm.js';
import { rmsChannelsRef } from '../../src/ref/vae-norm.js';
import { randn } from '../../src/random.js';
import { roundF16 } from '../../src/gpu/half.js';

describe.skipIf(!hasGpu)('vae_norm RMS over channels: zero pixels', () => {
  for (const dtype of dtypes) {
    for (const silu of [false, true]) {
      it(`${dtype}${silu ? ' +silu' : ''}: pixels 1 and 3 of 5 all zero give zeros; the others as the reference`, async () => {
        const [n, C] = [5, 12];
        const r = (a: Float32Array) => (dtype === 'f16' ? a.map(roundF16) : a);
        const x = r(randn(n * C, 7, 1).map((v, j) => (Math.floor(j / C) % 2 === 1 ? 0 : v)));
        const gamma = r(randn(C, 8, 0.3).map((v) => v + 1));
        const got = await runOnce((plan, alloc) => {
          const xt = alloc.upload(x, [n, C], dtype, 'x');
          const out = alloc.tensor([n, C], dtype, 'y');
          rmsNormChannels(plan, { x: { t: xt, offset: 0, pixels: n }, out: { t: out, offset: 0, pixels: n }, C, gamma: alloc.upload(gamma, [C], dtype, 'g'), silu });
          return out;
        });
        expect(got.every(Number.isFinite)).toBe(true);
        expect(Array.from(got.subarray(C, 2 * C), Math.abs)).toEqual(new Array<number>(C).fill(0));
        expectClose(got, rmsChannelsRef(x, n, C, gamma, silu), [n, C], TOL.vae_norm![dtype], 'rms with zero pixels');
      });
    }
  }
});
