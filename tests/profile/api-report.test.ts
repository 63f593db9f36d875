// tessera/profiler as a script author uses it (a fresh user's benchmarking through the library): the
// tuner and the DiT-block and conv workloads were declared but not exported; a tuned dispatch's choice
// (Dispatch.choice) reached neither ProfiledDispatch, the kernel rows, the trace nor the JSON; a trace of
// a GPU-timestamp run and a wall-clock run said 'gpu-timestamps' for both; the share column was headed
// '% step' though it is a share of the summed per-dispatch medians, not of the step's median.
import { describe, expect, it } from 'vitest';
import * as profiler from '../../src/profiler.js';
import type { ProfileRun } from '../../src/profile/profiler.js';
import type { ProfiledGeneration } from '../../src/profile/pipeline.js';
import type { TensorData } from '../../src/model/model.js';
import type { AttentionWorkloadArgs, BlockArgs, ConvWorkloadArgs, GemmWorkloadArgs, LayernormWorkloadArgs } from '../../src/profiler.js';
import { dispatch, threeRepeats } from '../helpers/profile-runs.js';
import { chromeTrace, formatKernelTable, formatLayerTable, formatReport, kernelTable, layerTable, profileJson } from '../../src/profile/report.js';

const d = dispatch;

/** 3 repeats of a tuned GEMM and a norm: per-dispatch medians 2 and 1.5 ms (sum 3.5), median step 4 ms. */
const timed = (): ProfileRun => threeRepeats([d('gemm_tiled[BIAS]', 'blocks.0.ff', 'tiled-64'), d('norm', 'blocks.0.norm')]);

function wallClock(): ProfileRun {
  return { timing: 'wall-clock', note: 'no timestamps', adapter: 'test', repeats: 2, warmup: 1, dispatches: [d('norm', 'x')], totalMs: 7, stepMs: [7, 7], wallMs: [7, 7], dropped: 0, peakBytes: 16, residentBytes: 0, date: '2026-12-02T00:00:00.000Z' };
}

describe('tessera/profiler for benchmarking scripts', () => {
  it('exports the tuning API and the block and conv workloads', () => {
    for (const name of ['tunePlan', 'cachedChoices', 'tuneStoreWhere', 'TUNE_ROUNDS', 'TUNE_MARGIN', 'blockWorkload', 'convWorkload', 'gemmWorkload', 'profilePlan', 'Pace']) expect(profiler, name).toHaveProperty(name);
  });

  it("every workload's argument type is importable from the entry (a type error under tsc, which npm test runs, if one is not)", () => {
    const gemm: GemmWorkloadArgs = { m: 64, k: 64, n: 64, dtype: 'f32' };
    const attention: AttentionWorkloadArgs = { batch: 1, heads: 2, tokens: 64, kvTokens: 64, headDim: 64, dtype: 'f32' };
    const layernorm: LayernormWorkloadArgs = { rows: 64, cols: 64, dtype: 'f16' };
    const block = {} as BlockArgs;
    const conv = {} as ConvWorkloadArgs;
    expect([gemm, attention, layernorm, block, conv]).toHaveLength(5);
  });

  it("a tuned dispatch's choice is in its kernel row, its trace event and the JSON; untuned ones have none", () => {
    const r = timed();
    const rows = kernelTable(r);
    expect(rows.find((x) => x.kernel === 'gemm_tiled[BIAS]')!.choice).toBe('tiled-64');
    expect(rows.find((x) => x.kernel === 'norm')).not.toHaveProperty('choice');
    const xs = chromeTrace(r).traceEvents.filter((e) => e.ph === 'X');
    expect(xs.find((e) => e.name === 'gemm_tiled[BIAS]')!.args.choice).toBe('tiled-64');
    expect(xs.find((e) => e.name === 'norm')!.args).not.toHaveProperty('choice');
    const j = profileJson(r);
    expect(j.dispatches.map((x) => (x as { choice?: string }).choice)).toEqual(['tiled-64', undefined]);
    expect(j.kernels.find((x) => x.kernel === 'gemm_tiled[BIAS]')!.choice).toBe('tiled-64');
  });

  it("a trace of a GPU-timestamp and a wall-clock run records each run's timing and says 'mixed'", () => {
    const t = chromeTrace([{ name: 'a', run: timed() }, { name: 'b', run: wallClock() }]);
    expect(t.otherData.timing).toBe('mixed');
    expect((t.otherData.runs as { timing: string }[]).map((x) => x.timing)).toEqual(['gpu-timestamps', 'wall-clock']);
    expect(chromeTrace([{ name: 'a', run: timed() }, { name: 'b', run: timed() }]).otherData.timing).toBe('gpu-timestamps');
    expect(chromeTrace(wallClock()).otherData.timing).toBe('wall-clock');
  });

  it("the share column says it is a share of the rows' sum (3.5 ms here), not of the 4 ms median step", () => {
    const r = timed();
    const rows = kernelTable(r);
    expect(rows.map((x) => x.stepShare)).toEqual([2 / 3.5, 1.5 / 3.5]);
    expect(formatKernelTable(rows).split('\n')[0]).toMatch(/mean ms\s+% sum\s+GFLOP\/s/);
    expect(formatLayerTable(layerTable(r)).split('\n')[0]).toMatch(/total ms\s+% sum\s+GFLOP\/s/);
    const report = formatReport(r);
    expect(report).not.toContain('% step');
    expect(report).toContain('summing to 3.500 ms: % sum is each row as a share of that');
  });

  it("profilePipeline's output types its video as present (it always decodes): no narrowing needed (a type error under tsc before)", () => {
    const video = (g: ProfiledGeneration): TensorData => g.output.video;
    expect(video).toBeTypeOf('function');
  });
});
