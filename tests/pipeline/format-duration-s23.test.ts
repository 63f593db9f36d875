// Session 23: one duration formatter for the CLI's CPU lines: formatDuration (src/pipeline/step-work.ts) now also
// serves cpuStepNote (the preset demo's line), whose own helper wrote two decimals below 1 s and no hours. Its ranges
// and their edges: the range is chosen on the rounded figure, so no "1.00 s", "10.0 s", "90 s" or "90.0 min".
import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/pipeline/step-work.js';
import { cpuStepNote } from '../../src/cli/cmd-demo.js';

describe('formatDuration over its ranges', () => {
  it.each([
    [0, '0.00 s'],
    [0.004, '0.00 s'],
    [0.05, '0.05 s'],
    [0.994, '0.99 s'],
    [0.996, '1.0 s'], // rounds to 1.00: the next range
    [1, '1.0 s'],
    [4.2, '4.2 s'],
    [9.94, '9.9 s'],
    [9.96, '10 s'], // rounds to 10.0
    [10, '10 s'],
    [51, '51 s'],
    [59.99, '60 s'],
    [89.4, '89 s'],
    [89.5, '1.5 min'], // rounds to 90 s
    [90, '1.5 min'],
    [240, '4.0 min'],
    [89.9 * 60, '89.9 min'],
    [89.96 * 60, '1.5 h'], // rounds to 90.0 min
    [5400, '1.5 h'],
    [3 * 3600, '3.0 h'],
    [100 * 3600, '100.0 h'],
  ])('%s s → %s', (s, text) => expect(formatDuration(s)).toBe(text));

  it('not a duration: written as it is', () => {
    expect([formatDuration(NaN), formatDuration(-1), formatDuration(Infinity)]).toEqual(['NaN s', '-1 s', 'Infinity s']);
  });

  it('cpuStepNote writes its times with it: hours above 90 min (its old helper wrote "181.6 min" here)', () => {
    // wan-1.3b at 0.2 GFLOP/s, 3 steps: 3632 s a step (under 90 min: minutes), 10897 s for 3 steps (hours)
    const line = cpuStepNote({ preset: 'wan-1.3b', weights: 1418996800, tokens: 128, batch: 2, steps: 3, fmaGflops: 0.2 });
    expect(line).toContain('at least 60.5 min a step, 3.0 h for 3 steps before the profiled repeats');
  });
});
