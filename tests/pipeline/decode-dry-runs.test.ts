// With a memory budget, Pipeline.generate measures the VAE decode (a dry run of its recording) once, before the
// loop (checkDecodeFits); the decode itself then does not run it again. Before, Vae.decode ran it again on every
// decode: 2 dry runs per generate. One mechanism (review 19, finding 5): the Vae remembers its last dry run's plan
// and figures, so a caller's repeated decodes of one shape measure once too; another shape is measured.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '../../src/node-env.js';
import { loadPipeline, type Pipeline } from '../../src/pipeline/pipeline.js';
import { ROOT } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

const dryRuns = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../src/vae/decoder.js', async (original) => {
  const m = await original<typeof import('../../src/vae/decoder.js')>();
  return { ...m, decodeMemory: (...a: Parameters<typeof m.decodeMemory>) => (dryRuns.n++, m.decodeMemory(...a)) };
});

describe.skipIf(!hasGpu)('the VAE decode dry run under maxMemory', () => {
  let pipe: Pipeline;
  beforeAll(async () => {
    pipe = await loadPipeline(join(ROOT, 'models', 'tessera-shapes'), { gpu: gpu!, maxMemory: '1GiB' });
  });
  afterAll(() => pipe?.dispose());

  it('Pipeline.generate: one dry run (its up-front check); Vae.decode called directly: none for the shape just measured, one for another', async () => {
    dryRuns.n = 0;
    const out = await pipe.generate({ prompt: 'a red circle moving left', seed: 1, height: 32, width: 32, num_frames: 1, num_inference_steps: 1, guidance_scale: 1 });
    expect(out.video!.shape).toEqual([1, 1, 32, 32, 3]);
    expect(dryRuns.n).toBe(1);
    // the same shape again, directly: remembered
    await pipe.vae!.decode(out.latents);
    expect(dryRuns.n).toBe(1);
    // another shape: measured (and refused there when over the budget, as before)
    await pipe.vae!.decode({ data: new Float32Array(16 * 1 * 4 * 8), shape: [1, 16, 1, 4, 8] });
    expect(dryRuns.n).toBe(2);
    await pipe.vae!.decode(out.latents);
    expect(dryRuns.n).toBe(3);
  });
});
