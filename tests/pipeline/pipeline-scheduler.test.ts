// The pipeline's scheduler as diffusers builds it: a scheduler_config.json whose _class_name is not
// model_index.json's class is read as model_index's class .from_config(config) (DiffusionPipeline.from_pretrained),
// with one warning; and Pipeline.generate's `scheduler` swaps the class as
// `pipe.scheduler = X.from_config(pipe.scheduler.config)` does, giving what generate() gives with that class.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import '../../src/node-env.js';
import { InputError } from '../../src/model/model.js';
import { loadPipeline, PipelineError } from '../../src/pipeline/pipeline.js';
import { generate } from '../../src/sampler/generate.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { randn } from '../../src/random.js';

const PIPE = join(FIXTURES, 'wan_pipeline_embeds', 'pipeline'); // FlowMatchEulerDiscreteScheduler, shift 3
const tmp = mkdtempSync(join(tmpdir(), 'tessera-pipeline-scheduler-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => void vi.restoreAllMocks());

let n = 0;
/** A copy of the fixture pipeline with its scheduler_config.json edited. */
function withScheduler(edit: (j: Record<string, unknown>) => void, index?: (j: Record<string, unknown>) => void): string {
  const dir = join(tmp, `p${n++}`);
  cpSync(PIPE, dir, { recursive: true });
  const f = join(dir, 'scheduler', 'scheduler_config.json');
  const j = JSON.parse(readFileSync(f, 'utf8'));
  edit(j);
  writeFileSync(f, JSON.stringify(j));
  if (index) {
    const m = join(dir, 'model_index.json');
    const k = JSON.parse(readFileSync(m, 'utf8'));
    index(k);
    writeFileSync(m, JSON.stringify(k));
  }
  return dir;
}
const warnings = () => {
  const spy = vi.spyOn(console, 'warn').mockImplementation(() => {});
  return () => spy.mock.calls.map((c) => String(c[0]));
};

describe("a scheduler_config.json of another class than model_index.json's", () => {
  it('a class tessera does not run in model_index.json is still refused, naming both', async () => {
    const dir = withScheduler(() => {}, (j) => void (j.scheduler = ['diffusers', 'PNDMScheduler']));
    const e = await loadPipeline(dir).catch((x) => x);
    expect(e).toBeInstanceOf(PipelineError);
    expect(e.message).toBe(`${dir}/scheduler/scheduler_config.json: _class_name "FlowMatchEulerDiscreteScheduler" does not match model_index.json's PNDMScheduler, the class diffusers builds, which tessera does not run (supported: FlowMatchEulerDiscreteScheduler, DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler)`);
    const bad = withScheduler((j) => void (j._class_name = 7));
    expect((await loadPipeline(bad).catch((x) => x)).message).toBe(`${bad}/scheduler/scheduler_config.json: _class_name must be a string naming the scheduler class (model_index.json lists FlowMatchEulerDiscreteScheduler), got 7`);
  });
});

describe.skipIf(!hasGpu)('the pipeline scheduler on the GPU', () => {
  const text = { data: randn(8 * 16, 1), shape: [1, 8, 16] };
  const call = { prompt_embeds: text, guidance_scale: 1, seed: 3, height: 32, width: 32, num_frames: 5, num_inference_steps: 3, output_type: 'latent' as const };

  it("model_index.json's class, from the config's shared values, with one warning; the same result as the matching folder", async () => {
    const same = await loadPipeline(PIPE, { gpu: gpu!, vae: false });
    const want = await same.generate(call);
    same.dispose();
    // relabelled only: every value is the class's own; the warning names both classes
    const relabelled = withScheduler((j) => void (j._class_name = 'DPMSolverMultistepScheduler'));
    const got = warnings();
    const pipe = await loadPipeline(relabelled, { gpu: gpu!, vae: false });
    try {
      expect(got()).toEqual([
        `warning: ${relabelled}/scheduler/scheduler_config.json: _class_name "DPMSolverMultistepScheduler" is not model_index.json's FlowMatchEulerDiscreteScheduler: using FlowMatchEulerDiscreteScheduler with the values it defines (as diffusers' from_pretrained does)`,
      ]);
      expect(pipe.scheduler.className).toBe('FlowMatchEulerDiscreteScheduler');
      expect(pipe.scheduler.config['shift']).toBe(3);
      const res = await pipe.generate(call);
      expect(res.timesteps).toEqual(want.timesteps);
      expect(res.latents.data).toEqual(want.latents.data);
      expect(got()).toHaveLength(1); // not again per call
    } finally {
      pipe.dispose();
    }
    // another class's keys in it: ignored, named in that one line
    const foreign = withScheduler((j) => Object.assign(j, { _class_name: 'UniPCMultistepScheduler', solver_order: 3, flow_shift: 5 }));
    const got2 = warnings();
    const p2 = await loadPipeline(foreign, { gpu: gpu!, vae: false });
    try {
      expect(got2()).toEqual([
        `warning: ${foreign}/scheduler/scheduler_config.json: _class_name "UniPCMultistepScheduler" is not model_index.json's FlowMatchEulerDiscreteScheduler: using FlowMatchEulerDiscreteScheduler with the values it defines (as diffusers' from_pretrained does); solver_order, flow_shift are not FlowMatchEulerDiscreteScheduler config keys: ignored`,
      ]);
      expect((await p2.generate(call)).latents.data).toEqual(want.latents.data);
    } finally {
      p2.dispose();
    }
    // one such key: named in the singular, as from_config's own line does
    const one = withScheduler((j) => Object.assign(j, { _class_name: 'UniPCMultistepScheduler', solver_order: 3 }));
    const got3 = warnings();
    (await loadPipeline(one, { gpu: gpu!, vae: false })).dispose();
    expect(got3()).toEqual([
      `warning: ${one}/scheduler/scheduler_config.json: _class_name "UniPCMultistepScheduler" is not model_index.json's FlowMatchEulerDiscreteScheduler: using FlowMatchEulerDiscreteScheduler with the values it defines (as diffusers' from_pretrained does); solver_order is not a FlowMatchEulerDiscreteScheduler config key: ignored`,
    ]);
  });

  it("generate's scheduler builds that class from the folder's config, as generate() with it; unknown names refused first", async () => {
    const pipe = await loadPipeline(PIPE, { gpu: gpu!, vae: false });
    const cfg = JSON.parse(readFileSync(join(PIPE, 'scheduler', 'scheduler_config.json'), 'utf8'));
    try {
      const got = warnings();
      for (const name of ['dpm-solver', 'UniPCMultistepScheduler', 'flow-match-euler']) {
        const res = await pipe.generate({ ...call, scheduler: name });
        const plain = await generate(pipe.transformer, {
          scheduler: name, scheduler_config: cfg, onWarning: () => {}, num_inference_steps: 3, guidance_scale: 1, seed: 3, shape: pipe.latentShape(1, call), prompt_embeds: text,
        });
        expect(res.timesteps, name).toEqual(plain.timesteps);
        expect(res.latents.data, name).toEqual(plain.latents.data);
      }
      // DPM: shift and the other flow-match keys are not its keys (once per class); flow-match Euler is the folder's own: no warning.
      // Each multistep class samples this flow-matching Wan with its epsilon defaults (the config sets neither
      // prediction_type nor use_flow_sigmas): one line each, once per transformer (generate() after it says nothing again)
      const file = `${PIPE}/scheduler/scheduler_config.json`;
      const lines = got();
      expect(lines).toHaveLength(4);
      expect(lines[0]).toBe(`warning: ${file}: base_image_seq_len, base_shift, invert_sigmas, max_image_seq_len, max_shift, shift, shift_terminal, stochastic_sampling are not DPMSolverMultistepScheduler config keys: ignored (as diffusers' from_config does)`);
      expect(lines[1]).toBe(`warning: scheduler: DPMSolverMultistepScheduler built from ${file} samples with prediction_type "epsilon" and use_flow_sigmas false (its defaults), a noise-prediction schedule; WanTransformer3DModel is trained for flow matching, so the output would be noise: give scheduler: 'flow-match-euler' (its defaults are flow matching), or a scheduler_config that sets prediction_type "flow_prediction" and use_flow_sigmas true (as Wan's UniPCMultistepScheduler config does)`);
      expect(lines[2]).toMatch(/^warning: .*: .* are not UniPCMultistepScheduler config keys: ignored/);
      expect(lines[3]).toMatch(/^warning: scheduler: UniPCMultistepScheduler built from .* samples with prediction_type "epsilon" and use_flow_sigmas false \(its defaults\)/);
      await pipe.generate({ ...call, scheduler: 'dpmpp' });
      expect(got()).toHaveLength(4);
      // the default is the folder's class; a switched call does not change the next one
      expect((await pipe.generate(call)).timesteps).toEqual((await pipe.generate({ ...call, scheduler: 'FlowMatchEulerDiscreteScheduler' })).timesteps);
      // unknown names and non-strings: InputError listing the names, before any GPU work (the stage hook never fires)
      const onStage = vi.fn();
      const bad = await pipe.generate({ ...call, scheduler: 'euler-a', onStage }).catch((x) => x);
      expect(bad).toBeInstanceOf(InputError);
      expect(bad.message).toBe('scheduler: scheduler "euler-a" is not supported; supported: FlowMatchEulerDiscreteScheduler, DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler (short names flow-match-euler, ddim, unipc, dpm-solver, dpmpp)');
      await expect(pipe.generate({ ...call, scheduler: 3 as unknown as string, onStage })).rejects.toThrow(/^scheduler: a scheduler class or short name \(a string\), got 3; supported: /);
      expect(onStage).not.toHaveBeenCalled();
      // shift sets a flow shift: refused for UniPC built from this flow-match Euler config (no use_flow_sigmas), naming how to choose flow-match Euler
      const refused = await pipe.generate({ ...call, scheduler: 'unipc', shift: 2 }).catch((x) => x);
      expect(refused).toBeInstanceOf(InputError);
      expect(refused.message).toBe(`shift sets the shift of flow-matching schedules (FlowMatchEulerDiscreteScheduler's shift, UniPC / DPM-Solver's flow_shift with use_flow_sigmas), not UniPCMultistepScheduler, whose flow_shift applies only with use_flow_sigmas true, and ${file} does not set it (default false): its sigmas come from the beta schedule, which has no shift; leave out shift, or give scheduler: 'flow-match-euler'`);
    } finally {
      pipe.dispose();
    }
  });

  it('with shift, a switched class warns naming the folder\'s scheduler_config.json (as without shift)', async () => {
    const ddim = withScheduler(
      (j) => {
        for (const k of Object.keys(j)) if (k !== '_class_name' && k !== '_diffusers_version' && k !== 'num_train_timesteps') delete j[k];
        Object.assign(j, { _class_name: 'DDIMScheduler', beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' });
      },
      (k) => void ((k.scheduler as string[])[1] = 'DDIMScheduler'),
    );
    const got = warnings();
    const pipe = await loadPipeline(ddim, { gpu: gpu!, vae: false });
    try {
      expect(got()).toEqual([]);
      await pipe.generate({ ...call, scheduler: 'flow-match-euler', shift: 3 });
      expect(got()).toEqual([`warning: ${ddim}/scheduler/scheduler_config.json: beta_start, beta_end, beta_schedule are not FlowMatchEulerDiscreteScheduler config keys: ignored (as diffusers' from_config does)`]);
    } finally {
      pipe.dispose();
    }
  });
});
