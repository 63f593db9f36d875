// Pipeline.generate({ signal }) on the embedded tessera-shapes pipeline (32×32, 9 frames): an abort
// during the run rejects with an AbortError within one step, and the pipeline then gives what a fresh
// one gives; an abort during the VAE decode stops before the decode's next piece and frees its buffers;
// an already aborted signal rejects before anything runs; a non-signal is an InputError.
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { InputError } from '../../src/model/model.js';
import { loadPipeline, type Pipeline, type PipelineGenerateOptions } from '../../src/pipeline/pipeline.js';
import { generate } from '../../src/sampler/generate.js';
import { gpu, hasGpu } from '../helpers/gpu.js';
import { pipelineFixture, SHAPES_DIR } from '../helpers/pipeline-fixture.js';

const call: PipelineGenerateOptions = { prompt: 'a red circle moving left', seed: 3, height: 32, width: 32, num_frames: 9, num_inference_steps: 4 };

describe.skipIf(!hasGpu)('Pipeline.generate signal', () => {
  let pipe: Pipeline;
  pipelineFixture((p) => (pipe = p));

  it('an abort after the first step rejects before the second; the next call equals a fresh pipeline', async () => {
    const ctl = new AbortController();
    const steps: number[] = [];
    const stages: string[] = [];
    const err = await pipe
      .generate({ ...call, signal: ctl.signal, onStage: (s) => stages.push(s), onStep: (i) => (steps.push(i), i === 1 && ctl.abort()) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('AbortError');
    // abort() with no argument: an AbortError still (e.name checks keep working), naming the step it stopped before, the signal's own AbortError as cause
    expect(err).toBeInstanceOf(DOMException);
    expect((err as Error).message).toMatch(/^Pipeline\.generate, before step 2\/\d+: aborted \(This operation was aborted\)$/);
    expect((err as Error).cause).toBe(ctl.signal.reason);
    expect(steps).toEqual([1]);
    expect(stages).toEqual(['text', 'denoise']);

    const again = await pipe.generate(call);
    const fresh = await loadPipeline(SHAPES_DIR, { gpu: gpu! });
    try {
      const want = await fresh.generate(call);
      expect(again.latents.data).toEqual(want.latents.data);
      expect(again.video!.data).toEqual(want.video!.data);
    } finally {
      fresh.dispose();
    }
  }, 600_000);

  it('an abort during the VAE decode stops before its next piece, frees its buffers; the next call gives the full result', async () => {
    const d = gpu!.device;
    const q = d.queue;
    const submit = q.submit.bind(q);
    const create = d.createBuffer.bind(d);
    const short = { ...call, num_inference_steps: 2 };
    let decoding = false;
    let submits = 0;
    let ctl: AbortController | null = null;
    let afterAbort = 0;
    const made: GPUBuffer[] = [];
    const destroyed = new Set<GPUBuffer>();
    q.submit = ((cbs: Iterable<GPUCommandBuffer>) => {
      if (decoding) {
        submits++;
        if (ctl?.signal.aborted) afterAbort++;
        else if (ctl && submits === 2) ctl.abort(new Error('user cancelled'));
      }
      return submit(cbs);
    }) as typeof q.submit;
    d.createBuffer = ((desc: GPUBufferDescriptor) => {
      const b = create(desc);
      if (decoding && !desc.label?.endsWith(':readback')) {
        // readback staging buffers are pooled across calls (src/gpu/tensor.ts); every other one is the decode's own
        made.push(b);
        const destroy = b.destroy.bind(b);
        b.destroy = () => (destroyed.add(b), destroy());
      }
      return b;
    }) as typeof d.createBuffer;
    const onStage = (s: string) => (decoding = s === 'decode');
    try {
      const want = await pipe.generate({ ...short, onStage });
      const full = submits;
      expect(full).toBeGreaterThan(10); // the decode runs in many pieces

      submits = 0;
      made.length = 0;
      decoding = false;
      ctl = new AbortController();
      const why = ctl.signal;
      const err = (await pipe.generate({ ...short, signal: why, onStage }).catch((e: unknown) => e)) as Error;
      decoding = false;
      expect(err.name).toBe('AbortError');
      // named as the steps' aborts are: the call, the stage, where in it (session 18: it was a bare 'Vae.decode: aborted (…)')
      expect(err.message).toMatch(/^Pipeline\.generate, in the VAE decode \((before its first frame|after frame \d+\/\d+)\): aborted \(user cancelled\)$/);
      expect(err.cause).toBe(why.reason);
      // aborted at the decode's 2nd submit: at most the piece's read-back follows, not the rest of the decode
      expect(afterAbort).toBeLessThanOrEqual(1);
      expect(submits).toBeLessThan(full / 2);
      expect(made.length).toBeGreaterThan(0);
      expect(made.filter((b) => !destroyed.has(b)).map((b) => b.label)).toEqual([]);

      ctl = null;
      submits = 0;
      const again = await pipe.generate({ ...short, onStage });
      expect(submits).toBe(full);
      expect(again.latents.data).toEqual(want.latents.data);
      expect(again.video!.data).toEqual(want.video!.data);
    } finally {
      q.submit = submit;
      d.createBuffer = create;
    }
    // the VAE on its own: a non-signal is refused, an aborted signal rejects before decoding
    const latent = await pipe.generate({ ...short, output_type: 'latent' });
    await expect(pipe.vae!.decode(latent.latents, { signal: 'stop' as never })).rejects.toThrow(new InputError('signal: an AbortSignal (from new AbortController().signal), got string', { option: 'signal' }));
    await expect(pipe.vae!.decode(latent.latents, { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('Vae.decode: aborted (gone)');
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
    // (caught at once: it rejects as soon as the signal fires, while `first` still runs)
    const queued = pipe.generate({ ...call, signal: ctl.signal, onStage: (s) => stages.push(`queued ${s}`) }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    ctl.abort(why);
    await first;
    expect((await queued)?.message).toBe('Pipeline.generate, before it started: aborted (user left the page)');
    expect(stages).toEqual([]);
    await expect(pipe.generate({ ...call, signal: {} as AbortSignal })).rejects.toThrow(new InputError('signal: an AbortSignal (from new AbortController().signal), got object', { option: 'signal' }));
    // the models' generate() takes it too, and refuses an aborted signal before any GPU work
    const emb = await pipe.encodePrompt(['a red circle moving left'], 512);
    await expect(generate(pipe.transformer, { scheduler: pipe.scheduler, num_inference_steps: 2, seed: 0, shape: pipe.latentShape(1, call), encoder_hidden_states: emb, signal: AbortSignal.abort(why) })).rejects.toThrow(
      'generate: aborted (user left the page)',
    );
  }, 600_000);
});
