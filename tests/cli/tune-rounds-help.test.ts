// `tessera tune --rounds N` as its help describes it, held to raceCandidates (src/gpu/tune.ts): the first
// block of rounds always runs, one round per candidate, so with more candidates than N each is timed
// once per candidate and a challenger can be ruled on. The help said "under 3 keeps the heuristic",
// while `tessera tune --quick --rounds 2` on lavapipe timed 4 rounds of 4 candidates and switched a
// bucket to subgroup-sr32 ('faster').
import { describe, expect, it } from 'vitest';
import { tuneCommand } from '../../src/cli/cmd-tune.js';
import { raceCandidates } from '../../src/gpu/tune.js';

describe('tessera tune --rounds: the help against the race', () => {
  it('more candidates than --rounds: a round per candidate still runs and a clear win is taken; the help says so', async () => {
    const times: Record<string, number[]> = { h: [10, 10.2, 9.9, 10.1], a: [5, 5.1, 4.95, 5.05], b: [10.1, 10, 10.2, 9.9], c: [20, 20.3, 19.8, 20.1] };
    const r = await raceCandidates(Object.keys(times), 2, async (name, round) => times[name]![round]!);
    expect(Object.fromEntries([...r.samples].map(([n, s]) => [n, s.length]))).toEqual({ h: 4, a: 4, b: 4, c: 4 });
    expect(r.verdict.a).toBe('faster');
    expect(r.choice).toBe('a');
    const help = tuneCommand.spec.flags!.rounds!.help;
    expect(help).toContain('at least one round per candidate (with 4 candidates, --rounds 2 times 4)');
    expect(help).not.toMatch(/under 3 keeps the heuristic/);
  });
  it('two candidates and --rounds 2: too few rounds to rule, the heuristic kept', async () => {
    const r = await raceCandidates(['h', 'a'], 2, async (name) => (name === 'h' ? 10 : 5));
    expect(r.samples.get('a')).toHaveLength(2);
    expect(r.verdict.a).toBe('undecided');
    expect(r.choice).toBe('h');
  });
});
