// --shift (the library's `shift`) replaces FlowMatchEulerDiscreteScheduler's shift, and UniPC / DPM-Solver's flow_shift
// where the config has use_flow_sigmas true (from_config(config, flow_shift=S): tests/sampler/flow-shift.test.ts). For
// any other scheduler the refusal is one line naming the option, the class and where it came from, why it has no flow
// shift (DDIM: none; UniPC / DPM-Solver without flow sigmas: beta sigmas) and what to do;
// given before the config's ignored-keys warning, so a refused run prints only that line. The CLI
// words it with its flags (--shift, --scheduler flow-match-euler) and exits 2 (UsageError).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { schedulerFromConfig, SchedulerConfigError } from '../../src/sampler/config.js';
import { resolveScheduler } from '../../src/sampler/generate.js';
import { InputError } from '../../src/model/model.js';
import { UsageError } from '../../src/cli/args.js';
import { errorLine, flagNames } from '../../src/cli/errors.js';
import { checkShiftApplies } from '../../src/cli/generate-pipeline.js';
import { thrown } from '../helpers/errors.js';
import { cli, FIXTURES, tempDir } from '../hardening/helpers.js';

const c = join(FIXTURES, 'wan_sampler_small');
const CONFIG = join(c, 'scheduler', 'scheduler_config.json');
const SETS = "sets the shift of flow-matching schedules (FlowMatchEulerDiscreteScheduler's shift, UniPC / DPM-Solver's flow_shift with use_flow_sigmas)";
const BETA = 'its sigmas come from the beta schedule, which has no shift';

describe('schedulerFromConfig and generate() name their shift option', () => {
  it('DDIM has no shift; the multistep classes without use_flow_sigmas have none either; no warning before the refusal', () => {
    const warn = vi.fn();
    // a flow-match config read as DDIM: its keys would be warned about, but the refusal comes first
    const d = thrown(() => schedulerFromConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler', shift: 3, use_dynamic_shifting: false }, { file: CONFIG, override: 'ddim', shift: 3, warn }), SchedulerConfigError);
    expect(d.message).toBe(`shift ${SETS}, not DDIMScheduler, which has no shift: leave out shift`);
    expect(warn).not.toHaveBeenCalled();
    for (const cls of ['UniPCMultistepScheduler', 'DPMSolverMultistepScheduler']) {
      const e = thrown(() => schedulerFromConfig({ _class_name: cls }, { file: CONFIG, shift: 3 }), SchedulerConfigError);
      expect(e.message).toBe(`shift ${SETS}, not ${cls}, whose flow_shift applies only with use_flow_sigmas true, and ${CONFIG} does not set it (default false): ${BETA}; leave out shift`);
    }
    for (const [shift, shown] of [[0, '0'], [-1, '-1'], [NaN, 'NaN'], ['2', '"2"']] as const) {
      const f = thrown(() => schedulerFromConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler' }, { file: CONFIG, shift: shift as number }), SchedulerConfigError);
      expect(f.message, String(shift)).toBe(`shift: a number > 0, got ${shown}`);
    }
    // a good shift is taken
    expect(schedulerFromConfig({ _class_name: 'FlowMatchEulerDiscreteScheduler' }, { shift: 3 }).className).toBe('FlowMatchEulerDiscreteScheduler');
  });

  it("generate()'s options: an InputError naming scheduler_config and how to choose flow-match Euler", () => {
    expect(thrown(() => resolveScheduler({ scheduler: 'ddim', shift: 3 }), InputError).message).toBe(
      `shift ${SETS}, not DDIMScheduler, which has no shift: leave out shift, or give scheduler: 'flow-match-euler'`,
    );
    expect(thrown(() => resolveScheduler({ scheduler_config: { _class_name: 'UniPCMultistepScheduler' }, shift: 3 }), InputError).message).toBe(
      `shift ${SETS}, not UniPCMultistepScheduler, whose flow_shift applies only with use_flow_sigmas true, and scheduler_config does not set it (default false): ${BETA}; leave out shift, or give scheduler: 'flow-match-euler'`,
    );
  });

  it('the CLI maps a bad shift value to --shift; other messages holding "shift" are left alone', () => {
    expect(flagNames('shift: a number > 0, got 0')).toBe('--shift: a number > 0, got 0');
    expect(errorLine(new SchedulerConfigError('shift: a number > 0, got 0'), false)).toBe('tessera: error: SchedulerConfigError: --shift: a number > 0, got 0');
    const other = `${CONFIG}: "shift" must be a number > 0, found 0`;
    expect(flagNames(other)).toBe(other);
    expect(flagNames('max_shift: not an option of x')).toBe('max_shift: not an option of x');
  });

  it('--pipeline DIR whose scheduler is DDIM: refused naming --shift, the folder and DDIM (--scheduler is not a choice there)', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'scheduler'));
    writeFileSync(join(dir, 'scheduler', 'scheduler_config.json'), JSON.stringify({ _class_name: 'DDIMScheduler' }));
    const e = thrown(() => checkShiftApplies(dir, false), UsageError);
    expect(e.message).toBe(`--shift ${SETS}, not DDIMScheduler (${dir}'s scheduler), which has no shift: leave out --shift, or give --scheduler flow-match-euler`);
  });
});

describe('CLI spawn: one line, exit 2, before any weight is read', () => {
  it('generate --model / --pipeline with a scheduler that has no shift to override', async () => {
    const out = join(tempDir(), 'out.safetensors');
    const wan = ['--model', join(c, 'model'), '--inputs', join(c, 'inputs.safetensors'), '--out', out, '--steps', '1'];
    const shapes = join('models', 'tessera-shapes');
    const dit = join(FIXTURES, 'dit_sampler_small');
    const dpm = join(FIXTURES, 'dit_sampler_dpmpp_small');
    const dpmConfig = join(dpm, 'scheduler', 'scheduler_config.json');
    const seeded = ['--out', out, '--steps', '1', '--seed', '0', '--frames', '1', '--height', '8', '--width', '8'];
    const cases: [string[], string][] = [
      [[...wan, '--scheduler', 'ddim', '--shift', '3'], `--shift ${SETS}, not DDIMScheduler (--scheduler ddim), which has no shift: leave out --shift, or give --scheduler flow-match-euler`],
      [[...wan, '--scheduler', 'DDIMScheduler', '--shift', '3'], `--shift ${SETS}, not DDIMScheduler (--scheduler DDIMScheduler), which has no shift: leave out --shift, or give --scheduler flow-match-euler`],
      // a flow-match Euler config read as UniPC: no use_flow_sigmas, so no flow shift
      [[...wan, '--scheduler', 'unipc', '--shift', '2'], `--shift ${SETS}, not UniPCMultistepScheduler (--scheduler unipc), whose flow_shift applies only with use_flow_sigmas true, and ${CONFIG} does not set it (default false): ${BETA}; leave out --shift, or give --scheduler flow-match-euler`],
      // the class from the folder's config (the file named once)
      [['--model', join(dit, 'model'), '--scheduler', 'ddim', ...seeded.slice(0, 6), '--height', '8', '--width', '8', '--class-label', '1', '--shift', '3'], `--shift ${SETS}, not DDIMScheduler (--scheduler ddim), which has no shift: leave out --shift, or give --scheduler flow-match-euler`],
      [['--model', join(dpm, 'model'), ...seeded.slice(0, 6), '--height', '8', '--width', '8', '--class-label', '1', '--shift', '3'], `--shift ${SETS}, not DPMSolverMultistepScheduler (the _class_name in ${resolve(dpmConfig)}), whose flow_shift applies only with use_flow_sigmas true, and that file sets it false: ${BETA}; leave out --shift, or give --scheduler flow-match-euler`],
      // with --pipeline, --scheduler's class is the one sampling (built from the folder's config)
      [['--pipeline', shapes, '--scheduler', 'ddim', '--shift', '3', '--seed', '0', '--out', out], `--shift ${SETS}, not DDIMScheduler (--scheduler ddim), which has no shift: leave out --shift, or give --scheduler flow-match-euler`],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(['generate', ...args], {}, 120_000)));
    runs.forEach((r, i) => {
      // no ignored-keys warning before it: the refusal is the only line
      expect(r.errLines, cases[i]![0].join(' ')).toEqual([`tessera: error: UsageError: ${cases[i]![1]}`]);
      expect(r.code).toBe(2);
    });
    expect(existsSync(out)).toBe(false);
  }, 180_000);
});
