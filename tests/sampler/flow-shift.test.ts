// --shift / the `shift` option on UniPC and DPM-Solver configs with flow sigmas: Wan's documented recipe
// UniPCMultistepScheduler.from_config(config, flow_shift=5.0), against the real diffusers
// (tests/fixtures/sampler/flow_shift.json, make_flow_shift.py): the timesteps, sigmas and every step's sample of
// diffusers' own step() loop on a stand-in model, and the latents of a 3-step CFG loop on the tiny Wan transformer of
// wan_sampler_unipc_small. Where the class has no flow shift (DDIM; UniPC without use_flow_sigmas) it stays refused.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { schedulerFromConfig, SchedulerConfigError } from '../../src/sampler/config.js';
import { generate, resolveScheduler } from '../../src/sampler/generate.js';
import { runProgramCpu } from '../../src/sampler/program.js';
import { InputError, loadModel } from '../../src/model/model.js';
import { readInputs } from '../../src/io/inputs.js';
import { cliScheduler } from '../../src/cli/cmd-generate.js';
import { UsageError } from '../../src/cli/args.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { relError } from '../helpers/compare.js';
import { thrown } from '../helpers/errors.js';
import { ROOT } from '../helpers/golden.js';
import { goldenF32Tol, SCHEDULER_TOL } from '../tolerances.js';

interface Case { class: string; source: string | null; config: Record<string, unknown> | null; flow_shift: number; steps: number; timesteps: number[]; sigmas: number[]; samples: number[][] }
const fx = JSON.parse(readFileSync(new URL('../fixtures/sampler/flow_shift.json', import.meta.url), 'utf8')) as {
  initial: number[];
  cases: Case[];
  wan: { case: string; flow_shift: number; steps: number; guidance: number; timesteps: number[]; shape: number[]; latents: number[] };
};
const configOf = (c: Case) => (c.source ? JSON.parse(readFileSync(join(ROOT, c.source), 'utf8')) : c.config!) as Record<string, unknown>;
const model = (t: number, x: Float64Array) => Float64Array.from(x, (v, j) => 0.6 * v + 0.3 * Math.sin(t / 97 + j));
const UNIPC = join(ROOT, 'tests/fixtures/wan_sampler_unipc_small');

describe('shift on flow-sigma multistep configs vs diffusers from_config(config, flow_shift=S)', () => {
  for (const c of fx.cases) {
    it(`${c.class}.from_config(${c.source ?? JSON.stringify(c.config)}, flow_shift=${c.flow_shift}) × ${c.steps}`, async () => {
      const spec = schedulerFromConfig(configOf(c), { file: 'f.json', shift: c.flow_shift, warn: () => {} });
      expect(spec.config.flow_shift).toBe(c.flow_shift); // as diffusers' scheduler.config says it
      const p = spec.setTimesteps(c.steps);
      expect(p.timesteps).toEqual(c.timesteps);
      p.sigmas!.forEach((s, i) => expect(Math.abs(s - c.sigmas[i]!)).toBeLessThanOrEqual(SCHEDULER_TOL.sigma));
      const traj: Float64Array[] = [];
      const last = await runProgramCpu(p, Float64Array.from(fx.initial), (i, x) => {
        if (i > 0) traj.push(x);
        return model(p.timesteps[i]!, x);
      });
      traj.push(last);
      const scale = Math.max(...c.samples.flat().map(Math.abs));
      let worst = 0;
      traj.forEach((x, i) => x.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - c.samples[i]![j]!) / scale))));
      expect(worst).toBeLessThanOrEqual(SCHEDULER_TOL.trajectory);
    });
  }

  it("the library's shift option and the CLI's --shift take the same schedule (the config's own flow_shift 3 gives another)", () => {
    const c = fx.cases[0]!;
    const config = configOf(c);
    expect(resolveScheduler({ scheduler_config: config, shift: 5 }).setTimesteps(c.steps).timesteps).toEqual(c.timesteps);
    expect(cliScheduler(join(UNIPC, 'model'), undefined, 5, () => {}).setTimesteps(c.steps).timesteps).toEqual(c.timesteps);
    expect(cliScheduler(join(UNIPC, 'model'), 'unipc', 5, () => {}).setTimesteps(c.steps).timesteps).toEqual(c.timesteps);
    expect(resolveScheduler({ scheduler_config: config }).setTimesteps(c.steps).timesteps).not.toEqual(c.timesteps);
  });

  it('refused where the class has no flow shift: DDIM, and UniPC / DPM-Solver without use_flow_sigmas (their beta sigmas ignore flow_shift)', () => {
    const noFlow = { _class_name: 'UniPCMultistepScheduler', prediction_type: 'epsilon' };
    expect(thrown(() => resolveScheduler({ scheduler_config: noFlow, shift: 5 }, 'sched.json'), InputError).message).toBe(
      "shift sets the shift of flow-matching schedules (FlowMatchEulerDiscreteScheduler's shift, UniPC / DPM-Solver's flow_shift with use_flow_sigmas), not UniPCMultistepScheduler, whose flow_shift applies only with use_flow_sigmas true, and sched.json does not set it (default false): its sigmas come from the beta schedule, which has no shift; leave out shift, or give scheduler: 'flow-match-euler'",
    );
    expect(thrown(() => schedulerFromConfig({ ...noFlow, use_flow_sigmas: false, _class_name: 'DPMSolverMultistepScheduler' }, { file: 'd.json', shift: 2 }), SchedulerConfigError).message).toContain('DPMSolverMultistepScheduler, whose flow_shift applies only with use_flow_sigmas true, and d.json sets it false');
    expect(thrown(() => resolveScheduler({ scheduler: 'ddim', shift: 5 }), InputError).message).toMatch(/not DDIMScheduler, which has no shift: leave out shift/);
    expect(thrown(() => cliScheduler(join(ROOT, 'tests/fixtures/dit_sampler_dpmpp_small/model'), undefined, 2), UsageError).message).toContain('--shift sets the shift of flow-matching schedules');
  });
});

describe.skipIf(!hasGpu)('--shift 5 on the tiny Wan model vs diffusers UniPC from_config(config, flow_shift=5.0)', () => {
  it('the latents of a 3-step CFG loop', async () => {
    const w = fx.wan;
    const m = await readInputs(join(UNIPC, 'inputs.safetensors'));
    const t = (k: string) => ({ data: m.get(k)!.f32!, shape: m.get(k)!.shape });
    const wan = await loadModel(join(UNIPC, 'model'), { gpu: gpu! });
    try {
      const out = await generate(wan, {
        scheduler: cliScheduler(join(UNIPC, 'model'), undefined, w.flow_shift, () => {}),
        num_inference_steps: w.steps,
        guidance_scale: w.guidance,
        latents: t('latents'),
        encoder_hidden_states: t('encoder_hidden_states'),
        negative_encoder_hidden_states: t('negative_encoder_hidden_states'),
      });
      expect(out.timesteps).toEqual(w.timesteps);
      expect(out.latents.shape).toEqual(w.shape);
      const err = relError(out.latents.data, w.latents);
      console.log(`flow_shift 5 latents: ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(goldenF32Tol(2e-3));
    } finally {
      wan.destroy();
    }
  });
});
