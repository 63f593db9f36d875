// Pipeline.generate's onStepProfile: forwarded to the denoising loop (generate's option of the same name), one
// ProfileRun per step, before that step's onStep; refused when not a function and named in a hook's failure as
// Pipeline.generate's other callbacks are. profilePipeline's profileSteps goes through it and hands the runs on
// to the caller's own onStepProfile too.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readInputs } from '../../src/io/inputs.js';
import type { TensorData } from '../../src/model/model.js';
import { loadPipeline, type Pipeline } from '../../src/pipeline/pipeline.js';
import { profilePipeline } from '../../src/profile/pipeline.js';
import type { ProfileRun } from '../../src/profile/profiler.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const CASE = join(FIXTURES, 'wan_pipeline_embeds');

describe.skipIf(!hasGpu)("Pipeline.generate's onStepProfile", () => {
  let pipe: Pipeline;
  let text: TensorData;
  const o = () => ({ prompt_embeds: text, negative_prompt_embeds: text, seed: 1, height: 32, width: 32, num_frames: 5, num_inference_steps: 3, guidance_scale: 4, output_type: 'latent' as const });
  beforeAll(async () => {
    const inp = await readInputs(join(CASE, 'euler_b1.inputs.safetensors'));
    text = { data: inp.get('encoder_hidden_states')!.f32!, shape: inp.get('encoder_hidden_states')!.shape };
    pipe = await loadPipeline(join(CASE, 'pipeline'), { gpu: gpu! });
  }, 120_000);
  afterAll(() => pipe?.dispose());

  it('one ProfileRun per denoising step, before its onStep; the latents are those of a run without it', async () => {
    const plain = await pipe.generate(o());
    const order: string[] = [];
    const runs: ProfileRun[] = [];
    const out = await pipe.generate({
      ...o(),
      onStepProfile: (step, steps, run) => {
        order.push(`profile ${step}/${steps}`);
        runs.push(run);
      },
      onStep: (step) => void order.push(`step ${step}`),
    });
    expect(order).toEqual(['profile 1/3', 'step 1', 'profile 2/3', 'step 2', 'profile 3/3', 'step 3']);
    expect(Array.from(out.latents.data), 'the same latents, bit for bit').toEqual(Array.from(plain.latents.data));
    for (const run of runs) {
      expect(run.dispatches.some((d) => d.kernel.startsWith('gemm')), 'the forward').toBe(true);
      expect(run.dispatches.at(-1)!.kernel.startsWith('lincomb'), "the scheduler's update last").toBe(true);
      expect(run.timing).toBe(gpu!.timestamps ? 'gpu-timestamps' : 'wall-clock');
    }
    // step 1 holds the text embedding and cross-attention K/V too
    expect(runs[0]!.dispatches.length).toBeGreaterThan(runs[1]!.dispatches.length);
  }, 120_000);

  it('not a function: an InputError naming it; one that throws fails the call naming Pipeline.generate and the step', async () => {
    await expect(pipe.generate({ ...o(), onStepProfile: 3 as never })).rejects.toThrow('onStepProfile: a function, got 3');
    const cause = new Error('table full');
    const e = await pipe.generate({ ...o(), onStepProfile: async (step) => { if (step === 2) throw cause; } }).catch((x: unknown) => x);
    expect((e as Error).message).toBe('Pipeline.generate, step 2/3: onStepProfile failed: table full');
    expect((e as Error).cause).toBe(cause);
  }, 120_000);

  it("profilePipeline's profileSteps hands each step's run to the caller's onStepProfile as well", async () => {
    const mine: number[] = [];
    const res = await profilePipeline(pipe, { ...o(), output_type: undefined, num_inference_steps: 2, onStepProfile: (step) => void mine.push(step) }, { repeats: 1, profileSteps: true });
    expect(mine).toEqual([1, 2]);
    expect(res.stages.find((s) => s.stage === 'transformer')!.stepRuns).toHaveLength(2);
    // without profileSteps the caller's own still gets them
    mine.length = 0;
    const off = await profilePipeline(pipe, { ...o(), output_type: undefined, num_inference_steps: 2, onStepProfile: (step) => void mine.push(step) }, { repeats: 1 });
    expect(mine).toEqual([1, 2]);
    expect(off.stages.find((s) => s.stage === 'transformer')!.stepRuns).toBeUndefined();
  }, 300_000);
});
