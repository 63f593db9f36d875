// Mutation round 4 (session 17) on the tuner's sequential rule (src/gpu/tune.ts raceCandidates), with injected
// timings: the Bonferroni looks are maxRounds − 2 (not one fewer or more), and the cap stops the race as soon
// as every challenger has 3 rounds (MIN_PAIRS), also when a block of 3 candidates ends exactly there. Each
// case failed under a mutant that survived tune-rounds.test.ts.
import { describe, expect, it } from 'vitest';
import { raceCandidates, studentTQuantile, TUNE_ERROR, TUNE_MARGIN } from '../../src/gpu/tune.js';

const BAR = Math.log(1 - TUNE_MARGIN);

/**
 * Four paired log ratios m ± a (mean m, sd a·√(4/3)), m placed so that their t-interval at level
 * TUNE_ERROR / `ruled` ends below ln(1 − TUNE_MARGIN) and at TUNE_ERROR / `notRuled` above it (halfway between).
 */
function straddling(ruled: number, notRuled: number): number[] {
  const a = 0.2;
  const sd = a * Math.sqrt(4 / 3);
  const half = (looks: number) => (studentTQuantile(TUNE_ERROR / looks, 3) * sd) / 2;
  const m = BAR - (half(ruled) + half(notRuled)) / 2;
  return [m - a, m + a, m - a, m + a];
}

/** raceCandidates of the heuristic h at 10 ms against b at 10·e^d[round] for the first 4 rounds, then b equal to h. */
async function raceOf(d: readonly number[], maxRounds: number) {
  return raceCandidates(['h', 'b'], maxRounds, async (name, round) => (name === 'h' ? 10 : 10 * Math.exp(d[round] ?? 0)));
}

describe('raceCandidates: the looks are maxRounds − 2', () => {
  it('with maxRounds 10 each look is at level TUNE_ERROR / 8: ruled at 4 rounds where TUNE_ERROR / 9 would not, not where TUNE_ERROR / 7 would', async () => {
    // faster at level 0.2/8 (ruled after the first look with 4 pairs), not at 0.2/9
    const ruled = await raceOf(straddling(8, 9), 10);
    expect(ruled.verdict).toEqual({ b: 'faster' });
    expect(ruled.samples.get('b')).toHaveLength(4);
    // faster at level 0.2/7 only: at 0.2/8 the first look leaves it racing
    const racing = await raceOf(straddling(7, 8), 10);
    expect(racing.samples.get('b')!.length).toBeGreaterThan(4);
    expect(racing.choice).toBe('h');
  });

  it('with maxRounds 3 a single look (level TUNE_ERROR), though the race times 4 rounds', async () => {
    // 2 looks would not rule this one; 1 look does
    const one = await raceOf(straddling(1, 2), 3);
    expect(one.verdict).toEqual({ b: 'faster' });
  });
});

describe('raceCandidates: the cap once every challenger has 3 rounds', () => {
  it('3 candidates and maxRounds 3: one block of 3 rounds, no second block', async () => {
    // near-equal: nobody is ruled on, so only the cap stops the race
    const wiggle = [1, 1.3, 0.8, 1.2, 0.9, 1.1];
    const calls: string[] = [];
    const r = await raceCandidates(['h', 'b', 'c'], 3, async (name, round) => {
      calls.push(`${name}${round}`);
      return name === 'h' ? 10 : 10 * wiggle[(round + name.length) % wiggle.length]! * (name === 'b' ? 1 : 0.99);
    });
    expect(r.verdict).toEqual({ b: 'undecided', c: 'undecided' });
    expect([...r.samples].map(([n, s]) => [n, s.length])).toEqual([['h', 3], ['b', 3], ['c', 3]]);
    expect(calls).toHaveLength(9);
  });
});
