// Pipeline.generate's class_labels (DiT): a list or a typed array of numbers or bigint, as generate()
// and forward() take them (a BigInt64Array is diffusers' int64 labels). A BigInt64Array crashed the
// refusal's JSON.stringify ("Do not know how to serialize a BigInt") and an Int32Array was refused
// as `got {"0":1}`; what is refused now reads as one line.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { InputError } from '../../src/model/model.js';
import { loadPipeline, type Pipeline } from '../../src/pipeline/pipeline.js';
import { FIXTURES } from '../helpers/golden.js';
import { gpu, hasGpu } from '../helpers/gpu.js';

describe.skipIf(!hasGpu)('Pipeline.generate class_labels on a DiT pipeline', () => {
  let pipe: Pipeline;
  beforeAll(async () => {
    pipe = await loadPipeline(join(FIXTURES, 'dit_pipeline', 'pipeline'), { gpu: gpu! });
  }, 120_000);
  afterAll(() => pipe?.dispose());
  const run = (class_labels: unknown) => pipe.generate({ class_labels: class_labels as number[], seed: 0, num_inference_steps: 1, guidance_scale: 1.5, output_type: 'latent' });

  it('a BigInt64Array, an Int32Array and bigint in a list give what the numbers give', async () => {
    const want = await run([3, 1]);
    for (const labels of [new BigInt64Array([3n, 1n]), new Int32Array([3, 1]), [3n, 1]]) {
      const got = await run(labels);
      expect(got.latents.shape).toEqual([2, 4, 8, 8]);
      expect(Array.from(got.latents.data)).toEqual(Array.from(want.latents.data));
    }
  }, 120_000);

  it('refusals are one readable line', async () => {
    for (const [labels, msg] of [
      [new BigInt64Array([]), 'class_labels: a non-empty list or typed array of class ids (one per batch item), got an empty BigInt64Array'],
      [5n, 'class_labels: a non-empty list or typed array of class ids (one per batch item), got 5'],
      [{ 0: 1n }, 'class_labels: a non-empty list or typed array of class ids (one per batch item), got {"0":"1n"}'],
      [new BigInt64Array([1001n]), 'class_labels: value 1001 at index 0 is out of range: expected 0…1000 (1000 = the null class used for guidance)'],
    ] as const) {
      const e = await run(labels).catch((x: Error) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toBe(msg);
    }
  });
});
