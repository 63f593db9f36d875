// Pipeline lifecycle on the embedded tessera-shapes pipeline: resetPlans() called during a generate
// runs after it (it used to destroy the run's buffers: a validation error at the next step); a call
// aborted while queued rejects at once, not after the call ahead; the denoising stage's abort messages
// start with Pipeline.generate (they said "generate"), the library generate() keeps "generate".
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import type { Pipeline, PipelineGenerateOptions } from '../../src/pipeline/pipeline.js';
import { generate } from '../../src/sampler/generate.js';
import { hasGpu } from '../helpers/gpu.js';
import { pipelineFixture } from '../helpers/pipeline-fixture.js';

const call: PipelineGenerateOptions = { prompt: 'a red circle moving left', seed: 3, height: 32, width: 32, num_frames: 9, num_inference_steps: 3, output_type: 'latent' };

describe.skipIf(!hasGpu)('Pipeline lifecycle', () => {
  let pipe: Pipeline;
  pipelineFixture((p) => (pipe = p));

  it('resetPlans() from onStep: the running call finishes with the same latents, the plans are dropped after it', async () => {
    const want = await pipe.generate(call);
    let reset: Promise<void> | undefined;
    const errors: string[] = [];
    const quiet = console.error;
    console.error = (...a: unknown[]) => void errors.push(a.join(' '));
    try {
      const got = await pipe.generate({ ...call, onStep: (i) => void (i === 1 && (reset = pipe.resetPlans())) });
      expect(Array.from(got.latents.data)).toEqual(Array.from(want.latents.data));
      await reset;
    } finally {
      console.error = quiet;
    }
    expect(errors).toEqual([]);
    expect(pipe.transformer.gpuBytes).toBe(pipe.transformer.weights.bytes);
    const again = await pipe.generate(call);
    expect(Array.from(again.latents.data)).toEqual(Array.from(want.latents.data));
    // the prompt cache, read through the pipeline's typed textEncoder: one prompt of 1 × L × d_model f32
    const held: number | undefined = pipe.textEncoder?.hostCacheBytes;
    expect(held).toBeGreaterThan(0);
  }, 300_000);

  it('a call aborted while queued rejects at once with "Pipeline.generate, before it started", before the call ahead ends', async () => {
    const ctl = new AbortController();
    const order: string[] = [];
    const stages: string[] = [];
    const first = pipe.generate({ ...call, onStep: (i) => void (i === 1 && ctl.abort('cancel')) }).then(() => order.push('first'));
    const second = pipe.generate({ ...call, signal: ctl.signal, onStage: (s) => stages.push(s) }).catch((e: unknown) => (order.push('second'), e as Error));
    const [, e] = (await Promise.all([first, second])) as [unknown, Error];
    expect(order).toEqual(['second', 'first']);
    expect(e.name).toBe('AbortError');
    expect(e.message).toBe('Pipeline.generate, before it started: aborted (cancel)');
    expect(stages).toEqual([]);
  }, 300_000);

  it('aborts in the denoising stage name Pipeline.generate', async () => {
    const at = async (o: PipelineGenerateOptions, hook: (abort: () => void) => PipelineGenerateOptions) => {
      const ctl = new AbortController();
      const e = (await pipe.generate({ ...o, ...hook(() => ctl.abort('r')), signal: ctl.signal }).catch((x: unknown) => x)) as Error;
      expect(e.name).toBe('AbortError');
      return e.message;
    };
    expect(await at(call, (abort) => ({ onStage: (s) => void (s === 'denoise' && abort()) }))).toBe('Pipeline.generate, before the denoising loop: aborted (r)');
    expect(await at({ ...call, num_inference_steps: 2 }, (abort) => ({ onStep: (i) => void (i === 1 && abort()) }))).toBe('Pipeline.generate, before step 2/2: aborted (r)');
  }, 300_000);

  it('the library generate(): "generate, before step 2/2", and aborted while waiting for the model, "generate" at once', async () => {
    const emb = await pipe.encodePrompt(['a red circle moving left'], 512);
    const o = { scheduler: pipe.scheduler, num_inference_steps: 2, seed: 0, shape: pipe.latentShape(1, call), encoder_hidden_states: emb };
    const ctl = new AbortController();
    const e = (await generate(pipe.transformer, { ...o, signal: ctl.signal, onStep: (i) => void (i === 1 && ctl.abort('r')) }).catch((x: unknown) => x)) as Error;
    expect(e.message).toBe('generate, before step 2/2: aborted (r)');

    let release!: () => void;
    const held = pipe.transformer.exclusive(() => new Promise<void>((r) => (release = r)));
    const c2 = new AbortController();
    const queued = generate(pipe.transformer, { ...o, signal: c2.signal }).catch((x: unknown) => x as Error);
    c2.abort('cancel');
    // while the model is still held (a timeout fails the test rather than hanging on the held model)
    const q = (await Promise.race([queued, new Promise<Error>((r) => setTimeout(() => r(new Error('still queued after 10 s')), 10_000))])) as Error;
    expect(q.name).toBe('AbortError');
    expect(q.message).toBe('generate: aborted (cancel)');
    release();
    await held;
  }, 300_000);
});
