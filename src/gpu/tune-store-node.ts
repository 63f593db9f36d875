// Node: the tuning cache as one JSON file in the user's cache directory,
// $XDG_CACHE_HOME/tessera/tune.json (~/.cache/tessera/tune.json when it is unset or relative), written atomically
// (temporary file + rename) so a killed process never leaves half a file. Saves merge: under a lock
// file (tune.json.lock) the file is re-read just before the rename and this process's new choices
// are written over it, so two tessera processes tuning at once keep each other's choices.
// Also registers the Node part of the cache key: llvmpipe's thread count (tune.ts setTuneKeyDetail).
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { Gpu } from './device.js';
import { llvmpipeThreadsOf } from './node.js';
import { currentTuneEntries, setTuneKeyDetail, setTuneStore, type TuneEntry, type TuneStore } from './tune.js';

/**
 * The tuning cache file: $XDG_CACHE_HOME/tessera/tune.json, or ~/.cache/tessera/tune.json when
 * XDG_CACHE_HOME is unset, empty or relative (the XDG Base Directory spec: a relative path is
 * invalid and is ignored, not read against the working directory).
 */
export function tuneCachePath(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return join(base, 'tessera', 'tune.json');
}

/** A lock older than this is stale (a save holds it for milliseconds: read, write, rename). */
const LOCK_STALE_MS = 30_000;
/** How long a save waits for another process's lock before giving up (with an error naming it). */
const LOCK_WAIT_MS = 10_000;

/** Whether process `pid` (on this machine) is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'; // exists, another user's
  }
}

/**
 * A failed write of `file` (the cache, its temp or its lock) as one line naming the file and the
 * cause: `writing F failed: no space left on device (ENOSPC)` (Node's errno message names neither).
 */
function writeFailure(file: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  // "ENOSPC: no space left on device, write" -> "no space left on device (ENOSPC)"
  const why = err.code ? `${err.message.replace(`${err.code}: `, '').replace(/, \w+( '.*')?$/, '')} (${err.code})` : err.message;
  return new Error(`writing ${file} failed: ${why}`, { cause: e });
}

/**
 * Takes the lock file `path` (created exclusively, holding our pid); returns its release. A lock
 * whose process is gone (a killed save) or that is older than LOCK_STALE_MS is removed and taken.
 * A lock created but not written (a full disk) is removed again: left empty, it would block every
 * later save with no holder to name.
 * @throws Error naming the lock and its holder after LOCK_WAIT_MS; Error `writing LOCK failed: WHY (CODE)`
 * when the lock cannot be created or written.
 */
export async function acquireFileLock(path: string, waitMs = LOCK_WAIT_MS, staleMs = LOCK_STALE_MS): Promise<() => Promise<void>> {
  const t0 = Date.now();
  for (;;) {
    let h: Awaited<ReturnType<typeof open>> | undefined;
    try {
      h = await open(path, 'wx');
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw writeFailure(path, e);
    }
    if (h) {
      try {
        await h.writeFile(String(process.pid));
        await h.close();
      } catch (e) {
        await h.close().catch(() => {});
        await unlink(path).catch(() => {});
        throw writeFailure(path, e);
      }
      return () => unlink(path).catch(() => {});
    }
    const [pid, age] = await Promise.all([readFile(path, 'utf8').then((t) => Number.parseInt(t, 10), () => NaN), stat(path).then((st) => Date.now() - st.mtimeMs, () => 0)]);
    if ((Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) || age > staleMs) {
      await unlink(path).catch(() => {});
      continue;
    }
    if (Date.now() - t0 > waitMs) throw new Error(`${path} is held by process ${Number.isNaN(pid) ? '(unknown)' : pid}; remove it if no tessera is running`);
    await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
  }
}

export function nodeTuneStore(path = tuneCachePath()): TuneStore {
  const load = async (): Promise<Record<string, TuneEntry>> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      // nothing there, or a part of the path is a file: no cache yet (saving reports the path)
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return {};
      // a save renames a file onto the path, which a folder there refuses: it is never replaced
      if (code === 'EISDIR') throw Object.assign(new Error(`a folder is in its place, which saving tuned choices cannot replace: remove it, or set XDG_CACHE_HOME to another folder (an absolute path)`, { cause: e }), { replaceable: false });
      throw e;
    }
    const j = JSON.parse(text) as { entries?: Record<string, TuneEntry> };
    if (!j || typeof j !== 'object' || !j.entries || typeof j.entries !== 'object' || Array.isArray(j.entries)) throw new Error('not a tessera tuning cache (no "entries" object)'); // the caller names the file
    return j.entries;
  };
  const write = async (entries: Record<string, TuneEntry>) => {
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify({ tessera: 'tuning cache', entries }, null, 1));
    } catch (e) {
      await unlink(tmp).catch(() => {}); // a part-written temp (a full disk) is not left beside the cache
      throw writeFailure(tmp, e);
    }
    try {
      await rename(tmp, path);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw writeFailure(path, e);
    }
  };
  return {
    where: path,
    load,
    async save(entries) {
      await mkdir(dirname(path), { recursive: true });
      await write(entries);
    },
    async merge(changed) {
      await mkdir(dirname(path), { recursive: true });
      const release = await acquireFileLock(`${path}.lock`);
      try {
        // a file that cannot be read (the load warned about it) is replaced
        // entries in a key format no call matches any more are dropped (currentTuneEntries)
        const now = currentTuneEntries(await load().catch(() => ({})));
        const next = { ...now, ...changed };
        await write(next);
        return next;
      } finally {
        await release();
      }
    },
  };
}

/**
 * The Node part of the cache key (setTuneKeyDetail): `16 llvmpipe threads` on lavapipe, null on other
 * adapters. The fastest variant depends on llvmpipe's thread count (LP_NUM_THREADS; 2 and 16 threads
 * differ ×1.7 in GEMM time, bench/RESULTS.md session 14), so choices are kept per count, not carried across.
 */
export function llvmpipeKeyDetail(gpu: Gpu): string | null {
  const n = llvmpipeThreadsOf(gpu);
  return n === null ? null : `${n} llvmpipe threads`;
}

setTuneStore(nodeTuneStore());
setTuneKeyDetail(llvmpipeKeyDetail);
