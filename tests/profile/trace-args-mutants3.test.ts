// Mutation tests (round 3) for chromeTrace's argument check (src/profile/args.ts checkTraceRuns): a run is an
// object with a timing and a list of dispatches, and each entry of a list is { name: a string, run }. An object
// with a timing and no dispatches, or a list entry without a string name, passed when either half of the check
// was dropped (the existing cases hand it undefined and a bare run only).
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/input-error.js';
import { chromeTrace } from '../../src/profile/report.js';
import { dispatch, threeRepeats } from '../helpers/profile-runs.js';
import { thrown } from '../helpers/errors.js';

const run = threeRepeats([dispatch('gemm', 'blocks.0.ffn'), dispatch('norm', 'blocks.0.norm1')]);

describe('chromeTrace: runs refused unless each is a ProfileRun, in a list with a string name', () => {
  it('a timing without dispatches is not a run', () => {
    const e = thrown(() => chromeTrace({ timing: 'wall-clock' } as never), InputError);
    expect(e.message).toMatch(/^chromeTrace: runs: /);
    expect(e.message).toContain('timing');
  });
  it('a list entry without a string name is refused, naming its index', () => {
    for (const bad of [{ run }, { name: 3, run }]) {
      const e = thrown(() => chromeTrace([{ name: 'ok', run }, bad] as never), InputError);
      expect(e.message).toMatch(/^chromeTrace: runs: /);
      expect(e.message).toContain('[1]');
    }
  });
  it('a run, and a list of named runs, are taken', () => {
    expect(() => chromeTrace(run)).not.toThrow();
    expect(() => chromeTrace([{ name: 'a', run }, { name: 'b', run }])).not.toThrow();
  });
});
