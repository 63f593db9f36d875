// Pipeline.generate({ onKernels }) on the embedded tessera-shapes pipeline (32×32, 5 frames), with autotuning on
// and an empty tuning cache (an in-memory store: the user's cache file is never read or written): the first call
// reports its kernel compilation and autotuning, in the stage each happens in and before the first denoising step
// (the tens of seconds no other hook covers on a CPU adapter); a call whose kernels are compiled and tuned reports
// nothing; a call's listener hears nothing after it settles; a non-function is refused.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { watchKernels } from '../../src/gpu/kernel.js';
import { setTuneMode, setTuneStore, type TuneEntry } from '../../src/gpu/tune.js';
import { InputError } from '../../src/model/model.js';
import { loadPipeline, type Pipeline, type PipelineGenerateOptions, type PipelineKernelEvent } from '../../src/pipeline/pipeline.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');
// 5 frames (2 latent frames), not the pipeline's 9: less VAE work per call; the events checked do not depend on it
const call: PipelineGenerateOptions = { prompt: 'a red circle moving left', seed: 3, height: 32, width: 32, num_frames: 5, num_inference_steps: 2 };
const WHERE = 'memory (pipeline-progress test)';

/** A call's hooks writing one ordered log: stages, steps and kernel events. */
function recorder() {
  const log: (string | PipelineKernelEvent)[] = [];
  const events: PipelineKernelEvent[] = [];
  const hooks = {
    onStage: (s: string) => log.push(`stage ${s}`),
    onStep: (i: number) => log.push(`step ${i}`),
    onKernels: (e: PipelineKernelEvent) => (log.push(e), events.push(e)),
  };
  return { log, events, hooks };
}

describe.skipIf(!hasGpu)('Pipeline.generate onKernels', () => {
  let pipe: Pipeline;
  const saved: Record<string, TuneEntry>[] = [];
  beforeAll(async () => {
    // the suite runs with TESSERA_TUNE=off (vitest.config.ts): this device tunes as a user's does, into an empty store
    setTuneStore({ where: WHERE, load: async () => ({}), save: async (e) => void saved.push({ ...e }) });
    setTuneMode(gpu!, 'auto');
    // and times every call, as a larger model's would be (a run skips calls under TUNE_MIN_FLOPS: this model has few above it)
    process.env.TESSERA_TUNE_MIN_FLOPS = '0';
    pipe = await loadPipeline(DIR, { gpu: gpu! });
  }, 300_000);
  afterAll(() => {
    pipe?.dispose();
    setTuneMode(gpu!, 'off');
    delete process.env.TESSERA_TUNE_MIN_FLOPS;
  });

  it('a first call reports compilation and autotuning in each stage, before the first step; a cached call reports nothing', async () => {
    const first = recorder();
    await pipe.generate({ ...call, ...first.hooks });
    const { log, events } = first;
    const compiles = events.filter((e) => e.type === 'compile');
    const tunes = events.filter((e) => e.type === 'tune');
    expect(compiles.length).toBeGreaterThan(0);
    expect(tunes.length).toBeGreaterThan(0);
    // each event carries the stage announced last before it
    let stage = '';
    for (const x of log) {
      if (typeof x === 'string') {
        if (x.startsWith('stage ')) stage = x.slice(6);
      } else expect(x.stage).toBe(stage);
    }
    // every stage compiles its own kernels; the transformer's are compiled and tuned before step 1
    expect(new Set(compiles.map((e) => e.stage))).toEqual(new Set(['text', 'denoise', 'decode']));
    const beforeStep1 = log.slice(log.indexOf('stage denoise'), log.indexOf('step 1'));
    expect(beforeStep1.some((x) => typeof x !== 'string' && x.type === 'tune')).toBe(true);
    expect(beforeStep1.some((x) => typeof x !== 'string' && x.type === 'compile' && x.done === x.total)).toBe(true);
    // compile batches count 0 … total
    for (const e of compiles) expect(e.done).toBeLessThanOrEqual(e.total);
    expect(compiles.filter((e) => e.done === 0).length).toBe(compiles.filter((e) => e.done === e.total).length);
    // tune events: what is timed, counted per plan up to its total, into the store
    for (const e of tunes) {
      if (e.type !== 'tune') continue;
      expect(e.family).toMatch(/^[a-z_0-9]+$/);
      expect(e.bucket.length).toBeGreaterThan(0);
      expect(e.candidates.length).toBeGreaterThanOrEqual(2);
      expect(e.where).toBe(WHERE);
      expect(e.done).toBeGreaterThanOrEqual(0);
      expect(e.done).toBeLessThanOrEqual(e.total);
    }
    const finals = tunes.filter((e) => e.type === 'tune' && e.done === e.total);
    expect(finals.length).toBeGreaterThan(0);
    expect(tunes[tunes.length - 1]).toMatchObject({ type: 'tune' });
    expect(saved.length).toBeGreaterThan(0);

    // the same call again: compiled and tuned, nothing to report; the first call's listener is gone
    const n = events.length;
    const again = recorder();
    await pipe.generate({ ...call, ...again.hooks });
    expect(again.events).toEqual([]);
    expect(again.log[again.log.length - 1]).toBe('stage decode');
    // a new latent size (1 frame: 1 latent frame) tunes the transformer's new shapes, to that call alone
    const other = recorder();
    await pipe.generate({ ...call, num_frames: 1, ...other.hooks });
    expect(other.events.some((e) => e.type === 'tune' && e.stage === 'denoise')).toBe(true);
    expect(events.length).toBe(n);
  }, 600_000);

  it('a non-function onKernels is refused before any stage; watchKernels refuses a non-function', async () => {
    const stages: string[] = [];
    await expect(pipe.generate({ ...call, onKernels: 'log' as never, onStage: (s) => stages.push(s) })).rejects.toThrow(new InputError('onKernels: a function, got "log"', { option: 'onKernels' }));
    expect(stages).toEqual([]);
    expect(() => watchKernels(gpu!, null as never)).toThrow(new TypeError('watchKernels: listener must be a function, got null'));
  });
});
