// Per-dispatch times of every denoising step of a run (generate's onStepProfile; profilePipeline's
// profileSteps, through Pipeline.generate), timed by the profiler profilePlan uses (one compute pass per
// dispatch with timestamp writes); without the option nothing of it is recorded (no query set, no
// timestamp write).
// On lavapipe (Dawn has timestamp-query there); where the adapter lacks it, the step runs say why.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { readInputs } from '../../src/io/inputs.js';
import { loadModel, type DiffusionModel, type TensorData } from '../../src/model/model.js';
import { loadPipeline, type Pipeline } from '../../src/pipeline/pipeline.js';
import { profilePipeline, stageRuns } from '../../src/profile/pipeline.js';
import type { ProfileRun } from '../../src/profile/profiler.js';
import { chromeTrace } from '../../src/profile/report.js';
import { generate } from '../../src/sampler/generate.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const CASE = join(FIXTURES, 'wan_pipeline_embeds');
const PIPE = join(CASE, 'pipeline');

/** Counts what the device is asked for while `f` runs: query sets created and compute passes with timestamp writes. */
async function counting<T>(f: () => Promise<T>): Promise<{ result: T; querySets: number; timedPasses: number }> {
  const d = gpu!.device;
  const createQuerySet = d.createQuerySet;
  const createCommandEncoder = d.createCommandEncoder;
  let querySets = 0;
  let timedPasses = 0;
  d.createQuerySet = function (desc) {
    querySets++;
    return createQuerySet.call(this, desc);
  };
  d.createCommandEncoder = function (desc) {
    const enc = createCommandEncoder.call(this, desc);
    const begin = enc.beginComputePass;
    enc.beginComputePass = function (pd) {
      if (pd?.timestampWrites) timedPasses++;
      return begin.call(this, pd);
    };
    return enc;
  };
  try {
    return { result: await f(), querySets, timedPasses };
  } finally {
    d.createQuerySet = createQuerySet;
    d.createCommandEncoder = createCommandEncoder;
  }
}

describe.skipIf(!hasGpu)("generate's onStepProfile: each denoising step's kernels", () => {
  let model: DiffusionModel;
  let latents: TensorData;
  let text: TensorData;
  const opts = () => ({ scheduler: 'flow-match-euler', num_inference_steps: 3, guidance_scale: 4, latents, prompt_embeds: text, negative_prompt_embeds: text });
  beforeAll(async () => {
    const inp = await readInputs(join(CASE, 'euler_b1.inputs.safetensors'));
    const t = (k: string): TensorData => ({ data: inp.get(k)!.f32!, shape: inp.get(k)!.shape });
    latents = t('latents');
    text = t('encoder_hidden_states');
    model = await loadModel(join(PIPE, 'transformer'), { gpu: gpu! });
  }, 120_000);
  afterAll(() => model?.destroy());

  it('hands each step its dispatches with their GPU times; the latents are those of a run without it, which records no timestamps', async () => {
    const plain = await counting(() => generate(model, opts()));
    expect(plain.querySets, 'no query set without onStepProfile').toBe(0);
    expect(plain.timedPasses, 'no timestamp writes without onStepProfile').toBe(0);
    const got: { step: number; steps: number; run: ProfileRun }[] = [];
    const order: string[] = [];
    const prof = await counting(() =>
      generate(model, {
        ...opts(),
        onStepProfile: (step, steps, run) => {
          order.push(`profile ${step}`);
          got.push({ step, steps, run });
        },
        onStep: (step) => void order.push(`step ${step}`),
      }),
    );
    expect(Array.from(prof.result.latents.data), 'the same latents, bit for bit').toEqual(Array.from(plain.result.latents.data));
    expect(order).toEqual(['profile 1', 'step 1', 'profile 2', 'step 2', 'profile 3', 'step 3']);
    expect(got.map((g) => [g.step, g.steps])).toEqual([[1, 3], [2, 3], [3, 3]]);
    // the forward of every step (one batched CFG pass), then the guidance and the scheduler's update
    const forward = model.planFor({ hidden_states: { data: new Float32Array(2 * latents.data.length), shape: [2, ...latents.shape.slice(1)] }, timestep: [500, 500], encoder_hidden_states: { data: new Float32Array(2 * text.data.length), shape: [2, ...text.shape.slice(1)] } });
    const kernels = forward.dispatches.map((d) => d.kernel);
    for (const { step, run } of got) {
      const ks = run.dispatches.map((d) => d.kernel);
      expect(ks.some((k) => k.startsWith('gemm')), `step ${step}: a gemm`).toBe(true);
      expect(ks.some((k) => k.startsWith('attention')), `step ${step}: attention`).toBe(true);
      expect(run.dispatches.some((d) => d.layer.endsWith('guidance')), `step ${step}: the guidance`).toBe(true);
      expect(ks.at(-1)!.startsWith('lincomb'), `step ${step}: the scheduler's update last`).toBe(true);
      // the whole forward, in order, in each step (step 1 after its text embedding and K/V): the dispatches outside the sampler's
      const own = run.dispatches.filter((d) => !d.layer.startsWith('sampler.')).map((d) => d.kernel);
      expect(step === 1 ? own.slice(-kernels.length) : own, `step ${step}: the forward's dispatches`).toEqual(kernels);
      if (step === 1) expect(own.length, 'step 1: the text embedding and K/V before the forward').toBeGreaterThan(kernels.length);
      expect(run.repeats).toBe(1);
      if (gpu!.timestamps) {
        expect(run.timing).toBe('gpu-timestamps');
        expect(run.dispatches.filter((d) => d.ms !== null && d.ms > 0).length, `step ${step}: timed dispatches`).toBeGreaterThan(run.dispatches.length / 2);
        expect(run.totalMs).toBeGreaterThan(0);
      } else {
        expect(run.timing).toBe('wall-clock');
        expect(run.note).toMatch(/^the adapter lacks timestamp-query/);
      }
    }
    // step 1 holds the text embedding and cross-attention K/V (the prepare plan), run once per generation
    expect(got[0]!.run.dispatches.length).toBeGreaterThan(got[1]!.run.dispatches.length);
    if (gpu!.timestamps) {
      expect(prof.timedPasses).toBe(got.reduce((a, g) => a + g.run.dispatches.length, 0));
      expect(prof.querySets).toBe(3);
    }
  }, 120_000);

  it('refuses an onStepProfile that is not a function, naming it; one that throws fails the run as onStep would', async () => {
    await expect(generate(model, { ...opts(), onStepProfile: 3 as never })).rejects.toThrow('onStepProfile: a function, got 3');
    const cause = new Error('table full');
    const e = await generate(model, { ...opts(), onStepProfile: async (step) => { if (step === 2) throw cause; } }).catch((x: unknown) => x);
    expect((e as Error).message).toBe('generate, step 2/3: onStepProfile failed: table full');
    expect((e as Error).cause).toBe(cause);
  });
});

describe.skipIf(!hasGpu)("profilePipeline's profileSteps", () => {
  let pipe: Pipeline;
  let text: TensorData;
  const o = () => ({ prompt_embeds: text, negative_prompt_embeds: text, seed: 1, height: 32, width: 32, num_frames: 5, num_inference_steps: 2, guidance_scale: 4 });
  beforeAll(async () => {
    const inp = await readInputs(join(CASE, 'euler_b1.inputs.safetensors'));
    text = { data: inp.get('encoder_hidden_states')!.f32!, shape: inp.get('encoder_hidden_states')!.shape };
    pipe = await loadPipeline(PIPE, { gpu: gpu! });
  }, 120_000);
  afterAll(() => pipe?.dispose());

  it('profileSteps: one run per step of the loop in the transformer stage, a trace track each; without it none and no timestamps in the loop', async () => {
    const off = await profilePipeline(pipe, o(), { repeats: 1 });
    expect(off.stages.find((s) => s.stage === 'transformer')!.stepRuns).toBeUndefined();
    const on = await profilePipeline(pipe, o(), { repeats: 1, profileSteps: true });
    expect(Array.from(on.output.latents.data), 'the same clip').toEqual(Array.from(off.output.latents.data));
    const tr = on.stages.find((s) => s.stage === 'transformer')!;
    expect(tr.stepRuns).toHaveLength(2);
    for (const r of tr.stepRuns!) {
      expect(r.dispatches.some((d) => d.kernel.startsWith('gemm'))).toBe(true);
      expect(r.timing).toBe(gpu!.timestamps ? 'gpu-timestamps' : 'wall-clock');
    }
    const names = stageRuns(on.stages).map((r) => r.name);
    expect(names).toEqual(['transformer (WanTransformer3DModel)', 'denoising step 1/2', 'denoising step 2/2', 'VAE decode (AutoencoderKLWan)']);
    const trace = chromeTrace(stageRuns(on.stages));
    expect(JSON.stringify(trace)).toContain('denoising step 2/2');
    // forceWallClock: the steps are named without per-dispatch times, and say why
    const wall = await profilePipeline(pipe, o(), { repeats: 1, profileSteps: true, forceWallClock: true });
    const runs = wall.stages.find((s) => s.stage === 'transformer')!.stepRuns!;
    expect(runs).toHaveLength(2);
    for (const r of runs) {
      expect(r.timing).toBe('wall-clock');
      expect(r.dispatches.every((d) => d.ms === null)).toBe(true);
      expect(r.note).toMatch(gpu!.timestamps ? /^timestamp queries disabled on request: wall clock around onSubmittedWorkDone\(\) over the whole step/ : /^the adapter lacks timestamp-query/);
    }
    expect(runs[0]!.note).toContain("step 1: its kernels' tuning and compilation included");
  }, 300_000);
});
