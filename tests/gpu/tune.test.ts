// The autotuner (src/gpu/tune.ts): times the candidates of a shape bucket before a plan's first
// run, checks each against the reference candidate's output, caches the winner in the store,
// re-records the dispatch with it, reuses it for the next plan, and does nothing in mode 'off'.
// One small shape (few rows: the gemv and subgroup/tiled candidates), so few variants compile.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { expectClose } from '../helpers/compare.js';
import { TOL } from '../tolerances.js';
import { Plan } from '../../src/gpu/plan.js';
import { watchKernels, type KernelEvent } from '../../src/gpu/kernel.js';
import { Allocator, readTensor, type Tensor } from '../../src/gpu/tensor.js';
import { copyKernel } from '../../src/profile/ceiling.js';
import { nodeTuneStore } from '../../src/gpu/tune-store-node.js';
import { fastestRounds, implicitTuneMinFlops, loadTuneCache, roundOrder, saveTuneCacheOrThrow, setTuneMode, setTuneStore, tuneKey, tunePlan, tuneRequest, TUNE_MIN_FLOPS, TUNE_ROUNDS, type TuneEntry, type TuneStore } from '../../src/gpu/tune.js';
import { gemm, gemmBucket, gemmCandidates, gemmHeuristic } from '../../src/ops/gemm.js';
import { gemmRef } from '../../src/ref/gemm.js';
import { randn } from '../../src/random.js';

const saved: Record<string, TuneEntry>[] = [];
const store: TuneStore = {
  where: 'memory (test)',
  load: async () => ({}),
  save: async (e) => {
    saved.push(structuredClone(e));
  },
};

const [M, K, N] = [12, 36, 40];

async function runGemm(): Promise<{ plan: Plan; got: Float32Array; x: Float32Array; w: Float32Array }> {
  const alloc = new Allocator(gpu!);
  try {
    const x = randn(M * K, 1);
    const w = randn(N * K, 2, 1 / 6);
    const plan = new Plan(gpu!, alloc);
    const out = alloc.tensor([M, N], 'f32', 'y');
    gemm(plan, { x: alloc.upload(x, [M, K], 'f32', 'x'), w: alloc.upload(w, [N, K], 'f32', 'w'), out });
    await plan.run('tune test');
    return { plan, got: await readTensor(gpu!, out), x, w };
  } finally {
    alloc.destroyAll();
  }
}

describe('tuning rounds', () => {
  it('interleave the candidates, rotated every round (A B C, B C A, …; more in tune-rounds.test.ts)', () => {
    expect([0, 1, 2, 3].map((i) => roundOrder(['a', 'b', 'c'], i).join(''))).toEqual(['abc', 'bca', 'cab', 'abc']);
    expect(TUNE_ROUNDS).toBeGreaterThanOrEqual(5);
  });

  it("record each candidate's fastest round as its ms (the choice is raceCandidates': tune-rounds.test.ts)", () => {
    const ms = fastestRounds(new Map([['a', [14, 6, 15]], ['b', [9, 8, 10]]]));
    expect(ms).toEqual({ a: 6, b: 8 });
    expect(() => fastestRounds(new Map([['a', []]]))).toThrow(/candidate a has no timed round/);
  });
});

describe('saving the cache for tessera tune', () => {
  afterAll(() => setTuneStore(null));
  it('a store that cannot be written: saveTuneCacheOrThrow throws naming where (the saves after tuning only warn)', async () => {
    setTuneStore({ where: '/ro/tessera/tune.json', load: async () => ({}), save: async () => Promise.reject(new Error('EROFS: read-only file system')) });
    await loadTuneCache();
    await expect(saveTuneCacheOrThrow()).rejects.toThrow(/^could not write the tuning cache at \/ro\/tessera\/tune\.json: EROFS: read-only file system$/);
    const saved: Record<string, TuneEntry>[] = [];
    setTuneStore({ where: 'memory', load: async () => ({}), save: async (e) => void saved.push(e) });
    await loadTuneCache();
    await saveTuneCacheOrThrow();
    expect(saved).toEqual([{}]);
  });
});

describe('a corrupt tuning cache file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tune-cache-'));
  afterAll(() => {
    setTuneStore(null);
    rmSync(dir, { recursive: true, force: true });
  });
  for (const [what, text, why] of [
    ['invalid JSON', '{"entries": {', /not valid JSON \(.+\)$/],
    ['JSON without an "entries" object', '{"entries": null}', /not a tessera tuning cache \(no "entries" object\)$/],
  ] as const) {
    it(`${what}: one warning naming the file and that it will be replaced; then replaced by the next save`, async () => {
      const path = join(dir, 'tune.json');
      writeFileSync(path, text);
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      try {
        setTuneStore(nodeTuneStore(path));
        expect(await loadTuneCache()).toEqual({});
        expect(await loadTuneCache()).toEqual({}); // loaded once per process: no second warning
        expect(warn).toHaveBeenCalledTimes(1);
        const line = String(warn.mock.calls[0]![0]);
        expect(line.startsWith(`[tessera] tuning cache ${path} is unreadable, ignoring it (it will be replaced when tuned kernel choices are next saved): `)).toBe(true);
        expect(line).toMatch(why);
      } finally {
        warn.mockRestore();
      }
      await saveTuneCacheOrThrow();
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ tessera: 'tuning cache', entries: {} });
    });
  }
});

describe.skipIf(!hasGpu)('autotuning', () => {
  const floor = process.env.TESSERA_TUNE_MIN_FLOPS;
  afterAll(() => {
    setTuneStore(null);
    if (gpu) setTuneMode(gpu, 'off');
    if (floor === undefined) delete process.env.TESSERA_TUNE_MIN_FLOPS;
    else process.env.TESSERA_TUNE_MIN_FLOPS = floor;
  });

  it('a run times only calls of at least TUNE_MIN_FLOPS: a smaller one keeps the heuristic, caches nothing, announces nothing', async () => {
    delete process.env.TESSERA_TUNE_MIN_FLOPS;
    expect(implicitTuneMinFlops()).toBe(TUNE_MIN_FLOPS);
    expect(2 * M * N * K).toBeLessThan(TUNE_MIN_FLOPS);
    setTuneStore(store);
    setTuneMode(gpu!, 'auto');
    const tunes: KernelEvent[] = [];
    const unwatch = watchKernels(gpu!, (e) => e.type === 'tune' && tunes.push(e));
    try {
      const r = await runGemm();
      expect(r.plan.dispatches[0]!.choice).toBe(gemmHeuristic(gpu!, M, N));
      expect(tunes).toEqual([]);
      expect(saved.length).toBe(0);
    } finally {
      unwatch();
    }
    // the knob: a number ≥ 0 replaces the floor; empty keeps it (other values: tests/gpu/tune-env.test.ts)
    for (const [v, want] of [['0', 0], ['1e9', 1e9], ['', TUNE_MIN_FLOPS]] as const) {
      process.env.TESSERA_TUNE_MIN_FLOPS = v;
      expect(implicitTuneMinFlops(), v).toBe(want);
    }
    // the rest of this file tunes its small GEMM as a larger one would be
    process.env.TESSERA_TUNE_MIN_FLOPS = '0';
  }, 300_000);

  it('times the candidates on first use, caches the winner, and the next plan records it directly', async () => {
    setTuneStore(store);
    setTuneMode(gpu!, 'auto');
    const tunes: KernelEvent[] = [];
    const unwatch = watchKernels(gpu!, (e) => e.type === 'tune' && tunes.push(e));
    const cands = gemmCandidates(gpu!, M, N);
    expect(cands.length).toBeGreaterThan(1);
    const first = await runGemm();
    // the run's own tuning (explicit: false, the CLI's "tuning kernels …" line) of the one bucket: as it starts, and done
    const event = { type: 'tune', family: 'gemm', bucket: gemmBucket('f32', M, N, K), candidates: cands, total: 1, where: 'memory (test)', explicit: false };
    expect(tunes).toEqual([{ ...event, done: 0 }, { ...event, done: 1 }]);
    expectClose(first.got, gemmRef(first.x, first.w, { M, K, N }), [M, N], TOL.gemm!.f32, 'tuned gemm');
    expect(saved.length).toBe(1);
    const key = tuneKey(gpu!, 'gemm', gemmBucket('f32', M, N, K));
    const entry = saved[0]![key]!;
    expect(entry, key).toBeDefined();
    expect(Object.keys(entry.ms).sort()).toEqual([...cands].sort());
    expect(cands).toContain(entry.choice);
    // the winner: of the challengers ruled faster than the heuristic (the first) by more than TUNE_MARGIN the lowest
    // time ratio to it, or the heuristic when none was (tune-rounds.test.ts)
    expect(Object.keys(entry.ratio!).sort()).toEqual([...cands].sort());
    expect(Object.keys(entry.verdict!).sort()).toEqual(cands.slice(1).sort());
    const faster = cands.filter((c) => entry.verdict![c] === 'faster');
    expect(entry.choice).toBe(faster.length ? faster.reduce((a, b) => (entry.ratio![b]! < entry.ratio![a]! ? b : a)) : cands[0]);
    expect(first.plan.dispatches[0]!.choice).toBe(entry.choice);

    const second = await runGemm();
    expect(second.plan.dispatches[0]!.choice).toBe(entry.choice);
    expect(saved.length).toBe(1); // nothing re-timed
    expect(tunes.length).toBe(2); // nor announced
    unwatch();
    expectClose(second.got, gemmRef(second.x, second.w, { M, K, N }), [M, N], TOL.gemm!.f32, 'cached gemm');
  }, 600_000);

  it("mode 'off' neither looks up nor times: the heuristic runs", async () => {
    setTuneMode(gpu!, 'off');
    const r = await runGemm();
    expect(r.plan.dispatches[0]!.choice).toBe(gemmHeuristic(gpu!, M, N));
    expect(saved.length).toBe(1);
  });

  it('a candidate whose output disagrees with the reference candidate is rejected, never chosen', async () => {
    // Two "strategies" of a test family: the same GEMM, but 'wrong' reads a different weight.
    const bench = (p: Plan, name: string): Tensor => {
      const a = p.alloc;
      const x = a.upload(randn(M * K, 3), [M, K], 'f32', 'x');
      const w = a.upload(randn(N * K, name === 'wrong' ? 5 : 4, 1 / 6), [N, K], 'f32', 'w');
      const out = a.tensor([M, N], 'f32', 'y');
      gemm(p, { x, w, out, strategy: gemmHeuristic(gpu!, M, N) });
      return out;
    };
    const alloc = new Allocator(gpu!);
    try {
      const entry = await tuneRequest(gpu!, { family: 'test', bucket: 'b', candidates: ['right', 'wrong'], heuristic: 'right', flops: 2 * M * N * K, args: () => { throw new Error('unused'); }, bench }, { rounds: 1 });
      expect(entry.choice).toBe('right');
      expect(entry.rejected).toEqual(['wrong']);
      expect(Object.keys(entry.ms)).toEqual(['right']);
    } finally {
      alloc.destroyAll();
    }
  });

  it('a request whose tuning fails keeps the heuristic, runs, and caches nothing', async () => {
    setTuneMode(gpu!, 'auto');
    const alloc = new Allocator(gpu!);
    const tunes: KernelEvent[] = [];
    const unwatch = watchKernels(gpu!, (e) => e.type === 'tune' && tunes.push(e));
    try {
      const src = alloc.upload([1, 2, 3, 4], [4], 'f32', 'src');
      const dst = alloc.tensor([4], 'f32', 'dst');
      const copy = { spec: copyKernel, variant: { overrides: { WG: 256 } }, uniforms: [['n4', 'u32', 1], ['_pad0', 'u32', 0], ['_pad1', 'u32', 0], ['_pad2', 'u32', 0]] as [string, 'u32', number][], buffers: [src, dst], workgroups: [1, 1, 1] as [number, number, number], shapes: '', flops: 0, bytes: 32 };
      const failing = () => {
        const plan = new Plan(gpu!, alloc);
        plan.recordTuned({ family: 'copytest', bucket: 'b', candidates: ['a', 'b'], heuristic: 'a', flops: 2 ** 30, args: () => copy, bench: () => { throw new Error('no scratch here'); } });
        return plan;
      };
      const plan = failing();
      const before = saved.length;
      await plan.run('tune failure test');
      expect([...(await readTensor(gpu!, dst))]).toEqual([1, 2, 3, 4]);
      expect(plan.dispatches[0]!.choice).toBe('a');
      expect(saved.length).toBe(before);
      // its 'tune' events: the run's own tuning (explicit false), started and over; an explicit tunePlan says so
      const event = { type: 'tune', family: 'copytest', bucket: 'b', candidates: ['a', 'b'], total: 1, where: 'memory (test)' };
      expect(tunes).toEqual([{ ...event, done: 0, explicit: false }, { ...event, done: 1, explicit: false }]);
      tunes.length = 0;
      expect(await tunePlan(failing())).toEqual([]);
      expect(tunes).toEqual([{ ...event, done: 0, explicit: true }, { ...event, done: 1, explicit: true }]);
    } finally {
      unwatch();
      alloc.destroyAll();
      setTuneMode(gpu!, 'off');
    }
  });

  it('tunePlan on a plan without alternatives does nothing', async () => {
    setTuneMode(gpu!, 'auto');
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      const out = alloc.tensor([2, 3], 'f32', 'y');
      gemm(plan, { x: alloc.tensor([2, 4], 'f32', 'x'), w: alloc.tensor([3, 4], 'f32', 'w'), out, strategy: gemmHeuristic(gpu!, 2, 3) });
      expect(await tunePlan(plan)).toEqual([]);
    } finally {
      alloc.destroyAll();
      setTuneMode(gpu!, 'off');
    }
  });
});
