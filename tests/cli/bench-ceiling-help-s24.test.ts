// `bench ceiling --help` said "a line when it is wide" (one roof, session 22); since 54dc759 the benchmark prints a
// 'spread:' line naming every roof above WIDE_SPREAD and a 'between runs:' line against the last reading kept in
// $XDG_CACHE_HOME/tessera/ceiling.json. The help names both lines as they are printed, the threshold and the file.
import { describe, expect, it } from 'vitest';
import { tesseraInProcess } from '../helpers/cli.js';
import { ceilingDriftNote, ceilingSpreadNote, WIDE_SPREAD } from '../../src/profile/ceiling.js';

describe('bench ceiling --help: the spread and between-runs lines as printed', () => {
  it('names both lines, the threshold, the file and the JSON fields; not the old wording', async () => {
    const r = await tesseraInProcess(['bench', 'ceiling', '--help']);
    expect(r.code).toBe(0);
    const first = r.stdout.split('\n')[0]!;
    expect(first).not.toContain('a line when it is wide');
    expect(first).toContain(`a 'spread:' line naming every roof whose fastest repeat is above ${WIDE_SPREAD}× its slowest`);
    expect(first).toContain(`a 'between runs:' line naming every roof more than ${WIDE_SPREAD}× from the last reading on this adapter (kept in $XDG_CACHE_HOME/tessera/ceiling.json`);
    expect(first).toContain('--json: wide_spread, last_run, between_runs, busy');
  });

  it("the lines the help names start as it says", () => {
    const roof = (min: number, max: number) => ({ best: max, min, median: (min + max) / 2, max, repeats: 3 });
    const spread = ceilingSpreadNote({ fma: roof(20, 70), copy: roof(1, 12) } as never);
    expect(spread).toMatch(/^spread: copy's fastest repeat is 12\.0× its slowest, f32 FMA's 3\.5×/);
    const drift = ceilingDriftNote({ fma_gflops: 35.4, copy_gbps: 10 }, { fma_gflops: 71.7, copy_gbps: 10, date: '2026-12-03T19:40:00.000Z' });
    expect(drift).toMatch(/^between runs: f32 FMA 35\.40 GFLOP\/s, 2\.0× below the last run's 71\.70/);
  });
});
