// With a memory budget, Pipeline.generate measures the VAE decode (a dry run of its recording) once, before the
// loop (checkDecodeFits); the decode itself then skips its own dry run. Before, Vae.decode ran it again on every
// decode: 2 dry runs per generate. A user's Vae.decode still checks.
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

  it('Pipeline.generate: one dry run (its up-front check); Vae.decode called directly: its own', async () => {
    dryRuns.n = 0;
    const out = await pipe.generate({ prompt: 'a red circle moving left', seed: 1, height: 32, width: 32, num_frames: 1, num_inference_steps: 1, guidance_scale: 1 });
    expect(out.video!.shape).toEqual([1, 1, 32, 32, 3]);
    expect(dryRuns.n).toBe(1);
    await pipe.vae!.decode(out.latents);
    expect(dryRuns.n).toBe(2);
  });
});
