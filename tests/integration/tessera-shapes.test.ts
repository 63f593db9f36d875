// tessera's own trained pipeline (models/tessera-shapes, issue 12) against the real libraries'
// float32 outputs on the same weights (training/goldens.py): the UMT5 text encoder's
// prompt_embeds, one WanTransformer3DModel forward, the AutoencoderKLWan decode and the whole
// WanPipeline from given latents — each through the CLI as the case says (f32), held to GOLDEN_F32
// (1e-4; the cases allow 2e-3; last measured: encode 4.3e-7, forward 9.4e-7, decode 2.4e-6, pipeline 2.2e-5).
import '../helpers/optimised-compile.js'; // first: the optimised lavapipe compile (run time dominates here)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, loadCase, runCase } from '../helpers/golden.js';
import { hasGpu } from '../helpers/gpu.js';
import { goldenF32Tol } from '../tolerances.js';

const CASES = ['tessera_shapes/encode', 'tessera_shapes/forward', 'tessera_shapes/decode', 'tessera_shapes/pipeline'];

describe.skipIf(!hasGpu)('tessera-shapes: tessera matches transformers/diffusers on the trained weights', () => {
  it.each(CASES)('%s', async (name) => {
    expect(existsSync(join(FIXTURES, name, 'case.json'))).toBe(true);
    const c = loadCase(name);
    const tol = goldenF32Tol(c.tolerance.max);
    const { rel } = await runCase(name);
    console.log(`${name}: rel ${rel.toExponential(2)} (tolerance ${tol})`);
    expect(rel).toBeLessThanOrEqual(tol);
  });
});
