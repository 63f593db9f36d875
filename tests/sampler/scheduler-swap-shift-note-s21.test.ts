// A scheduler swap whose dropped key has an effect says so first (session 21's fresh user, finding 9): the
// embedded pipeline's UniPC config (flow_shift 3) swapped to flow-match Euler, which reads `shift`, samples at
// shift 1 unless the caller gives the shift; the twenty-odd other ignored keys are counted past eight names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ignoredKeysNote, schedulerFromConfig, shiftNoteInFlagWords } from '../../src/sampler/config.js';

const F = 'models/tessera-shapes/scheduler/scheduler_config.json';
const text = readFileSync(join(import.meta.dirname, '../..', F), 'utf8');
const warnings = (opts: { overrideName?: string; shift?: number }, config: string | Record<string, unknown> = text) => {
  const lines: string[] = [];
  schedulerFromConfig(config, { override: 'flow-match-euler', file: F, warn: (l) => lines.push(l), ...opts });
  return lines;
};

describe('flow_shift dropped by a swap to flow-match Euler', () => {
  it('CLI: the flow_shift line first, with the flag that keeps it; the rest counted', () => {
    const [line, ...more] = warnings({ overrideName: '--scheduler' });
    expect(more).toEqual([]);
    expect(line).toMatch(
      new RegExp(`^warning: ${F}: flow_shift 3 is not used: FlowMatchEulerDiscreteScheduler reads shift, so this run samples at shift 1 \\(give --shift 3 to keep it\\); the other beta_end, beta_schedule, (\\w+, ){5}\\w+ and \\d+ more are not FlowMatchEulerDiscreteScheduler config keys: ignored \\(as diffusers' from_config does\\)$`),
    );
  });
  it('library: names the shift option; with the shift given, or flow_shift 1, no such note', () => {
    expect(warnings({ overrideName: 'scheduler' })[0]).toMatch(/flow_shift 3 is not used: .*\(pass shift: 3 to keep it\)/);
    expect(warnings({ overrideName: '--scheduler', shift: 3 })[0]).not.toContain('is not used');
    const one = warnings({}, { _class_name: 'UniPCMultistepScheduler', flow_shift: 1, solver_order: 2 });
    expect(one).toEqual([`warning: ${F}: flow_shift, solver_order are not FlowMatchEulerDiscreteScheduler config keys: ignored (as diffusers' from_config does)`]);
  });
  it("the CLI shows the library's hint (Pipeline.generate's swap) as the flag", () => {
    const lib = warnings({ overrideName: 'scheduler' })[0]!;
    expect(shiftNoteInFlagWords(lib)).toBe(warnings({ overrideName: '--scheduler' })[0]);
  });
  it('ignoredKeysNote: up to nine keys named, more counted past eight', () => {
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${i}`);
    expect(ignoredKeysNote(keys(9), 'X')).toBe('k0, k1, k2, k3, k4, k5, k6, k7, k8 are not X config keys: ignored');
    expect(ignoredKeysNote(keys(22), 'X')).toBe('k0, k1, k2, k3, k4, k5, k6, k7 and 14 more are not X config keys: ignored');
  });
});
