// schedulerFromConfig's shift refusals name the library option (`shift`); the CLI shows the same
// refusal with its flag (`--shift`, flagNames), as it does for maxMemory and dtype.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schedulerFromConfig, SchedulerConfigError } from '../../src/sampler/config.js';
import { errorLine, flagNames } from '../../src/cli/errors.js';
import { thrown } from '../helpers/errors.js';
import { cli, FIXTURES, tempDir } from '../hardening/helpers.js';

const c = join(FIXTURES, 'wan_sampler_small');
const CONFIG = join(c, 'scheduler', 'scheduler_config.json');
const APPLIES = `shift applies to FlowMatchEulerDiscreteScheduler; UniPCMultistepScheduler takes flow_shift from ${CONFIG}`;

describe('schedulerFromConfig names its shift option, not the CLI flag', () => {
  it('shift for another class, and a shift that is not a number > 0', () => {
    const e = thrown(() => schedulerFromConfig({ _class_name: 'UniPCMultistepScheduler' }, { file: CONFIG, shift: 3 }), SchedulerConfigError);
    expect(e.message).toBe(APPLIES);
    for (const [shift, shown] of [[0, '0'], [-1, '-1'], [NaN, 'NaN'], ['2', '"2"']] as const) {
      const f = thrown(() => schedulerFromConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler' }, { file: CONFIG, shift: shift as number }), SchedulerConfigError);
      expect(f.message, String(shift)).toBe(`shift: a number > 0, got ${shown}`);
    }
    // a good shift is taken
    expect(schedulerFromConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler' }, { shift: 3 }).className).toBe('FlowMatchEulerDiscreteScheduler');
  });

  it('the CLI maps both to --shift; other messages holding "shift" are left alone', () => {
    expect(flagNames(APPLIES)).toBe(`--${APPLIES}`);
    expect(flagNames('shift: a number > 0, got 0')).toBe('--shift: a number > 0, got 0');
    expect(errorLine(new SchedulerConfigError(APPLIES), false)).toBe(`tessera: error: SchedulerConfigError: --${APPLIES}`);
    const other = `${CONFIG}: "shift" must be a number > 0, found 0`;
    expect(flagNames(other)).toBe(other);
    expect(flagNames('max_shift: not an option of x')).toBe('max_shift: not an option of x');
  });
});

describe('CLI spawn', () => {
  it('generate --model DIR --scheduler unipc --shift 2: refused before any weight is read, naming --shift', async () => {
    const out = join(tempDir(), 'out.safetensors');
    const r = await cli(['generate', '--model', join(c, 'model'), '--inputs', join(c, 'inputs.safetensors'), '--out', out, '--steps', '1', '--scheduler', 'unipc', '--shift', '2']);
    // the config's flow-match keys are ignored by UniPC (one warning line), then the one error line
    expect(r.errLines).toHaveLength(2);
    expect(r.errLines[0]).toMatch(/^warning: .*are not UniPCMultistepScheduler config keys: ignored/);
    // a flag problem: a UsageError, exit 2, as demo --shift
    expect(r.errLines[1]).toBe(`tessera: error: UsageError: --${APPLIES}`);
    expect(r.code).toBe(2);
  }, 60_000);
});
