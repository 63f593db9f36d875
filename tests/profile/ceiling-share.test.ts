// "% of ceiling" on synthetic timings: the ceiling is the best of its first measurement and the
// runs interleaved with a benchmark's repeats (bestCeiling), so a ceiling timed while the machine
// was busy is raised by a later quiet run; a share still above 100 % is flagged (ceilingShares'
// underMeasured, formatShare, the kernel table's footnote), never printed as a plain figure.
import { describe, expect, it } from 'vitest';
import { summarize, type ProfiledDispatch, type ProfileRun } from '../../src/profile/profiler.js';
import { formatKernelTable, kernelTable } from '../../src/profile/report.js';
import { bestCeiling, ceilingShares, formatShare, UNDER_MEASURED, type Ceiling, type CeilingSample } from '../../src/profile/ceiling.js';

// measured while the machine was busy: the copy ran at 10 GB/s, the FMA at 100 GFLOP/s
const busy: Ceiling = { fma_gflops: 100, copy_gbps: 10, copy_best: 'VPT=1, 64.0 MiB per buffer', adapter: 'test adapter', timing: 'gpu-timestamps' };

/** One run of `work` (bytes or FLOPs) taking `ms`. */
const sample = (kind: CeilingSample['kind'], work: number, ms: number, how?: string): CeilingSample => ({ kind, work, ms, ...(how ? { how } : {}) });

describe('bestCeiling: the fastest run of each roof counts', () => {
  it('a quieter interleaved run raises the roof; slower runs and broken samples do not lower it', () => {
    const c = bestCeiling(busy, [
      sample('copy', 8e6, 1.0, 'VPT=8, 4.0 MiB per buffer'), // 8 GB/s: slower, ignored
      sample('copy', 8e6, 0.4, 'VPT=8, 4.0 MiB per buffer'), // 20 GB/s: the new roof
      sample('copy', 8e6, 0, 'bad'), // no time: ignored
      sample('copy', 8e6, NaN, 'bad'),
      sample('fma', 1e9, 20), // 50 GFLOP/s: slower than the first measurement
      sample('fma_f16', 1e9, 5), // 200 GFLOP/s: the adapter's first f16 figure
    ]);
    expect(c.copy_gbps).toBeCloseTo(20, 12);
    expect(c.copy_best).toBe('VPT=8, 4.0 MiB per buffer');
    expect(c.fma_gflops).toBe(100);
    expect(c.fma_f16_gflops).toBeCloseTo(200, 12);
    expect(busy.copy_gbps).toBe(10); // the base is not mutated
  });
});

describe('ceilingShares and formatShare', () => {
  it('a kernel at 15 GB/s is 150 % of the busy ceiling (flagged) and 75 % of the re-timed one', () => {
    const before = ceilingShares(busy, 1, 15, false);
    expect(before.share).toBeCloseTo(1.5, 12);
    expect(before.underMeasured).toBe(true);
    expect(formatShare(before.share)).toBe(`150.0% (${UNDER_MEASURED})`);
    expect(formatShare(before.share, true)).toBe('150.0%*');
    const after = ceilingShares(bestCeiling(busy, [sample('copy', 8e6, 0.4)]), 1, 15, false);
    expect(after.share).toBeCloseTo(0.75, 12);
    expect(after.underMeasured).toBe(false);
    expect(formatShare(after.share)).toBe('75.0%');
  });
  it('exactly 100 % is not flagged; unknown shares print as a dash', () => {
    expect(ceilingShares(busy, 100, 0, false).underMeasured).toBe(false);
    expect(formatShare(1)).toBe('100.0%');
    expect(formatShare(null)).toBe('—');
    expect(formatShare(NaN)).toBe('—');
    expect(ceilingShares(undefined, 1, 1, false)).toEqual({ compute: null, bandwidth: null, share: null, underMeasured: false });
  });
});

describe('kernel table', () => {
  function fake(kernel: string, flops: number, bytes: number): ProfiledDispatch {
    return { kernel, family: kernel, layer: kernel, shapes: 'x[1]', flops, bytes, workgroups: [1, 1, 1], ms: null, startMs: null, runMs: null, samples: [] };
  }
  // norm moves 12 MB in 1 ms (12 GB/s); gemm 2 GFLOP in 40 ms (50 GFLOP/s)
  const run: ProfileRun = {
    ...summarize([fake('norm', 0, 12e6), fake('gemm', 2e9, 1e6)], [[[0n, 1_000_000n], [1_001_000n, 41_001_000n]]]),
    adapter: 'test adapter', repeats: 1, warmup: 0, wallMs: [42], peakBytes: 0, residentBytes: 0, date: '2024-01-01T00:00:00.000Z',
  };
  it('a share above 100 % is starred with the footnote; against the re-timed ceiling no star, no footnote', () => {
    const t = formatKernelTable(kernelTable(run, busy));
    expect(t).toMatch(/^norm .* 120\.0%\* +120\.0%\*$/m);
    expect(t.split('\n').at(-1)).toBe(`* above 100 %: ${UNDER_MEASURED}`);
    const ok = formatKernelTable(kernelTable(run, bestCeiling(busy, [sample('copy', 8e6, 0.4)])));
    expect(ok).toMatch(/^norm .* 60\.0% +60\.0%$/m);
    expect(ok).not.toContain('*');
    expect(ok).not.toContain(UNDER_MEASURED);
  });
});
