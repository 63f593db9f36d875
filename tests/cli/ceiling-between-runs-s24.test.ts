// Session 23 bench review #9: a ceiling's spread within one run can be narrow while the whole run was slowed (f32 FMA
// 35.4 GFLOP/s with a 1.18× spread, 71.7 the run before: every "% ceiling" share 2× apart, unflagged). The last reading
// per adapter is kept ($XDG_CACHE_HOME/tessera/ceiling.json, src/cli/bench-ceiling-history.ts) and a roof that moved
// by more than WIDE_SPREAD from it is named, each such roof, in one line (ceilingDriftNote); bench ceiling --json says
// it in last_run, between_runs and busy.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastCeiling, recordCeiling } from '../../src/cli/bench-ceiling-history.js';
import { ceilingDrift, ceilingDriftNote, DRIFT_WORDS, WIDE_SPREAD, type Ceiling } from '../../src/profile/ceiling.js';
import { tesseraCli } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';
import { sameMesaCache } from '../helpers/mesa-cache.js';

const reading = (fma: number, copy: number, f16?: number) => ({ fma_gflops: fma, copy_gbps: copy, ...(f16 !== undefined ? { fma_f16_gflops: f16 } : {}) });

describe('ceilingDrift and ceilingDriftNote', () => {
  it('the review\'s two runs: f32 FMA 35.4 against 71.7 is named, copy within 1.5× is not', () => {
    expect(ceilingDrift(reading(35.4, 11), reading(71.7, 12))).toEqual([{ roof: 'f32 FMA', now: 35.4, last: 71.7, ratio: 71.7 / 35.4 }]);
    expect(ceilingDriftNote(reading(35.4, 11), { ...reading(71.7, 12), date: '2026-12-03T19:40:00.000Z' })).toBe(
      `between runs: f32 FMA 35.40 GFLOP/s, 2.0× below the last run's 71.70 (the last run on this adapter: 2026-12-03T19:40:00.000Z; above ${WIDE_SPREAD}×): ${DRIFT_WORDS}`,
    );
  });
  it('every roof that moved, widest first, above or below; within WIDE_SPREAD, no last run, or a roof one run lacks: nothing', () => {
    const d = ceilingDrift(reading(40, 30, 10), reading(20, 10, 40));
    expect(d.map((x) => [x.roof, x.ratio])).toEqual([['f16 FMA', 4], ['copy', 3], ['f32 FMA', 2]]);
    expect(ceilingDriftNote(reading(40, 30, 10), { ...reading(20, 10, 40), date: 'D' })).toMatch(/^between runs: f16 FMA 10\.00 GFLOP\/s, 4\.0× below the last run's 40\.00; copy 30\.00 GB\/s, 3\.0× above the last run's 10\.00; f32 FMA 40\.00 GFLOP\/s, 2\.0× above the last run's 20\.00 \(the last run on this adapter: D; each above 1\.5×\)/);
    expect(ceilingDrift(reading(40, 10), reading(40 * WIDE_SPREAD, 10 / WIDE_SPREAD))).toEqual([]);
    expect(ceilingDriftNote(reading(1, 1), undefined)).toBeUndefined();
    expect(ceilingDrift(reading(40, 10, 5), reading(40, 10))).toEqual([]);
  });
});

describe('the last reading per adapter', () => {
  it('recorded and read back; other adapters kept; a damaged file reads as none and is replaced', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tessera-s24-ceil-')), 'sub', 'ceiling.json');
    expect(await lastCeiling('a', path)).toBeUndefined();
    const c = { ...reading(50, 10), adapter: 'a', timing: 'gpu-timestamps' } as Ceiling;
    await recordCeiling('a', c, path);
    await recordCeiling('b', { ...c, fma_gflops: 7 }, path);
    expect(await lastCeiling('a', path)).toMatchObject(reading(50, 10));
    expect((await lastCeiling('b', path))!.fma_gflops).toBe(7);
    expect(Date.parse((await lastCeiling('a', path))!.date)).not.toBeNaN();
    writeFileSync(path, '{"a": {"fma_gflops": "x"}');
    expect(await lastCeiling('a', path)).toBeUndefined();
    await recordCeiling('a', c, path);
    expect(Object.keys(JSON.parse(readFileSync(path, 'utf8')))).toEqual(['a']);
  });
});

describe.skipIf(!hasGpu)('bench ceiling between runs', () => {
  it('a last reading 20× this one: named in the text (the first run, none: --json last_run null); then this run is the last one', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'tessera-s24-ceil-cli-'));
    const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', XDG_CACHE_HOME: cache, ...sameMesaCache() };
    const args = ['bench', 'ceiling', '--repeats', '2', '--warmup', '0'];
    const first = await tesseraCli([...args, '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    const j1 = JSON.parse(first.stdout.trim().split('\n').pop()!) as { fma_gflops: number; copy_gbps: number; last_run: unknown; between_runs: unknown[] };
    expect([j1.last_run, j1.between_runs]).toEqual([null, []]);
    // the file holds this run's reading under the adapter's key; make the last run 20× faster on both roofs
    const file = join(cache, 'tessera', 'ceiling.json');
    const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { fma_gflops: number; copy_gbps: number; date: string }>;
    const [key] = Object.keys(all);
    expect(all[key!]!.fma_gflops).toBe(j1.fma_gflops);
    all[key!] = { fma_gflops: j1.fma_gflops * 20, copy_gbps: j1.copy_gbps * 20, date: '2026-01-01T00:00:00.000Z' };
    mkdirSync(join(cache, 'tessera'), { recursive: true });
    writeFileSync(file, JSON.stringify(all));
    const second = await tesseraCli(args, { env });
    expect(second.code, second.stderr).toBe(0);
    const line = second.stdout.split('\n').find((l) => l.startsWith('between runs: '));
    expect(line, second.stdout).toMatch(/^between runs: (f32 FMA|copy) [\d.]+ (GFLOP|GB)\/s, [\d.]+× below the last run's [\d.]+; (f32 FMA|copy) .* \(the last run on this adapter: 2026-01-01T00:00:00\.000Z; each above 1\.5×\)/);
    // the second run replaced the reading: a third run compares with it, not with the 20× one
    expect(JSON.parse(readFileSync(file, 'utf8'))[key!].date).not.toBe('2026-01-01T00:00:00.000Z');
  }, 180_000);
});
