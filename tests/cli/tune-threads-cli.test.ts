// On lavapipe a tuned choice belongs to llvmpipe's thread count (LP_NUM_THREADS): a cache written at 2
// threads is used by a run at 2 threads and not at 16 (where the heuristic runs until tuned), and
// `tessera info` lists the choices of the count in effect and counts the others. Old entries (saved
// before the count was in the key) and a damaged one crash nothing. The key logic: tests/gpu/tune-key-threads.test.ts.
import { describe, expect, it } from 'vitest';
import { tempDir } from '../hardening/helpers.js';
import { tesseraCli } from '../helpers/cli.js';
import { gpu } from '../helpers/gpu.js';
import { writeTuneCache } from '../helpers/tune-cache.js';
import { gemmBucket, gemmCandidates, gemmHeuristic } from '../../src/ops/gemm.js';

const llvmpipe = !!gpu && /llvmpipe/i.test(`${gpu.adapterInfo.architecture} ${gpu.adapterInfo.description}`);
const [M, K, N] = [256, 256, 256];

describe.skipIf(!llvmpipe)('tuned choices per llvmpipe thread count', () => {
  it('a cache written at LP_NUM_THREADS=2 is used at 2, not at 16; info shows each count its own', async () => {
    const cache = tempDir();
    // TESSERA_TUNE=auto (the tests' default is off, which reads no cache); info times nothing
    const run = async (lp: string, args: string[], extra: Record<string, string> = {}) => {
      const r = await tesseraCli(args, { env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', XDG_CACHE_HOME: cache, LP_NUM_THREADS: lp, TESSERA_TUNE: 'auto', ...extra } });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    const info = async (lp: string) => JSON.parse(await run(lp, ['info', '--json'])) as { adapter: { summary: string }; tuning: { adapter_key: string; choices: Record<string, { choice: string }>; elsewhere: Record<string, number> } };
    const before = await info('2');
    const at2 = before.tuning.adapter_key;
    expect(at2).toMatch(/ \(2 llvmpipe threads\)$/);
    const heuristic = gemmHeuristic(gpu!, M, N);
    const other = gemmCandidates(gpu!, M, N, K).find((c) => c !== heuristic)!;
    expect(other).toBeDefined();
    const bucket = gemmBucket('f32', M, N, K);
    const summary = before.adapter.summary;
    writeTuneCache(cache, {
      [`v1|node|${at2}|gemm|${bucket}`]: { choice: other, ms: { [heuristic]: 2, [other]: 1 }, shapes: 'x', date: '2026-12-02' },
      [`v1|node|${summary}|gemm|${bucket}`]: { choice: other, ms: { [other]: 1 }, shapes: 'x', date: '2026-12-01' }, // before the count was in the key
      [`v1|node|${summary} (16 llvmpipe threads)|gemm|f32 M8 N8 K8 SWG8x4`]: { choice: 'gemv' }, // damaged: no timings
    });
    const i2 = await info('2');
    expect(i2.tuning.choices[`gemm|${bucket}`]?.choice).toBe(other);
    const i16 = await info('16');
    expect(i16.tuning.adapter_key).toBe(at2.replace('(2 llvmpipe threads)', '(16 llvmpipe threads)'));
    expect(i16.tuning.choices[`gemm|${bucket}`]).toBeUndefined();
    expect(i16.tuning.elsewhere).toEqual({ '2 llvmpipe threads': 1, '': 1 });
    expect(await run('16', ['info'])).toContain('  not used here: 2 cached for this adapter at other settings (1 at 2 llvmpipe threads, 1 saved before choices were kept per llvmpipe thread count); tessera tune times them for this one\n');

    // the kernel a run records with the cache only read (TESSERA_TUNE=cached), against the heuristic's (off)
    const kernel = async (lp: string, mode: string) => {
      const out = await run(lp, ['bench', 'gemm', '--m', String(M), '--k', String(K), '--n', String(N), '--repeats', '1', '--warmup', '0', '--no-wall', '--no-ceiling', '--json'], { TESSERA_TUNE: mode });
      return (JSON.parse(out.trim().split('\n').pop()!) as { kernels: string[] }).kernels.join(' ');
    };
    const heuristicKernel = await kernel('2', 'off');
    expect(await kernel('2', 'cached')).not.toBe(heuristicKernel);
    expect(await kernel('16', 'cached')).toBe(heuristicKernel);
  }, 240_000);
});
