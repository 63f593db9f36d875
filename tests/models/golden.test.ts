// Model forward passes against the golden cases: an independent float64 re-implementation of
// diffusers' code (shared/golden, copied to tests/fixtures). Run through the CLI, as a user would.
import { describe, expect, it } from 'vitest';
import { hasGpu } from '../helpers/gpu.js';
import { loadCase, runCase } from '../helpers/golden.js';

describe.skipIf(!hasGpu)('golden forward cases (tessera forward)', () => {
  for (const name of ['wan_small', 'dit_small', 'latte_small']) {
    it(`${name}: max|out − expected| / max|expected| within the case's tolerance`, async () => {
      const c = loadCase(name);
      const r = await runCase(name);
      console.log(`${name}: relative error ${r.rel.toExponential(2)} (tolerance ${c.tolerance.max})`);
      expect(r.rel).toBeLessThanOrEqual(c.tolerance.max);
    });
  }
});

describe.skipIf(!hasGpu)('golden sampler cases (tessera generate)', () => {
  for (const name of ['wan_sampler_small', 'dit_sampler_small']) {
    it(`${name}: final latents within the case's tolerance`, async () => {
      const c = loadCase(name);
      const r = await runCase(name);
      console.log(`${name}: relative error ${r.rel.toExponential(2)} (tolerance ${c.tolerance.max})`);
      expect(r.rel).toBeLessThanOrEqual(c.tolerance.max);
    });
  }
});
