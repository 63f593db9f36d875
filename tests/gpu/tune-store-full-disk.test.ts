// The tuning cache on a full disk (ENOSPC, simulated: the writes of node:fs/promises fail as a full
// tmpfs makes them). The lock file was created (open wx) and then not written: it was left empty, and
// the next save waited 10 s and blamed "process (unknown)" holding it, never saying the disk was full.
// Now the lock and a part-written temp are removed, and the error names the file and the cause.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

const fail = vi.hoisted(() => ({ lock: false, tmp: false, lockHeld: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  return {
    ...fs,
    // the lock is created, then writing the pid into it fails; a lock found there (EEXIST: acquireFileLock
    // then waits for its holder) is counted
    open: async (...a: Parameters<typeof fs.open>) => {
      const h = await fs.open(...a).catch((e: { code?: string }) => {
        if (e.code === 'EEXIST' && String(a[0]).endsWith('.lock')) fail.lockHeld++;
        throw e;
      });
      if (fail.lock) h.writeFile = () => Promise.reject(enospc());
      return h;
    },
    // the temp is created empty, then the write fails
    writeFile: async (...a: Parameters<typeof fs.writeFile>) => {
      if (!fail.tmp || !String(a[0]).endsWith('.tmp')) return fs.writeFile(...a);
      await fs.writeFile(a[0], '');
      throw enospc();
    },
  };
});

const { nodeTuneStore } = await import('../../src/gpu/tune-store-node.js');
const { loadTuneCache, saveTuneCacheOrThrow, setTuneStore } = await import('../../src/gpu/tune.js');

const dir = mkdtempSync(join(tmpdir(), 'tessera-tune-full-'));
afterAll(() => {
  setTuneStore(null);
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  fail.lock = fail.tmp = false;
  fail.lockHeld = 0;
});
const entry = { choice: 'tiled-64', ms: { 'tiled-64': 1 }, shapes: 'x', date: '2026-12-01T00:00:00.000Z' };

describe('a full disk while the tuning cache is saved', () => {
  it('the lock cannot be written: it is removed, the error names it and ENOSPC; the next save is not blocked', async () => {
    const path = join(dir, 'a', 'tune.json');
    mkdirSync(join(dir, 'a'));
    fail.lock = true;
    await expect(nodeTuneStore(path).merge!({ k: entry })).rejects.toThrow(new Error(`writing ${path}.lock failed: no space left on device (ENOSPC)`));
    expect(readdirSync(join(dir, 'a'))).toEqual([]);
    fail.lock = false;
    await nodeTuneStore(path).merge!({ k: entry });
    expect(fail.lockHeld, 'the next save found the lock free: no 10 s wait for a phantom holder').toBe(0);
    expect(readdirSync(join(dir, 'a'))).toEqual(['tune.json']);
  });

  it('the temp cannot be written: it and the lock are removed, the error names the temp and ENOSPC', async () => {
    const path = join(dir, 'b', 'tune.json');
    mkdirSync(join(dir, 'b'));
    fail.tmp = true;
    await expect(nodeTuneStore(path).merge!({ k: entry })).rejects.toThrow(new Error(`writing ${path}.${process.pid}.tmp failed: no space left on device (ENOSPC)`));
    expect(readdirSync(join(dir, 'b'))).toEqual([]);
  });

  it('tessera tune\'s save: one line, the cache, the file that failed and why', async () => {
    const path = join(dir, 'c', 'tune.json');
    setTuneStore(nodeTuneStore(path));
    expect(await loadTuneCache()).toEqual({});
    fail.lock = true;
    await expect(saveTuneCacheOrThrow()).rejects.toThrow(new Error(`could not write the tuning cache at ${path}: writing ${path}.lock failed: no space left on device (ENOSPC)`));
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});
