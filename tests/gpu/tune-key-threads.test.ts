// The tuning cache keys its choices by llvmpipe's thread count on lavapipe (src/gpu/tune.ts
// tuneAdapterKey, src/gpu/tune-store-node.ts llvmpipeKeyDetail): a winner timed at LP_NUM_THREADS=2
// is not reused at 16, nor the reverse. Entries saved under another count, or before the count was in
// the key, stay in the file, unused and counted for `tessera info` (cachedElsewhere); damaged entries
// are never used as choices. No GPU: fake adapters (the CLI side: tests/cli/tune-threads-cli.test.ts).
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.js';
import { llvmpipeThreadsOf } from '../../src/gpu/node.js';
import { llvmpipeKeyDetail } from '../../src/gpu/tune-store-node.js';
import { cachedChoice, cachedElsewhere, loadTuneCache, setTuneKeyDetail, setTuneMode, setTuneStore, tuneAdapterKey, tuneKey, type TuneEntry } from '../../src/gpu/tune.js';

const adapterInfo = { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' };
const lavapipe = (runtime: 'node' | 'browser' = 'node') => ({ runtime, adapterInfo, device: {} }) as unknown as Gpu;
const otherGpu = { runtime: 'node', adapterInfo: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' }, device: {} } as unknown as Gpu;
const entry = (choice: string): TuneEntry => ({ choice, ms: { [choice]: 1 }, shapes: 'x[1,1]', date: '2026-12-02' });

describe('llvmpipeThreadsOf', () => {
  it('on Node with llvmpipe: the count Mesa runs with (capped at 32; unset or not a number: one per core)', () => {
    expect(llvmpipeThreadsOf(lavapipe(), '2')).toBe(2);
    expect(llvmpipeThreadsOf(lavapipe(), '16')).toBe(16);
    expect(llvmpipeThreadsOf(lavapipe(), '64')).toBe(32);
    expect(llvmpipeThreadsOf(lavapipe(), '0')).toBe(0);
    const cores = availableParallelism();
    for (const v of [undefined, '', 'abc']) expect(llvmpipeThreadsOf(lavapipe(), v)).toBe(cores > 1 ? Math.min(32, cores) : 0);
  });
  it('null for other adapters and in a browser', () => {
    expect(llvmpipeThreadsOf(otherGpu, '16')).toBeNull();
    expect(llvmpipeThreadsOf(lavapipe('browser'), '16')).toBeNull();
  });
});

describe('the cache key', () => {
  afterAll(() => setTuneKeyDetail(llvmpipeKeyDetail));

  it('holds the llvmpipe thread count: the same count, the same key; another count, another key', () => {
    const at = (threads: string) => {
      setTuneKeyDetail((g) => llvmpipeKeyDetail(g) && `${llvmpipeThreadsOf(g, threads)} llvmpipe threads`);
      return tuneKey(lavapipe(), 'gemm', 'f32 M1024 N512 K512 SWG32x4');
    };
    const two = at('2');
    expect(two).toBe(`v1|node|mesa / software / llvmpipe-llvm-15 / llvmpipe: Mesa 25.0.7 (LLVM 15.0.6) (2 llvmpipe threads)|gemm|f32 M1024 N512 K512 SWG32x4`);
    expect(at('2')).toBe(two);
    expect(at('16')).not.toBe(two);
    expect(at('16')).toContain('(16 llvmpipe threads)|gemm|');
  });

  it('is the adapter alone elsewhere (the registered detail is null there), and never gains a |', () => {
    setTuneKeyDetail(llvmpipeKeyDetail);
    expect(tuneAdapterKey(otherGpu)).toBe('nvidia / hopper / NVIDIA H200');
    expect(tuneAdapterKey(lavapipe('browser'))).toBe('mesa / software / llvmpipe-llvm-15 / llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)');
    setTuneKeyDetail(() => 'a|b');
    expect(tuneAdapterKey(otherGpu)).toBe('nvidia / hopper / NVIDIA H200 (a/b)');
  });
});

describe('entries under other thread counts, old entries, damaged entries', () => {
  afterAll(() => {
    setTuneStore(null);
    setTuneKeyDetail(llvmpipeKeyDetail);
  });

  it('are not used as choices; cachedElsewhere counts the other settings’ entries per setting', async () => {
    const gpu = lavapipe();
    setTuneMode(gpu, 'auto');
    const base = 'v1|node|mesa / software / llvmpipe-llvm-15 / llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)';
    const stored: Record<string, unknown> = {
      [`${base} (2 llvmpipe threads)|gemm|f32 M1024 N512 K512 SWG32x4`]: entry('subgroup-sr32'),
      [`${base} (2 llvmpipe threads)|gemm|f32 M1024 N2048 K512 SWG32x4`]: entry('subgroup-sr32'),
      [`${base}|gemm|f32 M1024 N512 K512 SWG32x4`]: entry('subgroup-sr16-k'), // saved before the count was in the key
      [`${base} (16 llvmpipe threads)|gemm|f32 M1024 N2048 K512 SWG32x4`]: entry('subgroup-sr16'),
      [`${base} (16 llvmpipe threads)|gemm|f32 M64 N64 K64 SWG32x4`]: { choice: 'subgroup-sr16', shapes: 'x', date: 'd' }, // no timings
      [`${base} (16 llvmpipe threads)|gemm|f32 M32 N32 K32 SWG32x4`]: null,
      'v1|node|another adapter|gemm|f32 M1024 N512 K512 SWG32x4': entry('tiled-64'),
    };
    setTuneStore({ where: 'memory (test)', load: async () => structuredClone(stored) as Record<string, TuneEntry>, save: async () => {} });
    await loadTuneCache();
    setTuneKeyDetail((g) => `${llvmpipeThreadsOf(g, '16')} llvmpipe threads`);
    expect(cachedChoice(gpu, 'gemm', 'f32 M1024 N512 K512 SWG32x4')).toBeNull(); // only at 2 threads and in the old form
    expect(cachedChoice(gpu, 'gemm', 'f32 M1024 N2048 K512 SWG32x4')?.choice).toBe('subgroup-sr16');
    expect(cachedChoice(gpu, 'gemm', 'f32 M64 N64 K64 SWG32x4')).toBeNull(); // damaged: the heuristic runs and tuning replaces it
    expect(cachedChoice(gpu, 'gemm', 'f32 M32 N32 K32 SWG32x4')).toBeNull();
    expect(await cachedElsewhere(gpu)).toEqual({ '2 llvmpipe threads': 2, '': 1 });
    setTuneKeyDetail((g) => `${llvmpipeThreadsOf(g, '2')} llvmpipe threads`);
    expect(cachedChoice(gpu, 'gemm', 'f32 M1024 N512 K512 SWG32x4')?.choice).toBe('subgroup-sr32');
    expect(await cachedElsewhere(gpu)).toEqual({ '16 llvmpipe threads': 3, '': 1 });
  });
});
