// `tessera demo --preset wan-1.3b` on lavapipe ran for minutes without a word (292 s for its one step at load 30-39).
// On a CPU adapter the preset demo now says first how long a step takes at least: the transformer's FLOPs (2 per weight
// per token per CFG item) over the FMA rate the adapter reached just now (deviceCeiling), e.g. wan-1.3b's 1.42e9 weights
// × 128 tokens × 2 at 2.7 GFLOP/s (lavapipe at load 23): 269 s a step.
import { describe, expect, it } from 'vitest';
import { cpuStepNote } from '../../src/cli/cmd-demo.js';

describe('cpuStepNote: a lower bound on a step from FLOPs over a measured rate', () => {
  it('wan-1.3b at 2.7 GFLOP/s: minutes, and the way to make it shorter', () => {
    expect(cpuStepNote({ preset: 'wan-1.3b', weights: 1418996800, tokens: 128, batch: 2, steps: 8, fmaGflops: 2.728 })).toBe(
      'CPU adapter: one wan-1.3b step is at least 727 GFLOP (2 × 1.42e+9 weights × 128 tokens × CFG batch 2); at the 2.7 GFLOP/s this adapter reached just now, at least 4.4 min a step, 35.5 min for 8 steps before the profiled repeats — a lower bound from FLOPs only: kernels run below that rate (a small preset\'s far below: its time is per-dispatch overhead) and the first step compiles them: --steps N runs fewer, and --preset wan-tiny is the quick one',
    );
  });

  it('the time scales with the rate measured and the steps; wan-tiny names no quicker preset', () => {
    const line = cpuStepNote({ preset: 'wan-tiny', weights: 349920, tokens: 1536, batch: 1, steps: 1, fmaGflops: 20 });
    expect(line).toBe('CPU adapter: one wan-tiny step is at least 1.07 GFLOP (2 × 3.50e+5 weights × 1536 tokens); at the 20.0 GFLOP/s this adapter reached just now, at least 0.05 s a step, 0.05 s for 1 step before the profiled repeats — a lower bound from FLOPs only: kernels run below that rate (a small preset\'s far below: its time is per-dispatch overhead) and the first step compiles them: --steps N runs fewer');
  });
});
