// schedulerFromConfig's refusals name the option that picks the class as its caller calls it: the
// library's own `override` by default, generate()'s `scheduler`, the CLI's `--scheduler`, and no
// way to choose at all for a pipeline folder (loadPipeline, `generate --pipeline`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeScheduler, schedulerFromConfig, SchedulerConfigError } from '../../src/sampler/config.js';
import { resolveScheduler } from '../../src/sampler/generate.js';
import { cliScheduler } from '../../src/cli/cmd-generate.js';
import { thrown } from '../helpers/errors.js';
import { cli, tempDir } from '../hardening/helpers.js';

const F = 'pipe/scheduler/scheduler_config.json';
const SUPPORTED = 'FlowMatchEulerDiscreteScheduler, DDIMScheduler, UniPCMultistepScheduler, DPMSolverMultistepScheduler (short names flow-match-euler, ddim, unipc, dpm-solver, dpmpp)';
const noClass = (name: string) => `${F}: has no "_class_name" string naming the scheduler class; give ${name} (${SUPPORTED})`;
const unsupported = (hint: string) => `${F}: scheduler class EulerDiscreteScheduler is not supported; supported: ${SUPPORTED}${hint}`;

describe('library wording', () => {
  it('schedulerFromConfig names its own option, override, by default', () => {
    expect(thrown(() => schedulerFromConfig({ beta_end: 0.02 }, { file: F }), SchedulerConfigError).message).toBe(noClass('override'));
    expect(thrown(() => schedulerFromConfig({ _class_name: 'EulerDiscreteScheduler' }, { file: F }), SchedulerConfigError).message).toBe(unsupported(' (or choose one with override)'));
    expect(thrown(() => schedulerFromConfig({}, { override: 'euler-a' }), SchedulerConfigError).message).toBe(`override: scheduler "euler-a" is not supported; supported: ${SUPPORTED}`);
  });

  it("generate()'s scheduler option, makeScheduler's name", () => {
    expect(thrown(() => resolveScheduler({ scheduler_config: { beta_end: 0.02 } }), SchedulerConfigError).message).toBe(
      `scheduler_config: has no "_class_name" string naming the scheduler class; give scheduler (${SUPPORTED})`,
    );
    expect(thrown(() => makeScheduler('euler-a', 5), SchedulerConfigError).message).toBe(`name: scheduler "euler-a" is not supported; supported: ${SUPPORTED}`);
  });

  it('overrideName null (loadPipeline: the folder decides) suggests no option', () => {
    expect(thrown(() => schedulerFromConfig({ _class_name: 'EulerDiscreteScheduler' }, { file: F, overrideName: null }), SchedulerConfigError).message).toBe(unsupported(''));
    expect(thrown(() => schedulerFromConfig({ beta_end: 0.02 }, { file: F, overrideName: null }), SchedulerConfigError).message).toBe(
      `${F}: has no "_class_name" string naming the scheduler class; expected one of (${SUPPORTED})`,
    );
  });
});

describe('CLI wording (--model runs take --scheduler)', () => {
  const modelWith = (config: unknown) => {
    const pipe = join(tempDir(), 'pipe');
    mkdirSync(join(pipe, 'scheduler'), { recursive: true });
    mkdirSync(join(pipe, 'transformer'), { recursive: true });
    writeFileSync(join(pipe, 'scheduler', 'scheduler_config.json'), JSON.stringify(config));
    return pipe;
  };

  it('cliScheduler passes --scheduler', () => {
    const pipe = modelWith({ beta_end: 0.02 });
    const file = join(pipe, 'scheduler', 'scheduler_config.json');
    expect(thrown(() => cliScheduler(join(pipe, 'transformer'), undefined, undefined, () => {}), SchedulerConfigError).message).toBe(
      `${file}: has no "_class_name" string naming the scheduler class; give --scheduler (${SUPPORTED})`,
    );
  });

  it('generate --model DIR with a scheduler_config.json without _class_name: exit 1, one line naming --scheduler', async () => {
    const pipe = modelWith({ beta_end: 0.02 });
    const out = join(tempDir(), 'never.safetensors');
    const r = await cli(['generate', '--model', join(pipe, 'transformer'), '--seed', '0', '--height', '16', '--width', '16', '--out', out, '--steps', '1']);
    expect(r.errLines).toEqual([
      `tessera: error: SchedulerConfigError: ${join(pipe, 'scheduler', 'scheduler_config.json')}: has no "_class_name" string naming the scheduler class; give --scheduler (${SUPPORTED})`,
    ]);
    expect(r.code).toBe(1);
  }, 60_000);
});
