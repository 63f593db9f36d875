// Counts of one in printed lines: "its one step", "1 seed", "at most 1 step works" (plural()), not "all 1 steps".
// The demo prints the transformer stage's `covers` after its name (tessera demo --steps 1).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadPipeline, type Pipeline } from '../../src/pipeline/pipeline.js';
import { profilePipeline } from '../../src/profile/pipeline.js';
import { RepeatedStartError } from '../../src/sampler/multistep.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

describe.skipIf(!hasGpu)('one denoising step, in words', () => {
  let pipe: Pipeline;
  beforeAll(async () => {
    pipe = await loadPipeline(join(ROOT, 'models', 'tessera-shapes'), { gpu: gpu! });
  });
  afterAll(() => pipe?.dispose());

  it("profilePipeline's transformer stage: 'the loop's wall time is for its one step'", async () => {
    const r = await profilePipeline(pipe, { prompt: 'a red circle moving left', seed: 1, height: 32, width: 32, num_frames: 1, num_inference_steps: 1, guidance_scale: 1 }, { repeats: 1 });
    const covers = r.stages.find((s) => s.stage === 'transformer')!.covers;
    expect(covers).toMatch(/^one denoising step of 1 \(/);
    expect(covers).toMatch(/; the loop's wall time is for its one step$/);
  });

  it("a seed list of one for two prompts: '1 seed for a batch of 2'", async () => {
    const e = await pipe.generate({ prompt: ['a', 'b'], seed: [1], height: 32, width: 32, num_frames: 1, num_inference_steps: 1, guidance_scale: 1 }).then(() => null, (x: unknown) => x as Error);
    expect(e!.message).toBe('seed: 1 seed for a batch of 2 (one per prompt, or one number)');
  });
});

describe('RepeatedStartError', () => {
  it("'at most 1 step works', for library callers (the CLI words its own)", () => {
    const e = new RepeatedStartError('UniPCMultistepScheduler', 2, [999, 999], 1);
    expect(e.message).toMatch(/^UniPCMultistepScheduler: 2 steps repeat the first timestep 999 .*; at most 1 step works with this config$/);
  });
});
