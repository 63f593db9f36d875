// Pipeline.generate's `scheduler` swap: the ignored-keys warning is said for a call that runs, not for one
// refused after it (session 20, user finding 4a: a refused call printed the warning, then threw).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import '../../src/node-env.js';
import { loadPipeline, pipelineInternals } from '../../src/pipeline/pipeline.js';
import { loadModel } from '../../src/model/model.js';
import { generate } from '../../src/sampler/generate.js';
import { readFileSync } from 'node:fs';
import { StepCountError } from '../../src/sampler/config.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { randn } from '../../src/random.js';

const PIPE = join(FIXTURES, 'wan_pipeline_embeds', 'pipeline'); // FlowMatchEulerDiscreteScheduler, shift 3
afterEach(() => void vi.restoreAllMocks());

describe.skipIf(!hasGpu)('a swapped scheduler warns only for calls that run', () => {
  it('a refused step count: the refusal alone; the next call that runs: the warning, once', async () => {
    const lines: string[] = [];
    const pipe = await loadPipeline(PIPE, { gpu: gpu!, vae: false, onWarning: (l) => void lines.push(l) });
    try {
      const call = { prompt_embeds: { data: randn(8 * 16, 1), shape: [1, 8, 16] }, guidance_scale: 1, seed: 3, height: 32, width: 32, num_frames: 5, output_type: 'latent' as const, scheduler: 'unipc' };
      const e = await pipelineInternals(pipe).checkGenerate({ ...call, num_inference_steps: 5000 }).catch((x) => x);
      expect(e).toBeInstanceOf(StepCountError);
      expect(lines).toEqual([]);
      await pipelineInternals(pipe).checkGenerate({ ...call, num_inference_steps: 2 });
      // and UniPC's epsilon defaults on this flow-matching Wan (the config sets neither prediction_type nor use_flow_sigmas)
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/are not UniPCMultistepScheduler config keys: ignored/);
      expect(lines[1]).toMatch(/^warning: scheduler: UniPCMultistepScheduler built from .* a noise-prediction schedule; WanTransformer3DModel is trained for flow matching/);
      await pipelineInternals(pipe).checkGenerate({ ...call, num_inference_steps: 3 });
      expect(lines).toHaveLength(2);
    } finally {
      pipe.dispose();
    }
  });
});

describe.skipIf(!hasGpu)('generate(): the same for a swapped class built from a config', () => {
  it('a refused step count: no warning; a call that runs: the warning', async () => {
    const m = await loadModel(join(FIXTURES, 'wan_sampler_small', 'model'), { gpu: gpu! });
    try {
      const lines: string[] = [];
      const scheduler_config = readFileSync(join(PIPE, 'scheduler', 'scheduler_config.json'), 'utf8'); // flow-match keys: not UniPC's
      const call = { scheduler: 'unipc', scheduler_config, seed: 1, shape: [1, 4, 2, 6, 8], encoder_hidden_states: { data: randn(6 * 24, 2), shape: [1, 6, 24] }, onWarning: (l: string) => void lines.push(l) };
      await expect(generate(m, { ...call, num_inference_steps: 5000 })).rejects.toBeInstanceOf(StepCountError);
      expect(lines).toEqual([]);
      await generate(m, { ...call, num_inference_steps: 1 });
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/are not UniPCMultistepScheduler config keys: ignored/);
      expect(lines[1]).toMatch(/^warning: scheduler: UniPCMultistepScheduler built from scheduler_config samples with prediction_type "epsilon" and use_flow_sigmas false \(its defaults\)/);
    } finally {
      m.dispose();
    }
  });
});
