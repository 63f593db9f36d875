// Profiler summaries, report tables and the Chrome trace JSON (parse + required fields,
// non-negative ts/dur, sorted), on synthetic stamps and on a real profiled plan.
import { describe, expect, it } from 'vitest';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { Plan } from '../../src/gpu/plan.js';
import { Allocator, fmtBytes } from '../../src/gpu/tensor.js';
import { norm } from '../../src/ops/norm.js';
import { median, profilePlan, summarize, type ProfiledDispatch, type ProfileRun } from '../../src/profile/profiler.js';
import { chromeTrace, formatReport, kernelTable, layerTable, profileJson, timedFigures } from '../../src/profile/report.js';
import type { Ceiling } from '../../src/profile/ceiling.js';

function fake(kernel: string, layer: string, flops: number, bytes: number): ProfiledDispatch {
  return { kernel, family: kernel.replace(/[[{].*/, ''), layer, shapes: 'x[1]', flops, bytes, workgroups: [1, 1, 1], ms: null, startMs: null, runMs: null, samples: [] };
}

/** ns stamps: dispatch i of repeat r runs [t, t + dur[i] · (1 + r/10)] back to back. */
function stamps(durNs: number[], repeats: number): [bigint, bigint][][] {
  return Array.from({ length: repeats }, (_, r) => {
    let t = 1_000_000_000n + BigInt(r) * 10_000_000n;
    return durNs.map((d) => {
      const b = t;
      const e = b + BigInt(Math.round(d * (1 + r / 10)));
      t = e + 500n;
      return [b, e] as [bigint, bigint];
    });
  });
}

function syntheticRun(): ProfileRun {
  const ds = [fake('gemm[F16]{TM=4}', 'blocks.0.attn.qkv', 2e6, 1e5), fake('attention', 'blocks.0.attn', 4e6, 2e5), fake('gemm[F16]{TM=4}', 'blocks.1.mlp', 2e6, 1e5)];
  const s = summarize(ds, stamps([100_000, 300_000, 100_000], 3));
  return { ...s, adapter: 'test adapter', repeats: 3, warmup: 0, wallMs: [1, 1, 1], peakBytes: 4096, residentBytes: 0, date: '2024-01-01T00:00:00.000Z' };
}

const ceiling: Ceiling = { fma_gflops: 100, fma_f16_gflops: 50, copy_gbps: 10, adapter: 'test adapter', timing: 'gpu-timestamps' };

function checkTrace(text: string, expectX: number) {
  const t = JSON.parse(text);
  expect(Array.isArray(t.traceEvents)).toBe(true);
  const xs = t.traceEvents.filter((e: { ph: string }) => e.ph === 'X');
  // the display unit follows the longest timeline: ms from 1 ms (1000 µs) on, else ns (ts and dur are µs either way)
  const span = Math.max(...xs.map((e: { ts: number; dur: number }) => e.ts + e.dur));
  expect(t.displayTimeUnit).toBe(span >= 1000 ? 'ms' : 'ns');
  expect(xs.length).toBe(expectX);
  let last = -Infinity;
  for (const e of xs) {
    for (const f of ['name', 'cat', 'ph', 'ts', 'dur', 'pid', 'tid', 'args']) expect(e, `event field ${f}`).toHaveProperty(f);
    expect(typeof e.name).toBe('string');
    expect(e.ts).toBeGreaterThanOrEqual(0);
    expect(e.dur).toBeGreaterThanOrEqual(0);
    expect(e.ts).toBeGreaterThanOrEqual(last);
    last = e.ts;
    for (const f of ['shapes', 'flops', 'bytes', 'layer']) expect(e.args, `args.${f}`).toHaveProperty(f);
  }
  for (const e of t.traceEvents.filter((e: { ph: string }) => e.ph === 'M')) expect(e.args.name).toBeTypeOf('string');
  return xs;
}

describe('summaries of timestamp stamps', () => {
  it('medians per dispatch, step time, representative timeline', () => {
    const run = syntheticRun();
    expect(run.timing).toBe('gpu-timestamps');
    expect(run.dispatches.map((d) => d.ms)).toEqual([0.11, 0.33, 0.11]);
    expect(run.stepMs.length).toBe(3);
    expect(run.totalMs).toBeCloseTo(0.55, 9);
    expect(run.dispatches[0]!.startMs).toBe(0);
    // Representative repeat = the median one (r = 1): durations ×1.1, 500 ns gaps.
    expect(run.dispatches[1]!.startMs).toBeCloseTo(0.1105, 9);
    expect(run.dispatches[1]!.runMs).toBeCloseTo(0.33, 9);
    expect(run.dropped).toBe(0);
  });

  it('drops zero and negative deltas and says when a dispatch is left untimed', () => {
    const ds = [fake('a', 'l', 1, 1), fake('b', 'l', 1, 1)];
    const st: [bigint, bigint][][] = [
      [[100n, 100n], [200n, 150n]],
      [[100n, 1100n], [2000n, 1500n]],
    ];
    const s = summarize(ds, st);
    expect(s.dropped).toBe(3);
    expect(ds[0]!.samples).toEqual([0.001]);
    expect(ds[0]!.ms).toBe(0.001);
    expect(ds[1]!.ms).toBeNull();
    expect(s.note).toMatch(/1 dispatch/);
  });

  it('median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('report tables', () => {
  it('per-kernel rows: calls, totals, shares, rates, ceiling shares', () => {
    const rows = kernelTable(syntheticRun(), ceiling);
    expect(rows.map((r) => r.kernel)).toEqual(['attention', 'gemm[F16]{TM=4}']);
    const g = rows[1]!;
    expect(g.calls).toBe(2);
    expect(g.totalMs).toBeCloseTo(0.22, 9);
    expect(g.meanMs).toBeCloseTo(0.11, 9);
    expect(g.gflops).toBeCloseTo(4e6 / 0.22e6, 6);
    expect(g.gbps).toBeCloseTo(2e5 / 0.22e6, 6);
    // F16 engine variant: stores f16 but accumulates in f32, so it is held to the f32 FMA ceiling
    // (only the f16 ceiling kernel itself uses the f16 roof).
    expect(g.computeShare).toBeCloseTo(g.gflops! / 100, 9);
    expect(g.bandwidthShare).toBeCloseTo(g.gbps! / 10, 9);
    expect(g.ceilingShare).toBe(Math.max(g.computeShare!, g.bandwidthShare!));
    expect(rows[0]!.computeShare).toBeCloseTo(rows[0]!.gflops! / 100, 9);
    expect(rows.reduce((a, r) => a + r.stepShare!, 0)).toBeCloseTo(1, 9);
  });

  it("a benchmark's figures are held to the f32 FMA roof whatever the storage dtype (as the kernel table)", () => {
    // 3 steps of 10, 20, 30 ms; 1e9 FLOPs and 1e8 bytes per step: 50 GFLOP/s and 5 GB/s at the 20 ms median
    const run = { stepMs: [10, 30, 20] } as unknown as ProfileRun;
    const f = timedFigures(run, { flops: 1e9, bytes: 1e8 }, ceiling);
    expect(f.median_ms).toBe(20);
    expect(f.gflops).toBeCloseTo(50, 9);
    expect(f.compute_share).toBeCloseTo(0.5, 9); // of fma_gflops 100, not of fma_f16_gflops 50
    expect(f.bandwidth_share).toBeCloseTo(0.5, 9);
    expect(f.ceiling_share).toBeCloseTo(0.5, 9);
  });

  it('a benchmark records the ceiling its shares are of (ceiling_used), null without one', () => {
    const run = { stepMs: [10, 30, 20] } as unknown as ProfileRun;
    const f = timedFigures(run, { flops: 1e9, bytes: 1e8 }, ceiling);
    expect(f.ceiling_used).toEqual({ fma_gflops: ceiling.fma_gflops, copy_gbps: ceiling.copy_gbps });
    expect(f.compute_share).toBeCloseTo(f.gflops / f.ceiling_used!.fma_gflops, 12);
    expect(f.bandwidth_share).toBeCloseTo(f.gbps / f.ceiling_used!.copy_gbps, 12);
    expect(timedFigures(run, { flops: 1e9, bytes: 1e8 }, undefined).ceiling_used).toBeNull();
  });

  it('per-layer rows, whole names and by depth', () => {
    const run = syntheticRun();
    expect(layerTable(run).map((r) => r.layer)).toEqual(['blocks.0.attn.qkv', 'blocks.0.attn', 'blocks.1.mlp']);
    const byBlock = layerTable(run, 2);
    expect(byBlock.map((r) => [r.layer, r.calls])).toEqual([['blocks.0', 2], ['blocks.1', 1]]);
    expect(byBlock[0]!.kernels[0]).toBe('attention');
    expect(byBlock[0]!.totalMs).toBeCloseTo(0.44, 9);
  });

  it('text report names kernels, layers and the ceiling', () => {
    const text = formatReport(syntheticRun(), ceiling, { layerDepth: 2 });
    for (const s of ['attention', 'gemm[F16]{TM=4}', 'blocks.1', '% ceiling', 'GFLOP/s', '100.0 GFLOP/s f32 FMA', 'peak GPU memory 4.0 KiB']) expect(text).toContain(s);
  });

  it('machine-readable JSON round-trips', () => {
    const j = JSON.parse(JSON.stringify(profileJson(syntheticRun(), ceiling)));
    expect(j.timing).toBe('gpu-timestamps');
    expect(j.kernels.length).toBe(2);
    expect(j.dispatches.length).toBe(3);
    expect(j.peak_bytes).toBe(4096);
    expect(j.ceiling.fma_gflops).toBe(100);
  });

  it('Chrome trace of a synthetic run, and of several named runs', () => {
    const run = syntheticRun();
    const xs = checkTrace(JSON.stringify(chromeTrace(run)), 3);
    expect(xs[1].dur).toBeCloseTo(330, 6);
    const multi = checkTrace(JSON.stringify(chromeTrace([{ name: 'one', run }, { name: 'two', run }])), 6);
    expect(new Set(multi.map((e: { tid: number }) => e.tid))).toEqual(new Set([1, 2]));
    // The second run starts after the first ends.
    const endFirst = Math.max(...multi.filter((e: { tid: number }) => e.tid === 1).map((e: { ts: number; dur: number }) => e.ts + e.dur));
    expect(Math.min(...multi.filter((e: { tid: number }) => e.tid === 2).map((e: { ts: number }) => e.ts))).toBeGreaterThan(endFirst);
  });
});

describe.skipIf(!hasGpu)('profiling a real plan', () => {
  async function profiled(forceWallClock: boolean, residentBytes?: number) {
    const alloc = new Allocator(gpu!);
    try {
      const plan = new Plan(gpu!, alloc);
      const x = alloc.upload(new Float32Array(64 * 96).map((_, i) => Math.sin(i)), [64, 96], 'f32', 'x');
      const y = alloc.tensor([64, 96], 'f32', 'y');
      plan.layer = 'blocks.0';
      norm(plan, { x, out: y, eps: 1e-6, layer: 'norm1' });
      norm(plan, { x, out: y, eps: 1e-6, rms: true, layer: 'norm2' });
      plan.layer = 'blocks.1';
      norm(plan, { x, out: y, eps: 1e-6, layer: 'norm1' });
      return await profilePlan(plan, { repeats: 3, warmup: 1, forceWallClock, residentBytes });
    } finally {
      alloc.destroyAll();
    }
  }

  it.skipIf(!gpu?.timestamps)('GPU timestamps: every dispatch timed, trace valid', async () => {
    const run = await profiled(false);
    expect(run.timing).toBe('gpu-timestamps');
    expect(run.dispatches.map((d) => d.layer)).toEqual(['blocks.0.norm1', 'blocks.0.norm2', 'blocks.1.norm1']);
    for (const d of run.dispatches) {
      expect(d.ms).toBeGreaterThan(0);
      expect(d.samples.length).toBe(3);
      expect(d.startMs).toBeGreaterThanOrEqual(0);
    }
    expect(run.peakBytes).toBeGreaterThan(0);
    checkTrace(JSON.stringify(chromeTrace(run)), 3);
    expect(layerTable(run, 1).map((r) => r.layer)).toEqual(['blocks']);
    expect(kernelTable(run).map((r) => r.calls).sort()).toEqual([1, 2]);
  });

  it('peak GPU memory counts the weights the plan reads (residentBytes) on top of its own buffers', async () => {
    const own = await profiled(true);
    expect(own.residentBytes).toBe(0);
    expect(formatReport(own)).toContain(`peak GPU memory ${fmtBytes(own.peakBytes)} (the plan's own buffers)`);
    const withWeights = await profiled(true, 3 << 20);
    expect(withWeights.peakBytes).toBe(own.peakBytes + (3 << 20));
    expect(formatReport(withWeights)).toContain(`peak GPU memory ${fmtBytes(own.peakBytes + (3 << 20))} (weights 3.0 MiB + activations ${fmtBytes(own.peakBytes)})`);
    await expect(profilePlan(new Plan(gpu!, new Allocator(gpu!)), { residentBytes: -1 })).rejects.toThrow('profilePlan: residentBytes must be ≥ 0, got -1');
  });

  it('wall-clock fallback says so and has no per-dispatch times', async () => {
    const run = await profiled(true);
    expect(run.timing).toBe('wall-clock');
    expect(run.note).toMatch(/wall clock/);
    expect(run.dispatches.every((d) => d.ms === null)).toBe(true);
    expect(run.totalMs).toBeGreaterThan(0);
    checkTrace(JSON.stringify(chromeTrace(run)), 1);
    expect(formatReport(run)).toContain('wall-clock');
  });
});
