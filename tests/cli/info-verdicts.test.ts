// tessera info shows each cached choice as the tuner decided it: per challenger its verdict (faster / not faster /
// undecided), its time ratio to the heuristic (the reference) and the interval the verdict was read from, the chosen one
// marked. It showed each candidate's fastest round, so an undecided challenger whose luckiest round beat the heuristic's
// looked like a wrong choice. The interval is what raceCandidates judged (TuneEntry.interval, stored from session 17).
import { describe, expect, it } from 'vitest';
import { tunerVerdicts } from '../../src/cli/cmd-info.js';
import { raceCandidates, TUNE_MARGIN } from '../../src/gpu/tune.js';

describe('tessera info: the tuner verdicts of a cached entry', () => {
  it('an undecided challenger whose fastest round beat the heuristic reads undecided, with its ratio and interval', () => {
    const line = tunerVerdicts({
      choice: 'subgroup-sr16',
      ms: { 'subgroup-sr16': 11.8, 'subgroup-sr32': 7.0, 'tiled-64': 15 },
      ratio: { 'subgroup-sr16': 1, 'subgroup-sr32': 0.97, 'tiled-64': 1.4 },
      verdict: { 'subgroup-sr32': 'undecided', 'tiled-64': 'not faster' },
      interval: { 'subgroup-sr32': [0.9, 1.05], 'tiled-64': [1.35, 1.45] },
    });
    expect(line).toBe('subgroup-sr16 reference chosen; subgroup-sr32 undecided, ratio 0.97 (0.90–1.05); tiled-64 not faster, ratio 1.40 (1.35–1.45)');
  });

  it('the chosen challenger is marked; an entry without intervals (cached in session 16) gives the ratio alone', () => {
    expect(tunerVerdicts({ choice: 'b', ms: { a: 10, b: 8 }, ratio: { a: 1, b: 0.8 }, verdict: { b: 'faster' }, interval: { b: [0.78, 0.83] } })).toBe('a reference; b chosen: faster, ratio 0.80 (0.78–0.83)');
    expect(tunerVerdicts({ choice: 'a', ms: { a: 10, b: 8 }, ratio: { a: 1, b: 0.97 }, verdict: { b: 'undecided' } })).toBe('a reference chosen; b undecided, ratio 0.97');
  });

  it('entries cached before verdicts: the fastest rounds, said so; a lone candidate', () => {
    expect(tunerVerdicts({ choice: 'a', ms: { a: 10, b: 9.5 } })).toBe("fastest round ms: a 10.00, b 9.50 (cached before the tuner's verdicts were kept: tessera tune --force re-times it)");
    expect(tunerVerdicts({ choice: 'a', ms: { a: 10 } })).toBe('the only candidate');
  });

  it('raceCandidates keeps the interval its verdicts were read from: faster below 1 − TUNE_MARGIN, not faster above, undecided across', async () => {
    const wiggle = [1, 1.02, 0.98, 1.01, 0.99, 1.03, 0.97, 1, 1.02, 0.98, 1.01, 0.99];
    const noisy = [0.7, 1.4, 0.8, 1.3, 0.9, 1.2, 0.75, 1.35, 0.85, 1.25, 0.7, 1.4];
    const times: Record<string, (r: number) => number> = { ref: (r) => 10 * wiggle[r % 12]!, fast: (r) => 7 * wiggle[(r + 3) % 12]!, slow: (r) => 14 * wiggle[(r + 5) % 12]!, open: (r) => 10 * noisy[r % 12]! };
    const race = await raceCandidates(Object.keys(times), 10, async (n, r) => times[n]!(r));
    const bar = 1 - TUNE_MARGIN;
    expect(race.verdict).toEqual({ fast: 'faster', slow: 'not faster', open: 'undecided' });
    expect(race.interval.fast![1]).toBeLessThan(bar);
    expect(race.interval.slow![0]).toBeGreaterThan(bar);
    expect(race.interval.open![0]).toBeLessThan(bar);
    expect(race.interval.open![1]).toBeGreaterThan(bar);
    for (const n of ['fast', 'slow', 'open']) {
      expect(race.interval[n]![0]).toBeLessThan(race.ratio[n]!);
      expect(race.interval[n]![1]).toBeGreaterThan(race.ratio[n]!);
    }
  });
});
