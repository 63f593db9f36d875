// End-to-end wall-clock statistics with Benchmark.js (deferred async runs, its sampling and
// statistics): plan.run() repeated — submit the whole plan, wait for it, repeat. In Node the wait is
// paced (src/gpu/plan.ts Pace: a sleep through most of the last run first, so Dawn's busy wait does
// not take a core from a CPU driver), so a run's time includes the timer's latency when the sleep
// overshoots. This complements the per-kernel GPU timestamps of the profiler (it includes submit and
// queue overhead).
import Benchmark from 'benchmark';
import type { Plan } from '../gpu/plan.js';

export interface WallStats {
  /** Benchmark.js mean seconds per run, as ms. */
  mean_ms: number;
  /** Relative margin of error (percent, 95% confidence). */
  rme_pct: number;
  /** Number of samples; each sample averages `runs_per_sample` runs. */
  samples: number;
  runs_per_sample: number;
  source: 'benchmark.js';
}

/**
 * Time `plan.run()` with Benchmark.js. `minSamples` samples at least; `maxTimeS` bounds the
 * sampling (Benchmark.js stops at the first sample after it, with ≥ minSamples samples).
 */
export function wallClock(plan: Plan, opts: { minSamples?: number; maxTimeS?: number; minTimeS?: number; name?: string } = {}): Promise<WallStats> {
  return new Promise((resolve, reject) => {
    let failure: unknown = null;
    const bench = new Benchmark(opts.name ?? 'plan', {
      defer: true,
      async: true,
      minSamples: opts.minSamples ?? 5,
      maxTime: opts.maxTimeS ?? 1,
      minTime: opts.minTimeS ?? 0.05,
      initCount: 1,
      delay: 0,
      fn(deferred) {
        plan.run('wall-clock benchmark').then(
          () => deferred.resolve(),
          (e: unknown) => {
            failure = e;
            deferred.resolve();
          },
        );
      },
    });
    bench.on('complete', (ev) => {
      const b = ev.target;
      if (failure || b.error) return reject(failure ?? b.error);
      resolve({ mean_ms: b.stats.mean * 1000, rme_pct: b.stats.rme, samples: b.stats.sample.length, runs_per_sample: b.count, source: 'benchmark.js' });
    });
    bench.on('error', (ev) => reject(ev.target.error ?? failure));
    bench.run({ async: true });
  });
}
