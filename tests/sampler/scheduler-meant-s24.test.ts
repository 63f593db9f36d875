// "Did you mean" for a scheduler name that is not one (user24 #6: k-diffusion's and ComfyUI's `euler` and `dpm++`
// were refused with the whole list and no suggestion): the library's SchedulerConfigError and the CLI's --scheduler line.
import { describe, expect, it } from 'vitest';
import { resolveSchedulerClass, SchedulerConfigError, schedulerMeant } from '../../src/sampler/config.js';
import { checkSchedulerName } from '../../src/cli/cmd-generate.js';
import { thrown } from '../helpers/errors.js';

describe('schedulerMeant', () => {
  it('other tools\' names and near spellings name a short name; far ones nothing', () => {
    expect(schedulerMeant('euler')).toBe('flow-match-euler');
    expect(schedulerMeant('dpm++')).toBe('dpmpp');
    expect(schedulerMeant('DPM++')).toBe('dpmpp');
    expect(schedulerMeant('dpm-solver++')).toBe('dpmpp');
    expect(schedulerMeant('uni-pc')).toBe('unipc');
    expect(schedulerMeant('unipcc')).toBe('unipc');
    expect(schedulerMeant('ddimm')).toBe('ddim');
    expect(schedulerMeant('UniPCMultistepSchedular')).toBe('UniPCMultistepScheduler');
    for (const far of ['euler-a', 'constructor', 'heun', 'lms']) expect(schedulerMeant(far)).toBeUndefined();
  });

  it('said by the library and by the CLI', () => {
    expect(thrown(() => resolveSchedulerClass('dpm++'), SchedulerConfigError).message).toMatch(/^scheduler: scheduler "dpm\+\+" is not supported; supported: .* \(did you mean dpmpp\?\)$/);
    expect(thrown(() => resolveSchedulerClass('euler-a'), SchedulerConfigError).message).not.toContain('did you mean');
    expect(thrown(() => checkSchedulerName('euler'), Error).message).toMatch(/, got "euler" \(did you mean flow-match-euler\?\)$/);
  });
});
