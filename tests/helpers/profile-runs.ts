// Synthetic profile runs for the report tests: back-to-back GPU timestamps from per-repeat durations.
import { summarize, type ProfiledDispatch, type ProfileRun } from '../../src/profile/profiler.js';

/** A dispatch description with no times yet (family from the kernel name), as profilePlan starts one. */
export const dispatch = (kernel: string, layer: string, choice?: string): ProfiledDispatch => ({ kernel, family: kernel.replace(/[[{_].*/, ''), layer, shapes: 'x[1]', flops: 1e6, bytes: 1e4, workgroups: [1, 1, 1], ...(choice ? { choice } : {}), ms: null, startMs: null, runMs: null, samples: [] });

/**
 * 3 repeats of `ds` (two dispatches) whose medians come from different repeats: dispatch 0 takes 1, 2, 3 ms,
 * dispatch 1 takes 3, 1, 1.5 ms. Step sums 4, 3, 4.5 ms: the median step is 4 ms (the first repeat),
 * while the per-dispatch medians (2 and 1.5 ms) sum to 3.5 ms.
 */
export function threeRepeats(ds: ProfiledDispatch[], date = '2026-01-01T00:00:00.000Z'): ProfileRun {
  const ns = (ms: number) => BigInt(Math.round(ms * 1e6));
  const reps = [[1, 3], [2, 1], [3, 1.5]].map((durs) => {
    let t = 0n;
    return durs.map((m) => {
      const b = t;
      t += ns(m);
      return [b, t] as [bigint, bigint];
    });
  });
  const s = summarize(ds, reps);
  return { ...s, adapter: 'test', repeats: 3, warmup: 1, wallMs: [5, 5, 5], peakBytes: 1024, residentBytes: 0, date };
}
