import { describe, expect, it } from 'vitest';
import { dtypes, gpu, hasGpu, runOnce } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { timestepEmbedding, timestepFreqs } from '../../src/ops/timestep.js';
import { timestepRef } from '../../src/ref/timestep.js';
import { uniform } from '../../src/random.js';
import { Allocator, readTensor, writeTensor } from '../../src/gpu/tensor.js';
import { Plan } from '../../src/gpu/plan.js';

// [B, dim, flip, shift]: Wan (256, flip, 0), DiT (256, flip, 1), Latte/PixArt (256, flip, 0),
// unflipped, odd dims (zero pad), dim 1 (all pad), small dims, batch > 1.
const CASES: [number, number, boolean, number][] = [
  [1, 256, true, 0], [2, 256, true, 1], [3, 256, true, 0], [1, 256, false, 0], [4, 255, true, 0],
  [1, 1, true, 0], [2, 3, false, 0], [1, 5, true, 1], [5, 17, false, 1], [2, 64, true, 0],
  [1, 320, true, 1], [7, 128, false, 0], [1, 1536, true, 0], [2, 9, true, 0], [3, 100, false, 1],
  [1, 257, false, 0], [6, 256, true, 1], [2, 33, true, 0], [1, 4, true, 1], [2, 512, false, 0],
  [8, 256, true, 0],
];

describe.skipIf(!hasGpu)('timestep embedding vs float64 reference', () => {
  for (const dtype of dtypes) {
    CASES.forEach(([B, dim, flip, shift], i) => {
      it(`${dtype} B=${B} dim=${dim} flip=${flip} shift=${shift}`, async () => {
        // fractional timesteps in [0, 1000], plus the end points
        const t = uniform(B, 30 + i, 500).map((v, b) => (b === 0 ? 1000 : b === 1 ? 0 : v + 500));
        const maxPeriod = i === 9 ? 100 : 10000;
        const scale = i === 14 ? 0.5 : 1;
        const got = await runOnce((plan, alloc) =>
          timestepEmbedding(plan, { t: alloc.upload(t, [B], 'f32', 't'), out: alloc.tensor([B, dim], dtype, 'emb'), flipSinToCos: flip, downscaleFreqShift: shift, maxPeriod, scale }),
        );
        const ref = timestepRef(t, { dim, flipSinToCos: flip, downscaleFreqShift: shift, maxPeriod, scale });
        expectClose(got, ref, [B, dim], TOL.timestep![dtype], `timestep ${dtype}`);
      });
    });
  }

  it('flip puts cos first: t = 0 gives [1…1, 0…0]; DiT (shift 1) divides the exponent by half − 1', () => {
    const f = timestepFreqs(256, { flipSinToCos: true, downscaleFreqShift: 1 });
    expect(f[127]).toBeCloseTo(1e-4, 9); // exp(−ln(1e4)·127/127)
    expect(timestepFreqs(256, { flipSinToCos: true, downscaleFreqShift: 0 })[127]).toBeCloseTo(Math.exp((-Math.log(1e4) * 127) / 128), 9);
    const r = timestepRef([0], { dim: 6, flipSinToCos: true, downscaleFreqShift: 0 });
    expect(Array.from(r)).toEqual([1, 1, 1, 0, 0, 0]);
  });

  it('a recorded plan picks up new timesteps written with writeBuffer (no re-recording)', async () => {
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      const t = alloc.upload([999, 0], [2], 'f32', 't');
      const out = alloc.tensor([2, 256], 'f32', 'emb');
      timestepEmbedding(plan, { t, out, flipSinToCos: true, downscaleFreqShift: 0 });
      for (const step of [[999, 0], [500.5, 17.25], [1, 1000]]) {
        writeTensor(gpu!, t, step);
        await plan.run('timestep replay');
        const ref = timestepRef(step, { dim: 256, flipSinToCos: true, downscaleFreqShift: 0 });
        expectClose(await readTensor(gpu!, out), ref, [2, 256], TOL.timestep!.f32, `replay t=${step}`);
      }
    } finally {
      alloc.destroyAll();
    }
  });

  it('rejects a singular shift and a wrong output size', async () => {
    await expect(runOnce((plan, alloc) => timestepEmbedding(plan, { t: alloc.tensor([1], 'f32', 't'), out: alloc.tensor([1, 2], 'f32', 'e'), flipSinToCos: true, downscaleFreqShift: 1 }))).rejects.toThrow(/is 0/);
    await expect(runOnce((plan, alloc) => timestepEmbedding(plan, { t: alloc.tensor([3], 'f32', 't'), out: alloc.tensor([2, 256], 'f32', 'e'), flipSinToCos: true, downscaleFreqShift: 0 }))).rejects.toThrow(/expected B·dim = 3·256/);
  });
});
