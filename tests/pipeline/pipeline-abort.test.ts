// Pipeline.generate({ signal }) on the embedded tessera-shapes pipeline (32×32, 9 frames): an abort
// during the run rejects with an AbortError within one step, and the pipeline then gives what a fresh
// one gives; an already aborted signal rejects before anything runs; a non-signal is an InputError.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { InputError } from '../../src/model/model.js';
import { loadPipeline, type Pipeline, type PipelineGenerateOptions } from '../../src/pipeline/pipeline.js';
import { generate } from '../../src/sampler/generate.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');
const call: PipelineGenerateOptions = { prompt: 'a red circle moving left', seed: 3, height: 32, width: 32, num_frames: 9, num_inference_steps: 4 };

describe.skipIf(!hasGpu)('Pipeline.generate signal', () => {
  let pipe: Pipeline;
  beforeAll(async () => {
    pipe = await loadPipeline(DIR, { gpu: gpu! });
  }, 300_000);
  afterAll(() => pipe?.dispose());

  it('an abort after the first step rejects before the second; the next call equals a fresh pipeline', async () => {
    const ctl = new AbortController();
    const steps: number[] = [];
    const stages: string[] = [];
    const err = await pipe
      .generate({ ...call, signal: ctl.signal, onStage: (s) => stages.push(s), onStep: (i) => (steps.push(i), i === 1 && ctl.abort()) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('AbortError');
    expect(err).toBe(ctl.signal.reason); // abort() with no argument: its own AbortError, as fetch rejects
    expect(steps).toEqual([1]);
    expect(stages).toEqual(['text', 'denoise']);

    const again = await pipe.generate(call);
    const fresh = await loadPipeline(DIR, { gpu: gpu! });
    try {
      const want = await fresh.generate(call);
      expect(again.latents.data).toEqual(want.latents.data);
      expect(again.video!.data).toEqual(want.video!.data);
    } finally {
      fresh.dispose();
    }
  }, 600_000);

  it('a reason is kept as the cause; an aborted signal rejects before any stage; a non-signal is refused', async () => {
    const why = new Error('user left the page');
    const stages: string[] = [];
    const err = (await pipe.generate({ ...call, signal: AbortSignal.abort(why), onStage: (s) => stages.push(s) }).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('AbortError');
    expect(err.message).toBe('Pipeline.generate: aborted (user left the page)');
    expect(err.cause).toBe(why);
    expect(stages).toEqual([]);
    // aborted while queued behind another call: never starts
    const ctl = new AbortController();
    const first = pipe.generate({ ...call, output_type: 'latent' });
    const queued = pipe.generate({ ...call, signal: ctl.signal, onStage: (s) => stages.push(`queued ${s}`) });
    ctl.abort(why);
    await first;
    await expect(queued).rejects.toThrow('Pipeline.generate, before it started: aborted (user left the page)');
    expect(stages).toEqual([]);
    await expect(pipe.generate({ ...call, signal: {} as AbortSignal })).rejects.toThrow(new InputError('signal: an AbortSignal (from new AbortController().signal), got object'));
    // the models' generate() takes it too, and refuses an aborted signal before any GPU work
    const emb = await pipe.encodePrompt(['a red circle moving left'], 512);
    await expect(generate(pipe.transformer, { scheduler: pipe.scheduler, num_inference_steps: 2, seed: 0, shape: pipe.latentShape(1, call), encoder_hidden_states: emb, signal: AbortSignal.abort(why) })).rejects.toThrow(
      'generate: aborted (user left the page)',
    );
  }, 600_000);
});
