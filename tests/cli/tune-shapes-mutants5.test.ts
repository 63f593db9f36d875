// Mutation round 5 (session 18) on tessera tune --shapes (src/cli/cmd-tune.ts, 44a632e): the size bound of a --shapes
// item, and the time-left estimate of the progress lines, which counts the shape about to be tuned (the tests called
// tuneEta directly; the run's own call could leave that shape out and say 'about 0 s left' before the last one).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTuneShapes } from '../../src/cli/cmd-tune.js';
import { tesseraCli } from '../helpers/cli.js';
import { hasGpu } from '../helpers/gpu.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-tune-shapes5-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('tessera tune --shapes', () => {
  it("a dimension above 2^20 is refused naming the item; 'all' with spaces around it is all", () => {
    expect(parseTuneShapes(' all ')).toBe('all');
    expect(parseTuneShapes('1048576x1x2')).toEqual([[1048576, 1, 2]]);
    expect(() => parseTuneShapes('64x64x64,1048577x1x2')).toThrow('--shapes: "1048577x1x2" is not a GEMM shape M×K×N of integers from 1 to 1048576');
  });

  it.skipIf(!hasGpu)('the last shape\'s line counts its own time left: at least the quickest shape\'s seconds, never 0', async () => {
    const r = await tesseraCli(['tune', '--shapes', '64x64x64,64x64x128'], { env: { ...process.env, XDG_RUNTIME_DIR: '/tmp', XDG_CACHE_HOME: tmp, TESSERA_TUNE: 'auto' } });
    expect(r.code, r.stderr).toBe(0);
    const out = `${r.stdout}${r.stderr}`;
    expect(out).toMatch(/^gemm 1\/2: 64×64×64$/m);
    expect(out).toMatch(/^gemm 2\/2: 64×64×128; about [1-9]\d* s left \(\d+ s so far\)$/m);
  }, 120_000);
});
