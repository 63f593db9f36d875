// Every user callback has one contract (src/hook.ts): a promise it returns is awaited before the call goes
// on, and one that throws or rejects fails the call with an Error naming the callback and where, the
// callback's error as `cause`; a rejection never escapes as an unhandled rejection (vitest fails the file on
// one). On the embedded tessera-shapes pipeline (32×32, 9 frames, 2 steps): onStep, onStage,
// onDecodeProgress, Pipeline.generate's; loadPipeline's onProgress; onKernels' queue (hookQueue).
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { hookQueue } from '../../src/hook.js';
import { loadPipeline, type Pipeline, type PipelineGenerateOptions } from '../../src/pipeline/pipeline.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { pipelineFixture, SHAPES_DIR } from '../helpers/pipeline-fixture.js';

const call: PipelineGenerateOptions = { prompt: 'a red circle moving left', seed: 3, height: 32, width: 32, num_frames: 9, num_inference_steps: 2 };
const tick = () => new Promise((r) => setTimeout(r, 5));


describe.skipIf(!hasGpu)('callbacks that return promises', () => {
  let pipe: Pipeline;
  pipelineFixture((p) => (pipe = p));

  it('async onStep, onStage and onDecodeProgress are awaited in order: no callback starts while one is pending', async () => {
    const log: string[] = [];
    const overlaps: string[] = [];
    let pending: string | undefined;
    // step 1's callback takes long (a slow preview write): without the await, step 2 and the decode start meanwhile
    const slow = (name: string, ms: number) => async () => {
      if (pending) overlaps.push(`${name} during ${pending}`);
      pending = name;
      await new Promise((r) => setTimeout(r, ms));
      pending = undefined;
      log.push(name);
    };
    await pipe.generate({
      ...call,
      onStage: (s) => slow(`stage ${s}`, 5)(),
      onStep: (i) => slow(`step ${i}`, i === 1 ? 500 : 5)(),
      onDecodeProgress: (d) => slow(`frame ${d}`, 5)(),
    });
    expect(overlaps).toEqual([]);
    expect(log.slice(0, 5)).toEqual(['stage text', 'stage denoise', 'step 1', 'step 2', 'stage decode']);
    expect(log.slice(5)).toEqual(log.slice(5).map((_, i) => `frame ${i + 1}`));
    expect(log.length).toBeGreaterThan(5);
  });

  it('a rejecting async callback fails the call naming it; the pipeline stays usable', async () => {
    const cause = new Error('preview write failed');
    const err = await pipe.generate({ ...call, onStep: async (i) => { await tick(); if (i === 1) throw cause; } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('Pipeline.generate, step 1/2: onStep failed: preview write failed');
    expect((err as Error).cause).toBe(cause);
    const st = await pipe.generate({ ...call, onStage: async (s) => { if (s === 'denoise') throw new Error('no'); } }).catch((e: unknown) => e);
    expect((st as Error).message).toBe('Pipeline.generate, stage denoise: onStage failed: no');
    const dp = await pipe.generate({ ...call, onDecodeProgress: async (d, t) => { if (d === 2) throw new Error('disk full'); void t; } }).catch((e: unknown) => e);
    expect((dp as Error).message).toMatch(/^Pipeline\.generate, decode 2\/\d+: onDecodeProgress failed: disk full$/);
    // a synchronous throw: the same line
    const sync = await pipe.generate({ ...call, onStep: () => { throw new Error('bar crashed'); } }).catch((e: unknown) => e);
    expect((sync as Error).message).toBe('Pipeline.generate, step 1/2: onStep failed: bar crashed');
    const ok = await pipe.generate({ ...call, output_type: 'latent' });
    expect(ok.latents.data.length).toBeGreaterThan(0);
  });

  it("loadPipeline's async onProgress is awaited per tensor; a rejection fails the load naming it", async () => {
    let inFlight = 0;
    let most = 0;
    const p = await loadPipeline(SHAPES_DIR, { gpu: gpu!, textEncoder: false, onProgress: async () => { most = Math.max(most, ++inFlight); await tick(); inFlight--; } });
    p.dispose();
    expect(most).toBe(1);
    const err = await loadPipeline(SHAPES_DIR, { gpu: gpu!, onProgress: async (c, d) => { if (c === 'transformer' && d === 3) throw new Error('ui gone'); } }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^loadModel, \S+: onProgress failed: ui gone$/);
  });
});

describe('hookQueue (onKernels: fired where nothing can wait)', () => {
  it('settle() awaits every returned promise and fails with the first rejection, never unhandled', async () => {
    const done: number[] = [];
    const q = hookQueue('onKernels', 'Pipeline.generate', async (i: number) => {
      await tick();
      if (i === 2) throw new Error('listener broke');
      done.push(i);
    });
    q.call(1);
    q.call(2);
    q.call(3);
    const err = await q.settle().catch((e: unknown) => e);
    expect(done).toEqual([1, 3]);
    expect((err as Error).message).toBe('Pipeline.generate: onKernels failed: listener broke');
    expect(() => hookQueue('onKernels', 'X', () => { throw new Error('sync'); }).call()).toThrow('X: onKernels failed: sync');
  });
});
