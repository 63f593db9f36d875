// A scheduler whose default settings cannot sample the model's family is refused before any GPU work (S25 review #1):
// a Wan transformer folder with no scheduler config run with --scheduler unipc / dpmpp / ddim got the class defaults
// (epsilon prediction, beta sigmas) on a flow-matching model, latents ~150× off with no word, and tessera's own
// "no scheduler config" line suggested those names. A config that sets the settings is followed (it says what the
// model wants); flow-match Euler on an epsilon DiT is the same mistake the other way.
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { familyProblem, schedulerFromConfig } from '../../src/sampler/config.js';
import { generate } from '../../src/sampler/generate.js';
import { loadModel } from '../../src/model/model.js';
import { cliScheduler } from '../../src/cli/cmd-generate.js';
import { checkPipelineScheduler } from '../../src/cli/generate-pipeline.js';
import { UsageError } from '../../src/cli/args.js';
import { readInputs } from '../../src/io/inputs.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { thrown } from '../helpers/errors.js';
import { FIXTURES } from '../helpers/golden.js';
import { cli, tempDir } from '../hardening/helpers.js';
import { shapesConfigsOnly } from '../helpers/config-folder.js';
import { embeddedPipelineDir } from '../../src/cli/embedded.js';

const WAN = join(FIXTURES, 'wan_sampler_unipc_small');
/** The repro's situation: only transformer/ downloaded, no ../scheduler/. */
function bareWan(): string {
  const dir = join(tempDir(), 't');
  cpSync(join(WAN, 'model'), dir, { recursive: true });
  return dir;
}
const wanLine = (name: string, cls: string, defaults: string, dir: string) =>
  `--scheduler: ${cls} with no scheduler config samples with ${defaults} (its defaults), a noise-prediction schedule; WanTransformer3DModel is trained for flow matching, so the output would be noise: give --scheduler flow-match-euler (its defaults are flow matching)` +
  (cls === 'DDIMScheduler' ? '' : `, or a scheduler_config.json (${join(dir, '..', 'scheduler', 'scheduler_config.json')}) that sets prediction_type "flow_prediction" and use_flow_sigmas true (as Wan's UniPCMultistepScheduler config does)`);

describe('--model: a Wan folder with no scheduler config', () => {
  const dir = bareWan();
  it.each([
    ['unipc', 'UniPCMultistepScheduler', 'prediction_type "epsilon" and use_flow_sigmas false'],
    ['dpmpp', 'DPMSolverMultistepScheduler', 'prediction_type "epsilon" and use_flow_sigmas false'],
    ['ddim', 'DDIMScheduler', 'prediction_type "epsilon"'],
  ])('--scheduler %s is refused naming the flag, the model class and what to give', (name, cls, defaults) => {
    expect(thrown(() => cliScheduler(dir, name, undefined, () => {}, 'wan'), UsageError).message).toBe(wanLine(name, cls, defaults, dir));
  });
  it('flow-match-euler (flow defaults) is taken; the "no scheduler config" line offers only it', () => {
    expect(cliScheduler(dir, 'flow-match-euler', undefined, () => {}, 'wan').className).toBe('FlowMatchEulerDiscreteScheduler');
    const m = thrown(() => cliScheduler(dir, undefined, undefined, () => {}, 'wan'), UsageError).message;
    expect(m).toMatch(/: give --scheduler \(FlowMatchEulerDiscreteScheduler or flow-match-euler: the class defaults that fit a flow-matching Wan transformer\), or put the model's scheduler_config\.json there$/);
    // DiT: the epsilon classes
    expect(thrown(() => cliScheduler(join(FIXTURES, 'dit_small', 'model'), undefined, undefined, () => {}, 'dit'), UsageError).message).toContain('give --scheduler (DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler or ddim, unipc, dpm-solver, dpmpp: the class defaults that fit a DiT (epsilon) transformer)');
  });
  it('spawned, as the repro ran it: exit 2, the one line, nothing written', async () => {
    const out = join(tempDir(), 'o.safetensors');
    const r = await cli(['generate', '--model', dir, '--inputs', join(WAN, 'inputs.safetensors'), '--steps', '3', '--guidance', '5', '--scheduler', 'unipc', '--out', out]);
    expect(r.errLines).toEqual([`tessera: error: UsageError: ${wanLine('unipc', 'UniPCMultistepScheduler', 'prediction_type "epsilon" and use_flow_sigmas false', dir)}`]);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});

describe('familyProblem: only settings the config leaves at their defaults', () => {
  const wanEuler = JSON.parse(readFileSync(join(FIXTURES, 'wan_sampler_small', 'scheduler', 'scheduler_config.json'), 'utf8'));
  const o = { option: 'scheduler', choose: (n: string) => `scheduler: '${n}'`, configHint: 'a scheduler_config' };
  const spec = (config: Record<string, unknown>, override?: string) => schedulerFromConfig(config, { file: 'c.json', override, warn: () => {} });
  it("a Wan flow-match Euler config swapped to unipc / ddim (it sets no prediction_type) is refused, naming the file", () => {
    expect(familyProblem(spec(wanEuler, 'unipc'), 'wan', o)).toMatch(/^scheduler: UniPCMultistepScheduler built from c\.json samples with prediction_type "epsilon" and use_flow_sigmas false \(its defaults\)/);
    expect(familyProblem(spec(wanEuler, 'ddim'), 'wan', o)).toMatch(/^scheduler: DDIMScheduler built from c\.json samples with prediction_type "epsilon" \(its defaults\)/);
    // flow predictions on beta sigmas: the sigmas' default is at fault
    expect(familyProblem(spec({ _class_name: 'UniPCMultistepScheduler', prediction_type: 'flow_prediction' }), 'wan', o)).toMatch(/samples with use_flow_sigmas false \(its defaults\)/);
  });
  it('a config that sets them is followed: Wan UniPC with flow settings, or explicitly epsilon; DiT with its own configs', () => {
    expect(familyProblem(spec(JSON.parse(readFileSync(join(WAN, 'scheduler', 'scheduler_config.json'), 'utf8'))), 'wan', o)).toBeNull();
    expect(familyProblem(spec({ _class_name: 'UniPCMultistepScheduler', prediction_type: 'epsilon' }), 'wan', o)).toBeNull();
    expect(familyProblem(spec(wanEuler), 'wan', o)).toBeNull();
    expect(familyProblem(spec({}, 'unipc'), 'dit', o)).toBeNull();
    expect(familyProblem(spec({ _class_name: 'FlowMatchEulerDiscreteScheduler', prediction_type: 'flow_prediction' }), 'latte', o)).toBeNull();
  });
  it('flow-match Euler on an epsilon DiT / Latte is refused', () => {
    expect(familyProblem(spec({}, 'flow-match-euler'), 'dit', o)).toBe(
      "scheduler: FlowMatchEulerDiscreteScheduler with no scheduler config: FlowMatchEulerDiscreteScheduler reads the model output as a flow velocity, and DiTTransformer2DModel predicts noise (epsilon), so the output would be noise: give scheduler: 'ddim', scheduler: 'unipc', scheduler: 'dpm-solver', scheduler: 'dpmpp' (their defaults predict epsilon), or a scheduler_config for the model",
    );
    expect(familyProblem(spec({ _class_name: 'DDIMScheduler', beta_schedule: 'linear' }, 'flow-match-euler'), 'latte', o)).toMatch(/^scheduler: FlowMatchEulerDiscreteScheduler built from c\.json: .* LatteTransformer3DModel predicts noise/);
  });
});

describe('--pipeline: --scheduler swapped from the folder config', () => {
  it('unipc from a Wan flow-match Euler config is refused before any weight is read', () => {
    const pipe = join(FIXTURES, 'wan_pipeline_embeds', 'pipeline');
    expect(thrown(() => checkPipelineScheduler(pipe, false, 'unipc', undefined), UsageError).message).toMatch(/^--scheduler: UniPCMultistepScheduler built from .*scheduler_config\.json samples with prediction_type "epsilon" and use_flow_sigmas false \(its defaults\), a noise-prediction schedule; WanTransformer3DModel is trained for flow matching/);
    expect(() => checkPipelineScheduler(pipe, false, 'flow-match-euler', undefined)).not.toThrow();
  });
  it("the folder's own class from a config that leaves the settings out: refused too; the embedded pipeline's own is taken", () => {
    const pipe = shapesConfigsOnly(tempDir());
    const file = join(pipe, 'scheduler', 'scheduler_config.json');
    const { prediction_type: _p, use_flow_sigmas: _u, ...rest } = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify(rest));
    expect(thrown(() => checkPipelineScheduler(pipe, false, undefined, undefined), UsageError).message).toMatch(/^--scheduler: UniPCMultistepScheduler built from .*scheduler_config\.json samples with prediction_type "epsilon" and use_flow_sigmas false \(its defaults\)/);
    expect(() => checkPipelineScheduler(embeddedPipelineDir(), true, undefined, 5)).not.toThrow();
  });
});

describe.skipIf(!hasGpu)('library: loadModel + generate() with a scheduler name and no config', () => {
  it("a Wan model with scheduler 'unipc': one warning line through onWarning, once per model (the CLI and Pipeline.generate refuse it)", async () => {
    const m = await readInputs(join(WAN, 'inputs.safetensors'));
    const t = (k: string) => ({ data: m.get(k)!.f32!, shape: m.get(k)!.shape });
    const wan = await loadModel(bareWan(), { gpu: gpu! });
    try {
      const lines: string[] = [];
      const opts = { num_inference_steps: 1, latents: t('latents'), encoder_hidden_states: t('encoder_hidden_states'), onWarning: (l: string) => void lines.push(l) };
      await generate(wan, { ...opts, scheduler: 'unipc' });
      await generate(wan, { ...opts, scheduler: 'unipc' });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^warning: scheduler: UniPCMultistepScheduler with no scheduler config samples with prediction_type "epsilon" and use_flow_sigmas false \(its defaults\).*give scheduler: 'flow-match-euler' \(its defaults are flow matching\)/);
      await generate(wan, { ...opts, scheduler: 'flow-match-euler' });
      expect(lines).toHaveLength(1);
    } finally {
      wan.destroy();
    }
  });
});
