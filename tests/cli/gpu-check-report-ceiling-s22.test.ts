// user22 #7: the GPU check's report line of the device ceiling with `bench ceiling --json`'s new spread and busy fields,
// and as before without them (an older ceiling.json).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPORT = resolve('scripts/gpu-check-report.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'gpu-report-ceiling-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function reportWith(name: string, ceiling: object): string {
  const w = join(scratch, name);
  mkdirSync(w, { recursive: true });
  writeFileSync(join(w, 'steps.txt'), 'ceiling rc=0 3s\n');
  writeFileSync(join(w, 'ceiling.json'), JSON.stringify(ceiling));
  const r = spawnSync(process.execPath, [REPORT, w, 'quick'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').find((l) => l.startsWith('- Device ceiling'))!;
}

describe('gpu-check-report: the device ceiling line', () => {
  const base = { fma_gflops: 73.09, copy_gbps: 12.35 };
  const spread = { fma: { min: 6.17, median: 48.21, max: 73.09, repeats: 3 }, copy: { min: 5.8, median: 10.1, max: 12.35, repeats: 6 } };
  it('with the spread: the f32 repeats, and a busy device said in bold', () => {
    expect(reportWith('busy', { ...base, spread, busy: true })).toBe(
      '- Device ceiling measured in this run (independent FMA kernel): f32 73.1 GFLOP/s; copy 12.35 GB/s; each the best of its repeats (f32 over 3: min 6.2, median 48.2); **the repeats spread wide: the device was busy, the shares are unreliable**.',
    );
    expect(reportWith('quiet', { ...base, spread, busy: false })).toBe('- Device ceiling measured in this run (independent FMA kernel): f32 73.1 GFLOP/s; copy 12.35 GB/s; each the best of its repeats (f32 over 3: min 6.2, median 48.2).');
  });
  it('an older ceiling.json without them: the line as before', () => {
    expect(reportWith('old', base)).toBe('- Device ceiling measured in this run (independent FMA kernel): f32 73.1 GFLOP/s; copy 12.35 GB/s.');
  });
});
