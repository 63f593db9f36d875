// What the profiler's tables, traces and the CLI's figures say they are (a fresh user's review):
// the share column named by what its total is, ceiling columns dropped when no ceiling was measured,
// the report's step time vs its kernel rows, which repeat a trace event draws, units on every
// ceiling figure and byte limit, sizes that say which dimension is which, and the Node install line.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatCeiling, type Ceiling } from '../../src/profile/ceiling.js';
import type { ProfileRun } from '../../src/profile/profiler.js';
import { chromeTrace, formatKernelTable, formatReport, kernelTable, traceShown } from '../../src/profile/report.js';
import { joinRuns, mergeRepeats, profileWarm } from '../../src/profile/decode.js';
import type { Plan } from '../../src/gpu/plan.js';
import { gemmWorkload, layernormWorkload } from '../../src/profile/workloads.js';
import { formatLimit } from '../../src/cli/cmd-info.js';
import { benchCommand } from '../../src/cli/cmd-bench.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { dispatch, threeRepeats } from '../helpers/profile-runs.js';

const d = dispatch;

/** Two dispatches over three repeats: median step 4 ms, per-dispatch medians summing to 3.5 ms (threeRepeats). */
const run = (): ProfileRun => threeRepeats([d('gemm_tiled[BIAS]', 'blocks.0'), d('norm', 'blocks.0')]);

describe('kernel table, report header and trace say what their figures are', () => {
  it('the share column is named as asked; without a ceiling the three ceiling columns go', () => {
    const rows = kernelTable(run());
    const plain = formatKernelTable(rows);
    // the default share column says what it is a share of: the rows' summed per-dispatch medians, not the step's median
    expect(plain.split('\n')[0]).toMatch(/% sum\s+GFLOP\/s\s+GB\/s\s+% FMA\s+% BW\s+% ceiling$/);
    const stage = formatKernelTable(rows, { shareLabel: '% stage', ceilingColumns: false });
    const head = stage.split('\n')[0]!;
    expect(head).toMatch(/% stage\s+GFLOP\/s\s+GB\/s$/);
    expect(stage).not.toContain('% FMA');
    expect(stage).not.toContain('% sum');
    // every row as wide as the header: no empty '—' cells left over
    for (const line of stage.split('\n').slice(2)) expect(line.trim().split(/\s{2,}/)).toHaveLength(7);
  });

  it("the report's step time says it is the median of whole-step sums, and what the kernel rows sum to", () => {
    const r = run();
    // step sums 4, 3, 4.5 → median 4 (repeat 1 of 0..2); per-dispatch medians 2 + 1.5 = 3.5
    expect(r.totalMs).toBeCloseTo(4, 9);
    const rowsSum = kernelTable(r).reduce((a, x) => a + x.totalMs!, 0);
    expect(rowsSum).toBeCloseTo(3.5, 9);
    expect(formatReport(r)).toContain('step      4.000 ms GPU (median over 3 repeats of the summed dispatch times; the kernel rows are per-dispatch medians, summing to 3.500 ms: % sum is each row as a share of that)');
  });

  it("each trace event names the repeat its ts/dur come from, with its own duration next to the tables' median", () => {
    const r = run();
    expect(r.traceRepeat).toBe(0); // step sums 4, 3, 4.5: the 4 ms repeat is the median one
    const t = chromeTrace(r);
    const xs = t.traceEvents.filter((e) => e.ph === 'X');
    expect(xs.map((e) => e.dur)).toEqual([1000, 3000]);
    expect(xs.map((e) => e.args.this_run_ms)).toEqual([1, 3]);
    expect(xs.map((e) => e.args.median_ms)).toEqual([2, 1.5]);
    for (const e of xs) expect(e.args.shown).toBe("ts and dur from one repeat (1 of 3): the one whose step time is closest to the median step; median_ms is this dispatch's median over all 3 repeats");
    expect((t.otherData.runs as { trace_repeat?: number }[])[0]!.trace_repeat).toBe(1);
    // a joined run of single-run pieces (a decode) shows its one run
    const one = { ...run(), repeats: 1 };
    const j = joinRuns([one, one]);
    expect(chromeTrace(j).traceEvents.find((e) => e.ph === 'X')!.args.shown).toBe('the one timed run');
  });

  it('bench --help says which run --trace writes', () => {
    const help = benchCommand.spec.flags.trace!.help;
    expect(help).toContain('each dispatch of one timed repeat');
    expect(help).not.toContain('of the timed runs');
  });
});

describe('units and dimension names', () => {
  it('the ceiling line puts a unit on every figure', () => {
    const c: Ceiling = { fma_gflops: 29.491, fma_f16_gflops: 8.388, copy_gbps: 10.5, copy_best: 'VPT=8', adapter: 'test', timing: 'gpu-timestamps' };
    expect(formatCeiling(c)).toBe('29.49 GFLOP/s f32 FMA, 8.39 GFLOP/s f16 FMA, 10.50 GB/s copy');
    expect(formatCeiling(c, 1, true)).toBe('29.5 GFLOP/s f32 FMA, 8.4 GFLOP/s f16 FMA, 10.50 GB/s copy (VPT=8)');
    expect(formatCeiling({ ...c, fma_f16_gflops: undefined })).toBe('29.49 GFLOP/s f32 FMA, 10.50 GB/s copy');
  });

  it('tessera info prints byte limits with binary units, counts bare', () => {
    expect(formatLimit('maxStorageBufferBindingSize', 134217728)).toBe('134217728 (128 MiB)');
    expect(formatLimit('maxBufferSize', 4294967296)).toBe('4294967296 (4 GiB)');
    expect(formatLimit('maxBufferSize', 4294967295)).toBe('4294967295 (≈4 GiB)'); // lavapipe's: rounded, and says so
    expect(formatLimit('maxBufferSize', 2684354560)).toBe('2684354560 (2.5 GiB)');
    expect(formatLimit('maxComputeWorkgroupStorageSize', 16384)).toBe('16384 (16 KiB)');
    expect(formatLimit('minStorageBufferOffsetAlignment', 256)).toBe('256 bytes');
    expect(formatLimit('maxComputeWorkgroupSizeX', 256)).toBe('256');
    expect(formatLimit('maxComputeInvocationsPerWorkgroup', 1024)).toBe('1024');
    expect(formatLimit('maxComputeWorkgroupsPerDimension', 65535)).toBe('65535');
  });

  it.skipIf(!hasGpu)("bench labels say which size is which (the suite's gemm m×k×n, layernorm rows×cols)", () => {
    const g = gemmWorkload(gpu!, { m: 64, k: 384, n: 128, dtype: 'f32' });
    const l = layernormWorkload(gpu!, { rows: 64, cols: 96, dtype: 'f32' });
    try {
      expect(g.label).toBe('gemm m×k×n 64×384×128 f32');
      expect(l.label).toBe('layernorm rows×cols 64×96 f32');
    } finally {
      g.destroy();
      l.destroy();
    }
  });
});

describe('the Node example README', () => {
  it('installs the webgpu peer dependency with tessera, at the version package.json declares', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { peerDependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }> };
    const text = readFileSync(new URL('../../examples/node/README.md', import.meta.url), 'utf8');
    const m = /npm install \/path\/to\/tessera-\d+\.\d+\.\d+\.tgz webgpu@(\d+\.\d+\.\d+)/.exec(text);
    expect(m, 'examples/node/README.md names webgpu in its install line').not.toBeNull();
    // ~0.6.2: same major.minor, patch at least the declared one
    const [, want] = /^~(\d+\.\d+\.\d+)$/.exec(pkg.peerDependencies.webgpu!)!;
    const [a, b, c] = m![1]!.split('.').map(Number);
    const [x, y, z] = want!.split('.').map(Number);
    expect([a, b]).toEqual([x, y]);
    expect(c).toBeGreaterThanOrEqual(z!);
    expect(pkg.peerDependenciesMeta.webgpu?.optional).toBe(true);
    expect(text).toContain('optional peer dependency');
  });
});

describe("the text encoder's and the VAE's warm profile, repeated", () => {
  const piece = (kernels: [string, number][]): ProfileRun => {
    let t = 0;
    const ds = kernels.map(([k, ms]) => {
      const x = { ...d(k, 'l'), ms, samples: [ms], startMs: t, runMs: ms };
      t += ms;
      return x;
    });
    return { timing: 'gpu-timestamps', adapter: 'a', repeats: 1, warmup: 0, dispatches: ds, totalMs: t, stepMs: [t], wallMs: [t], dropped: 0, peakBytes: 1, residentBytes: 0, date: 'd' };
  };

  it('a stall in one of the profiled runs does not become the kernel time: per-dispatch medians over whole runs of the stage', async () => {
    // the first profiled encode is preempted during its first norm (4 ms instead of 0.08)
    const times = [[4, 0.1], [0.08, 0.1], [0.09, 0.11]];
    let pass = -1; // -1: the plain first run
    const plan = { run: async () => {} } as unknown as Plan;
    const w = await profileWarm(
      async (runPlan) => {
        pass++;
        await runPlan(plan, 'encode');
        return pass;
      },
      { repeats: 3, profile: async () => piece([['norm', times[pass - 1]![0]!], ['gemm_tiled', times[pass - 1]![1]!]]) },
    );
    expect(w.result).toBe(0); // the output is the plain run's
    expect(w.run.repeats).toBe(3);
    expect(w.run.dispatches.map((x) => x.ms)).toEqual([0.09, 0.1]);
    expect(w.run.dispatches[0]!.samples).toEqual([4, 0.08, 0.09]);
    expect(w.run.stepMs.map((x) => +x.toFixed(2))).toEqual([4.1, 0.18, 0.2]);
    // the trace draws the median run (total 0.2 ms: the third), and says so
    expect(w.run.traceRepeat).toBe(2);
    expect(w.run.dispatches[0]!.runMs).toBe(0.09);
    expect(traceShown(w.run)).toContain('(3 of 3)');
    await expect(profileWarm(async () => 0, { repeats: 0 })).rejects.toThrow('profileWarm: repeats must be an integer ≥ 1, got 0');
  });

  it('runs whose dispatches differ are not merged', () => {
    const a = piece([['norm', 1]]);
    expect(mergeRepeats([a, piece([['gemm_tiled', 1]])])).toBe(a);
  });
});
