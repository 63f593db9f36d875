// A call on an object awaited inside a callback of that object's own running call (await pipe.encodePrompt(…)
// inside Pipeline.generate's onStep) used to wait forever: the call waited for the running call, which waited
// for the callback; the object's queue stayed wedged, so every later call hung too. It is refused at once with
// ReentrantCallError (src/gpu/serial.ts, src/hook.ts), the object keeps working, and a call made there without
// await still runs after the running call (resetPlans from onStep: pipeline-lifecycle, component-queue).
import { describe, expect, it, vi } from 'vitest';
import '../../src/node-env.js';
import { ReentrantCallError, Serial } from '../../src/gpu/serial.js';
import { callHook } from '../../src/hook.js';
import type { Pipeline, PipelineGenerateOptions } from '../../src/pipeline/pipeline.js';
import { generate } from '../../src/sampler/generate.js';
import { hasGpu } from '../helpers/gpu.js';
import { pipelineFixture } from '../helpers/pipeline-fixture.js';

const TAIL = 'it would wait for itself — await it after T.generate resolves (called there without await or then, it runs after it)';

describe('Serial: a call awaited inside a callback of the same object\'s running call', () => {
  const s = new Serial('thing t');
  const running = (hook: () => Promise<void> | void) =>
    s.run(() => callHook('onStep', 'T.generate, step 1/2', hook), { call: 'T.generate' }).then(() => 'ok', (e: Error) => e.message);
  const inner = () => s.run(async () => 7, { call: 'T.encode' });

  it('is refused in the callback\'s synchronous part and after an await in it; the object then runs later calls', async () => {
    expect(await running(async () => void (await inner()))).toBe(`T.generate, step 1/2: onStep failed: T.encode: awaited inside onStep of a running T.generate on thing t; ${TAIL}`);
    expect(await running(async () => {
      await new Promise((r) => setTimeout(r, 0));
      await inner();
    })).toMatch(/^T\.generate, step 1\/2: onStep failed: T\.encode: awaited inside onStep/);
    expect(await running(() => inner().then(() => undefined))).toMatch(/onStep failed: T\.encode: awaited inside onStep/);
    const e = await running(async () => void (await s.whenIdle(() => undefined, 'T.reset')));
    expect(e).toMatch(/onStep failed: T\.reset: awaited inside onStep/);
    const caught: unknown[] = [];
    expect(await running(async () => void (await inner().catch((x: unknown) => caught.push(x))))).toBe('ok');
    expect(caught[0]).toBeInstanceOf(ReentrantCallError);
    expect(await inner()).toBe(7);
  });

  it('made without await, or after the callback settled, it runs after the running call', async () => {
    const order: string[] = [];
    let later: Promise<number> | undefined;
    let deferred: Promise<number> | undefined;
    expect(await running(() => {
      later = s.run(async () => (order.push('later'), 1), { call: 'T.encode' });
      setTimeout(() => (deferred = inner()), 0);
      order.push('hook');
    })).toBe('ok');
    order.push('done');
    expect(await later).toBe(1);
    await new Promise((r) => setTimeout(r, 5));
    expect(await deferred).toBe(7);
    expect(order).toEqual(['hook', 'later', 'done']); // 'later' ran once the running call settled, before its caller resumed
  });
});

describe('without AsyncLocalStorage (browsers)', () => {
  it("a call awaited in the callback's synchronous part is still refused; one without await runs after", async () => {
    const node = process as unknown as Record<string, unknown>;
    const real = node.getBuiltinModule;
    node.getBuiltinModule = undefined;
    vi.resetModules();
    try {
      const { Serial: S } = await import('../../src/gpu/serial.js');
      const { callHook: hook } = await import('../../src/hook.js');
      const s = new S('thing t');
      const running = (fn: () => Promise<void> | void) => s.run(() => hook('onStep', 'T.generate, step 1/2', fn), { call: 'T.generate' }).then(() => 'ok', (e: Error) => e.message);
      expect(await running(async () => void (await s.run(async () => 7, { call: 'T.encode' })))).toBe(`T.generate, step 1/2: onStep failed: T.encode: awaited inside onStep of a running T.generate on thing t; ${TAIL}`);
      let later: Promise<number> | undefined;
      expect(await running(() => void (later = s.run(async () => 8, { call: 'T.encode' })))).toBe('ok');
      expect(await later).toBe(8);
    } finally {
      node.getBuiltinModule = real;
      vi.resetModules();
    }
  });
});

const base: PipelineGenerateOptions = { prompt: 'a red circle moving left', seed: 3, height: 32, width: 32, num_frames: 9, num_inference_steps: 2, output_type: 'latent' };

describe.skipIf(!hasGpu)('Pipeline and model: awaited from their own running call\'s callbacks', () => {
  let pipe: Pipeline;
  pipelineFixture((p) => (pipe = p));
  const failed = (p: Promise<unknown>) => p.then(() => 'accepted', (e: Error) => e.message);

  it('generate, encodePrompt, resetPlans inside onStep / onStage; forward inside generate(model, { onStep }): refused, the pipeline runs on', async () => {
    const want = await pipe.generate(base);
    const on = 'on pipeline';
    expect(await failed(pipe.generate({ ...base, onStep: async () => void (await pipe.encodePrompt('a blue square')) }))).toMatch(
      new RegExp(`^Pipeline\\.generate, step 1/2: onStep failed: Pipeline\\.encodePrompt: awaited inside onStep of a running Pipeline\\.generate ${on} .*; it would wait for itself — await it after Pipeline\\.generate resolves`),
    );
    expect(await failed(pipe.generate({ ...base, onStep: async () => void (await pipe.generate(base)) }))).toMatch(/onStep failed: Pipeline\.generate: awaited inside onStep of a running Pipeline\.generate/);
    expect(await failed(pipe.generate({ ...base, onStage: async (s) => void (s === 'denoise' && (await pipe.resetPlans())) }))).toMatch(/onStage failed: Pipeline\.resetPlans: awaited inside onStage of a running Pipeline\.generate/);
    const text = await pipe.encodePrompt('a blue square', 16);
    const shape = pipe.latentShape(1, base);
    const hidden = { data: new Float32Array(shape.reduce((a, b) => a * b)), shape };
    const m = pipe.transformer;
    expect(await failed(generate(m, { scheduler: 'unipc', num_inference_steps: 2, seed: 0, shape, encoder_hidden_states: text, onStep: async () => void (await m.forward({ hidden_states: hidden, timestep: [1], encoder_hidden_states: text })) }))).toMatch(
      /^generate, step 1\/2: onStep failed: forward: awaited inside onStep of a running generate on model .*; it would wait for itself/,
    );
    const again = await pipe.generate(base);
    expect(Array.from(again.latents.data)).toEqual(Array.from(want.latents.data));
    // without await: queued, run after the call (Pipeline.generate and encodePrompt return the queue's promise)
    const later: Promise<unknown>[] = [];
    await pipe.generate({ ...base, onStep: (i) => void (i === 1 && later.push(pipe.encodePrompt('a blue square', 16), pipe.generate(base))) });
    const [emb, next] = (await Promise.all(later)) as [typeof text, typeof want];
    expect(Array.from(emb.data)).toEqual(Array.from(text.data));
    expect(Array.from(next.latents.data)).toEqual(Array.from(want.latents.data));
  }, 300_000);
});
