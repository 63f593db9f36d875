// Two tessera processes tuning at once keep each other's choices: a save re-reads the cache file
// under a lock (tune.json.lock) just before its atomic rename and writes only this process's new
// choices over it. The cache was read once per process and each save wrote the whole in-memory
// map, so the process that saved last dropped every choice the other had saved meanwhile.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { acquireFileLock, nodeTuneStore } from '../../src/gpu/tune-store-node.js';
import { loadTuneCache, saveTuneCacheOrThrow, setTuneMode, setTuneStore, tuneKey, tunePlan, type TuneEntry } from '../../src/gpu/tune.js';
import { Plan } from '../../src/gpu/plan.js';
import { Allocator } from '../../src/gpu/tensor.js';
import { gemm, gemmBucket } from '../../src/ops/gemm.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-tune-merge-'));
afterAll(() => {
  setTuneStore(null);
  if (gpu) setTuneMode(gpu, 'off');
  rmSync(dir, { recursive: true, force: true });
});
const entry = (choice: string): TuneEntry => ({ choice, ms: { [choice]: 1 }, shapes: 'x', date: '2026-12-01T00:00:00.000Z' });
const stored = (path: string) => (JSON.parse(readFileSync(path, 'utf8')) as { entries: Record<string, TuneEntry> }).entries;
const fileWith = (path: string, entries: Record<string, TuneEntry>) => writeFileSync(path, JSON.stringify({ tessera: 'tuning cache', entries }));

describe('saving merges with what the file holds now', () => {
  it("another process's choices saved after this one loaded the cache are kept, and join the in-memory cache", async () => {
    const path = join(dir, 'a', 'tune.json');
    setTuneStore(nodeTuneStore(path));
    expect(await loadTuneCache()).toEqual({}); // no file yet
    // meanwhile another process saves its choice
    mkdirSync(join(dir, 'a'), { recursive: true });
    fileWith(path, { 'v1|other|gemm|b': entry('tiled-64') });
    await saveTuneCacheOrThrow();
    expect(stored(path)).toEqual({ 'v1|other|gemm|b': entry('tiled-64') });
    expect(await loadTuneCache()).toEqual({ 'v1|other|gemm|b': entry('tiled-64') });
  });

  it('concurrent merges from separate stores (processes) of one file: every key survives, the lock is released', async () => {
    const path = join(dir, 'b', 'tune.json');
    const keys = Array.from({ length: 16 }, (_, i) => `k${i}`);
    await Promise.all(keys.map((k) => nodeTuneStore(path).merge!({ [k]: entry('gemv') })));
    expect(Object.keys(stored(path)).sort()).toEqual([...keys].sort());
    const release = await acquireFileLock(`${path}.lock`, 100);
    await release();
  });
});

describe('the lock file', () => {
  it("a lock whose process is gone, or an old one, is taken; a live, fresh one is waited for, then named", async () => {
    const lock = join(dir, 'l.lock');
    writeFileSync(lock, '2147483646'); // no such process
    await (await acquireFileLock(lock, 100))();
    writeFileSync(lock, String(process.ppid)); // alive
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    await (await acquireFileLock(lock, 100))();
    writeFileSync(lock, String(process.ppid));
    await expect(acquireFileLock(lock, 200)).rejects.toThrow(`${lock} is held by process ${process.ppid}; remove it if no tessera is running`);
    rmSync(lock);
  });
});

describe.skipIf(!hasGpu)('a tuned choice saved beside another process\'s', () => {
  it('tunePlan saves its bucket over the file as it is then, keeping the entry saved meanwhile', async () => {
    const path = join(dir, 'c', 'tune.json');
    setTuneStore(nodeTuneStore(path));
    setTuneMode(gpu!, 'auto');
    await loadTuneCache();
    mkdirSync(join(dir, 'c'), { recursive: true });
    const other = tuneKey(gpu!, 'gemm', gemmBucket('f32', 1, 8, 8));
    fileWith(path, { [other]: entry('gemv') });
    const [M, K, N] = [12, 36, 40];
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      gemm(plan, { x: alloc.tensor([M, K], 'f32', 'x'), w: alloc.tensor([N, K], 'f32', 'w'), out: alloc.tensor([M, N], 'f32', 'y') });
      const r = await tunePlan(plan, { rounds: 1 });
      expect(r.map((x) => x.measured)).toEqual([true]);
    } finally {
      alloc.destroyAll();
    }
    const mine = tuneKey(gpu!, 'gemm', gemmBucket('f32', M, N, K));
    expect(Object.keys(stored(path)).sort()).toEqual([other, mine].sort());
  }, 300_000);
});
