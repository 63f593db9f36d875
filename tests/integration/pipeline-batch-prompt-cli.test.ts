// Audit N item 1: `generate --pipeline DIR --prompt P --inputs FILE` with a batch of 2 latents in FILE takes the
// one prompt (and negative prompt) for every item, as diffusers' num_videos_per_prompt=2 does (it was refused:
// 'a batch of 2 … for 1 prompts'). Golden case tests/fixtures/tessera_shapes/pipeline_batch_prompt (the real
// WanPipeline, float32, make_case.py there), held to GOLDEN_F32. The library still wants the batch to match
// the prompts, in singular/plural words.
import '../helpers/optimised-compile.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, loadCase, ROOT, runCase } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { goldenF32Tol } from '../tolerances.js';
import { readInputs } from '../../src/io/inputs.js';
import { nodeFolder } from '../../src/io/node-source.js';
import { loadPipeline } from '../../src/pipeline/pipeline.js';

const NAME = 'tessera_shapes/pipeline_batch_prompt';

describe.skipIf(!hasGpu)('one --prompt over the inputs file batch', () => {
  it('matches WanPipeline(prompt, num_videos_per_prompt=2, latents [2,16,3,4,8]); an explicit --negative-prompt repeats too', async () => {
    const tol = goldenF32Tol(loadCase(NAME).tolerance.max);
    const a = await runCase(NAME);
    console.log(`${NAME}: rel ${a.rel.toExponential(2)} (tolerance ${tol})`);
    expect(a.rel).toBeLessThanOrEqual(tol);
    // "" is WanPipeline's default negative prompt: given as a flag it must repeat over the batch the same way
    const b = await runCase(NAME, ['--negative-prompt', '']);
    expect(b.rel).toBeLessThanOrEqual(tol);
  }, 240_000);

  it('the library: one prompt string for a batch of 2 latents is refused in the singular, 3 prompts in the plural', async () => {
    const latents = (await readInputs(join(FIXTURES, NAME, 'inputs.safetensors'))).get('latents')!;
    const pipe = await loadPipeline(nodeFolder(join(ROOT, 'models', 'tessera-shapes')), { gpu: gpu! });
    try {
      const l = { shape: latents.shape, data: latents.f32! };
      await expect(pipe.generate({ prompt: 'a red circle', latents: l, num_inference_steps: 1, max_sequence_length: 12 })).rejects.toThrow(/^latents: a batch of 2 in \[2,16,3,4,8\] for 1 prompt$/);
      await expect(pipe.generate({ prompt: ['a', 'b', 'c'], latents: l, num_inference_steps: 1, max_sequence_length: 12 })).rejects.toThrow(/^latents: a batch of 2 in \[2,16,3,4,8\] for 3 prompts$/);
    } finally {
      pipe.dispose();
    }
  }, 120_000);
});
