// profilePipeline checks its call as Pipeline.generate does (Pipeline.checkGenerate) before any stage: a VAE decode
// over the pipeline's maxMemory is refused in the caller's sizes before the prompt is encoded. Before, it checked
// only the sizes and the decode's band plan (the CLI's demo ran its own check first, reaching into Pipeline's
// privates): the prompt was encoded and the loop run, and the decode then failed with the VAE's own refusal.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { LimitError } from '../../src/model/memory.js';
import { loadPipeline, pipelineInternals, type Pipeline } from '../../src/pipeline/pipeline.js';
import { profilePipeline } from '../../src/profile/pipeline.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');

describe.skipIf(!hasGpu)('profilePipeline checks the call before any stage', () => {
  let pipe: Pipeline;
  // 128×128, 1 frame: the transformer and the sampler fit 12 MiB, the decode (about 19.5 MiB) does not
  beforeAll(async () => {
    pipe = await loadPipeline(DIR, { gpu: gpu!, maxMemory: '12MiB' });
  });
  afterAll(() => pipe?.dispose());

  it('a decode over maxMemory: the Pipeline\'s refusal in pixel sizes, and no stage started', async () => {
    const stages: string[] = [];
    const call = { prompt: 'a red circle moving left', seed: 1, height: 128, width: 128, num_frames: 1, num_inference_steps: 1, guidance_scale: 1 };
    const e = await profilePipeline(pipe, call, { repeats: 1, onStage: (s) => void stages.push(s) }).then(() => null, (x: unknown) => x as Error);
    expect(e).toBeInstanceOf(LimitError);
    expect(e!.message).toMatch(/^height×width 128×128 × 1 frame .*does not fit: the VAE decode \(stage 'decode', /);
    expect(stages).toEqual([]);
    // what Pipeline.generate refuses, word for word
    const g = await pipe.generate(call).then(() => null, (x: unknown) => x as Error);
    expect(g!.message).toBe(e!.message);
  });

  it('checkGenerate returns the latent shape of a call that fits', async () => {
    expect(await pipelineInternals(pipe).checkGenerate({ prompt: 'a red circle moving left', height: 32, width: 32, num_frames: 9, num_inference_steps: 1, guidance_scale: 1 })).toEqual([1, 16, 3, 8, 8]);
  });
});
