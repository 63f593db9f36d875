// Negative text embeddings of another length than the positive ones (diffusers' WanPipeline
// accepts them: cond and uncond are separate transformer calls). Checked against the real
// WanPipeline in float64 (tests/fixtures/wan_pipeline_embeds/make_neglen.py: batch 2, L 8 vs L' 5,
// UniPC 4 steps, CFG 5); zero-padding the shorter text instead is shown to miss that reference.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { FIXTURES } from '../helpers/golden.js';
import { relError } from '../helpers/compare.js';
import { GOLDEN_F32 } from '../tolerances.js';
import { readInputs } from '../../src/io/inputs.js';
import { InputError, loadModel, type TensorData } from '../../src/model/model.js';
import { generate } from '../../src/sampler/generate.js';

const CASE = join(FIXTURES, 'wan_pipeline_embeds');

describe.skipIf(!hasGpu)('generate: negative embeddings of another length (WanPipeline)', () => {
  it('batch 2, L 8 vs L\' 5: equals diffusers\' WanPipeline (float64); zero padding does not', async () => {
    const inp = await readInputs(join(CASE, 'neglen_b2.inputs.safetensors'));
    const t = (k: string): TensorData => ({ data: inp.get(k)!.f32!, shape: inp.get(k)!.shape });
    const want = (await readInputs(join(CASE, 'neglen_b2.expected.safetensors'))).get('latents')!.f32!;
    const [pos, neg] = [t('encoder_hidden_states'), t('negative_encoder_hidden_states')];
    expect(pos.shape).toEqual([2, 8, 16]);
    expect(neg.shape).toEqual([2, 5, 16]);
    const model = await loadModel(join(CASE, 'pipeline', 'transformer'), { gpu: gpu! });
    const scheduler_config = JSON.parse(readFileSync(join(CASE, 'scheduler_unipc', 'scheduler_config.json'), 'utf8'));
    const run = (negative: TensorData) =>
      generate(model, { scheduler_config, num_inference_steps: 4, guidance_scale: 5, latents: t('latents'), prompt_embeds: pos, negative_prompt_embeds: negative });
    try {
      const got = await run(neg);
      const err = relError(got.latents.data, want);
      console.log(`negative length 5 vs 8: ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(GOLDEN_F32);
      // the shorter text padded with zero rows to L 8 (one batched pass) lands far from diffusers
      const padded = new Float32Array(2 * 8 * 16);
      for (let b = 0; b < 2; b++) padded.set(neg.data.subarray(b * 5 * 16, (b + 1) * 5 * 16), b * 8 * 16);
      const pad = await run({ data: padded, shape: [2, 8, 16] });
      expect(relError(pad.latents.data, want)).toBeGreaterThan(100 * GOLDEN_F32);
      // another batch or width is still refused before any GPU work, naming both shapes by the names given (prompt_embeds here)
      const bytes = model.gpuBytes;
      const e = await run({ data: neg.data.subarray(0, 5 * 16), shape: [1, 5, 16] }).catch((x) => x);
      expect(e).toBeInstanceOf(InputError);
      expect(e.message).toBe("negative_prompt_embeds: expected [2, L', 16] (the batch and width of prompt_embeds [2,8,16]; any length L'), found [1,5,16]");
      expect(model.gpuBytes).toBe(bytes);
    } finally {
      model.destroy();
    }
  });
});
