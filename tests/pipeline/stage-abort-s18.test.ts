// Pipeline.generate({ signal }) checks the signal at every stage boundary, after the stage's onStage hook too:
// an abort inside onStage('text') runs no prompt encode (it ran the encode and stopped only after it), and an
// abort inside the decode names the call and where it stopped, as the steps' aborts do
// (`Pipeline.generate, in the VAE decode (after frame 1/N): …`, not a bare `Vae.decode: aborted (…)`).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { loadPipeline, pipelineInternals, type Pipeline, type PipelineGenerateOptions } from '../../src/pipeline/pipeline.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const DIR = join(ROOT, 'models', 'tessera-shapes');
const call: PipelineGenerateOptions = { prompt: 'a red circle moving left', seed: 3, height: 32, width: 32, num_frames: 9, num_inference_steps: 2 };

describe.skipIf(!hasGpu)('Pipeline.generate: an abort at a stage boundary', () => {
  let pipe: Pipeline;
  let encodes = 0;
  beforeAll(async () => {
    pipe = await loadPipeline(DIR, { gpu: gpu! });
    // the pipeline's prompt encodes, counted at its text encoder (the slot PipelineInternals lets tests set)
    const inner = pipelineInternals(pipe);
    const te = inner.textEncoder!;
    inner.textEncoder = Object.assign(Object.create(te) as typeof te, {
      encodePrompt: (...a: Parameters<typeof te.encodePrompt>) => (encodes++, te.encodePrompt(...a)),
    });
  }, 300_000);
  afterAll(() => pipe?.dispose());

  const aborted = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as Error);

  it('an abort inside onStage("text") runs no prompt encode', async () => {
    const ctl = new AbortController();
    encodes = 0;
    const err = await aborted(pipe.generate({ ...call, signal: ctl.signal, onStage: (s) => void (s === 'text' && ctl.abort(new Error('stop now'))) }));
    expect(err?.name).toBe('AbortError');
    expect(err?.message).toBe('Pipeline.generate, before the text encoder: aborted (stop now)');
    expect(encodes).toBe(0);
  });

  it('an abort inside onStage("decode") decodes nothing and says so', async () => {
    const ctl = new AbortController();
    let frames = 0;
    const err = await aborted(pipe.generate({ ...call, signal: ctl.signal, onStage: (s) => void (s === 'decode' && ctl.abort(new Error('enough'))), onDecodeProgress: () => void frames++ }));
    expect(err?.message).toBe('Pipeline.generate, before the VAE decode: aborted (enough)');
    expect(frames).toBe(0);
  });

  it('an abort in the decode names the call and the frame it stopped after, the reason as cause', async () => {
    const ctl = new AbortController();
    const why = new Error('user cancelled');
    const err = await aborted(pipe.generate({ ...call, signal: ctl.signal, onDecodeProgress: (d) => void (d === 1 && ctl.abort(why)) }));
    expect(err?.name).toBe('AbortError');
    expect(err?.message).toMatch(/^Pipeline\.generate, in the VAE decode \(after frame 1\/\d+\): aborted \(user cancelled\)$/);
    expect(err?.cause).toBe(why);
    // and the pipeline is usable after it
    expect((await pipe.generate(call)).video).toBeDefined();
  });
});
