// `tessera info` names cached tuning entries a run cannot use (a choice that is no strategy of its
// op, one that cannot run on this adapter, a damaged entry) as unusable instead of listing them
// under the tuned choices: a run ignores them (settlePlan keeps the heuristic and re-tunes).
import { describe, expect, it } from 'vitest';
import { cachedChoiceProblem } from '../../src/cli/cmd-info.js';
import type { Gpu } from '../../src/gpu/device.js';
import { cli, tempDir } from '../hardening/helpers.js';
import { hasGpu } from '../helpers/gpu.js';
import { writeTuneCache } from '../helpers/tune-cache.js';

const lavapipe = { isCpu: true, subgroups: true, subgroupMinSize: 8, subgroupMaxSize: 8 } as unknown as Gpu;
const gpuNoSubgroups = { isCpu: false, subgroups: false, subgroupMinSize: 0, subgroupMaxSize: 0 } as unknown as Gpu;
const entry = (choice: unknown) => ({ choice, ms: { [String(choice)]: 1 }, shapes: 'x', date: '2026-12-01' });

describe('cachedChoiceProblem', () => {
  it('usable entries: null', () => {
    expect(cachedChoiceProblem(lavapipe, 'gemm|f32 M64 N256 K256', entry('subgroup-sr8'))).toBeNull();
    expect(cachedChoiceProblem(lavapipe, 'attention|f32 Lq64 Lk64 Dh64', entry('rows-dh'))).toBeNull();
    expect(cachedChoiceProblem(gpuNoSubgroups, 'attention|f16 Lq64 Lk64 Dh64', entry('fa2-wg'))).toBeNull();
  });
  it('a name that is no strategy of its op', () => {
    expect(cachedChoiceProblem(lavapipe, 'gemm|f32 M64 N256 K256', entry('bogus-strategy'))).toBe(
      '"bogus-strategy" is not a gemm strategy (subgroup-sr16, subgroup-sr8, tiled-128, tiled-64, gemv, subgroup-sr32, subgroup-sr16-k, subgroup-sr32-k, subgroup-sr32-swg32, subgroup-sr32-swg32-k)',
    );
    expect(cachedChoiceProblem(lavapipe, 'gemm|f32 M64 N256 K256', entry('fa2'))).toMatch(/^"fa2" is not a gemm strategy/);
    expect(cachedChoiceProblem(lavapipe, 'attention|f32 Lq64 Lk64 Dh64', entry('tiled-64'))).toBe('"tiled-64" is not an attention strategy (rows, fa2, fa2-wg, rows-dh)');
  });
  it('a strategy this adapter or bucket does not take', () => {
    expect(cachedChoiceProblem(gpuNoSubgroups, 'gemm|f32 M64 N256 K256', entry('subgroup-sr8'))).toBe('"subgroup-sr8" cannot run on this adapter (usable: tiled-128, tiled-64, gemv)');
    // rows-dh only for head dims 64, 72, 128
    expect(cachedChoiceProblem(lavapipe, 'attention|f32 Lq64 Lk64 Dh40', entry('rows-dh'))).toBe('"rows-dh" is not a candidate for this bucket on this adapter (rows)');
  });
  it('damaged entries and unknown ops', () => {
    expect(cachedChoiceProblem(lavapipe, 'gemm|f32 M64 N256 K256', { ms: {} })).toBe('damaged entry: no choice name');
    expect(cachedChoiceProblem(lavapipe, 'gemm|f32 M64 N256 K256', { choice: 'tiled-64' })).toBe('damaged entry: no timings');
    expect(cachedChoiceProblem(lavapipe, 'conv|f32', entry('tiled-64'))).toBe('no tuned op is called "conv" (gemm, attention)');
  });
});

describe.skipIf(!hasGpu)('tessera info with unusable cached entries', () => {
  it('marks them unusable (text and --json) and lists the usable one as before', async () => {
    const cache = tempDir();
    const env = { XDG_CACHE_HOME: cache, TESSERA_TUNE: 'auto' };
    const probe = await cli(['info', '--json'], env);
    expect(probe.code, probe.stderr).toBe(0);
    const a = JSON.parse(probe.stdout) as { runtime: string; tuning: { adapter_key: string; heuristics: { op: string; strategy: string }[] } };
    const prefix = `v1|${a.runtime}|${a.tuning.adapter_key}|`; // the adapter, and llvmpipe's thread count on lavapipe
    const good = a.tuning.heuristics.find((h) => h.op === 'gemm')!.strategy;
    writeTuneCache(cache, {
      [`${prefix}gemm|f32 M64 N256 K256 SWG64x4`]: entry('bogus-strategy'),
      [`${prefix}gemm|f32 M128 N256 K256 SWG64x4`]: entry('fa2'),
      [`${prefix}gemm|f32 M256 N256 K256 SWG64x4`]: entry(good),
    });
    const text = await cli(['info'], env);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines).toContain(`    ${'gemm|f32 M64 N256 K256 SWG64x4'.padEnd(34)} unusable: "bogus-strategy" is not a gemm strategy (subgroup-sr16, subgroup-sr8, tiled-128, tiled-64, gemv, subgroup-sr32, subgroup-sr16-k, subgroup-sr32-k, subgroup-sr32-swg32, subgroup-sr32-swg32-k); ignored (the heuristic runs until tuning replaces it)`);
    expect(lines.find((l) => l.startsWith('    gemm|f32 M128 N256 K256 SWG64x4'))).toMatch(/ unusable: "fa2" is not a gemm strategy /);
    expect(lines.find((l) => l.startsWith('    gemm|f32 M256 N256 K256 SWG64x4'))).toBe(`    ${'gemm|f32 M256 N256 K256 SWG64x4'.padEnd(34)} ${good.padEnd(14)} the only candidate`);
    const json = JSON.parse((await cli(['info', '--json'], env)).stdout) as { tuning: { unusable: Record<string, string> } };
    expect(Object.keys(json.tuning.unusable).sort()).toEqual(['gemm|f32 M128 N256 K256 SWG64x4', 'gemm|f32 M64 N256 K256 SWG64x4']);
  }, 120_000);
});
