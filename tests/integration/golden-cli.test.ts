// Model forward passes against the golden cases: an independent float64 re-implementation of
// diffusers' code (shared/golden, copied to tests/fixtures). Run through the CLI, as a user would.
import { describe, expect, it } from 'vitest';
import { gpu as testGpuDevice, hasGpu } from '../helpers/gpu.js';
import { loadCase, runCase } from '../helpers/golden.js';
import { goldenF32Tol } from '../tolerances.js';

describe.skipIf(!hasGpu)('golden forward cases (tessera forward)', () => {
  for (const name of ['wan_small', 'dit_small', 'latte_small']) {
    it(`${name}: max|out − expected| / max|expected| within the f32 golden bound`, async () => {
      const tol = goldenF32Tol(loadCase(name).tolerance.max);
      const r = await runCase(name);
      console.log(`${name}: relative error ${r.rel.toExponential(2)} (tolerance ${tol})`);
      expect(r.rel).toBeLessThanOrEqual(tol);
    });
  }
});

describe.skipIf(!hasGpu)('golden sampler cases (tessera generate)', () => {
  for (const name of ['wan_sampler_small', 'dit_sampler_small']) {
    it(`${name}: final latents within the f32 golden bound`, async () => {
      const tol = goldenF32Tol(loadCase(name).tolerance.max);
      const r = await runCase(name);
      console.log(`${name}: relative error ${r.rel.toExponential(2)} (tolerance ${tol})`);
      expect(r.rel).toBeLessThanOrEqual(tol);
    });
  }
});

// f16 storage (weights and activations) with f32 accumulation. The cases estimate what an
// all-f16 numpy computation reaches (precision_estimates.float16_compute, 0.9e-3..4.5e-3);
// tessera accumulates, normalizes and takes softmax in f32, so it must do no worse than twice
// that estimate (measured here: 0.7e-3..1.6e-3).

describe.skipIf(!hasGpu || !testGpuDevice?.f16)('golden cases with --dtype f16', () => {
  for (const name of ['wan_small', 'dit_small', 'latte_small', 'wan_sampler_small', 'dit_sampler_small']) {
    it(`${name} (f16 storage)`, async () => {
      const c = loadCase(name);
      const bound = 2 * c.precision_estimates!.float16_compute;
      const r = await runCase(name, ['--dtype', 'f16']);
      console.log(`${name} f16: relative error ${r.rel.toExponential(2)} (bound ${bound.toExponential(2)})`);
      expect(r.rel).toBeLessThanOrEqual(bound);
    });
  }
});
