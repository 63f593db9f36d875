// user22 #6: a huge-but-allowed request on a CPU adapter ran for minutes with nothing said after the compile line.
// estimateStepWork says, before the call, what one denoising step costs (FLOPs the kernels count, from a dry run) and
// lower bounds on its time at a rate; tessera demo prints cpuLoopNote's line from it on a CPU adapter when a step
// would take over 30 s even at a generous rate. Shapes of the figures and text only: nothing here is timed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadPipeline, type Pipeline } from '../../src/pipeline/pipeline.js';
import { estimateStepWork, formatDuration, formatFlops, type StepWork } from '../../src/pipeline/step-work.js';
import { cpuLoopNote, CPU_GENEROUS_GFLOPS_PER_CORE, LONG_STEP_S } from '../../src/cli/cmd-demo.js';
import { TUNING_WORDS } from '../../src/cli/cpu-note.js';
import { InputError } from '../../src/model/model.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { SHAPES_DIR } from '../helpers/pipeline-fixture.js';

describe('cpuLoopNote and the formatters (no GPU)', () => {
  const work = (stepSeconds: number): StepWork => ({ stepFlops: 10.2e12, onceFlops: 1e9, steps: 20, loopFlops: 20 * 10.2e12 + 1e9, tokens: 49152, batch: 2, cfg: true, stepSeconds, loopSeconds: 20 * stepSeconds });
  it('says nothing for a step under LONG_STEP_S at the generous rate, or without a rate', () => {
    expect(cpuLoopNote(work(LONG_STEP_S), 2)).toBeUndefined();
    const { stepSeconds: _s, loopSeconds: _l, ...noRate } = work(100);
    expect(cpuLoopNote(noRate, 2)).toBeUndefined();
  });
  it('a long step: its FLOPs, the tokens and CFG batch, lower bounds per step and for the loop, the rate assumed', () => {
    expect(cpuLoopNote(work(51), 2)).toBe(
      `CPU adapter: one denoising step is 10.2 TFLOP (the transformer over 49152 tokens × CFG batch 2): at least 51 s a step, 17.0 min for 20 steps, a lower bound at a generous ${2 * CPU_GENEROUS_GFLOPS_PER_CORE} GFLOP/s (${CPU_GENEROUS_GFLOPS_PER_CORE} per CPU core × 2; this adapter runs below it): --steps, --frames, --height and --width make it smaller`,
    );
  });
  it('on a device that autotunes, the line says the first run\'s tuning is not counted (user24 #1)', () => {
    const line = cpuLoopNote(work(51), 2, undefined, true)!;
    expect(line).toBe(`${cpuLoopNote(work(51), 2)}; ${TUNING_WORDS}`);
    expect(line).toMatch(/; a first run at a size also autotunes its kernels, not counted here \(minutes at large sizes; --no-tune skips it\)$/);
  });
  it('formatFlops and formatDuration pick the unit', () => {
    expect([formatFlops(2.5e12), formatFlops(812e9), formatFlops(3.1e6), formatFlops(1.5e15), formatFlops(12)]).toEqual(['2.50 TFLOP', '812 GFLOP', '3.10 MFLOP', '1.50 PFLOP', '12 FLOP']);
    expect([formatDuration(4.2), formatDuration(51), formatDuration(240), formatDuration(3 * 3600)]).toEqual(['4.2 s', '51 s', '4.0 min', '3.0 h']);
  });
});

describe.skipIf(!hasGpu)('estimateStepWork on the embedded pipeline', () => {
  let pipe: Pipeline;
  beforeAll(async () => {
    pipe = await loadPipeline(SHAPES_DIR, { gpu: gpu!, textEncoder: false, vae: false });
  });
  afterAll(() => pipe?.dispose());

  it('CFG doubles the batch and the step FLOPs; the loop is once + steps × step; seconds are FLOPs over the rate', () => {
    const o = { height: 64, width: 64, num_frames: 9, num_inference_steps: 4 };
    const on = estimateStepWork(pipe, { ...o, guidance_scale: 5 }, 200);
    const off = estimateStepWork(pipe, { ...o, guidance_scale: 1 });
    expect([on.cfg, on.batch, off.cfg, off.batch]).toEqual([true, 2, false, 1]);
    expect(on.stepFlops / off.stepFlops).toBeCloseTo(2, 6);
    expect(on.onceFlops).toBeGreaterThan(0); // the text's cross-attention K/V, once per call
    expect(on.loopFlops).toBe(on.onceFlops + 4 * on.stepFlops);
    expect(on.stepSeconds).toBeCloseTo(on.stepFlops / 200e9, 12);
    expect(on.loopSeconds).toBeCloseTo(on.loopFlops / 200e9, 12);
    expect(off.stepSeconds).toBeUndefined();
    expect(on.tokens).toBe(off.tokens);
  });

  it('at least 2 FLOPs per weight per token per item (the linear layers), and attention grows faster than the tokens', () => {
    const small = estimateStepWork(pipe, { height: 64, width: 64, num_frames: 9, guidance_scale: 1 });
    const big = estimateStepWork(pipe, { height: 256, width: 256, num_frames: 9, guidance_scale: 1 });
    expect(big.tokens).toBe(16 * small.tokens);
    const weights = pipe.transformer.weights.bytes / 4; // f32
    for (const w of [small, big]) expect(w.stepFlops).toBeGreaterThanOrEqual(2 * weights * w.tokens * 0.9);
    expect(big.stepFlops / small.stepFlops).toBeGreaterThan(16);
  });

  it('defaults: the pipeline class\'s steps and guidance; bad options are InputErrors naming them', () => {
    const d = estimateStepWork(pipe, { height: 64, width: 64, num_frames: 9 });
    expect(d.steps).toBeGreaterThan(0);
    for (const [o, rate, option] of [[{ batch: 0 }, undefined, 'batch'], [{ num_inference_steps: 1.5 }, undefined, 'num_inference_steps'], [{ guidance_scale: NaN }, undefined, 'guidance_scale'], [{}, 0, 'gflops'], [{}, Infinity, 'gflops']] as const) {
      let e: unknown;
      try {
        estimateStepWork(pipe, { height: 64, width: 64, num_frames: 9, ...o }, rate);
      } catch (x) {
        e = x;
      }
      expect(e, option).toBeInstanceOf(InputError);
      expect((e as InputError).option).toBe(option);
    }
  });
});
