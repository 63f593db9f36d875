// DiT on a non-square latent ([2,4,8,12]: a 4×6 patch grid) against the float64 reference
// (tests/fixtures/dit_small_nonsquare/make_case.py: diffusers' forward, its output tokens
// unpatchified on the real grid). diffusers' own unpatchify assumes a square grid and would
// scramble these 24 tokens into [3,8,8,8]; tessera departs deliberately (README) and returns
// [2,8,8,12] laid out as patchified. The library and the CLI are both checked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readInputs } from '../../src/io/inputs.js';
import { loadModel } from '../../src/model/model.js';
import { FIXTURES, fixtureInputs } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { tesseraCli } from '../helpers/cli.js';
import { relError } from '../helpers/compare.js';
import { goldenF32Tol } from '../tolerances.js';

const CASE = join(FIXTURES, 'dit_small_nonsquare');
const TOL = goldenF32Tol(2e-3); // dit_small's golden bound

describe.skipIf(!hasGpu)('DiT forward on a non-square latent', () => {
  it('forward: [2,8,8,12] within the golden bound of the float64 reference', async () => {
    const m = await loadModel(join(FIXTURES, 'dit_small', 'model'), { gpu: gpu! });
    try {
      const inputs = await fixtureInputs('dit_small_nonsquare');
      expect(inputs.hidden_states.shape).toEqual([2, 4, 8, 12]);
      const out = await m.forward(inputs);
      const exp = (await readInputs(join(CASE, 'expected.safetensors'))).get('sample')!;
      expect(out.shape).toEqual([2, 8, 8, 12]);
      expect(exp.shape).toEqual([2, 8, 8, 12]);
      expect(relError(out.data, exp.f32!)).toBeLessThanOrEqual(TOL);
    } finally {
      m.destroy();
    }
  }, 120_000);

  it('CLI forward writes the same sample', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-dit-ns-'));
    try {
      const out = join(dir, 'out.safetensors');
      const r = await tesseraCli(['forward', '--model', join(FIXTURES, 'dit_small', 'model'), '--inputs', join(CASE, 'inputs.safetensors'), '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`wrote ${out}: sample [2,8,8,12] (dit 2 layers`);
      const got = (await readInputs(out)).get('sample')!;
      const exp = (await readInputs(join(CASE, 'expected.safetensors'))).get('sample')!;
      expect(got.shape).toEqual([2, 8, 8, 12]);
      expect(relError(got.f32!, exp.f32!)).toBeLessThanOrEqual(TOL);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
