// Cache keys no call can match again are dropped when the cache is loaded and when it is saved (tune.ts
// staleTuneKey, currentTuneEntries): GEMM buckets without the subgroup width (` SWG64x4`, the form before
// session 18) and keys of an older format VERSION. Before, they stayed in the file forever and `tessera info`
// listed them as this adapter's choices.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeTuneStore } from '../../src/gpu/tune-store-node.js';
import type { Gpu } from '../../src/gpu/device.js';
import { currentTuneEntries, loadTuneCache, setTuneStore, staleTuneKey, tuneKey, type TuneEntry } from '../../src/gpu/tune.js';
import { currentGemmBucket, gemmBucket } from '../../src/ops/gemm.js';
import { cli, tempDir } from '../hardening/helpers.js';
import { hasGpu } from '../helpers/gpu.js';
import { writeTuneCache } from '../helpers/tune-cache.js';

const entry = (choice: string): TuneEntry => ({ choice, ms: { [choice]: 1 }, shapes: 'x', date: '2026-12-01' });
const at = 'v1|node|nvidia / hopper / NVIDIA H200';
const OLD = `${at}|gemm|f32 M1024 N2048 K512`; // session 17's form: no SWG part
const NEW = `${at}|gemm|f32 M1024 N2048 K512 SWG64x4`;
const ATTENTION = `${at}|attention|f32 B1 H4 L1024 Dh64`;

afterAll(() => setTuneStore(null));

describe('staleTuneKey', () => {
  it('a GEMM bucket without its SWG part, and an older format version: stale', () => {
    expect(staleTuneKey(OLD)).toBe(true);
    expect(staleTuneKey(`${at}|gemm|f16 M8 N96 K64 K%4`)).toBe(true);
    expect(staleTuneKey(`v0|node|a|gemm|f32 M8 N8 K8 SWG8x4`)).toBe(true);
  });
  it("the current forms, another family's buckets, a newer version's keys and keys of another shape: kept", () => {
    for (const k of [NEW, `${at}|gemm|f16 M8 N96 K64 K%4 SWG8x4`, ATTENTION, `v2|node|a|gemm|f32 M8 N8 K8`, 'v1|other|gemm|b', 'k0', '']) expect(staleTuneKey(k), k).toBe(false);
  });
});

describe("staleTuneKey on gemmBucket's own keys (the format is checked where it is made: gemm.ts currentGemmBucket)", () => {
  // a key as a tuned call makes it: tuneKey over gemmBucket's output, for shapes across every SWG width and K % 4
  const fakeGpu = { runtime: 'node', adapterInfo: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' } } as unknown as Gpu;
  const buckets = (['f32', 'f16'] as const).flatMap((dt) => [1, 5, 8, 9, 1024].flatMap((M) => [1, 37, 96, 1152, 1536, 4608].flatMap((N) => [37, 384, 1152].map((K) => gemmBucket(dt, M, N, K)))));
  it('every current key is kept; the same key without its SWG part is dropped', () => {
    expect(new Set(buckets.map((b) => / SWG\d+x\d+$/.exec(b)?.[0])).size).toBeGreaterThan(2); // several widths, so the test sees each form
    for (const b of buckets) {
      expect(currentGemmBucket(b), b).toBe(true);
      expect(staleTuneKey(tuneKey(fakeGpu, 'gemm', b)), b).toBe(false);
      const old = b.replace(/ SWG\d+x\d+$/, '');
      expect(old).not.toBe(b);
      expect(staleTuneKey(tuneKey(fakeGpu, 'gemm', old)), old).toBe(true);
    }
  });
});

describe('the Node cache file with an old-format entry', () => {
  it('loading leaves it out; the next save writes the file without it', async () => {
    const cache = tempDir();
    const path = writeTuneCache(cache, { [OLD]: entry('subgroup-sr32-k'), [NEW]: entry('subgroup-sr16'), [ATTENTION]: entry('tiled') });
    const store = nodeTuneStore(path);
    setTuneStore(store);
    expect(Object.keys(await loadTuneCache()).sort()).toEqual([ATTENTION, NEW]);
    const added = `${at}|gemm|f32 M8 N8 K8 SWG8x4`;
    await store.merge!({ [added]: entry('gemv') });
    const file = (JSON.parse(readFileSync(path, 'utf8')) as { entries: Record<string, TuneEntry> }).entries;
    expect(Object.keys(file).sort()).toEqual([added, ATTENTION, NEW].sort());
    expect(currentTuneEntries({ [OLD]: entry('a'), [NEW]: entry('b') })).toEqual({ [NEW]: entry('b') });
  });
});

describe.skipIf(!hasGpu)('tessera info with an old-format entry cached for this adapter', () => {
  it('does not list it (text and --json), and lists the current one', async () => {
    const cache = tempDir();
    const env = { XDG_CACHE_HOME: cache, TESSERA_TUNE: 'auto' };
    const probe = await cli(['info', '--json'], env);
    expect(probe.code, probe.stderr).toBe(0);
    const a = JSON.parse(probe.stdout) as { runtime: string; tuning: { adapter_key: string; heuristics: { op: string; strategy: string }[] } };
    const prefix = `v1|${a.runtime}|${a.tuning.adapter_key}|`;
    const good = a.tuning.heuristics.find((h) => h.op === 'gemm')!.strategy;
    writeTuneCache(cache, { [`${prefix}gemm|f32 M64 N256 K256`]: entry(good), [`${prefix}gemm|f32 M128 N256 K256 SWG64x4`]: entry(good) });
    const text = await cli(['info'], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('gemm|f32 M128 N256 K256 SWG64x4');
    expect(text.stdout).not.toContain('gemm|f32 M64 N256 K256');
    const json = JSON.parse((await cli(['info', '--json'], env)).stdout) as { tuning: { choices: Record<string, unknown>; unusable?: Record<string, string>; elsewhere: Record<string, number> } };
    expect(Object.keys(json.tuning.choices)).toEqual(['gemm|f32 M128 N256 K256 SWG64x4']);
    expect(Object.keys(json.tuning.unusable ?? {})).toEqual([]);
    expect(json.tuning.elsewhere).toEqual({});
  }, 120_000);
});
