// The last ceiling reading per adapter, kept between runs in the cache folder beside the tuning cache
// ($XDG_CACHE_HOME/tessera/ceiling.json), so that `tessera bench ceiling` and the benchmarks that measure a ceiling can
// say when this run's roofs are far from the last run's (ceilingDriftNote, src/profile/ceiling.ts): a spread within one
// run can be narrow while the whole run was slowed (session 23 bench review #9: f32 FMA 35.4 GFLOP/s with a 1.18×
// spread, 71.7 the run before, the "% ceiling" shares 2× apart with no word). A file that cannot be read or written
// costs the note only: the benchmark's figures do not depend on it.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describeAdapter, type Gpu } from '../gpu/device.js';
import { llvmpipeThreadsOf } from '../gpu/node.js';
import { tuneCachePath } from '../gpu/tune-store-node.js';
import type { Ceiling, CeilingReading } from '../profile/ceiling.js';

/** The file: ceiling.json in the tuning cache's folder ($XDG_CACHE_HOME/tessera, else ~/.cache/tessera). */
export function ceilingHistoryPath(): string {
  return join(dirname(tuneCachePath()), 'ceiling.json');
}

/** The adapter as the file keys it: describeAdapter, and on lavapipe the thread count (LP_NUM_THREADS moves the roofs). */
export function ceilingKey(gpu: Pick<Gpu, 'runtime' | 'adapterInfo'> & Parameters<typeof describeAdapter>[0]): string {
  const threads = llvmpipeThreadsOf(gpu);
  return threads === null ? describeAdapter(gpu) : `${describeAdapter(gpu)} (llvmpipe threads ${threads})`;
}

async function readAll(path: string): Promise<Record<string, CeilingReading>> {
  try {
    const j = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return j !== null && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, CeilingReading>) : {};
  } catch {
    return {};
  }
}

const isReading = (r: unknown): r is CeilingReading => {
  const x = r as Partial<CeilingReading> | null;
  return !!x && typeof x.fma_gflops === 'number' && typeof x.copy_gbps === 'number' && typeof x.date === 'string' && (x.fma_f16_gflops === undefined || typeof x.fma_f16_gflops === 'number');
};

/** The last reading recorded for `key` (ceilingKey), or undefined (none, or a file that cannot be read or parsed). */
export async function lastCeiling(key: string, path = ceilingHistoryPath()): Promise<CeilingReading | undefined> {
  const r = (await readAll(path))[key];
  return isReading(r) ? r : undefined;
}

/** Records `c` as the last reading of `key` (the file re-read first, other adapters' kept; written atomically). Failures are ignored. */
export async function recordCeiling(key: string, c: Ceiling, path = ceilingHistoryPath()): Promise<void> {
  const all = await readAll(path);
  all[key] = { fma_gflops: c.fma_gflops, ...(c.fma_f16_gflops !== undefined ? { fma_f16_gflops: c.fma_f16_gflops } : {}), copy_gbps: c.copy_gbps, date: new Date().toISOString() };
  // temp + rename: a killed run never leaves half a file (no lock: two runs at once keep one of their readings)
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, `${JSON.stringify(all, null, 1)}\n`);
    await rename(tmp, path);
  } catch {
    await rm(tmp, { force: true }).catch(() => undefined); // the note is lost, nothing else
  }
}
